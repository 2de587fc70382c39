"""Hostile inputs to `cdisc-mapper sdtm`: numbers typed in another convention, damaged raw
forms and specs that leave out what a step needs. Each is a located error (file, row,
value, what to do) or a counted, documented outcome: never an internal error, never a
silently changed value."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from cdisc_mapper.xpt import read_xpt
from tests.hostile.catalogue import Case, Workspace, run_case

SDTM = ["sdtm", "--study", "{study}", "--raw", "{raw}", "--out", "{out}"]
Rows = list[list[str]]


def _read(path: Path) -> Rows:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write(path: Path, rows: Rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def edit(form: str, change: Callable[[Rows], Rows]) -> Callable[[Workspace], None]:
    """Prepare step: ``change`` the rows (header first) of raw ``form``.csv."""

    def prepare(ws: Workspace) -> None:
        path = ws.raw / f"{form}.csv"
        _write(path, change(_read(path)))

    return prepare


def cell(column: str, value: str, row: int = 1) -> Callable[[Rows], Rows]:
    """Set ``column`` of data row ``row`` (1 = the first after the header; file row 2)."""

    def change(rows: Rows) -> Rows:
        rows[row][rows[0].index(column)] = value
        return rows

    return change


def all_numbers(mark: str) -> Callable[[Rows], Rows]:
    """Every decimal number written with ``mark``: one laboratory's own convention."""
    other = "," if mark == "." else "."

    def change(rows: Rows) -> Rows:
        pattern = re.compile(rf"^([<>]?=?\s*-?[0-9]+)\{other}([0-9]+)$")
        return [rows[0]] + [[pattern.sub(rf"\1{mark}\2", c) for c in r] for r in rows[1:]]

    return change


def both(*changes: Callable[[Rows], Rows]) -> Callable[[Rows], Rows]:
    def change(rows: Rows) -> Rows:
        for one in changes:
            rows = one(rows)
        return rows

    return change


def spec(file: str, old: str, new: str) -> Callable[[Workspace], None]:
    """Prepare step: replace ``old`` (which must be there) by ``new`` in a spec file."""

    def prepare(ws: Workspace) -> None:
        path = ws.study / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {file}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return prepare


def steps(*prepares: Callable[[Workspace], None]) -> Callable[[Workspace], None]:
    def prepare(ws: Workspace) -> None:
        for one in prepares:
            one(ws)

    return prepare


def lab_numbers(setting: str) -> Callable[[Workspace], None]:
    """The labs source states its own ``numbers`` (a central laboratory's convention)."""
    return spec("sdtm/lb.yaml", "  - form: labs\n", f"  - form: labs\n    numbers: {setting}\n")


def lb_result(orres: str, stresn: float) -> Callable[[Workspace], None]:
    """After: the first lab record's LBORRES and LBSTRESN are these."""

    def after(ws: Workspace) -> None:
        lb = read_xpt(ws.out / "sdtm" / "lb.xpt")[0]
        first = lb[lb["LBORRES"] == orres]
        assert len(first) == 1, lb["LBORRES"].head().tolist()
        assert first["LBSTRESN"].iloc[0] == stresn

    return after


