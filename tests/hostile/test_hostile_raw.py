"""Hostile raw input: spec paths leaving the raw folder, broken CSV rows, Excel cells.

Rules (issue 11): every path a spec names resolves, symbolic links followed, inside its
folder (the raw folder for forms), else an error at the spec line that never shows the
file's content; a CSV record has exactly the header's number of fields, else an error
naming the file and the line an editor shows; an Excel cell is read as the text its user
sees (dates as ISO 8601, numbers with their format's decimals).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from cdisc_mapper.xpt import read_xpt
from tests.hostile.catalogue import Case, Workspace, run_case

SDTM = ["sdtm", "--study", "{study}", "--raw", "{raw}", "--out", "{out}"]
#: Text of a file outside the raw folder: no output may ever show it.
SECRET = "SECRET-PATIENT-LINE"
AE_SOURCE = "  - form: adverse_events\n"


def _foreign_ae(ws: Workspace) -> Path:
    """An AE form of another study, outside the raw folder, every verbatim term secret."""
    other = ws.tmp / "other_study"
    other.mkdir()
    rows = _rows(ws.raw / "adverse_events.csv")
    term = rows[0].index("AE_TERM")
    for row in rows[1:]:
        row[term] = SECRET
    _write_rows(other / "adverse_events.csv", rows)
    return other / "adverse_events.csv"


def _secret_file(ws: Workspace) -> Path:
    """A file outside the raw folder that is no form at all (its first line is data)."""
    path = ws.tmp / "secret.csv"
    path.write_text(f"root:x:0:0:{SECRET}\nmore:{SECRET}\n", encoding="utf-8")
    return path


def _ae_file(ws: Workspace, file: str) -> None:
    """The AE spec reads its source from ``file`` (as written in the spec)."""
    spec = ws.study / "sdtm" / "ae.yaml"
    text = spec.read_text(encoding="utf-8")
    assert AE_SOURCE in text
    spec.write_text(text.replace(AE_SOURCE, f"{AE_SOURCE}    file: {file}\n"), encoding="utf-8")


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def _edit_lines(path: Path, edit) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    edit(lines)
    path.write_text("\n".join(lines), encoding="utf-8")


def _no_ae(ws: Workspace) -> None:
    assert not (ws.out / "sdtm" / "ae.xpt").exists()


# ------------------------------------------------------------------ paths


def _relative_outside(ws: Workspace) -> None:
    _foreign_ae(ws)
    _ae_file(ws, "../other_study/adverse_events.csv")


def _absolute(ws: Workspace) -> None:
    _ae_file(ws, str(_foreign_ae(ws)))


def _symlink_out(ws: Workspace) -> None:
    (ws.raw / "ae_link.csv").symlink_to(_foreign_ae(ws))
    _ae_file(ws, "ae_link.csv")


def _form_replaced_by_link(ws: Workspace) -> None:
    """The raw folder's own adverse_events.csv is a link to a file outside it, a file
    that is no form: nothing of it may show in the message about missing columns."""
    (ws.raw / "adverse_events.csv").unlink()
    (ws.raw / "adverse_events.csv").symlink_to(_secret_file(ws))


def _registry_outside(ws: Workspace) -> None:
    _secret_file(ws)
    study = ws.study / "study.yaml"
    text = study.read_text(encoding="utf-8")
    study.write_text(text.replace("registry_form: enrollment", "registry_form: ../secret"))


def _unused_link_out(ws: Workspace) -> None:
    (ws.raw / "notes.csv").symlink_to(_secret_file(ws))


def _headerless_form(ws: Workspace) -> None:
    """A form inside the raw folder whose header line was lost: its first line is a
    record (of secret values)."""
    path = ws.raw / "adverse_events.csv"
    rows = _rows(path)
    _write_rows(path, [[f"{SECRET}-{i}" for i in range(len(rows[0]))], *rows[1:]])


# ------------------------------------------------------------------ CSV rows


def _short_row(ws: Workspace) -> None:
    """The second AE record (line 3) cut to its first 5 of 28 fields."""

    def cut(lines: list[str]) -> None:
        assert lines[0].count(",") == 27 and lines[2]
        lines[2] = ",".join(lines[2].split(",")[:5])

    _edit_lines(ws.raw / "adverse_events.csv", cut)


def _extra_field_first(ws: Workspace) -> None:
    _edit_lines(ws.raw / "adverse_events.csv", lambda ls: ls.__setitem__(1, ls[1] + ",X"))


def _extra_field_last(ws: Workspace) -> None:
    def extra(lines: list[str]) -> None:
        last = max(i for i, line in enumerate(lines) if line)
        lines[last] += ",X"

    _edit_lines(ws.raw / "adverse_events.csv", extra)


def _quoted_newline_then_short_row(ws: Workspace) -> None:
    """Record 1's verbatim term holds a line break (lines 2-3); record 2, which now starts
    on line 4, is cut short: the message must say line 4, as an editor shows it."""
    path = ws.raw / "adverse_events.csv"
    rows = _rows(path)
    term = rows[0].index("AE_TERM")
    rows[1][term] = "headache\nafter LP"
    rows[2] = rows[2][:5]
    _write_rows(path, rows)


def _quote_not_closed(ws: Workspace) -> None:
    def unclosed(lines: list[str]) -> None:
        fields = lines[2].split(",")
        fields[2] = '"' + fields[2]
        lines[2] = ",".join(fields)

    _edit_lines(ws.raw / "adverse_events.csv", unclosed)


# ------------------------------------------------------------------ Excel cells


def _as_xlsx(ws: Workspace, form: str, cell) -> Path:
    """``form`` as a workbook of text cells, each passed through ``cell(column, text,
    sheet_cell)`` first (to store a real number or date), read by the spec from there."""
    rows = _rows(ws.raw / f"{form}.csv")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(rows[0])
    for r, row in enumerate(rows[1:], start=2):
        for c, (name, text) in enumerate(zip(rows[0], row, strict=True), start=1):
            target = sheet.cell(row=r, column=c, value=text)
            cell(name, text, target)
    path = ws.raw / f"{form}.xlsx"
    book.save(path)
    (ws.raw / f"{form}.csv").unlink()
    spec = ws.study / "sdtm" / ("ae.yaml" if form == "adverse_events" else "lb.yaml")
    text = spec.read_text(encoding="utf-8")
    source = f"  - form: {form}\n"
    assert source in text
    spec.write_text(text.replace(source, f"{source}    file: {form}.xlsx\n"), encoding="utf-8")
    return path


def _ae_dates_as_date_cells(ws: Workspace) -> None:
    def date_cell(name: str, text: str, target) -> None:
        if name in ("START_DATE", "END_DATE") and re.fullmatch(r"\d\d/\d\d/\d{4}", text):
            target.value = dt.datetime.strptime(text, "%d/%m/%Y")
            target.number_format = "dd/mm/yyyy"  # as Excel shows a typed date

    _as_xlsx(ws, "adverse_events", date_cell)


def _ae_dates_as_iso(ws: Workspace) -> None:
    ae, _ = read_xpt(ws.out / "sdtm" / "ae.xpt")
    full = [v for v in ae["AESTDTC"] if re.fullmatch(r"\d{4}-\d\d-\d\d", v)]
    assert full, list(ae["AESTDTC"])


def _lab_results_as_numbers(ws: Workspace) -> None:
    def number_cell(name: str, text: str, target) -> None:
        if name == "RESULT" and re.fullmatch(r"\d+(\.\d+)?", text):
            target.value = float(text)
            target.number_format = "0.00"  # results shown with 2 decimals

    _as_xlsx(ws, "labs", number_cell)


def _lab_results_keep_their_decimals(ws: Workspace) -> None:
    sheet = openpyxl.load_workbook(ws.raw / "labs.xlsx").active
    shown = Counter(
        f"{c.value:.2f}"
        for row in sheet.iter_rows()
        for c in row
        if c.data_type == "n" and c.value is not None
    )
    lb, _ = read_xpt(ws.out / "sdtm" / "lb.xpt")
    results = Counter(lb["LBORRES"])
    assert shown and all(results[text] >= n for text, n in shown.items())
    assert any(text.endswith("0") for text in shown)  # a trailing zero a float loses


CASES = [
    Case(
        "raw: spec file outside the raw folder (..)",
        SDTM,
        prepare=_relative_outside,
        message="ae.yaml:5: sources.0.file: Value error, '../other_study/adverse_events.csv' "
        "goes up with '..'",
        never=[SECRET],
        after=_no_ae,
    ),
    Case(
        "raw: spec file as an absolute path",
        SDTM,
        prepare=_absolute,
        message="is an absolute path; give a path relative to the raw folder",
        never=[SECRET],
        after=_no_ae,
    ),
    Case(
        "raw: spec file is a symbolic link leaving the raw folder",
        SDTM,
        prepare=_symlink_out,
        message="ae.yaml:5: file 'ae_link.csv' is outside the raw folder",
        never=[SECRET],
        after=_no_ae,
    ),
    Case(
        "raw: form file replaced by a link to a foreign file (content never shown)",
        SDTM,
        prepare=_form_replaced_by_link,
        message="ae.yaml:4: file 'adverse_events.csv' is outside the raw folder",
        never=[SECRET, "root:x"],
        after=_no_ae,
    ),
    Case(
        "raw: registry form outside the raw folder",
        SDTM,
        prepare=_registry_outside,
        message="subjects.registry_form: Value error, '../secret' goes up",
        never=[SECRET],
    ),
    Case(
        "raw: unused raw file linking outside the folder is not read",
        SDTM,
        prepare=_unused_link_out,
        message="file 'notes.csv' is outside the raw folder",
        never=[SECRET],
    ),
    Case(
        "raw: headerless form, missing columns named, data line not shown",
        SDTM,
        prepare=_headerless_form,
        message="adverse_events.csv: missing column(s) ",
        never=[SECRET],
        after=_no_ae,
    ),
    Case(
        "raw: CSV row cut short",
        SDTM,
        prepare=_short_row,
        message="adverse_events.csv:3: 5 fields where the header (line 1) has 28",
        after=_no_ae,
    ),
    Case(
        "raw: CSV extra field on the first record",
        SDTM,
        prepare=_extra_field_first,
        message="adverse_events.csv:2: 29 fields where the header (line 1) has 28",
        after=_no_ae,
    ),
    Case(
        "raw: CSV extra field on the last record",
        SDTM,
        prepare=_extra_field_last,
        message="29 fields where the header (line 1) has 28",
        after=_no_ae,
    ),
    Case(
        "raw: CSV quoted line break counted in the line numbers",
        SDTM,
        prepare=_quoted_newline_then_short_row,
        message="adverse_events.csv:4: 5 fields where the header (line 1) has 28",
        after=_no_ae,
    ),
    Case(
        "raw: CSV quote not closed",
        SDTM,
        prepare=_quote_not_closed,
        message="adverse_events.csv:3: cannot read the record starting on this line",
        after=_no_ae,
    ),
    Case(
        "raw: Excel date cells read as ISO 8601 dates",
        SDTM,
        prepare=_ae_dates_as_date_cells,
        exit_code=0,
        after=_ae_dates_as_iso,
    ),
    Case(
        "raw: Excel numbers keep their format's trailing zeros",
        SDTM,
        prepare=_lab_results_as_numbers,
        exit_code=0,
        after=_lab_results_keep_their_decimals,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hostile_raw(case: Case, workspace: Workspace) -> None:
    assert run_case(case, workspace) == []
