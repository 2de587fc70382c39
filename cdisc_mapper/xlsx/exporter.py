"""Spec files -> spec workbook: write a study's specs (``study.yaml``, ``sdtm/*.yaml``,
``adam/*.yaml``, ``define.yaml``) as one workbook, read back by :mod:`.importer`.

An ADaM-only study (``adam/`` and ``define.yaml``, no ``study.yaml`` or ``sdtm/``)
gives a workbook without the study's, the SDTM and the design rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS
from cdisc_mapper.define.reader import Item, read_define
from cdisc_mapper.errors import SpecError
from cdisc_mapper.sdtm import OPERATIONS, load_study
from cdisc_mapper.spec.adam import ADAM_FOLDER
from cdisc_mapper.spec.sdtm_loader import STUDY_FILE, has_sdtm_specs
from cdisc_mapper.spec.study import StudySpec
from cdisc_mapper.standards import load_terminology
from cdisc_mapper.workbook import FIXED_TIME, save_workbook
from cdisc_mapper.xlsx import layout as L
from cdisc_mapper.xlsx.adam_sheets import adam_content
from cdisc_mapper.xlsx.define_sheets import define_content
from cdisc_mapper.xlsx.design_sheets import design_content
from cdisc_mapper.xlsx.sdtm_sheets import sdtm_content
from cdisc_mapper.xlsx.sheet import Row

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="305496")
_WRAP = Alignment(wrap_text=True, vertical="top")


def _set(ws: Worksheet, row: int, col: int, value: Any) -> None:
    if value == "" or value is None:
        return
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, not a formula


def _study_rows(study: StudySpec) -> list[tuple[str, str]]:
    # defaults shown (a reviewer checks e.g. subjects.date_order); None left out
    data = study.model_dump(by_alias=True, exclude_none=True, mode="json")
    rows = [(attr, data.get(key)) for attr, key in L.STUDY_ATTRIBUTES.items()]
    for section in ("subjects", "numbers", "export"):
        for key, value in data.get(section, {}).items():
            rows.append((f"{section}.{key}", value))
    rows += _csv_rows(data.get("csv", {}))
    rows += [(r["Attribute"], r["Value"]) for r in design_content(study)[L.STUDY]]
    return [(a, v) for a, v in rows if v not in (None, "")]


def _csv_rows(csv: dict[str, Any], prefix: str = "csv") -> list[tuple[str, str]]:
    """``csv.delimiter``, ``csv.encoding`` and ``csv.files.<file>.<key>`` rows (a tab
    written ``tab``, which a cell keeps)."""
    rows = []
    for key, value in csv.items():
        if key == "files":
            for file, own in value.items():
                rows += _csv_rows(own, f"{prefix}.files.{file}")
        elif value is not None:
            rows.append((f"{prefix}.{key}", "tab" if value == "\t" else value))
    return rows


#: Codelists with more terms than this list only the terms the spec names.
MAX_TERMS = 100


def _codelist_rows(names: dict[str, set[str]]) -> list[dict[str, Any]]:
    """Codelist rows; ``names`` maps each codelist to the strings its variables' arguments
    give (a long codelist lists only those of its terms)."""
    terminology = load_terminology()
    rows: list[dict[str, Any]] = []
    for name, named in names.items():
        try:
            cl = terminology.get(name)
        except Exception:  # unknown to the loaded CT: list the reference only
            cl = None
        if cl is None:
            rows.append({"ID": f"CL.{name}", "Name": name})
            continue
        terms = cl.terms
        if len(terms) > MAX_TERMS:
            terms = tuple(t for t in terms if t.submission_value in named)
        for i, term in enumerate(terms, start=1):
            rows.append(
                {
                    "ID": f"CL.{name}",
                    "Name": cl.name,
                    "NCI Codelist Code": cl.code,
                    "Data Type": cl.data_type,
                    "Terminology": f"CDISC {cl.source.upper()} CT {cl.version}" if cl.code else "",
                    "Order": i,
                    "Term": term.submission_value,
                    "NCI Term Code": term.code,
                    "Decoded Value": term.preferred_term,
                }
            )
    return rows


def _write_sheet(ws: Worksheet, header: list[str], rows: list[dict[str, Any]]) -> None:
    for c, name in enumerate(header, start=1):
        cell = ws.cell(row=1, column=c, value=name)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    widths = [len(h) + 2 for h in header]
    for r, row in enumerate(rows, start=2):
        for c, name in enumerate(header, start=1):
            value = row.get(name)
            _set(ws, r, c, value)
            if value not in (None, ""):
                longest = max(len(x) for x in str(value).split("\n"))
                widths[c - 1] = max(widths[c - 1], min(longest + 2, 60))
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(len(rows) + 1, 2)}"


def _add_lists(wb: Workbook) -> dict[str, str]:
    """A hidden sheet of the enumerated values; returns list name -> range formula."""
    lists = {
        "Origin": L.ORIGINS,
        "Data Type": L.DATA_TYPES,
        # SDTM mapping operations, then ADaM derivations (Variables rows of AD datasets)
        "Operation": [
            *OPERATIONS.names(),
            *(n for n in DERIVATIONS.names() if n not in OPERATIONS),
        ],
        "Record Operation": RECORD_BUILDERS.names(),
        "Type": ["Char", "Num"],
        "Supp QORIG": L.QORIGS,
        "YesNo": L.YES_NO,
        "Comparator": L.COMPARATORS,
        "Document Type": L.DOCUMENT_TYPES,
        "Method Type": L.METHOD_TYPES,
    }
    ws = wb.create_sheet(L.LISTS)
    ws.sheet_state = "hidden"
    formulas: dict[str, str] = {}
    for c, (name, values) in enumerate(lists.items(), start=1):
        ws.cell(row=1, column=c, value=name)
        for r, value in enumerate(values, start=2):
            ws.cell(row=r, column=c, value=value)
        letter = get_column_letter(c)
        formulas[name] = f"{quote_sheetname(L.LISTS)}!${letter}$2:${letter}${len(values) + 1}"
    return formulas


def _validate(ws: Worksheet, header: list[str], column: str, formula: str) -> None:
    letter = get_column_letter(header.index(column) + 1)
    dv = DataValidation(type="list", formula1=formula, allow_blank=True)
    dv.error = f"choose a value from the list ({column})"
    dv.errorTitle = column
    ws.add_data_validation(dv)
    dv.add(f"{letter}2:{letter}5000")


def export_workbook(study_dir: Path, xlsx: Path, defines: Sequence[Path] = ()) -> None:
    """Write the specs of the study folder ``study_dir`` (SDTM, ADaM, define.yaml) as the
    workbook ``xlsx``; ``defines`` (define.xml files of the study's datasets) fill the
    Variables sheet's Length and Significant Digits (:func:`fill_from_defines`)."""
    study_dir = Path(study_dir)
    if has_sdtm_specs(study_dir):
        bundle = load_study(study_dir)
        content = _content(study_dir, bundle.study, sdtm_content(bundle))
    elif (study_dir / ADAM_FOLDER).is_dir():
        content = _content(study_dir, None, {k: [] for k in _SDTM_SHEETS})
    else:
        raise SpecError(
            f"no specs to export: neither {STUDY_FILE} and sdtm/ nor {ADAM_FOLDER}/",
            where=str(study_dir),
            hint="give a study spec folder (mappings/<study>)",
        )
    fill_from_defines(content[L.VARIABLES], defines)
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    wb.properties.creator = "cdisc_mapper"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    for name, header in L.SHEETS.items():
        ws = wb.create_sheet(name)
        _write_sheet(ws, header, content.get(name, []))
        if name in (L.STUDY, L.METHODS, L.COMMENTS):
            value_col = header.index("Value" if name == L.STUDY else "Description") + 1
            ws.column_dimensions[get_column_letter(value_col)].width = 100
            for r in range(2, ws.max_row + 1):
                ws.cell(row=r, column=value_col).alignment = _WRAP
    _add_validations(wb, _add_lists(wb))
    xlsx = Path(xlsx)
    xlsx.parent.mkdir(parents=True, exist_ok=True)
    _save_deterministic(wb, xlsx)


def fill_from_defines(rows: list[Row], defines: Sequence[Path]) -> None:
    """Length and Significant Digits of each Variables row whose dataset and variable a
    define.xml of ``defines`` describes: what the data decided (the spec states neither).
    Both are define-only columns, which the import ignores, so the workbook still reads
    back to the same specs."""
    found: dict[tuple[str, str], Item] = {}
    for path in defines:
        doc = read_define(Path(path))
        for ds in doc.datasets.values():
            for name, item in doc.variables(ds).items():
                found[(ds.name, name)] = item
    for row in rows:
        described = found.get((str(row.get("Dataset", "")), str(row.get("Variable", ""))))
        if described is not None:
            row["Length"] = described.length
            row["Significant Digits"] = described.significant_digits


_SDTM_SHEETS = (L.DATASETS, L.SOURCES, L.VARIABLES, L.METHODS)
"""The sheets :func:`sdtm_content` fills."""


def _content(
    study_dir: Path, study: StudySpec | None, sdtm: dict[str, list[Row]]
) -> dict[str, list[Row]]:
    """The rows of every sheet: the study's, the SDTM domains' (``sdtm``), the design
    sheets', the ADaM specs' and define.yaml's, and the code lists they name (``study``
    None: an ADaM-only study)."""
    codelists: dict[str, set[str]] = {}
    for row in sdtm[L.VARIABLES]:
        if row["Codelist"]:
            codelists.setdefault(row["Codelist"], set()).update(row["_strings"])
    content: dict[str, list[Row]] = {
        L.STUDY: [{"Attribute": a, "Value": v} for a, v in _study_rows(study)] if study else [],
        L.DATASETS: sdtm[L.DATASETS],
        L.SOURCES: sdtm[L.SOURCES],
        L.VARIABLES: sdtm[L.VARIABLES],
        L.METHODS: sdtm[L.METHODS],
        L.COMMENTS: [{"ID": k, "Description": v} for k, v in study.comments.items()]
        if study
        else [],
    }
    if study is not None:
        content.update({k: v for k, v in design_content(study).items() if k != L.STUDY})
    if (study_dir / ADAM_FOLDER).is_dir():
        for name, rows in adam_content(study_dir).items():
            content[name] = content.get(name, []) + rows
    for name, rows in define_content(study_dir).items():
        content[name] = content.get(name, []) + rows
    for row in content[L.VARIABLES] + content.get(L.VALUELEVEL, []):  # ADaM, value level
        if row.get("Codelist"):
            codelists.setdefault(row["Codelist"], set())
    content[L.CODELISTS] = _codelist_rows(codelists)
    return content


def _add_validations(wb: Workbook, formulas: dict[str, str]) -> None:
    """Drop-down lists (``formulas``: list name -> range) on the enumerated columns."""
    header = L.SHEETS[L.VARIABLES]
    for column in ("Origin", "Data Type", "Operation", "Supp QORIG", "Type"):
        _validate(_worksheet(wb, L.VARIABLES), header, column, formulas[column])
    for sheet, column, formula in (
        (L.RECORDS, "Operation", "Record Operation"),
        (L.VALUELEVEL, "Origin", "Origin"),
        (L.WHERECLAUSES, "Comparator", "Comparator"),
        (L.DOCUMENTS, "Type", "Document Type"),
        (L.METHODS, "Type", "Method Type"),
        (L.SOURCES, "Drop Duplicates", "YesNo"),
        (L.DATASETS, "Repeating", "YesNo"),
        (L.DATASETS, "Reference Data", "YesNo"),
    ):
        _validate(_worksheet(wb, sheet), L.SHEETS[sheet], column, formulas[formula])


def _worksheet(wb: Workbook, name: str) -> Worksheet:
    ws = wb[name]
    assert isinstance(ws, Worksheet)
    return ws


def _save_deterministic(wb: Workbook, xlsx: Path) -> None:
    """Save with fixed times (:func:`cdisc_mapper.workbook.save_workbook`), so that the same
    spec gives a byte-identical file."""
    save_workbook(wb, xlsx, FIXED_TIME)
