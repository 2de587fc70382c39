"""An ADaM-only study: a folder with ``adam/`` and ``define.yaml`` but no ``study.yaml``
or ``sdtm/`` specs, deriving ADaM from SDTM datasets made elsewhere. ``adam``, ``define``
(ADaM define.xml only, schema-valid) and ``spec export``/``import`` work on it; what
genuinely needs the raw-mapping specs says so. The copy of the bundled ADSL also derives
TRTSDTM/TRTSTMF (``derive: datetime``), checked down to the XPT and define.xml formats."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lxml import etree

from cdisc_mapper.adam import load_adam_specs
from cdisc_mapper.cli import main
from cdisc_mapper.define import validate_define_schema, write_define
from cdisc_mapper.define.build import DefineInputError
from cdisc_mapper.spec.define import load_define_extras
from cdisc_mapper.xpt import read_xpt

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "mappings" / "als_msc"
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
EXTRA = (
    "  TRTSDTM: {derive: datetime, source: EX.EXSTDTC, select: first, order_by: EXSTDTC, "
    "impute: {time: first}}\n"
    "  TRTSTMF: {derive: datetime, source: EX.EXSTDTC, select: first, order_by: EXSTDTC, "
    "impute: {time: first}, output: time_flag}\n"
)


def _run(*args: str | Path) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def _adam_only_study(folder: Path) -> Path:
    study = folder / "study"
    shutil.copytree(STUDY / "adam", study / "adam")
    shutil.copy(STUDY / "define.yaml", study / "define.yaml")
    adsl = study / "adam" / "adsl.yaml"
    lines = adsl.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("  TRTSDT:"))
    adsl.write_text("".join(lines[: at + 1]) + EXTRA + "".join(lines[at + 1 :]), "utf-8")
    return study


@pytest.fixture(scope="module")
def adam_only(demo_sdtm, tmp_path_factory) -> tuple[Path, Path]:
    """(study folder, output folder) after `adam` and `define` on an ADaM-only study."""
    tmp = tmp_path_factory.mktemp("adam_only")
    study = _adam_only_study(tmp)
    out = tmp / "out"
    (out / "sdtm").mkdir(parents=True)
    for xpt in (demo_sdtm[0] / "sdtm").glob("*.xpt"):
        shutil.copy(xpt, out / "sdtm" / xpt.name)
    _run("adam", "--study", study, "--sdtm", out / "sdtm", "--out", out)
    result = _run("define", "--study", study, "--out", out)
    assert "define.xml for SDTM: skipped" in result.output
    return study, out


def test_define_describes_adam_only_and_is_schema_valid(adam_only: tuple[Path, Path]) -> None:
    _, out = adam_only
    assert not (out / "sdtm" / "define.xml").exists()
    define = out / "adam" / "define.xml"
    assert validate_define_schema(define) == []
    root = etree.parse(str(define)).getroot()
    # the study is named from the data (STUDYID) and SDTM TS (TITLE)
    assert root.findtext(".//odm:StudyName", namespaces=NS) == "0208-16-HMO"
    assert root.findtext(".//odm:StudyDescription", namespaces=NS).startswith("Repeated")


def test_datetime_variables_are_stored_and_described_as_datetimes(
    adam_only: tuple[Path, Path],
) -> None:
    _, out = adam_only
    frame, meta = read_xpt(out / "adam" / "adsl.xpt")
    formats = {v.name: str(v.format) for v in meta.variables}
    assert formats["TRTSDTM"] == "DATETIME20."
    assert formats["TRTSDT"] == "DATE9."
    treated = frame["TRTSDT"].notna()
    t = frame[treated]
    assert ((t["TRTSDTM"] // 86400) == t["TRTSDT"]).all()
    # EXSTDTC with a date only: midnight, the whole time imputed (H); to the minute: S
    assert set(t["TRTSTMF"]) == {"H", "S"}
    hour = t["TRTSTMF"] == "H"
    assert (t.loc[hour, "TRTSDTM"] == t.loc[hour, "TRTSDT"] * 86400).all()
    assert (t.loc[~hour, "TRTSDTM"] % 60 == 0).all()
    assert set(frame.loc[~treated, "TRTSTMF"]) <= {""}
    root = etree.parse(str(out / "adam" / "define.xml")).getroot()
    item = root.find(".//odm:ItemDef[@OID='IT.ADSL.TRTSDTM']", NS)
    assert item is not None
    assert item.get("{http://www.cdisc.org/ns/def/v2.1}DisplayFormat") == "DATETIME20."
    assert item.findtext(".//odm:TranslatedText", namespaces=NS) == (
        "Datetime of First Exposure to Treatment"
    )


def test_spec_export_and_import_round_trip(adam_only: tuple[Path, Path], tmp_path: Path) -> None:
    study, _ = adam_only
    xlsx = tmp_path / "spec.xlsx"
    _run("spec", "export", "--study", study, "--xlsx", xlsx)
    again = tmp_path / "again"
    _run("spec", "import", "--xlsx", xlsx, "--study", again)
    assert sorted(p.name for p in again.iterdir()) == ["adam", "define.yaml"]
    original, imported = load_adam_specs(study), load_adam_specs(again)
    assert imported.conventions == original.conventions
    assert imported.datasets == original.datasets
    assert load_define_extras(again).spec == load_define_extras(study).spec
    # the imported folder is used as it is (also as the workbook itself)
    _run("spec", "export", "--study", again, "--xlsx", tmp_path / "again.xlsx")
    assert (tmp_path / "again.xlsx").read_bytes() == xlsx.read_bytes()


def test_what_needs_the_raw_mapping_specs_says_so(tmp_path: Path) -> None:
    study = _adam_only_study(tmp_path)
    out = tmp_path / "out"
    (out / "sdtm").mkdir(parents=True)
    with pytest.raises(DefineInputError, match=r"define\.xml for SDTM needs the study's"):
        write_define(study, out, which=["sdtm"])
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(main, ["spec", "export", "--study", str(empty), "--xlsx",
                                       str(tmp_path / "x.xlsx")])  # fmt: skip
    assert result.exit_code == 1
    assert "no specs to export: neither study.yaml and sdtm/ nor adam/" in result.output
