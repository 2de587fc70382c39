"""``define.yaml`` in the spec workbook: the P21 sheets ValueLevel, WhereClauses, Methods
(named ``M-`` methods), Dictionaries and Documents, plus ``define.*`` rows of the Study
sheet (originator, aCRF pages per form, codelists shown in full, attached comments).

A where clause is one row per condition; rows sharing an ``ID`` form one composite clause
(every condition must hold). ``Value`` lists several values (IN, NOTIN) separated by
``", "``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from cdisc_mapper.condition import Condition, range_checks
from cdisc_mapper.define.model import oid_part
from cdisc_mapper.define.where import clause_oid_part
from cdisc_mapper.spec.define import (
    DEFINE_FILE,
    METHOD_ID,
    DefineSpec,
    ValueLevelSpec,
    load_define_extras,
)
from cdisc_mapper.spec.yamlio import dump_yaml
from cdisc_mapper.xlsx import layout as L
from cdisc_mapper.xlsx.sheet import Row, Sheet, cell_str, parse_cell, split_list, validation_error

#: ``has_variable(dataset, variable)``: whether a dataset of the workbook has a variable.
VariableTest = Callable[[str, str], bool]
#: Where clause ID -> (dataset, conditions).
Clauses = dict[str, tuple[str, list[dict[str, Any]]]]

#: Study-sheet attributes holding the rest of define.yaml (text, or YAML for mappings).
STUDY_ATTRIBUTES = {
    "define.originator": "originator",
    "define.forms": "forms",
    "define.codelists": "codelists",
    "define.attach": "attach",
}
VALUE_SEPARATOR = ", "


def where_id(dataset: str, condition: Condition) -> str:
    """The WhereClauses ID of a clause (as define.xml names it: WC.DS.VAR.CMP.VALUES...)."""
    return f"WC.{oid_part(dataset)}.{clause_oid_part(range_checks(condition) or ())}"


def define_content(study_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Rows of the define sheets (and ``define.*`` Study rows) from ``define.yaml``."""
    path = Path(study_dir) / DEFINE_FILE
    if not path.is_file():
        return {}
    spec = load_define_extras(Path(study_dir)).spec
    data = spec.model_dump(mode="json", exclude_defaults=True)
    study = []
    for attr, key in STUDY_ATTRIBUTES.items():
        if key not in data:
            continue
        value = data[key]
        study.append(
            {"Attribute": attr, "Value": value if isinstance(value, str) else _yaml(value)}
        )
    methods = [
        {
            "ID": mid,
            "Name": m.name,
            "Type": m.type,
            "Description": m.description,
            "Document": m.document,
            "Pages": m.pages,
            "Expression Context": m.expression.context if m.expression else None,
            "Expression Code": m.expression.code if m.expression else None,
        }
        for mid, m in spec.methods.items()
    ]
    documents = [
        {
            "ID": did,
            "Title": d.title,
            "Href": d.href,
            "Type": d.kind,
            "Standards": ", ".join(d.standards),
        }
        for did, d in spec.documents.items()
    ]
    dictionaries = [
        {
            "ID": name,
            "Name": name,
            "Data Type": "text",
            "Dictionary": name,
            "Version": d.version,
            "Href": d.href,
        }
        for name, d in spec.dictionaries.items()
    ]
    levels: list[dict[str, Any]] = []
    clauses: list[dict[str, Any]] = []
    seen: set[str] = set()
    for key, entries in spec.value_level.items():
        dataset, variable = key.split(".")
        for order, level in enumerate(entries, start=1):
            wid = where_id(dataset, level.condition)
            predecessor = level.origin == "Predecessor"
            levels.append(
                {
                    "Order": order,
                    "Dataset": dataset,
                    "Variable": variable,
                    "Where Clause": wid,
                    "Label": level.label,
                    "Codelist": level.codelist,
                    "Origin": level.origin,
                    "Source": None if predecessor else level.source,
                    "Method": level.method,
                    "Predecessor": level.source if predecessor else None,
                    "Comment": level.comment,
                }
            )
            if wid in seen:
                continue
            seen.add(wid)
            for variable_tested, comparator, values in range_checks(level.condition) or ():
                clauses.append(
                    {
                        "ID": wid,
                        "Dataset": dataset,
                        "Variable": variable_tested,
                        "Comparator": comparator,
                        "Value": VALUE_SEPARATOR.join(values),
                    }
                )
    return {
        L.STUDY: study,
        L.METHODS: methods,
        L.DOCUMENTS: documents,
        L.DICTIONARIES: dictionaries,
        L.VALUELEVEL: levels,
        L.WHERECLAUSES: clauses,
    }


