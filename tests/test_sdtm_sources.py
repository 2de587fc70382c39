"""cdisc_mapper/sdtm/sources.py: wide forms melted into one record per test (with each
item's own raw columns and constants, and per-test not-done records), a form's own date
order, the reconciliation counts, and missing raw columns named with the spec line that
reads them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cdisc_mapper.errors import RawDataError, SpecError
from cdisc_mapper.sdtm import load_study
from cdisc_mapper.sdtm.engine import run_mapping
from cdisc_mapper.sdtm.pipeline import run_sdtm
from cdisc_mapper.spec.sdtm import MeltItem, MeltSpec
from cdisc_mapper.standards import load_terminology
from tests.conftest import STUDY

DATA = Path(__file__).parent / "data"

WIDE = """\
Subject,Visit,VTLD,TIME,ALL_ND,SYSBP,SYSBP_ND,SYSBP_REASON,DIABP,DIABP_ND,DIABP_REASON,TEMP,TEMP_UNIT,TEMP_LOC
S1,V1,02/03/2021,2:30 PM,,121,,,80,,,36.8,C,ORAL
S1,V2,16/03/2021,,,,,,,,,,,
S2,V1,03/03/2021,09:00,,,Y,Cuff broken,,Y,Cuff broken,37.0,C,AXILLA
S2,V2,17/03/2021,,,135,,,,,,,F,
"""

VS = """\
domain: VS
keys: [STUDYID, USUBJID, VSTESTCD, VISITNUM]
sources:
  - form: vitals_wide
    date_order: DMY
    melt:
      items:
        - {test: SYSBP, value: SYSBP, unit: mmHg,
           columns: {_STAT: SYSBP_ND, _REASND: SYSBP_REASON}, values: {_POS: SITTING}}
        - {test: DIABP, value: DIABP, unit: mmHg,
           columns: {_STAT: DIABP_ND, _REASND: DIABP_REASON}, values: {_POS: SITTING}}
        - {test: TEMP, value: TEMP, unit_column: TEMP_UNIT, columns: {_LOC: TEMP_LOC}}
      keep_empty_when: KEEP
    variables:
      STUDYID: {op: studyid}
      DOMAIN: {op: domain}
      USUBJID: {op: usubjid}
      VSTESTCD: {op: ct, column: _TEST, codelist: VSTESTCD}
      VSORRES: {op: result, column: _VALUE}
      VSORRESU: {op: unit, column: _UNIT}
      VSSTAT: {op: map, column: _STAT, values: {Y: NOT DONE}}
      VSREASND: {op: column, column: _REASND}
      VSLOC: {op: column, column: _LOC}
      VSPOS: {op: column, column: _POS}
      VSDTC: {op: date, column: VTLD, time_column: TIME}
      _VISIT: {op: column, column: Visit}
variables:
  VISITNUM: {op: visitnum, label: _VISIT, date: VSDTC}
  VSSEQ: {op: seq, order_by: [VSTESTCD, VISITNUM]}
