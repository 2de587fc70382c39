"""Spec workbooks (issue 6): export -> import round trip and errors naming sheet/row/column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cdisc_mapper.adam import load_adam_specs
from cdisc_mapper.errors import SpecError
from cdisc_mapper.sdtm import load_study
from cdisc_mapper.spec.define import load_define_extras
from cdisc_mapper.spec.yamlio import dump_yaml, load_yaml
from cdisc_mapper.xlsx import export_workbook, import_workbook, spec_folder
from cdisc_mapper.xlsx import layout as L

STUDY = Path(__file__).resolve().parents[1] / "mappings" / "als_msc"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("xlsx") / "spec.xlsx"
    export_workbook(STUDY, path)
    return path


def _cells(path: Path) -> dict[str, list[tuple]]:
    wb = load_workbook(path)
    try:
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}
    finally:
        wb.close()


def _edit(src: Path, dst: Path, sheet: str, row: int, column: int, value: object) -> Path:
    wb = load_workbook(src)
    wb[sheet].cell(row=row, column=column).value = value
    wb.save(dst)
    return dst


def test_layout(exported: Path) -> None:
    wb = load_workbook(exported)
    assert wb.sheetnames == [*L.SHEETS, L.LISTS]
    assert wb[L.LISTS].sheet_state == "hidden"
    for name, header in L.SHEETS.items():
        ws = wb[name]
        assert [c.value for c in ws[1]] == header
        assert ws["A1"].font.bold
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref
    variables = wb[L.VARIABLES]
    validated = sorted(str(dv.sqref) for dv in variables.data_validations.dataValidation)
    assert validated == ["E2:E5000", "K2:K5000", "S2:S5000", "V2:V5000", "Y2:Y5000"]
    study = dict(wb[L.STUDY].iter_rows(min_row=2, values_only=True))
    assert study["StudyName"] == "0208-16-HMO"
    assert study["subjects.date_order"] == "DMY"
    datasets = {r[0]: r for r in wb[L.DATASETS].iter_rows(min_row=2, values_only=True)}
    assert datasets["DM"][1:5] == (
        "Demographics",
        "Special-Purpose",
        "One record per subject",
        "Tabulation",
    )
    rows = [r for r in variables.iter_rows(min_row=2, values_only=True) if r[1] == "DS"]
    cause = next(r for r in rows if r[2] == "DSCAUSE")
    assert cause[17:22] == ("end_of_study", "column", '{"column":"DEATH_CAUSE"}',
                            "Cause of Death", "CRF")  # fmt: skip
    assert wb.properties.created == wb.properties.modified
    wb.close()


def test_round_trip_gives_the_same_specs(exported: Path, tmp_path: Path) -> None:
    import_workbook(exported, tmp_path / "study")
    _assert_same(STUDY, tmp_path / "study")


def test_export_import_export_is_stable(exported: Path, tmp_path: Path) -> None:
    import_workbook(exported, tmp_path / "study")
    export_workbook(tmp_path / "study", tmp_path / "again.xlsx")
    assert _cells(tmp_path / "again.xlsx") == _cells(exported)
    assert (tmp_path / "again.xlsx").read_bytes() == exported.read_bytes()  # deterministic


def _column(name: str, sheet: str = L.VARIABLES) -> int:
    return L.SHEETS[sheet].index(name) + 1


def test_misspelled_column(exported: Path, tmp_path: Path) -> None:
    bad = _edit(exported, tmp_path / "bad.xlsx", L.VARIABLES, 1, _column("Operation"), "Operaton")
    with pytest.raises(SpecError) as err:
        import_workbook(bad, tmp_path / "out")
    text = str(err.value)
    assert "sheet Variables" in text and "row 1" in text and "column Operaton (S)" in text
    assert "did you mean 'Operation'" in text
    assert not (tmp_path / "out").exists()


def test_formula_without_a_saved_value_is_an_error_at_its_cell(
    exported: Path, tmp_path: Path
) -> None:
    # read for the values Excel saved, a formula written by a program came out empty
    column = _column("Label")
    bad = _edit(exported, tmp_path / "bad.xlsx", L.VARIABLES, 4, column, '=CONCAT("Sub", "ject")')
    with pytest.raises(SpecError) as err:
        import_workbook(bad, tmp_path / "out")
    letter = chr(ord("A") + column - 1)
    assert str(err.value) == (
        f"{bad}: sheet Variables, row 4, column {letter}: the cell holds a formula whose "
        "value was never saved (open the workbook in a spreadsheet program and save it "
        "(that computes and saves the values), or enter the values)"
    )
    assert not (tmp_path / "out").exists()


def test_misspelled_sheet(exported: Path, tmp_path: Path) -> None:
    wb = load_workbook(exported)
    wb[L.VARIABLES].title = "Variabels"
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(
        SpecError, match=r"sheet Variabels.*unknown sheet.*did you mean 'Variables'"
    ):
        import_workbook(tmp_path / "bad.xlsx", tmp_path / "out")


def test_duplicate_variable(exported: Path, tmp_path: Path) -> None:
    wb = load_workbook(exported)
    ws = wb[L.VARIABLES]
    ws.cell(row=3, column=_column("Variable"), value=ws.cell(row=2, column=3).value)
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(SpecError) as err:
        import_workbook(tmp_path / "bad.xlsx", tmp_path / "out")
    text = str(err.value)
    assert "sheet Variables, row 3, column Variable (C)" in text
    assert "duplicate variable AE.STUDYID" in text and "first at row 2" in text


def test_unknown_variable(exported: Path, tmp_path: Path) -> None:
    bad = _edit(exported, tmp_path / "bad.xlsx", L.VARIABLES, 5, _column("Variable"), "AETREM")
    with pytest.raises(
        SpecError, match=r"row 5, column Variable \(C\).*unknown variable AE.AETREM"
    ):
        import_workbook(bad, tmp_path / "out")


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("Operation", "colum", r"column Operation \(S\).*unknown operation 'colum'.*'column'"),
        ("Arguments", '{"column": ', r"column Arguments \(T\).*cannot read this JSON"),
        ("Arguments", '{"colum": "X"}', r"column Arguments \(T\).*AESPID.colum: unknown key"),
        ("Origin", "CRF", r"column Origin \(K\).*origin"),
        ("Dataset", "XX", r"column Dataset \(B\).*dataset 'XX' is not in the Datasets sheet"),
        ("Source Form", None, r"column Source Form \(R\).*AESPID: operation 'column' reads raw"),
        ("Source Form", "adverse_event", r"column Source Form \(R\).*'adverse_event' is not in"),
        ("Supp QORIG", "CRF", r"column Supp Label \(U\).*AESPID.supp.label: required key"),
    ],
)
def test_bad_cells(
    exported: Path, tmp_path: Path, column: str, value: str | None, message: str
) -> None:
    bad = _edit(exported, tmp_path / "bad.xlsx", L.VARIABLES, 5, _column(column), value)
    with pytest.raises(SpecError, match="sheet Variables, row 5, " + message):
        import_workbook(bad, tmp_path / "out")


MINI = Path(__file__).parent / "data" / "mini_study"


def _assert_same(a: Path, b: Path) -> None:
    original, again = load_study(a), load_study(b)
    assert again.study == original.study
    assert list(again.domains) == list(original.domains)
    for code, domain in original.domains.items():
        assert again.domains[code] == domain, code
        assert list(again.domains[code].variables) == list(domain.variables)
        for x, y in zip(again.domains[code].sources, domain.sources, strict=True):
            assert list(x.variables) == list(y.variables)
    assert load_define_extras(b).spec == load_define_extras(a).spec
    assert (b / "define.yaml").is_file() == (a / "define.yaml").is_file()
    if (a / "adam").is_dir():
        adam_a, adam_b = load_adam_specs(a), load_adam_specs(b)
        assert adam_b.conventions == adam_a.conventions
        assert adam_b.reports == adam_a.reports
        assert list(adam_b.datasets) == list(adam_a.datasets)
        for name, ds in adam_a.datasets.items():
            assert adam_b.datasets[name] == ds, name
            assert list(adam_b.datasets[name].variables) == list(ds.variables), name
    else:
        assert not (b / "adam").exists()


def test_mini_study_maps_the_same_from_imported_specs(tmp_path: Path) -> None:
    from cdisc_mapper.sdtm.pipeline import run_sdtm

    export_workbook(MINI, tmp_path / "spec.xlsx")
    import_workbook(tmp_path / "spec.xlsx", tmp_path / "study")
    _assert_same(MINI, tmp_path / "study")
    raw = MINI.parent / "mini_raw"
    run_sdtm(MINI, raw, tmp_path / "a")
    run_sdtm(tmp_path / "study", raw, tmp_path / "b")
    xpts = sorted((tmp_path / "a" / "sdtm").glob("*.xpt"))
    assert xpts
    for xpt in xpts:
        assert xpt.read_bytes() == (tmp_path / "b" / "sdtm" / xpt.name).read_bytes(), xpt.name


def test_a_form_feeding_a_domain_twice(tmp_path: Path) -> None:
    study = tmp_path / "twice"
    shutil.copytree(MINI, study)
    vs = study / "sdtm" / "vs.yaml"
    text = vs.read_text(encoding="utf-8")
    head, _, tail = text.partition("variables:\n  VSTEST:")
    second = (
        "  - form: vitals_long\n"
        "    file: vitals_long.csv\n"
        "    required_columns: [Param, Value]\n"
        "    drop_duplicates: true\n"
        "    exclude: [{where: {column: Param, in: [Height]}, reason: not wanted}]\n"
        "    variables:\n"
        "      STUDYID: {op: studyid}\n"
        "      VSORRES: {op: result, column: Value, origin: Collected, comment: '=not a formula'}\n"
    )
    vs.write_text(head + second + "variables:\n  VSTEST:" + tail, encoding="utf-8")
    export_workbook(study, tmp_path / "spec.xlsx")
    sources = _cells(tmp_path / "spec.xlsx")[L.SOURCES]
    assert [r[1] for r in sources if r[0] == "VS"] == ["vitals_long", "vitals_long#2"]
    import_workbook(tmp_path / "spec.xlsx", tmp_path / "again")
    _assert_same(study, tmp_path / "again")


def test_yaml_keeps_strings_that_look_like_other_values() -> None:
    tricky = ["1e5", "01", "1_000", "Yes", "No", "on", "null", "~", "true", "1.0", "-1", ".5",
              "", " x ", "a: b", "#c", "=1+1", "multi\nline", "ünïcode", "0o7", "0x1F"]  # fmt: skip
    data = {"s": tricky, "n": [1, 1.5, -2, True, None]}
    assert load_yaml(dump_yaml(data)) == data


def test_define_only_columns_may_be_left_out(exported: Path, tmp_path: Path) -> None:
    wb = load_workbook(exported)
    ws = wb[L.VARIABLES]
    ws.delete_cols(_column("Pages"))
    wb.save(tmp_path / "fewer.xlsx")
    import_workbook(tmp_path / "fewer.xlsx", tmp_path / "study")
    _assert_same(STUDY, tmp_path / "study")
    ws.delete_cols(_column("Operation") - 1)  # now at one column to the left
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(SpecError, match=r"sheet Variables, row 1: missing column\(s\): Operation"):
        import_workbook(tmp_path / "bad.xlsx", tmp_path / "out")


def test_sdtm_from_the_exported_workbook_is_byte_identical(demo_raw, tmp_path):
    """`cdisc-mapper sdtm --study spec.xlsx` gives the same XPT files as the spec folder."""
    from cdisc_mapper.sdtm.pipeline import run_sdtm
    from tests.conftest import STUDY

    book = tmp_path / "spec.xlsx"
    export_workbook(STUDY, book)
    run_sdtm(STUDY, demo_raw, tmp_path / "folder")
    with spec_folder(book) as folder:
        run_sdtm(folder, demo_raw, tmp_path / "book")
    names = sorted(p.name for p in (tmp_path / "folder" / "sdtm").glob("*.xpt"))
    assert len(names) >= 20
    for name in names:
        a = (tmp_path / "folder" / "sdtm" / name).read_bytes()
        assert a == (tmp_path / "book" / "sdtm" / name).read_bytes(), name


def test_the_whole_demo_from_the_workbook_is_byte_identical(demo_raw, tmp_path):
    """`sdtm`, `adam` and `define --study spec.xlsx` give the same XPT files and the same
    define.xml files as the spec folder (value-level metadata with composite where clauses
    included)."""
    from click.testing import CliRunner

    from cdisc_mapper.cli import main

    book = tmp_path / "spec.xlsx"
    export_workbook(STUDY, book)
    runner = CliRunner()
    for study, out in ((STUDY, tmp_path / "folder"), (book, tmp_path / "book")):
        for args in (
            ["sdtm", "--study", study, "--raw", demo_raw, "--out", out],
            ["adam", "--study", study, "--sdtm", out / "sdtm", "--out", out],
            ["define", "--study", study, "--out", out],
        ):
            result = runner.invoke(main, ["-q", *map(str, args)])
            assert result.exit_code == 0, result.output
    for kind, least in (("sdtm", 20), ("adam", 7)):
        names = sorted(p.name for p in (tmp_path / "folder" / kind).glob("*.xpt"))
        names += ["define.xml"]
        assert len(names) > least
        for name in names:
            a = (tmp_path / "folder" / kind / name).read_bytes()
            assert a == (tmp_path / "book" / kind / name).read_bytes(), f"{kind}/{name}"
    define = (tmp_path / "book" / "adam" / "define.xml").read_text(encoding="utf-8")
    assert 'WhereClauseOID="WC.ADRE.PARAMCD.EQ.FVC.DTYPE.EQ.MAXIMUM"' in define


# --------------------------------------------------------------------------- define sheets
def _find(path: Path, sheet: str, **match: object) -> int:
    """The row number of the first row of ``sheet`` whose columns have these values."""
    wb = load_workbook(path, read_only=True)
    try:
        rows = list(wb[sheet].iter_rows(values_only=True))
    finally:
        wb.close()
    header = list(rows[0])
    for r, row in enumerate(rows[1:], start=2):
        if all(row[header.index(k.replace("_", " "))] == v for k, v in match.items()):
            return r
    raise AssertionError(f"no row {match} in {sheet}")


def test_value_level_and_composite_where_clauses_in_the_workbook(exported: Path) -> None:
    cells = _cells(exported)
    clause = "WC.ADRE.PARAMCD.EQ.FVC.DTYPE.EQ.MAXIMUM"
    assert [r[1:5] for r in cells[L.WHERECLAUSES] if r[0] == clause] == [
        ("ADRE", "PARAMCD", "EQ", "FVC"),
        ("ADRE", "DTYPE", "EQ", "MAXIMUM"),
    ]
    header = L.SHEETS[L.VALUELEVEL]
    levels = [dict(zip(header, r, strict=False)) for r in cells[L.VALUELEVEL][1:]]
    adre = [r for r in levels if (r["Dataset"], r["Variable"]) == ("ADRE", "AVAL")]
    assert [(r["Where Clause"], r["Origin"], r["Method"], r["Predecessor"]) for r in adre][:2] == [
        ("WC.ADRE.PARAMCD.EQ.FVC.DTYPE.NE.MAXIMUM", "Predecessor", None, "RE.RESTRESN"),
        (clause, "Derived", "M-BESTEFFORT", None),
    ]
    methods = {r[0]: r for r in cells[L.METHODS][1:]}
    assert methods["M-BESTEFFORT"][1:3] == ("Best FVC effort of a visit", "Computation")
    assert [r[:5] for r in cells[L.DICTIONARIES][1:]] == [
        ("MedDRA", "MedDRA", "text", "MedDRA", "26.0"),
        ("ISO 3166-1 alpha-3", "ISO 3166-1 alpha-3", "text", "ISO 3166-1 alpha-3", "2020"),
    ]
    study = dict(r[:2] for r in cells[L.STUDY][1:])
    assert "ELESCCAT" in study["define.codelists"] and "C-VISIT" in study["define.attach"]


@pytest.mark.parametrize(
    ("sheet", "match", "column", "value", "message"),
    [
        (L.WHERECLAUSES, {"ID": "WC.ADRE.PARAMCD.EQ.FVC.DTYPE.EQ.MAXIMUM", "Variable": "DTYPE"},
         "Variable", "DTYPX", r"column Variable \(C\).*tests ADRE.DTYPX, which is not a variable"),
        (L.WHERECLAUSES, {"ID": "WC.ADRE.PARAMCD.EQ.FVC.DTYPE.EQ.MAXIMUM", "Variable": "DTYPE"},
         "Variable", "PARAMCD", r"column Variable \(C\).*tests PARAMCD twice"),
        (L.WHERECLAUSES, {"ID": "WC.ADRE.PARAMCD.EQ.FVC.DTYPE.EQ.MAXIMUM", "Variable": "DTYPE"},
         "Comparator", "LIKE", r"column Comparator \(D\).*use EQ, NE, IN, NOTIN, LT"),
        (L.VALUELEVEL, {"Where_Clause": "WC.ADRE.PARAMCD.EQ.FVC.DTYPE.EQ.MAXIMUM"},
         "Where Clause", "WC.NOPE", r"column Where Clause \(D\).*'WC.NOPE' is not in the Where"),
        (L.VALUELEVEL, {"Where_Clause": "WC.ADRE.PARAMCD.EQ.FVC.DTYPE.EQ.MAXIMUM"},
         "Variable", "AVALX", r"column Variable \(C\).*ADRE.AVALX is not a variable"),
        (L.VALUELEVEL, {"Where_Clause": "WC.ADRE.PARAMCD.EQ.FVC.DTYPE.EQ.MAXIMUM"},
         "Where Clause", "WC.ADRE.PARAMCD.EQ.FVC.DTYPE.NE.MAXIMUM",
         r"column Where Clause \(D\).*ADRE.AVAL has where clause .* twice \(first at row"),
        (L.VALUELEVEL, {"Where_Clause": "WC.ADRE.PARAMCD.EQ.FVC.DTYPE.EQ.MAXIMUM"},
         "Origin", "CRF", r"column Origin \(L\).*ADRE.AVAL.origin"),
        (L.METHODS, {"ID": "M-BESTEFFORT"}, "ID", "M-BESTEFORT",
         r"sheet ValueLevel, row \d+, column Method \(O\).*M-BESTEFFORT is not defined"),
    ],
)  # fmt: skip
def test_bad_define_sheets(
    exported: Path, tmp_path: Path, sheet: str, match: dict | None, column: str, value: object,
    message: str | None,
) -> None:  # fmt: skip
    if match is None:  # the demo study has no documents: the sheet is header only
        assert _cells(exported)[sheet][1:] == []
        return
    row = _find(exported, sheet, **match)
    bad = _edit(exported, tmp_path / "bad.xlsx", sheet, row, _column(column, sheet), value)
    from cdisc_mapper.xlsx import spec_folder

    # some are found by the checks that run on the imported files
    with pytest.raises(SpecError, match=message) as err, spec_folder(bad) as folder:
        load_define_extras(folder)
        load_study(folder)
        load_adam_specs(folder)
    assert "bad.xlsx: sheet" in str(err.value) and ", row " in str(err.value)


def test_errors_found_after_import_name_the_workbook_cell(exported: Path, tmp_path: Path):
    """A check that runs on the imported spec files (here: an ADaM derivation naming
    windows that conventions does not define) names the sheet, row and column."""
    from cdisc_mapper.xlsx import spec_folder

    row = _find(exported, L.VARIABLES, Dataset="ADRE", Variable="AVISIT")
    args = '{"windows":"nosuch","output":"AVISIT"}'
    bad = _edit(exported, tmp_path / "bad.xlsx", L.VARIABLES, row, _column("Arguments"), args)
    with pytest.raises(SpecError) as err, spec_folder(bad) as folder:
        load_adam_specs(folder)
    text = str(err.value)
    assert f"bad.xlsx: sheet Variables, row {row}, column " in text, text
    assert "nosuch" in text and "cdisc-mapper-spec-" not in text


# --------------------------------------------------------------------------- design sheets
def test_study_design_is_tables(exported: Path) -> None:
    cells = _cells(exported)
    visits = cells["Visits"]
    assert visits[0][:4] == ("visitnum", "visit", "raw_labels", "visitdy")
    assert visits[1][:4] == (1, "SCREENING", '["Screening"]', -180)
    elements = {r[0]: r for r in cells["Elements"][1:]}
    assert elements["RUNIN"][-1] == '{"domain": "DM", "variable": "RFICDTC"}'
    assert ("VS", "TEMP", "C") in cells["StandardUnits"]
    study = dict(r[:2] for r in cells[L.STUDY][1:])
    assert study["unscheduled.raw_labels"] == '["Unscheduled", "Unsched", "UNS"]'
    assert not set(study) & set(L.STUDY_BLOBS)  # no YAML texts for the design any more


@pytest.mark.parametrize(
    ("sheet", "row", "column", "value", "message"),
    [
        ("Visits", 3, "window_before", -2, r"sheet Visits, row 3, column window_before \(G\)"),
        ("Visits", 2, "raw_labels", '["Screening"', r"column raw_labels \(C\).*cannot read"),
        ("Elements", 2, "start", '{"domain": "DM"}', r"sheet Elements, row 2, column start"),
        ("StandardUnits", 3, "testcd", "PULSE",
         r"row 3, column testcd \(B\).*VS PULSE given twice"),
        ("Arms", 2, "elements", '["RUNIN", "NOPE"]',
         r"sheet Arms, row 2, column elements \(C\).*element 'NOPE' not in elements"),
        ("Visits", 4, "visitnum", 2, r"sheet Visits, row 4, column visitnum \(A\).*unique"),
    ],
)  # fmt: skip
def test_bad_design_cells(
    exported: Path, tmp_path: Path, sheet: str, row: int, column: str, value: object, message: str
) -> None:
    bad = _edit(exported, tmp_path / "bad.xlsx", sheet, row, _column(column, sheet), value)
    with pytest.raises(SpecError, match=message):
        import_workbook(bad, tmp_path / "out")


def test_design_cells_keep_texts_that_look_like_json(tmp_path: Path) -> None:
    study = tmp_path / "mini"
    shutil.copytree(MINI, study)
    path = study / "study.yaml"
    text = path.read_text(encoding="utf-8")
    assert "unscheduled:" not in text
    path.write_text(
        text + 'unscheduled:\n  raw_labels: ["[x]", "{y}", "\\"q\\"", "12"]\n'
        '  label_prefix: "[UNS]"\n',
        encoding="utf-8",
    )
    export_workbook(study, tmp_path / "spec.xlsx")
    import_workbook(tmp_path / "spec.xlsx", tmp_path / "again")
    _assert_same(study, tmp_path / "again")
    assert load_study(tmp_path / "again").study.unscheduled.label_prefix == "[UNS]"


def test_conventions_errors_found_after_import_name_their_row(exported: Path, tmp_path: Path):
    """A period naming an unknown event is found by the ADaM loader on the imported files;
    the error names the AnalysisPeriods cell."""
    from cdisc_mapper.xlsx import spec_folder

    row = _find(exported, "AnalysisPeriods", aperiod=2)
    start = '{"event": "INJECTON", "occurrence": 1}'
    bad = _edit(exported, tmp_path / "bad.xlsx", "AnalysisPeriods", row,
                _column("start", "AnalysisPeriods"), start)  # fmt: skip
    with pytest.raises(SpecError) as err, spec_folder(bad) as folder:
        load_adam_specs(folder)
    text = str(err.value)
    assert f"bad.xlsx: sheet AnalysisPeriods, row {row}, column start (C)" in text, text
    assert "names event 'INJECTON'" in text


def test_method_expression_round_trips(tmp_path: Path) -> None:
    study = tmp_path / "study"
    shutil.copytree(STUDY, study)
    path = study / "define.yaml"
    text = path.read_text(encoding="utf-8")
    old = "    name: Best FVC effort of a visit\n"
    path.write_text(
        text.replace(old, old + "    expression: {context: R 4.3, code: 'max(aval)'}\n"),
        encoding="utf-8",
    )
    export_workbook(study, tmp_path / "spec.xlsx")
    row = _find(tmp_path / "spec.xlsx", L.METHODS, ID="M-BESTEFFORT")
    cells = _cells(tmp_path / "spec.xlsx")[L.METHODS][row - 1]
    header = L.SHEETS[L.METHODS]
    assert cells[header.index("Expression Context")] == "R 4.3"
    assert cells[header.index("Expression Code")] == "max(aval)"
    import_workbook(tmp_path / "spec.xlsx", tmp_path / "again")
    _assert_same(study, tmp_path / "again")
    assert load_define_extras(tmp_path / "again").spec.methods["M-BESTEFFORT"].expression


def test_number_conventions_round_trip(tmp_path: Path) -> None:
    """study.yaml `numbers` (Study sheet rows) and a source's `numbers` (Sources column)."""
    study = tmp_path / "study"
    shutil.copytree(MINI, study)
    path = study / "study.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + "numbers: {decimal_mark: '.', thousands_separator: ','}\n",
        encoding="utf-8",
    )
    vs = study / "sdtm" / "vs.yaml"
    text = vs.read_text(encoding="utf-8")
    vs.write_text(
        text.replace("    variables:\n", "    numbers: {decimal_mark: ','}\n    variables:\n", 1),
        encoding="utf-8",
    )
    original = load_study(study)
    assert original.study.numbers.thousands_separator == ","
    assert original.domains["VS"].sources[0].numbers is not None
    export_workbook(study, tmp_path / "spec.xlsx")
    import_workbook(tmp_path / "spec.xlsx", tmp_path / "again")
    _assert_same(study, tmp_path / "again")


