"""The bundled study's synthetic data as a REDCap export and as an ODM 1.3.2 file
(``simulate --format redcap|odm``), mapped by the bundled specs with only study.yaml's
input section changed (tests/data/edc_study_*/input.yaml), gives byte-identical SDTM to
the CSV forms; a study.yaml that asks for an export without its files is an error at
the spec line."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.acrf.annotate import form_file_name, raw_file
from cdisc_mapper.acrf.build import raw_columns
from cdisc_mapper.errors import SpecError
from cdisc_mapper.raw.edc import EdcSettings
from cdisc_mapper.raw.exports import read_export
from cdisc_mapper.sdtm import load_study
from cdisc_mapper.sdtm.pipeline import run_sdtm
from cdisc_mapper.simulate import simulate
from cdisc_mapper.simulate.edc import edc_files

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "mappings" / "als_msc"
SUBJECTS = 8


def study_for(fmt: str, folder: Path) -> Path:
    """The bundled study with the input section of tests/data/edc_study_<fmt>/."""
    shutil.copytree(BUNDLED, folder)
    given = yaml.safe_load(
        (REPO / "tests" / "data" / f"edc_study_{fmt}" / "input.yaml").read_text()
    )
    text = (folder / "study.yaml").read_text()
    section = {"raw_format": given["raw_format"], "export": given["export"]}
    text = text.replace("raw_format: csv\n", yaml.safe_dump(section, sort_keys=False))
    if "subjects" in given:
        column = given["subjects"]["subject_column"]
        text = text.replace("subject_column: PT_ID", f"subject_column: {column}")
    (folder / "study.yaml").write_text(text)
    return folder


@pytest.fixture(scope="module")
def csv_sdtm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("csv")
    simulate(root / "raw", SUBJECTS)
    run_sdtm(BUNDLED, root / "raw", root / "out")
    return root / "out" / "sdtm"


@pytest.mark.parametrize("fmt", ["redcap", "odm"])
def test_export_gives_byte_identical_sdtm(fmt: str, csv_sdtm: Path, tmp_path: Path) -> None:
    manifest = simulate(tmp_path / "raw", SUBJECTS, fmt=fmt)
    assert not list((tmp_path / "raw").glob("vitals.csv"))  # the export, not the forms
    assert sorted(manifest["forms"]) == sorted(
        p.name for p in (tmp_path / "raw").iterdir() if p.name != "manifest.json"
    )
    result = run_sdtm(study_for(fmt, tmp_path / "study"), tmp_path / "raw", tmp_path / "out")
    names = sorted(p.name for p in csv_sdtm.glob("*.xpt"))
    assert len(names) > 15
    for name in names:
        assert (tmp_path / "out" / "sdtm" / name).read_bytes() == (csv_sdtm / name).read_bytes(), (
            name
        )
    # the reconciliation: the same counts per domain and form as from the CSV forms
    ours = [
        (r["domain"], r["form"], r["rows_read"], r["rows_mapped"]) for r in result.reconciliation
    ]
    text = (csv_sdtm / "reconciliation.csv").read_text().splitlines()[1:]
    theirs = [(f[0], f[1], int(f[3]), int(f[4])) for f in (line.split(",") for line in text)]
    assert ours == theirs
    assert all(
        r["rows_read"] == r["rows_mapped"] + r["rows_excluded"] for r in result.reconciliation
    )


def test_redcap_without_dictionary_is_a_spec_error(tmp_path: Path) -> None:
    folder = study_for("redcap", tmp_path / "study")
    text = (folder / "study.yaml").read_text().replace("  dictionary: redcap_dictionary.csv\n", "")
    (folder / "study.yaml").write_text(text)
    with pytest.raises(SpecError, match=r"study.yaml:\d+.*data dictionary"):
        load_study(folder)


def test_export_with_csv_forms_is_a_spec_error(tmp_path: Path) -> None:
    folder = study_for("odm", tmp_path / "study")
    text = (folder / "study.yaml").read_text().replace("raw_format: odm", "raw_format: csv")
    (folder / "study.yaml").write_text(text)
    with pytest.raises(SpecError, match=r"study.yaml:\d+.*export: is for raw_format redcap or odm"):
        load_study(folder)


def test_acrf_fields_from_the_export(tmp_path: Path) -> None:
    """The aCRF's fields (every raw column) come from the export's forms."""
    simulate(tmp_path / "raw", 2, fmt="redcap")
    bundle = load_study(study_for("redcap", tmp_path / "study"))
    columns = raw_columns(bundle, tmp_path / "raw")
    assert columns["redcap_records.csv#vitals"] == [
        "PT_ID", "REDCAP_REPEAT_INSTANCE", "VISIT", "VS_DATE", "VS_TIME", "PULSE", "SYS_BP",
        "DIA_BP", "RESP_RATE", "TEMP", "TEMP_UNIT", "WEIGHT", "WEIGHT_UNIT",
    ]  # fmt: skip


TEXT = st.text(
    st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_characters="\x7f"), max_size=8
).map(str.strip)
FRAMES = st.lists(st.tuples(st.sampled_from(["01", "02", "103"]), TEXT, TEXT), max_size=8)


@settings(deadline=None, max_examples=40)
@given(rows=FRAMES, fmt=st.sampled_from(["redcap", "odm"]))
def test_any_text_reads_back_from_either_export(rows: list[tuple[str, str, str]], fmt: str) -> None:
    """Whatever text a form holds, the export the simulator writes reads back as the same
    records, in the same order (rows without any value apart from the subject are no
    record in REDCap: a row of an instrument needs a value)."""
    frame = pd.DataFrame(rows, columns=["PT_ID", "A_B", "C"], dtype=object)
    files = edc_files(fmt, {"vitals": frame}, "S")
    with tempfile.TemporaryDirectory() as folder:
        for name, text in files.items():
            (Path(folder) / name).write_text(text, encoding="utf-8", newline="")
        if fmt == "redcap":
            settings_ = EdcSettings(
                records="redcap_records.csv", dictionary="redcap_dictionary.csv",
                column_case="upper", strip_form_prefix=True,
            )  # fmt: skip
            got = read_export(Path(folder), fmt, settings_).forms["vitals"].data
            expected = frame[(frame["A_B"] != "") | (frame["C"] != "")]
        else:
            settings_ = EdcSettings(records="odm_export.xml", item_columns="name")
            got = read_export(Path(folder), fmt, settings_).open("vitals", "vitals").data
            got = got.rename(columns={"SubjectKey": "PT_ID"})
            expected = frame
    assert got[["PT_ID", "A_B", "C"]].values.tolist() == expected.values.tolist()


@pytest.mark.parametrize(
    ("fmt", "records"), [("redcap", "redcap_records.csv"), ("odm", "odm_export.xml")]
)
def test_define_and_acrf_name_a_form_of_the_export(fmt: str, records: str, tmp_path: Path) -> None:
    """define.xml origins and the aCRF name a form as the reconciliation does."""
    bundle = load_study(study_for(fmt, tmp_path / "study"))
    vs = bundle.domains["VS"].sources[0]
    assert raw_file(bundle, vs) == f"{records}#{vs.form}"
    assert form_file_name(bundle, "enrollment") == f"{records}#enrollment"
    csv = load_study(BUNDLED)
    assert form_file_name(csv, "enrollment") == "enrollment.csv"