"""

PER_TEST = "{column: _STAT, equals: Y}"


def make_study(tmp_path: Path, vs: str = VS, keep: str = PER_TEST, wide: str = WIDE):
    """The mini study with its vital signs collected on a wide form (``vitals_wide``)."""
    study, raw = tmp_path / "study", tmp_path / "raw"
    shutil.copytree(DATA / "mini_study", study)
    shutil.copytree(DATA / "mini_raw", raw)
    (study / "sdtm" / "vs.yaml").write_text(vs.replace("KEEP", keep), encoding="utf-8")
    (raw / "vitals_wide.csv").write_text(wide, encoding="utf-8")
    return study, raw


def mapped(tmp_path: Path, **kw):
    study, raw = make_study(tmp_path, **kw)
    run = run_mapping(load_study(study), load_terminology(), raw)
    source = next(res for code, res in run.sources if code == "VS")
    return run.domains["VS"], source


COLUMNS = ["_ROW", "VSTESTCD", "VSORRES", "VSORRESU", "VSSTAT", "VSREASND", "VSLOC", "VSPOS"]


def table(frame: pd.DataFrame) -> list[list]:
    return frame[COLUMNS].astype(str).to_numpy().tolist()


# ------------------------------------------------------------------ melt


def test_per_test_not_done_records_with_each_items_columns_and_constants(tmp_path) -> None:
    vs, _ = mapped(tmp_path)
    assert table(vs) == [
        ["2", "SYSBP", "121", "mmHg", "", "", "", "SITTING"],
        ["2", "DIABP", "80", "mmHg", "", "", "", "SITTING"],
        ["2", "TEMP", "36.8", "C", "", "", "ORAL", ""],
        ["4", "SYSBP", "", "", "NOT DONE", "Cuff broken", "", "SITTING"],
        ["4", "DIABP", "", "", "NOT DONE", "Cuff broken", "", "SITTING"],
        ["4", "TEMP", "37.0", "C", "", "", "AXILLA", ""],
        ["5", "SYSBP", "135", "mmHg", "", "", "", "SITTING"],
    ]


def test_reconciliation_counts_rows_and_items_not_recorded(tmp_path) -> None:
    vs, source = mapped(tmp_path)
    assert (source.rows_read, source.rows_mapped) == (4, 3)
    assert source.excluded == {"no item recorded on the form row": 1}
    # row 3: three empty items; row 5: DIABP, and TEMP (its unit alone is no result)
    assert source.values_not_recorded == 5
    assert len(source.frame) == len(vs) == 7


def test_keep_empty_when_on_a_raw_column_keeps_every_item_of_the_row(tmp_path) -> None:
    wide = WIDE.replace("S1,V2,16/03/2021,,,", "S1,V2,16/03/2021,,Y,")
    vs, source = mapped(tmp_path, keep="{column: ALL_ND, equals: Y}", wide=wide)
    row3 = vs[vs["_ROW"] == 3]
    assert row3["VSTESTCD"].tolist() == ["SYSBP", "DIABP", "TEMP"]
    assert set(row3["VSORRES"]) == {""} and set(row3["VSORRESU"]) == {""}
    assert not source.excluded
    assert (source.rows_read, source.rows_mapped) == (4, 4)


def test_keep_empty_when_on_the_test_of_the_record(tmp_path) -> None:
    keep = "{all: [{column: _TEST, equals: DIABP}, {column: _STAT, equals: Y}]}"
    vs, source = mapped(tmp_path, keep=keep)
    assert vs[vs["_ROW"] == 4]["VSTESTCD"].tolist() == ["DIABP", "TEMP"]
    assert source.values_not_recorded == 6


def test_a_unit_is_blank_where_the_result_is_blank(tmp_path) -> None:
    # TEMP_UNIT is filled on row 5 but TEMP is not: kept as not done, it has no unit
    keep = "{any: [{column: _STAT, equals: Y}, {column: TEMP_UNIT, equals: F}]}"
    vs, _ = mapped(tmp_path, keep=keep)
    temp = vs[(vs["_ROW"] == 5) & (vs["VSTESTCD"] == "TEMP")]
    assert temp[["VSORRES", "VSORRESU"]].to_numpy().tolist() == [["", ""]]


def test_a_form_date_order_over_the_studys(tmp_path) -> None:
    vs, _ = mapped(tmp_path)  # the mini study reads month first; this form day first
    assert vs.drop_duplicates("_ROW")["VSDTC"].tolist() == [
        "2021-03-02T14:30",
        "2021-03-03T09:00",
        "2021-03-17",
    ]


# ------------------------------------------------------------------ melt spec errors


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ({"columns": {"STAT": "X"}}, "starts with _ followed by a letter"),
        ({"columns": {"_TEST": "X"}}, "is the melt's own column"),
        ({"values": {"_ROW": "1"}}, "is the melt's own column"),
        ({"columns": {"_A": "X"}, "values": {"_A": "1"}}, "_A: give a name in columns or"),
        ({"unit": "C", "unit_column": "U"}, "unit or unit_column"),
    ],
)
def test_item_names_checked(item: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        MeltItem.model_validate({"test": "T", "value": "V", **item})


def test_item_constants_may_be_numbers() -> None:
    item = MeltItem.model_validate({"test": "T", "value": "V", "values": {"_N": 1, "_X": 2.5}})
    assert item.values == {"_N": "1", "_X": "2.5"}


def test_keep_empty_when_reads_only_names_the_items_give() -> None:
    items = [{"test": "T", "value": "V", "columns": {"_STAT": "ND"}}]
    with pytest.raises(ValueError, match=r"reads _STATUS, which no item gives"):
        MeltSpec.model_validate(
            {"items": items, "keep_empty_when": {"column": "_STATUS", "equals": "Y"}}
        )
    with pytest.raises(ValueError, match="at least 1 item"):
        MeltSpec.model_validate({"items": []})


def test_a_bad_item_name_is_an_error_at_its_spec_line(tmp_path) -> None:
    vs = VS.replace("columns: {_LOC: TEMP_LOC}", "columns: {LOC: TEMP_LOC}")
    study, _ = make_study(tmp_path, vs=vs)
    with pytest.raises(SpecError, match=r"vs\.yaml:12.*'LOC'"):
        load_study(study)


def test_a_variable_reading_a_name_no_item_gives_is_an_error_at_its_line(tmp_path) -> None:
    vs = VS.replace("VSLOC: {op: column, column: _LOC}", "VSLOC: {op: column, column: _SITE}")
    study, raw = make_study(tmp_path, vs=vs)
    with pytest.raises(SpecError) as err:
        run_mapping(load_study(study), load_terminology(), raw)
    text = str(err.value)
    assert "vs.yaml:23" in text and "VSLOC reads _SITE" in text
    assert "its melt gives _LOC, _POS, _REASND, _STAT, _TEST, _UNIT, _VALUE" in text


def test_a_raw_column_at_domain_level_is_an_error_at_its_line(tmp_path) -> None:
    vs = VS + "  VSDY: {op: date, column: VTLD}\n"
    study, _ = make_study(tmp_path, vs=vs)
    with pytest.raises(SpecError, match=r"vs\.yaml:30.*VSDY: column 'VTLD' is a raw column"):
        load_study(study)


# ------------------------------------------------------------------ missing raw columns


def test_a_missing_item_column_names_the_csv_and_the_melt_item(tmp_path) -> None:
    wide = WIDE.replace("DIABP_REASON", "DIABP_REASN")
    study, raw = make_study(tmp_path, wide=wide)
    with pytest.raises(RawDataError) as err:
        run_mapping(load_study(study), load_terminology(), raw)
    text = str(err.value)
    assert "vitals_wide.csv" in text and "missing column(s) DIABP_REASON" in text
    assert "DIABP_REASN (for DIABP_REASON)" in text
    assert f"DIABP_REASON is read at {study / 'sdtm' / 'vs.yaml'}:10" in text


def test_a_missing_column_names_the_first_variable_that_reads_it(tmp_path) -> None:
    wide = WIDE.replace("VTLD", "VISIT_DATE").replace("TIME", "HOUR")
    study, raw = make_study(tmp_path, wide=wide)
    with pytest.raises(RawDataError) as err:
        run_mapping(load_study(study), load_terminology(), raw)
    vs_yaml = study / "sdtm" / "vs.yaml"
    assert str(err.value).endswith(
        f"TIME is read at {vs_yaml}:25; VTLD is read at {vs_yaml}:25 "
        "(fix the export or the spec's column names)"
    )


def test_a_missing_bundled_column_names_the_variable(demo_raw, tmp_path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(demo_raw, raw)
    frame = pd.read_csv(raw / "vitals.csv", dtype=str, keep_default_na=False)
    frame.drop(columns=["SYS_BP"]).to_csv(raw / "vitals.csv", index=False)
    with pytest.raises(RawDataError) as err:
        run_sdtm(STUDY, raw, tmp_path / "out")
    assert f"SYS_BP is read at {STUDY / 'sdtm' / 'vs.yaml'}:9" in str(err.value)


def test_a_missing_registry_column_names_the_study_yaml_line(demo_raw, tmp_path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(demo_raw, raw)
    frame = pd.read_csv(raw / "enrollment.csv", dtype=str, keep_default_na=False)
    frame.drop(columns=["SITE_NO"]).to_csv(raw / "enrollment.csv", index=False)
    with pytest.raises(RawDataError) as err:
        run_sdtm(STUDY, raw, tmp_path / "out")
    text = str(err.value)
    assert "enrollment.csv" in text and "missing column(s) SITE_NO" in text
    assert f"SITE_NO is read at {STUDY / 'study.yaml'}:16" in text


def test_an_excluded_rows_column_names_the_exclusion(tmp_path) -> None:
    vs = VS.replace(
        "    date_order: DMY\n",
        "    date_order: DMY\n    exclude:\n      - {where: {column: STATUS, equals: X}, "
        "reason: test}\n",
    )
    study, raw = make_study(tmp_path, vs=vs)
    with pytest.raises(RawDataError, match=r"STATUS is read at .*vs\.yaml:7"):
        run_mapping(load_study(study), load_terminology(), raw)