def test_csv_dialects_round_trip(tmp_path: Path) -> None:
    """study.yaml `csv` (Study sheet rows csv.delimiter, csv.files.<file>.<key>; a tab is
    written `tab`, which a cell keeps)."""
    study = tmp_path / "study"
    shutil.copytree(MINI, study)
    path = study / "study.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + "csv:\n  delimiter: ';'\n  encoding: windows-1252\n"
        + '  files:\n    labs.v2.txt: {delimiter: "\\t"}\n    ae.csv: {encoding: utf-8}\n',
        encoding="utf-8",
    )
    export_workbook(study, tmp_path / "spec.xlsx")
    import_workbook(tmp_path / "spec.xlsx", tmp_path / "again")
    again = load_study(tmp_path / "again").study.csv
    assert again.for_file("labs.v2.txt") == ("\t", "windows-1252")
    assert again.for_file("ae.csv") == (";", "utf-8")
    assert again.for_file("dm.csv") == (";", "windows-1252")


def test_a_source_date_order_and_melt_item_columns_round_trip(tmp_path: Path) -> None:
    """A source's `date_order` (Sources column Date Order) and its melt items' `columns`
    and `values` (in the Melt column)."""
    study = tmp_path / "study"
    shutil.copytree(MINI, study)
    vs = study / "sdtm" / "vs.yaml"
    melt = (
        "    date_order: DMY\n    melt:\n      items:\n"
        "        - {test: SYSBP, value: Value, unit: mmHg, columns: {_STAT: Unit},"
        " values: {_POS: SITTING}}\n      keep_empty_when: {column: _STAT, equals: Y}\n"
    )
    vs.write_text(
        vs.read_text(encoding="utf-8").replace("    variables:\n", melt + "    variables:\n", 1),
        encoding="utf-8",
    )
    original = load_study(study)
    assert original.domains["VS"].sources[0].date_order == "DMY"
    export_workbook(study, tmp_path / "spec.xlsx")
    import_workbook(tmp_path / "spec.xlsx", tmp_path / "again")
    _assert_same(study, tmp_path / "again")
    again = load_study(tmp_path / "again").domains["VS"].sources[0]
    assert again.date_order == "DMY" and again.melt is not None
    assert again.melt.items[0].columns == {"_STAT": "Unit"}


