"""ADaM specs: the study's specs load; bad specs fail at the spec line; missing SDTM
domains or variables fail with an error naming them and the spec line that needs them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyreadstat
import pytest

from cdisc_mapper.adam import build_adam, load_adam_specs
from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS
from cdisc_mapper.errors import CdiscMapperError, MappingError, RawDataError, SpecError
from cdisc_mapper.xpt import read_xpt, write_xpt

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "mappings" / "als_msc"


@pytest.fixture()
def study(tmp_path: Path) -> Path:
    """A copy of the study's ADaM specs to break."""
    dst = tmp_path / "study"
    shutil.copytree(STUDY / "adam", dst / "adam")
    return dst


def edit(study: Path, name: str, old: str, new: str) -> int:
    """Replace ``old`` (once) in adam/<name>; return the 1-based line of the change."""
    path = study / "adam" / name
    text = path.read_text()
    assert text.count(old) >= 1, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1))
    return line


def test_study_specs_load() -> None:
    specs = load_adam_specs(STUDY)
    assert set(specs.datasets) == {"ADSL", "ADQS", "ADRE", "ADPROG", "ADAE", "ADLB", "ADVS"}
    assert specs.conventions.month_days == 30.4375
    assert [p.aperiod for p in specs.conventions.periods] == [1, 2, 3, 4, 5]
    assert specs.reports.progression_summaries[0].responder_flag == "CRIT1FL"
    # every spec names registered derivations only (a registry, not if/elif)
    for ds in specs.datasets.values():
        assert {v.derive for v in ds.variables.values()} <= set(DERIVATIONS.names())
        assert {r.op for r in ds.records} <= set(RECORD_BUILDERS.names())


def test_every_derivation_cites_adamig_or_describes_itself() -> None:
    from cdisc_mapper.adam import derive

    for name in derive.__all__:
        obj = getattr(derive, name)
        if callable(obj) and name.startswith("derive_"):
            assert "ADaMIG v1.3" in (obj.__doc__ or ""), name


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "adqs.yaml",
            "ADY: {derive: analysis_day}",
            "ADY: {derive: analysis_dya}",
            "unknown derivation 'analysis_dya'",
        ),
        (
            "adqs.yaml",
            "windows: standard, output: AVISITN",
            "windws: standard, output: AVISITN",
            "unknown key",
        ),
        (
            "adqs.yaml",
            "AVISIT: {derive: window, windows: standard, output: AVISIT}",
            "AVISIT: {derive: window, windows: weekly, output: AVISIT}",
            "window set 'weekly'",
        ),
        (
            "adsl.yaml",
            "AP05SDT: {derive: period_date, period: 5, bound: start}",
            "AP05SDT: {derive: period_date, period: 6, bound: start}",
            "period 6",
        ),
        (
            "adsl.yaml",
            "  NUMINJ:\n    derive: count\n    source: EX.EXSTDTC\n"
            "    label: Number of MSC Injections",
            "  NUMINJ:\n    derive: count\n    source: EX.EXSTDTC",
            "needs a 'label'",
        ),
        (
            "adsl.yaml",
            "AGE: {derive: value, source: DM.AGE}",
            "AGE: {derive: value, source: DM.AGE, label: Age in years}",
            "ADaMIG defines this variable",
        ),
        (
            "adprog.yaml",
            "    where: {variable: APHASEN, equals: 2}\n  PCTIMPR:",
            "    where: {variable: APHASEX, equals: 2}\n  PCTIMPR:",
            "APHASEX",
        ),
        ("adqs.yaml", "rule: all_items}", "rule: mean_items}", "unknown rule 'mean_items'"),
        ("adprog.yaml", "method: two_point", "method: three_point", "slope"),
        (
            "conventions.yaml",
            "end: [{event: INJECTION, occurrence: 2}]",
            "end: [{event: INJECTON, occurrence: 2}]",
            "INJECTON",
        ),
        ("adqs.yaml", "  - op: scores", "  - op: totals", "unknown record builder 'totals'"),
    ],
)
def test_bad_spec_points_at_the_line(
    study: Path, file: str, old: str, new: str, message: str
) -> None:
    line = edit(study, file, old, new)
    with pytest.raises(SpecError) as err:
        load_adam_specs(study)
    text = str(err.value)
    assert message in text
    assert f"{file}:" in text
    reported = int(text.split(f"{file}:")[1].split(":")[0])
    assert abs(reported - line) <= 3, (reported, line)


def test_label_too_long_is_rejected(study: Path) -> None:
    edit(study, "adsl.yaml", "label: Number of MSC Injections", "label: " + "X" * 41)
    with pytest.raises(SpecError, match="40"):
        load_adam_specs(study)


def test_unknown_top_level_key(study: Path) -> None:
    edit(study, "adre.yaml", "structure: BDS", "structure: BDS\nstructur: BDS")
    with pytest.raises(SpecError, match="unknown key"):
        load_adam_specs(study)


def test_duplicate_keys_are_a_mapping_error(study: Path, demo_sdtm) -> None:
    edit(
        study,
        "advs.yaml",
        "keys: [USUBJID, PARAMCD, ADT, VISITNUM, SRCSEQ]",
        "keys: [USUBJID, PARAMCD]",
    )
    with pytest.raises(MappingError, match="share key values"):
        build_adam(study, demo_sdtm[0] / "sdtm")


@pytest.fixture()
def sdtm_copy(demo_sdtm, tmp_path: Path) -> Path:
    dst = tmp_path / "sdtm"
    shutil.copytree(demo_sdtm[0] / "sdtm", dst)
    return dst


def test_missing_sdtm_domain_is_named(sdtm_copy: Path) -> None:
    (sdtm_copy / "re.xpt").unlink()
    with pytest.raises(RawDataError) as err:
        build_adam(STUDY, sdtm_copy)
    text = str(err.value)
    assert "SDTM domain RE not found" in text and "re.xpt" in text
    assert "adre.yaml" in text  # the spec that needs it
    assert isinstance(err.value, CdiscMapperError)


def test_missing_sdtm_variable_is_named(sdtm_copy: Path) -> None:
    path = sdtm_copy / "dm.xpt"
    df, meta = read_xpt(path)
    keep = [v for v in meta.variables if v.name != "RFPENDTC"]
    write_xpt(df[[v.name for v in keep]], path, dataset="DM", label=meta.label, variables=keep)
    assert "RFPENDTC" not in pyreadstat.read_xport(str(path), metadataonly=True)[1].column_names
    with pytest.raises(RawDataError) as err:
        build_adam(STUDY, sdtm_copy)
    text = str(err.value)
    assert "DM has no variable RFPENDTC" in text and "conventions.yaml" in text


def test_missing_sdtm_folder(tmp_path: Path) -> None:
    with pytest.raises(RawDataError, match="SDTM folder not found"):
        build_adam(STUDY, tmp_path / "nowhere")


def test_missing_adam_folder(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="ADaM spec folder not found"):
        load_adam_specs(tmp_path)
