"""Spec files -> spec workbook: write a study's specs (``study.yaml``, ``sdtm/*.yaml``,
``adam/*.yaml``, ``define.yaml``) as one workbook, read back by :mod:`.importer`."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS
from cdisc_mapper.sdtm import OPERATIONS, load_study
from cdisc_mapper.spec.adam import ADAM_FOLDER
from cdisc_mapper.spec.define import METHOD_ID
from cdisc_mapper.spec.sdtm import DomainSpec, SourceSpec, VariableSpec
from cdisc_mapper.spec.study import StudySpec
from cdisc_mapper.standards import load_sdtmig, load_terminology
from cdisc_mapper.xlsx import layout as L
from cdisc_mapper.xlsx.define_sheets import define_content
from cdisc_mapper.xlsx.design_sheets import design_content

#: Workbook properties get this fixed time, so that the same spec gives the same file.
FIXED_TIME = dt.datetime(2000, 1, 1)

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="305496")
_WRAP = Alignment(wrap_text=True, vertical="top")


def source_ids(domain: DomainSpec) -> list[str]:
    """The id of each source in the Sources/Variables sheets: its form, ``form#n`` when a
    form feeds the domain more than once."""
    ids: list[str] = []
    for src in domain.sources:
        n = sum(1 for s in domain.sources[: len(ids) + 1] if s.form == src.form)
        ids.append(src.form if n == 1 else f"{src.form}#{n}")
    return ids


def _set(ws: Worksheet, row: int, col: int, value: Any) -> None:
    if value == "" or value is None:
        return
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, not a formula


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _data_type(name: str, ig_type: str | None) -> str:
    if name.endswith("DTC"):
        return "datetime"
    if name.endswith("DUR"):
        return "durationDatetime"
    if ig_type == "Num":
        return "integer" if name.endswith(("SEQ", "DY")) or name == "AGE" else "float"
    return "text"


def _study_rows(study: StudySpec) -> list[tuple[str, str]]:
    # defaults shown (a reviewer checks e.g. subjects.date_order); None left out
    data = study.model_dump(by_alias=True, exclude_none=True, mode="json")
    rows = [(attr, data.get(key)) for attr, key in L.STUDY_ATTRIBUTES.items()]
    for key, value in data.get("subjects", {}).items():
        rows.append((f"subjects.{key}", value))
    rows += [(r["Attribute"], r["Value"]) for r in design_content(study)[L.STUDY]]
    return [(a, v) for a, v in rows if v not in (None, "")]


def _variable_rows(domain: DomainSpec) -> list[list[Any]]:
    sdtmig = load_sdtmig()
    out: list[list[Any]] = []
    ids = source_ids(domain)
    groups: list[tuple[str, dict[str, VariableSpec]]] = [
        (sid, src.variables) for sid, src in zip(ids, domain.sources, strict=True)
    ]
    groups.append(("", domain.variables))
    used_methods: set[str] = set()
    order = 0
    for sid, variables in groups:
        for name, var in variables.items():
            order += 1
            meta = sdtmig.variable_allowed(domain.domain, name)
            label = var.supp.label if var.supp else (meta.label if meta else "")
            method_id = ""
            if var.method is not None and METHOD_ID.match(var.method.strip()):
                method_id = var.method.strip()  # a named method (define.yaml methods:)
            elif var.method is not None:
                method_id = f"MT.{domain.domain}.{name}"
                n = 1
                while method_id in used_methods:
                    n += 1
                    method_id = f"MT.{domain.domain}.{name}.{n}"
                used_methods.add(method_id)
            supp = var.supp
            row = {
                "Order": order,
                "Dataset": domain.domain,
                "Variable": name,
                "Label": label,
                "Data Type": _data_type(name, meta.type if meta else None),
                "Mandatory": "Yes" if meta and meta.core == "Req" else "No",
                "Codelist": var.codelist,
                "Origin": var.origin,
                "Method": method_id,
                "Role": meta.role if meta else "",
                "Comment": var.comment,
                "Source Form": sid,
                "Operation": var.op,
                "Arguments": L.args_json(var.args),
                "Supp Label": supp.label if supp else None,
                "Supp QORIG": supp.qorig if supp else None,
                "Supp QEVAL": supp.qeval if supp else None,
                "Supp IDVAR": supp.idvar if supp else None,
                "_method": var.method,
                "_strings": _strings(var.args),
            }
            out.append(row)
    return out


def _source_row(domain: DomainSpec, sid: str, src: SourceSpec) -> dict[str, Any]:
    data = src.model_dump(by_alias=True, exclude_defaults=True, mode="json")
    return {
        "Dataset": domain.domain,
        "Source Form": sid,
        "Form": src.form,
        "File": src.file,
        "Required Columns": ", ".join(src.required_columns),
        "Drop Duplicates": "Yes" if src.drop_duplicates else None,
        "Exclude": _compact(data["exclude"]) if "exclude" in data else None,
        "Melt": _compact(data["melt"]) if "melt" in data else None,
    }


#: Codelists with more terms than this list only the terms the spec names.
MAX_TERMS = 100


def _strings(value: Any) -> set[str]:
    """Every string value (not key) in an operation's arguments."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return set()


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
            *(op.name for op in DERIVATIONS if op.name not in OPERATIONS),
        ],
        "Record Operation": [op.name for op in RECORD_BUILDERS],
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


