"""ADaM specs in the spec workbook: rows -> real workbook -> documents -> the same specs."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from cdisc_mapper.adam import load_adam_specs
from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.yamlio import dump_yaml
from cdisc_mapper.xlsx import layout as L
from cdisc_mapper.xlsx.adam_sheets import adam_content, read_adam
from cdisc_mapper.xlsx.exporter import _write_sheet
from cdisc_mapper.xlsx.layout import CONVENTION_TABLES as CONVENTION_SHEETS
from cdisc_mapper.xlsx.layout import CONVENTIONS_PREFIX as PREFIX
from cdisc_mapper.xlsx.sheet import Sheet as _Sheet
from cdisc_mapper.xlsx.sheet import cell_str as _str

STUDY = Path(__file__).resolve().parents[1] / "mappings" / "als_msc"
SHEETS = (L.STUDY, L.DATASETS, L.RECORDS, L.VARIABLES, L.METHODS, *CONVENTION_SHEETS)
Content = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def content() -> Content:
    return adam_content(STUDY)


def _write(content: Content, xlsx: Path) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name in SHEETS:
        _write_sheet(wb.create_sheet(name), L.SHEETS[name], content.get(name, []))
    wb.save(xlsx)
    return xlsx


def _read(xlsx: Path) -> dict[str, Any]:
    wb = load_workbook(xlsx, read_only=True, data_only=True)
    try:
        sheets = {name: _Sheet(xlsx, name, wb[name]) for name in SHEETS}
    finally:
        wb.close()
    methods = {_str(row, "ID"): _str(row, "Description") or "" for _r, row in
               sheets[L.METHODS].rows}  # fmt: skip
    conventions = [
        (r, attr, _str(row, "Value"))
        for r, row in sheets[L.STUDY].rows
        if (attr := _str(row, "Attribute") or "").startswith(PREFIX)
    ]
    return read_adam(sheets, methods, conventions)


def _import(content: Content, tmp: Path) -> Path:
    """Rows -> workbook -> YAML files of a new study folder (only adam/)."""
    docs = _read(_write(content, tmp / "spec.xlsx"))
    study = tmp / "study"
    for rel, data in docs.items():
        path = study / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_yaml(data), encoding="utf-8")
    return study


def _assert_same(a: Path, b: Path) -> None:
    original, again = load_adam_specs(a), load_adam_specs(b)
    assert again.conventions == original.conventions
    assert again.reports == original.reports
    assert list(again.datasets) == list(original.datasets)
    for name, ds in original.datasets.items():
        assert again.datasets[name] == ds, name
        assert list(again.datasets[name].variables) == list(ds.variables), name


def test_rows(content: Content) -> None:
    assert list(content) == list(SHEETS)
    for name, rows in content.items():
        for row in rows:
            assert set(row) <= set(L.SHEETS[name]), name
    study = {r["Attribute"]: r["Value"] for r in content[L.STUDY]}
    assert list(study) == [
        "adam.conventions.studyid", "adam.conventions.month_days",
        "adam.conventions.reference_date", "adam.conventions.comments",
        "adam.conventions.missing_keys", "adam.reports",
    ]  # fmt: skip
    assert study["adam.conventions.month_days"] == 30.4375
    periods = content["AnalysisPeriods"]
    assert [(r["aperiod"], r["aperiodc"]) for r in periods][:2] == [
        (1, "RUN-IN"), (2, "INJECTION 1 TO INJECTION 2"),
    ]  # fmt: skip
    assert (
        periods[0]["end"] == '[{"event": "INJECTION", "occurrence": 1}, {"event": "END", '
        '"occurrence": 1}]'
    )
    windows = content["AnalysisWindows"]
    assert windows[0] == {"set": "standard", "avisitn": -6.0, "avisit": "SCREENING",
                          "reference": "RFICDT", "target": 1, "lo": -30, "hi": 30}  # fmt: skip
    assert [r["event"] for r in content["AnalysisEvents"]] == ["CONSENT", "INJECTION", "END"]
    datasets = {r["Dataset"]: r for r in content[L.DATASETS]}
    assert next(iter(datasets)) == "ADSL"
    assert set(datasets) == {"ADSL", "ADQS", "ADRE", "ADPROG", "ADAE", "ADLB", "ADVS"}
    assert datasets["ADQS"]["Class"] == "BASIC DATA STRUCTURE"
    assert datasets["ADQS"]["Structure"] == "BDS"
    assert datasets["ADSL"]["Purpose"] == "Analysis"
    assert datasets["ADSL"]["Key Variables"] == "STUDYID, USUBJID"
    records = [r for r in content[L.RECORDS] if r["Dataset"] == "ADQS"]
    assert [(r["Order"], r["Operation"]) for r in records] == [(1, "findings"), (2, "scores")]
    variables = {(r["Dataset"], r["Variable"]): r for r in content[L.VARIABLES]}
    agegr1 = variables[("ADSL", "AGEGR1")]
    assert agegr1["Operation"] == "group"
    assert agegr1["Arguments"].startswith('{"source":"AGE","groups":[{"label":"<50","hi":50}')
    assert (agegr1["Label"], agegr1["Label Source"]) == ("Pooled Age Group 1", "ADaMIG 1.3")
    numinj = variables[("ADSL", "NUMINJ")]
    assert (numinj["Label"], numinj["Label Source"], numinj["Type"]) == (
        "Number of MSC Injections", None, None,
    )  # fmt: skip
    assert numinj["Data Type"] == "integer"
    assert variables[("ADSL", "ETHNIC")]["Label Source"] == "SDTMIG 3.4 DM.ETHNIC"
    assert variables[("ADPROG", "EFFFL")]["Label Source"] == "ADSL.EFFFL"
    assert variables[("ADSL", "TRTSDT")]["Data Type"] == "integer"  # numeric date
    assert variables[("ADQS", "AVAL")]["Data Type"] == "float"
    assert variables[("ADSL", "SEX")]["Data Type"] == "text"
    assert variables[("ADSL", "USUBJID")]["Operation"] == "keep"
    assert [r["Order"] for r in content[L.VARIABLES] if r["Dataset"] == "ADSL"][:3] == [1, 2, 3]
    (method,) = content[L.METHODS]
    assert method["ID"] == "MT.ADPROG.ABLFL" == variables[("ADPROG", "ABLFL")]["Method"]
    assert method["Type"] == "Computation"


def test_round_trip_gives_the_same_specs(content: Content, tmp_path: Path) -> None:
    # SDTM rows in the same sheets are left to the SDTM reader
    mixed = copy.deepcopy(content)
    mixed[L.DATASETS].insert(0, {"Dataset": "DM", "Description": "Demographics"})
    mixed[L.VARIABLES].insert(0, {"Order": 1, "Dataset": "DM", "Variable": "X",
                                  "Source Form": "dm", "Operation": "bogus"})  # fmt: skip
    study = _import(mixed, tmp_path)
    assert sorted(p.name for p in (study / "adam").iterdir()) == sorted(
        p.name for p in (STUDY / "adam").glob("*.yaml")
    )
    _assert_same(STUDY, study)
    assert adam_content(study) == content  # export -> import -> export


def test_carried_and_rule_named_variables_round_trip(tmp_path: Path) -> None:
    """A carried SDTM variable named like an ADaMIG suffix rule (VSELTM, *TM) shows its
    SDTMIG label; a variable named by a rule (DTHADY, *ADY) or an ADSL variable in BDS
    (TRTSDT) the label it gets; each reads back as the same spec."""
    study = tmp_path / "variant"
    shutil.copytree(STUDY / "adam", study / "adam")
    path = study / "adam" / "advs.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("keep: [VISITNUM, VISIT]", "keep: [VISITNUM, VISIT, VSELTM]")
    text += (
        "  VSELTM: {}\n"
        "  DTHADY: {derive: analysis_day, date: ADT, label: Relative Day of Death}\n"
        "  TRTSDT: {derive: value, source: ADSL.TRTSDT}\n"
    )
    path.write_text(text, encoding="utf-8")
    content = adam_content(study)
    rows = {(r["Dataset"], r["Variable"]): r for r in content[L.VARIABLES]}
    shown = {v: (rows[("ADVS", v)]["Label"], rows[("ADVS", v)]["Label Source"])
             for v in ("VSELTM", "DTHADY", "TRTSDT")}  # fmt: skip
    assert shown == {
        "VSELTM": ("Planned Elapsed Time from Time Point Ref", "SDTMIG 3.4 VS.VSELTM"),
        "DTHADY": ("Relative Day of Death", None),
        "TRTSDT": ("Date of First Exposure to Treatment", "ADaMIG 1.3"),
    }
    _assert_same(study, _import(content, tmp_path))


def test_spec_label_type_class_method_and_format_round_trip(tmp_path: Path) -> None:
    study = tmp_path / "variant"
    shutil.copytree(STUDY / "adam", study / "adam")

    def edit(name: str, old: str, new: str) -> None:
        path = study / "adam" / name
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new), encoding="utf-8")

    # a sponsor label equal to SDTMIG's, a type, a format, a method reference, a free-text
    # method over two lines, a comment that looks like a formula, a class of its own
    edit("adsl.yaml", "ETHNIC: {derive: value, source: DM.ETHNIC}",
         "ETHNIC: {derive: value, source: DM.ETHNIC, label: Ethnicity}")  # fmt: skip
    edit("adsl.yaml", "    label: Number of MSC Injections\n",
         "    label: Number of MSC Injections\n    type: Num\n    format: '3.'\n")  # fmt: skip
    edit("adsl.yaml", "AGEGR1N: {derive: group,",
         "AGEGR1N: {method: M-AGEGR, comment: '=1+1', derive: group,")  # fmt: skip
    edit(
        "adsl.yaml",
        "AGE: {derive: value, source: DM.AGE}",
        'AGE: {derive: value, source: DM.AGE, method: "From DM.\\nIn years.", origin: Derived}',
    )
    edit("advs.yaml", "structure: BDS\n", "structure: BDS\nclass: ADAM OTHER\n")
    original = load_adam_specs(study)
    adsl = original.datasets["ADSL"]
    assert adsl.variables["ETHNIC"].label == "Ethnicity"
    assert adsl.variables["AGE"].method == "From DM.\nIn years."
    content = adam_content(study)
    variables = {(r["Dataset"], r["Variable"]): r for r in content[L.VARIABLES]}
    assert variables[("ADSL", "ETHNIC")]["Label Source"] is None
    assert variables[("ADSL", "NUMINJ")]["Type"] == "Num"
    assert variables[("ADSL", "AGEGR1N")]["Method"] == "M-AGEGR"
    assert variables[("ADSL", "AGE")]["Method"] == "MT.ADSL.AGE"
    assert [m["ID"] for m in content[L.METHODS]] == ["MT.ADSL.AGE", "MT.ADPROG.ABLFL"]
    advs = next(r for r in content[L.DATASETS] if r["Dataset"] == "ADVS")
    assert advs["Class"] == "ADAM OTHER"
    again = _import(content, tmp_path)
    _assert_same(study, again)
    assert adam_content(again) == content


def test_reports_only_when_the_study_has_them(tmp_path: Path) -> None:
    study = tmp_path / "noreports"
    shutil.copytree(STUDY / "adam", study / "adam")
    (study / "adam" / "reports.yaml").unlink()
    content = adam_content(study)
    assert [r["Attribute"] for r in content[L.STUDY]][-1] == "adam.conventions.missing_keys"
    again = _import(content, tmp_path)
    assert not (again / "adam" / "reports.yaml").exists()
    _assert_same(study, again)


def test_no_adam_folder(tmp_path: Path) -> None:
    assert adam_content(tmp_path) == {}
    assert _read(_write({}, tmp_path / "empty.xlsx")) == {}


def test_a_cleared_label_source_makes_the_label_the_specs(content: Content, tmp_path: Path) -> None:
    changed = copy.deepcopy(content)
    row = _row(changed, L.VARIABLES, "ADSL", "ETHNIC")[1]
    row["Label"], row["Label Source"] = "Ethnic Group", None
    specs = load_adam_specs(_import(changed, tmp_path))
    assert specs.datasets["ADSL"].variables["ETHNIC"].label == "Ethnic Group"


# --------------------------------------------------------------------------- errors
def _row(content: Content, sheet: str, dataset: str, variable: str | None = None) -> tuple:
    """(Excel row number, row) of the first row of ``dataset`` (and ``variable``)."""
    for i, row in enumerate(content[sheet]):
        if row.get("Dataset") == dataset and variable in (None, row.get("Variable")):
            return i + 2, row
    raise AssertionError((sheet, dataset, variable))


def _where(sheet: str, row: int, column: str) -> str:
    letter = get_column_letter(L.SHEETS[sheet].index(column) + 1)
    return f"sheet {sheet}, row {row}, column {column} ({letter})"


def _error(content: Content, tmp_path: Path) -> str:
    with pytest.raises(SpecError) as err:
        _read(_write(content, tmp_path / "bad.xlsx"))
    return str(err.value)


@pytest.mark.parametrize(
    ("variable", "column", "value", "message"),
    [
        ("AGEGR1", "Operation", "grup", "ADSL.AGEGR1: unknown derivation 'grup'"),
        ("AGEGR1", "Arguments", '{"source": ', "cannot read this JSON value"),
        ("AGEGR1", "Arguments", "[1]", "ADSL.AGEGR1: the arguments must be a JSON object"),
        ("AGEGR1", "Arguments", '{"source":"AGE","groups":[],"x":1}', "ADSL.AGEGR1.x: unknown"),
        ("AGEGR1", "Arguments", '{"label":"x"}', "'label' is not an argument"),
        ("SEX", "Label", "Gender", "ADaMIG defines this variable"),
        # a pattern's label (AGEGRy) may be replaced, by clearing the Label Source
        ("AGEGR1", "Label", "Age Group", "the label shown comes from ADaMIG 1.3"),
        ("ETHNIC", "Label", "Ethnic Group", "the label shown comes from SDTMIG 3.4 DM.ETHNIC"),
        ("NUMINJ", "Label Source", "ADaMIG 1.3", "not an ADaMIG ADSL variable"),
        ("NUMINJ", "Type", "Number", "ADSL.NUMINJ.type: Input should be 'Char' or 'Num'"),
        ("NUMINJ", "Origin", "CRF", "ADSL.NUMINJ.origin"),
        ("NUMINJ", "Method", "MT.NOPE", "method 'MT.NOPE' is not in the Methods sheet"),
        ("NUMINJ", "Order", "first", "Order must be a number"),
        ("NUMINJ", "Source Form", "dm", "Source Form is for SDTM variables only"),
        ("NUMINJ", "Variable", "NUM_INJ_1", "not a valid SAS V5 variable name"),
    ],
)
def test_bad_variable_cells(
    content: Content, tmp_path: Path, variable: str, column: str, value: str, message: str
) -> None:
    bad = copy.deepcopy(content)
    r, row = _row(bad, L.VARIABLES, "ADSL", variable)
    row[column] = value
    text = _error(bad, tmp_path)
    assert _where(L.VARIABLES, r, column) in text and message in text, text
    if value == "grup":
        assert "did you mean 'group'?" in text


def test_duplicate_variable(content: Content, tmp_path: Path) -> None:
    bad = copy.deepcopy(content)
    bad[L.VARIABLES][2]["Variable"] = bad[L.VARIABLES][1]["Variable"]  # ADSL USUBJID twice
    text = _error(bad, tmp_path)
    assert _where(L.VARIABLES, 4, "Variable") in text
    assert "duplicate variable ADSL.USUBJID (first at row 3)" in text


def test_unknown_key_in_the_conventions(content: Content, tmp_path: Path) -> None:
    bad = copy.deepcopy(content)
    row = bad[L.STUDY][1]
    row["Attribute"] = "adam.conventions.month_dayz"
    text = _error(bad, tmp_path)
    assert _where(L.STUDY, 3, "Attribute") in text
    assert "unknown attribute 'adam.conventions.month_dayz'" in text
    assert "did you mean 'adam.conventions.month_days'" in text


def test_bad_conventions_rows(content: Content, tmp_path: Path) -> None:
    bad = copy.deepcopy(content)
    bad["AnalysisWindows"][2]["lo"] = 200
    text = _error(bad, tmp_path)
    assert "sheet AnalysisWindows, row 4" in text
    assert "lo 200 is after hi" in text
    bad = copy.deepcopy(content)
    bad["AnalysisEvents"][1]["event"] = "CONSENT"
    text = _error(bad, tmp_path)
    assert _where("AnalysisEvents", 3, "event") in text and "given twice" in text


@pytest.mark.parametrize(
    ("sheet", "column", "value", "message"),
    [
        (L.RECORDS, "Dataset", "ADXX", "dataset 'ADXX' is not an ADaM dataset of the Datasets"),
        (L.RECORDS, "Operation", "subject", "unknown record builder 'subject'"),
        (L.RECORDS, "Arguments", '{"domain":"DM","op":"x"}', "'op' is not an argument"),
        (L.RECORDS, "Arguments", '{"domian":"DM"}', "ADSL.subjects.domian: unknown key"),
        (L.DATASETS, "Structure", "ADS", "ADSL: unknown ADaM structure 'ADS'"),
        (L.DATASETS, "Key Variables", "USUBJID, NOPE", "key NOPE is not among the variables"),
        (L.DATASETS, "Description", None, "ADSL.label: required key missing"),
        (L.VARIABLES, "Dataset", "ADXX", "dataset 'ADXX' is not in the Datasets sheet"),
    ],
)
def test_bad_cells(
    content: Content, tmp_path: Path, sheet: str, column: str, value: str | None, message: str
) -> None:
    bad = copy.deepcopy(content)
    r, row = _row(bad, sheet, "ADSL")
    row[column] = value
    text = _error(bad, tmp_path)
    assert _where(sheet, r, column) in text and message in text, text


def test_a_dataset_without_record_steps(content: Content, tmp_path: Path) -> None:
    bad = copy.deepcopy(content)
    bad[L.RECORDS] = [r for r in bad[L.RECORDS] if r["Dataset"] != "ADVS"]
    r = _row(bad, L.DATASETS, "ADVS")[0]
    text = _error(bad, tmp_path)
    assert _where(L.DATASETS, r, "Dataset") in text and "ADVS: no record steps" in text


def test_adam_datasets_need_the_conventions(content: Content, tmp_path: Path) -> None:
    bad = copy.deepcopy(content)
    bad[L.STUDY] = [r for r in bad[L.STUDY] if not r["Attribute"].startswith(PREFIX)]
    for sheet in CONVENTION_SHEETS:
        bad[sheet] = []
    text = _error(bad, tmp_path)
    assert "sheet Study, row 1, column Attribute (A)" in text and "no ADaM conventions" in text


def test_a_step_running_after_variables_round_trips(tmp_path: Path) -> None:
    """A record step's ``after`` travels in its Arguments cell and reads back as ``after``."""
    study = tmp_path / "variant"
    shutil.copytree(STUDY / "adam", study / "adam")
    path = study / "adam" / "adre.yaml"
    text = path.read_text(encoding="utf-8")
    step = "    clear: [REREPNUM]\n"
    text = text.replace(
        step,
        step + "  - {op: summary_record, after: ADT, dtype: MINIMUM, function: min, "
        "by: [USUBJID, PARAMCD]}\n",
    )
    path.write_text(text, encoding="utf-8")
    content = adam_content(study)
    row = next(r for r in content[L.RECORDS] if r["Operation"] == "summary_record")
    assert row["Arguments"].startswith('{"after":["ADT"],')
    again = _import(content, tmp_path)
    _assert_same(study, again)
    assert load_adam_specs(again).datasets["ADRE"].records[-1].after == ["ADT"]