def test_export_with_define_fills_length_and_significant_digits(tmp_path: Path) -> None:
    """Length and Significant Digits come from the define.xml of the written datasets (the
    XPT lengths); the workbook still reads back to the same specs."""
    from cdisc_mapper.define import write_define
    from cdisc_mapper.sdtm.pipeline import run_sdtm
    from cdisc_mapper.xpt import read_xpt

    run_sdtm(MINI, MINI.parent / "mini_raw", tmp_path / "out")
    write_define(MINI, tmp_path / "out", which=["sdtm"])
    define = tmp_path / "out" / "sdtm" / "define.xml"
    export_workbook(MINI, tmp_path / "plain.xlsx")
    export_workbook(MINI, tmp_path / "spec.xlsx", [define])
    header, *rows = _cells(tmp_path / "spec.xlsx")[L.VARIABLES]
    _, *plain = _cells(tmp_path / "plain.xlsx")[L.VARIABLES]
    col = {name: i for i, name in enumerate(header)}
    lengths = {(r[col["Dataset"]], r[col["Variable"]]): r[col["Length"]] for r in rows}
    _, meta = read_xpt(tmp_path / "out" / "sdtm" / "vs.xpt")
    char = [
        v
        for v in meta.variables
        if v.type == "Char" and not v.name.endswith("DTC") and ("VS", v.name) in lengths
    ]
    assert len(char) >= 5
    for var in char:
        assert lengths[("VS", var.name)] == var.length, var.name
    assert not any(r[col["Length"]] for r in plain)  # without a define.xml: left empty
    import_workbook(tmp_path / "spec.xlsx", tmp_path / "study")
    _assert_same(MINI, tmp_path / "study")


def test_edc_export_settings_round_trip(tmp_path: Path) -> None:
    """study.yaml `raw_format: redcap` and `export:` (Study sheet rows export.<key>)."""
    study = tmp_path / "study"
    shutil.copytree(MINI, study)
    path = study / "study.yaml"
    text = path.read_text(encoding="utf-8")
    assert "raw_format" not in text
    path.write_text(
        text + "raw_format: redcap\nexport:\n  records: records.csv\n"
        "  dictionary: dictionary.csv\n  column_case: upper\n  strip_form_prefix: true\n",
        encoding="utf-8",
    )
    export_workbook(study, tmp_path / "spec.xlsx")
    import_workbook(tmp_path / "spec.xlsx", tmp_path / "again")
    again = load_study(tmp_path / "again").study
    assert again.raw_format == "redcap"
    assert again.export is not None
    assert again.export.model_dump() == {
        "records": "records.csv", "dictionary": "dictionary.csv", "events": None,
        "column_case": "upper", "strip_form_prefix": True, "item_columns": "oid",
        "tables": "item_group",
    }  # fmt: skip