def _yaml(value: Any) -> str:
    return dump_yaml(value).rstrip("\n")


def read_define(
    sheets: dict[str, Sheet],
    study_rows: list[tuple[int, str, str]],
    has_variable: VariableTest,
) -> dict[str, Any] | None:
    """define.yaml's content from the workbook (None when it states nothing).

    ``study_rows`` are the ``define.*`` rows of the Study sheet (row, attribute, value);
    ``has_variable(dataset, variable)`` tells whether a dataset of the workbook has a
    variable (for the where clauses and value-level rows). Errors name sheet, row and
    column.
    """
    study = sheets[L.STUDY]
    data = _read_study_rows(study, study_rows)
    documents = _read_documents(sheets[L.DOCUMENTS])
    methods = _read_methods(sheets[L.METHODS], documents)
    dictionaries = _read_dictionaries(sheets[L.DICTIONARIES])
    clauses = _read_where_clauses(sheets[L.WHERECLAUSES], has_variable)
    value_level = _read_value_level(sheets[L.VALUELEVEL], clauses, has_variable)
    sections: dict[str, dict[str, Any]] = {
        "documents": documents,
        "methods": methods,
        "dictionaries": dictionaries,
        "value_level": value_level,
    }
    data.update({key: value for key, value in sections.items() if value})
    if not data:
        return None
    ordered_data = {k: data[k] for k in DefineSpec.model_fields if k in data}
    try:
        DefineSpec.model_validate(ordered_data)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = ".".join(str(x) for x in err["loc"]) or "(define)"
        raise study.error(f"{path}: {err['msg']}", 1, None) from None
    return ordered_data


def _read_study_rows(study: Sheet, study_rows: list[tuple[int, str, str]]) -> dict[str, Any]:
    """The ``define.*`` Study rows: the originator as text, the others as YAML."""
    data: dict[str, Any] = {}
    for r, attr, value in study_rows:
        key = STUDY_ATTRIBUTES[attr]
        data[key] = value if key == "originator" else parse_cell(study, r, "Value", value, "yaml")
    return data


def _read_documents(sheet: Sheet) -> dict[str, Any]:
    """Documents: ID -> title, href, kind, standards."""
    documents: dict[str, Any] = {}
    for r, row in sheet.rows:
        did = _required(sheet, r, row, "ID", documents)
        doc: dict[str, Any] = {"title": cell_str(row, "Title"), "href": cell_str(row, "Href")}
        if (kind := cell_str(row, "Type")) is not None:
            doc["kind"] = kind
        if (standards := cell_str(row, "Standards")) is not None:
            doc["standards"] = split_list(standards)
        documents[did] = _checked(sheet, r, doc, "documents", did)
    return documents