def export_workbook(study_dir: Path, xlsx: Path) -> None:
    """Write the SDTM spec of the study folder ``study_dir`` as the workbook ``xlsx``."""
    bundle = load_study(Path(study_dir))
    sdtmig = load_sdtmig()
    study = bundle.study
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "cdisc_mapper"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME

    dataset_rows: list[dict[str, Any]] = []
    source_rows: list[dict[str, Any]] = []
    variable_rows: list[dict[str, Any]] = []
    codelists: dict[str, set[str]] = {}
    for code in sorted(bundle.domains):
        domain = bundle.domains[code]
        meta = sdtmig.dataset(code) if sdtmig.has_dataset(code) else None
        one_per_subject = meta is not None and meta.structure == "One record per subject"
        dataset_rows.append(
            {
                "Dataset": code,
                "Description": domain.label or (meta.label if meta else ""),
                "Class": meta.class_ if meta else "",
                "Structure": meta.structure if meta else "",
                "Purpose": "Tabulation",
                "Key Variables": ", ".join(domain.keys),
                "Repeating": "No" if one_per_subject else "Yes",
                "Reference Data": "Yes" if meta and meta.class_ == "Trial Design" else "No",
                "Comment": domain.comment,
            }
        )
        for sid, src in zip(source_ids(domain), domain.sources, strict=True):
            source_rows.append(_source_row(domain, sid, src))
        for row in _variable_rows(domain):
            variable_rows.append(row)
            if row["Codelist"]:
                codelists.setdefault(row["Codelist"], set()).update(row["_strings"])

    method_rows = [
        {
            "ID": row["Method"],
            "Name": f"Algorithm to derive {row['Dataset']}.{row['Variable']}",
            "Type": "Computation",
            "Description": row["_method"],
        }
        for row in variable_rows
        if row["Method"] and not METHOD_ID.match(row["Method"])
    ]
    comment_rows = [{"ID": k, "Description": v} for k, v in study.comments.items()]
    content: dict[str, list[dict[str, Any]]] = {
        L.STUDY: [{"Attribute": a, "Value": v} for a, v in _study_rows(study)],
        L.DATASETS: dataset_rows,
        L.SOURCES: source_rows,
        L.VARIABLES: variable_rows,
        L.METHODS: method_rows,
        L.COMMENTS: comment_rows,
    }
    content.update({k: v for k, v in design_content(study).items() if k != L.STUDY})
    if (Path(study_dir) / ADAM_FOLDER).is_dir():
        from cdisc_mapper.xlsx.adam_sheets import adam_content

        for name, rows in adam_content(Path(study_dir)).items():
            content[name] = content.get(name, []) + rows
    for name, rows in define_content(Path(study_dir)).items():
        content[name] = content.get(name, []) + rows
    for row in content[L.VARIABLES] + content.get(L.VALUELEVEL, []):  # ADaM, value level
        if row.get("Codelist"):
            codelists.setdefault(row["Codelist"], set())
    content[L.CODELISTS] = _codelist_rows(codelists)
    for name, header in L.SHEETS.items():
        ws = wb.create_sheet(name)
        _write_sheet(ws, header, content.get(name, []))
        if name in (L.STUDY, L.METHODS, L.COMMENTS):
            value_col = header.index("Value" if name == L.STUDY else "Description") + 1
            ws.column_dimensions[get_column_letter(value_col)].width = 100
            for r in range(2, ws.max_row + 1):
                ws.cell(row=r, column=value_col).alignment = _WRAP
    formulas = _add_lists(wb)
    header = L.SHEETS[L.VARIABLES]
    for column in ("Origin", "Data Type", "Operation", "Supp QORIG", "Type"):
        _validate(wb[L.VARIABLES], header, column, formulas[column])
    _validate(wb[L.RECORDS], L.SHEETS[L.RECORDS], "Operation", formulas["Record Operation"])
    _validate(wb[L.VALUELEVEL], L.SHEETS[L.VALUELEVEL], "Origin", formulas["Origin"])
    _validate(wb[L.WHERECLAUSES], L.SHEETS[L.WHERECLAUSES], "Comparator", formulas["Comparator"])
    _validate(wb[L.DOCUMENTS], L.SHEETS[L.DOCUMENTS], "Type", formulas["Document Type"])
    _validate(wb[L.METHODS], L.SHEETS[L.METHODS], "Type", formulas["Method Type"])
    _validate(wb[L.SOURCES], L.SHEETS[L.SOURCES], "Drop Duplicates", formulas["YesNo"])
    _validate(wb[L.DATASETS], L.SHEETS[L.DATASETS], "Repeating", formulas["YesNo"])
    _validate(wb[L.DATASETS], L.SHEETS[L.DATASETS], "Reference Data", formulas["YesNo"])
    xlsx = Path(xlsx)
    xlsx.parent.mkdir(parents=True, exist_ok=True)
    _save_deterministic(wb, xlsx)


def _save_deterministic(wb: Workbook, xlsx: Path) -> None:
    """Save with fixed zip entry times (openpyxl stamps the current time), so that the same
    spec gives a byte-identical file."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(xlsx, "w") as out:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl sets 'modified' to now
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp + rb"\g<2>",
                    data,
                )
            out.writestr(fixed, data)