def reconciliation(ws: Workspace) -> list[dict[str, str]]:
    with (ws.out / "sdtm" / "reconciliation.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _enrolment_repeat_counted(ws: Workspace) -> None:
    dm = read_xpt(ws.out / "sdtm" / "dm.xpt")[0]
    assert dm["USUBJID"].is_unique and len(dm) == 5
    row = next(r for r in reconciliation(ws) if r["domain"] == "DM")
    assert (row["rows_read"], row["rows_mapped"], row["rows_excluded"]) == ("6", "5", "1")
    assert row["exclusion_reasons"] == "duplicate form entry (exact repeat of an earlier row): 1"


def _last_elements_end_empty(ws: Workspace) -> None:
    se = read_xpt(ws.out / "sdtm" / "se.xpt")[0].sort_values(["USUBJID", "SESTDTC"])
    last = se.groupby("USUBJID").tail(1)
    assert (last["SEENDTC"] == "").all()
    assert (se.drop(last.index)["SEENDTC"] != "").all()  # the others end at the next start


def _no_lab_records(ws: Workspace) -> None:
    assert len(read_xpt(ws.out / "sdtm" / "lb.xpt")[0]) == 0
    row = next(r for r in reconciliation(ws) if r["file"] == "labs.csv")
    assert (row["rows_read"], row["records_written"]) == ("0", "0")


#: What the bundled study states (its sites type 72.5 and 72,5).
STATED = "numbers: {decimal_mark: either, thousands_separator: none}"
US_LAB = lab_numbers('{decimal_mark: ".", thousands_separator: ","}')
POINT_LAB = lab_numbers('{decimal_mark: ".", thousands_separator: none}')
EUROPEAN_LAB = lab_numbers('{decimal_mark: ","}')

NO_RFPENDTC = spec(
    "sdtm/dm.yaml",
    """  RFPENDTC: {op: subject_last, domain: DS, variable: DSSTDTC,
             method: "Last date of participation: the end-of-study disposition date"}
  RFENDTC: {op: case, cases: [{when: {column: RFSTDTC, empty: false}, variable: RFPENDTC}],
            default: "", method: "End of participation (RFPENDTC) for treated subjects"}
""",
    "",
)
NO_RFSTDTC = spec(
    "sdtm/dm.yaml",
    "  RFSTDTC: {op: copy, variable: RFXSTDTC, method: First MSC injection (RFXSTDTC)}\n",
    "",
)

CASES = [
    # ---- item 11: numbers typed with a thousands separator or another decimal mark
    Case(
        "250,000 with nothing stated is ambiguous, naming both readings",
        SDTM,
        edit("labs", cell("RESULT", "250,000")),
        message="LB.LBORRES, column RESULT: number not readable under the number convention "
        "(decimal_mark either, thousands_separator none) in 1 row: row labs.csv:2 '250,000' "
        "(ambiguous: 250 if ',' is the decimal mark, 250000 if ',' separates thousands)",
    ),
    Case(
        "1,000 with nothing stated is ambiguous and says which setting resolves it",
        SDTM,
        edit("labs", cell("RESULT", "1,000")),
        message="`numbers: {decimal_mark: ..., thousands_separator: ...}` in study.yaml, or "
        "in this source for one form",
    ),
    Case(
        "250,000 from a US laboratory stated as such is 250000",
        SDTM,
        steps(US_LAB, edit("labs", both(all_numbers("."), cell("RESULT", "250,000")))),
        exit_code=0,
        after=lb_result("250000", 250000.0),
    ),
    Case(
        "1,000 from a US laboratory stated as such is 1000",
        SDTM,
        steps(US_LAB, edit("labs", both(all_numbers("."), cell("RESULT", "1,000")))),
        exit_code=0,
        after=lb_result("1000", 1000.0),
    ),
    Case(
        "1,000 from a laboratory stated to write a decimal comma is 1",
        SDTM,
        steps(EUROPEAN_LAB, edit("labs", both(all_numbers(","), cell("RESULT", "1,000")))),
        exit_code=0,
        after=lb_result("1.000", 1.0),
    ),
    Case(
        "250,000 where only a point is a decimal mark names the setting that reads it",
        SDTM,
        steps(POINT_LAB, edit("labs", both(all_numbers("."), cell("RESULT", "250,000")))),
        message="'250,000' (not a number under decimal_mark '.', thousands_separator none; "
        "it is 250 if ',' is the decimal mark, 250000 if ',' separates thousands)",
    ),
    Case(
        "1.234,5 where only a point is a decimal mark is an error",
        SDTM,
        steps(POINT_LAB, edit("labs", both(all_numbers("."), cell("RESULT", "1.234,5")))),
        message="it is 1234.5 if ',' is the decimal mark and '.' separates thousands",
    ),
    Case(
        "a decimal point stated for the study makes a decimal comma an error, not text",
        SDTM,
        spec("study.yaml", STATED, "numbers: {decimal_mark: '.'}"),
        message="'4,2' (not a number under decimal_mark '.', thousands_separator none; it is "
        "4.2 if ',' is the decimal mark)",
    ),
    Case(
        "one character as both decimal mark and thousands separator is a spec error",
        SDTM,
        spec("study.yaml", STATED, "numbers: {decimal_mark: ',', thousands_separator: ','}"),
        message="study.yaml:12: numbers: Value error, ',' cannot be both the decimal mark and "
        "the thousands separator",
    ),
    Case(
        "decimal_comma and decimal_mark on one operation is a spec error at its line",
        SDTM,
        spec(
            "sdtm/lb.yaml",
            "LBORRES: {op: result, column: RESULT}",
            "LBORRES: {op: result, column: RESULT, decimal_comma: true, decimal_mark: '.'}",
        ),
        message="give decimal_mark or decimal_comma (its older spelling), not both",
    ),
    # ---- item 7: located errors instead of internal ones
    Case(
        "MISSING in a numeric variable names the variable, the record and the value",
        SDTM,
        steps(
            spec("sdtm/ex.yaml", "EXDOSE: {op: number,", "EXDOSE: {op: column,"),
            edit("injections", cell("TOTAL_CELLS", "MISSING")),
        ),
        message="EX.EXDOSE is numeric (SDTMIG 3.4) but holds text in 1 record(s): "
        "injections.csv row 2: 'MISSING'",
    ),
    Case(
        "a repeated enrolment row names the file and both rows",
        SDTM,
        edit("enrollment", lambda rows: [rows[0], rows[1], rows[1], *rows[2:]]),
        message="DM: 1 subject(s) with more than one enrolment record: 0208-16-HMO-01-001: "
        "enrollment.csv row 2 and enrollment.csv row 3",
    ),
    Case(
        "a repeated enrolment row is excluded and counted when the DM spec says so",
        SDTM,
        steps(
            *(
                spec(
                    f"sdtm/{d}.yaml",
                    "  - form: enrollment\n",
                    "  - form: enrollment\n    drop_duplicates: true\n",
                )
                for d in ("dm", "ds", "vs")
            ),
            edit("enrollment", lambda rows: [rows[0], rows[1], rows[1], *rows[2:]]),
        ),
        exit_code=0,
        after=_enrolment_repeat_counted,
    ),
    Case(
        "a DM spec without RFPENDTC gives SE empty end dates for the last elements",
        SDTM,
        NO_RFPENDTC,
        exit_code=0,
        after=_last_elements_end_empty,
    ),
    Case(
        "a DM spec without RFSTDTC is a spec error naming the variable",
        SDTM,
        steps(NO_RFPENDTC, NO_RFSTDTC),
        message="'AE.AESTDY': ['DM.RFSTDTC (not mapped by the DM spec)']",
    ),
    Case(
        "an empty site on the registry form names the row and the subject",
        SDTM,
        edit("enrollment", cell("SITE_NO", "")),
        message="enrollment.csv: empty SITE_NO (the site of every subject comes from this "
        "registry form) on 1 row(s): row 2 (subject 001)",
    ),
    Case(
        "an empty subject in a form other than DM is named as such",
        SDTM,
        edit("vitals", cell("PT_ID", "")),
        message="VS.USUBJID: empty subject identifier in 6 record(s): vitals.csv row 2: ''",
    ),
    Case(
        "a number without its unit is never taken to be in the standard unit",
        SDTM,
        edit("labs", cell("UNIT", "")),
        message="LB.LBSTRESC: a number without its unit (LBORRESU empty) cannot be given in "
        "the standard unit LBSTRESU in 1 record(s): labs.csv row 2: '4.4'",
    ),
    # ---- damages already located before: kept so that they stay so
    Case(
        "a subject only in a form other than DM",
        SDTM,
        edit(
            "vitals",
            lambda rows: [*rows, [("099" if i == 0 else c) for i, c in enumerate(rows[1])]],
        ),
        message="VS.USUBJID: subject not in the registry form 'enrollment'",
    ),
    Case(
        "a date that does not exist",
        SDTM,
        edit("enrollment", cell("ICF_DATE", "31/02/2016")),
        message="enrollment.csv, column ICF_DATE (rows are file rows): invalid date (order "
        "DMY) in 1 row: row 2 '31/02/2016' (no day 31 in 2016-02)",
    ),
    Case(
        "a unit the study does not know",
        SDTM,
        edit("labs", cell("UNIT", "furlongs")),
        message="unknown unit 'furlongs' in 1 row: row 2",
    ),
    Case(
        "a visit label not in the schedule",
        SDTM,
        edit("labs", cell("VISIT", "Week 99")),
        message="LB.VISITNUM: visit label not in the study's visit schedule",
    ),
    Case(
        "a required column deleted",
        SDTM,
        edit("labs", lambda rows: [r[:5] + r[6:] for r in rows]),
        message="labs.csv: missing column(s) RESULT",
    ),
    Case(
        "an empty form file",
        SDTM,
        lambda ws: (ws.raw / "labs.csv").write_text("", encoding="utf-8"),
        message="labs.csv: cannot read file: no header on row 1",
    ),
    Case(
        "a form with only its header maps no record and says so",
        SDTM,
        edit("labs", lambda rows: rows[:1]),
        exit_code=0,
        after=_no_lab_records,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hostile_mapping(case: Case, workspace: Workspace) -> None:
    assert run_case(case, workspace) == []