def _read_methods(sheet: Sheet, documents: dict[str, Any]) -> dict[str, Any]:
    """Methods: the named ``M-<ID>`` methods (the others are variables' own derivations,
    read with the Variables sheet)."""
    methods: dict[str, Any] = {}
    for r, row in sheet.rows:
        mid = cell_str(row, "ID")
        if mid is None or not METHOD_ID.match(mid):
            continue  # a variable's own derivation (MT.<DS>.<VAR>), read with Variables
        if mid in methods:
            raise sheet.error(f"method ID {mid!r} given twice", r, "ID")
        method: dict[str, Any] = {"description": cell_str(row, "Description") or ""}
        for key, column in (("name", "Name"), ("type", "Type"), ("document", "Document"),
                            ("pages", "Pages")):  # fmt: skip
            if (value := cell_str(row, column)) is not None:
                method[key] = value
        context, code = cell_str(row, "Expression Context"), cell_str(row, "Expression Code")
        if context is not None or code is not None:
            method["expression"] = {"context": context, "code": code}
        if method.get("document") and method["document"] not in documents:
            raise sheet.error(
                f"method {mid} names document {method['document']!r}, not in the Documents sheet",
                r,
                "Document",
            )
        methods[mid] = _checked(sheet, r, method, "methods", mid)
    return methods


def _read_dictionaries(sheet: Sheet) -> dict[str, Any]:
    """Dictionaries: ID -> version, href."""
    dictionaries: dict[str, Any] = {}
    for r, row in sheet.rows:
        name = _required(sheet, r, row, "ID", dictionaries)
        entry = {"version": cell_str(row, "Version")}
        if (href := cell_str(row, "Href")) is not None:
            entry["href"] = href
        dictionaries[name] = _checked(sheet, r, entry, "dictionaries", name)
    return dictionaries


#: ValueLevel columns of the ValueLevelSpec keys (the Predecessor column is ``source``).
_LEVEL_COLUMNS = {"label": "Label", "origin": "Origin", "source": "Source", "method": "Method",
                  "comment": "Comment", "codelist": "Codelist"}  # fmt: skip


def _read_value_level(
    sheet: Sheet, clauses: Clauses, has_variable: VariableTest
) -> dict[str, list[dict[str, Any]]]:
    """ValueLevel: ``DATASET.VARIABLE`` -> its value-level entries, in Order (rows
    without an Order: by row) within each variable, variables in order of first row."""
    seen: dict[tuple[str, str, str], int] = {}
    ordered: list[tuple[str, float, int, dict[str, Any]]] = []
    for r, row in sheet.rows:
        dataset = cell_str(row, "Dataset") or ""
        variable = cell_str(row, "Variable") or ""
        wid = _level_clause(sheet, r, dataset, variable, cell_str(row, "Where Clause"), clauses,
                            has_variable)  # fmt: skip
        key = (dataset, variable, wid)
        if key in seen:
            raise sheet.error(
                f"{dataset}.{variable} has where clause {wid} twice (first at row {seen[key]})",
                r,
                "Where Clause",
            )
        seen[key] = r
        level: dict[str, Any] = {"where": clauses[wid][1]}
        for k, column in _LEVEL_COLUMNS.items():
            if (value := cell_str(row, column)) is not None:
                level[k] = value
        if (pred := cell_str(row, "Predecessor")) is not None:
            level["source"] = pred
        try:
            ValueLevelSpec.model_validate(level)
        except ValidationError as exc:
            columns = {**_LEVEL_COLUMNS, "where": "Where Clause"}
            raise validation_error(sheet, r, exc, columns, name=f"{dataset}.{variable}") from None
        order = row.get("Order")
        ordered.append((f"{dataset}.{variable}", order if isinstance(order, int | float) else r,
                        r, level))  # fmt: skip
    value_level: dict[str, list[dict[str, Any]]] = {}
    keys = list(dict.fromkeys(k for k, *_ in ordered))
    for name, _order, _r, level in sorted(ordered, key=lambda x: (keys.index(x[0]), x[1], x[2])):
        value_level.setdefault(name, []).append(level)
    return value_level