def test_working_variables_round_trip(tmp_path: Path) -> None:
    """A working variable (_NAME, or keep: false shown as Keep = No) reads back as the same
    spec; it has no label or label source of its own."""
    study = tmp_path / "variant"
    shutil.copytree(STUDY / "adam", study / "adam")
    path = study / "adam" / "advs.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + "  _TRTSDT: {derive: value, source: ADSL.TRTSDT}\n"
        + "  PREFL: {derive: flag, where: {variable: ADT, lt: {variable: _TRTSDT}}, keep: false}\n",
        encoding="utf-8",
    )
    content = adam_content(study)
    rows = {(r["Dataset"], r["Variable"]): r for r in content[L.VARIABLES]}
    assert rows[("ADVS", "PREFL")]["Keep"] == "No" and rows[("ADVS", "_TRTSDT")]["Keep"] is None
    assert rows[("ADVS", "PREFL")]["Label Source"] is None
    _assert_same(study, _import(content, tmp_path))
    bad = copy.deepcopy(content)
    next(r for r in bad[L.VARIABLES] if r["Variable"] == "PREFL")["Keep"] = "maybe"
    (tmp_path / "bad").mkdir()
    with pytest.raises(SpecError, match="Keep is 'maybe'"):
        _import(bad, tmp_path / "bad")