def _level_clause(
    sheet: Sheet,
    r: int,
    dataset: str,
    variable: str,
    wid: str | None,
    clauses: Clauses,
    has_variable: VariableTest,
) -> str:
    """The where clause ID of a ValueLevel row, checked: the variable is the workbook's,
    the clause is in WhereClauses and tests the row's dataset."""
    if not has_variable(dataset, variable):
        raise sheet.error(
            f"{dataset}.{variable} is not a variable of a dataset in this workbook",
            r,
            "Variable",
            hint="check the Dataset and Variable names against the Variables sheet",
        )
    if wid is None or wid not in clauses:
        raise sheet.error(
            f"{dataset}.{variable}: where clause {wid!r} is not in the WhereClauses sheet",
            r,
            "Where Clause",
        )
    if clauses[wid][0] != dataset:
        raise sheet.error(
            f"where clause {wid} tests dataset {clauses[wid][0]}, not {dataset}",
            r,
            "Where Clause",
        )
    return wid


def _required(sheet: Sheet, r: int, row: Row, column: str, seen: dict[str, Any]) -> str:
    value = cell_str(row, column)
    if value is None:
        raise sheet.error(f"a row without {column}", r, column)
    if value in seen:
        raise sheet.error(f"{column} {value!r} given twice", r, column)
    return value


def _entry_model(section: str) -> type[BaseModel]:
    """The model of an entry of a define.yaml section (the section is ``dict[str, Model]``)."""
    model: type[BaseModel] = get_args(DefineSpec.model_fields[section].annotation)[1]
    return model


def _checked(sheet: Sheet, r: int, body: dict[str, Any], section: str, key: str) -> Any:
    """``body`` validated as a define.yaml ``section`` entry (errors at the row)."""
    model = _entry_model(section)
    body = {k: v for k, v in body.items() if v is not None}
    try:
        model.model_validate(body)
    except ValidationError as exc:
        columns = {"title": "Title", "href": "Href", "kind": "Type", "standards": "Standards",
                   "description": "Description", "name": "Name", "type": "Type",
                   "document": "Document", "pages": "Pages", "version": "Version",
                   "expression": "Expression Code"}  # fmt: skip
        raise validation_error(sheet, r, exc, columns, name=key) from None
    return body


def _read_where_clauses(sheet: Sheet, has_variable: VariableTest) -> Clauses:
    """ID -> (dataset, conditions); rows sharing an ID are one composite clause."""
    clauses: Clauses = {}
    for r, row in sheet.rows:
        wid = cell_str(row, "ID")
        if wid is None:
            raise sheet.error("a where clause row without an ID", r, "ID")
        dataset = cell_str(row, "Dataset") or ""
        variable = cell_str(row, "Variable") or ""
        if not has_variable(dataset, variable):
            raise sheet.error(
                f"where clause {wid} tests {dataset}.{variable}, which is not a variable of a "
                "dataset in this workbook",
                r,
                "Variable",
            )
        found = clauses.setdefault(wid, (dataset, []))
        if found[0] != dataset:
            raise sheet.error(
                f"where clause {wid} mixes datasets {found[0]} and {dataset}", r, "Dataset"
            )
        if any(c["variable"] == variable for c in found[1]):
            raise sheet.error(f"where clause {wid} tests {variable} twice", r, "Variable")
        comparator = cell_str(row, "Comparator") or "EQ"
        if comparator not in L.COMPARATORS:
            raise sheet.error(
                f"comparator {comparator!r}: use " + ", ".join(L.COMPARATORS), r, "Comparator"
            )
        text = cell_str(row, "Value")
        if text is None:
            raise sheet.error(f"where clause {wid}: no value", r, "Value")
        values = text.split(VALUE_SEPARATOR) if comparator in ("IN", "NOTIN") else [text]
        if comparator not in ("IN", "NOTIN") and VALUE_SEPARATOR in text:
            raise sheet.error(
                f"{comparator} takes one value; use IN or NOTIN for several", r, "Value"
            )
        condition: dict[str, Any] = {"variable": variable}
        if comparator != "EQ":
            condition["comparator"] = comparator
        found[1].append({**condition, "values": values})
    return clauses
