"""A study's SDTM domain specs (``sdtm/*.yaml``) in the spec workbook: the rows to write
and the YAML documents read back.

Rows of a dataset whose name does not start with ``AD`` (ADaM's: :mod:`.adam_sheets`):

* Datasets: Description = the domain's ``label`` (the SDTMIG label when it gives none;
  a Description equal to that label reads back as not given), Key Variables, Comment;
  Class, Structure, Purpose, Repeating and Reference Data are for define.xml tools.
* Sources: one row per raw source of a domain, ``Source Form`` = its id (the form, or
  ``form#n`` for the n-th source of one form); Exclude and Melt as JSON.
* Variables: one row per variable in mapping order (``Order``), under its ``Source
  Form`` (blank: a domain-level variable); Operation, Arguments as JSON, Origin, Comment,
  Codelist, Method (``MT.<DOMAIN>.<VARIABLE>``, whose Methods-sheet row holds the spec's
  text, or a define.yaml ``M-<ID>`` method as is) and the ``Supp ...`` columns of a
  non-standard variable (SUPP--).

:func:`sdtm_content` makes the rows, :func:`read_sdtm` reads them back.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from pydantic import ValidationError

from cdisc_mapper.sdtm import OPERATIONS, StudyBundle
from cdisc_mapper.spec.define import METHOD_ID
from cdisc_mapper.spec.sdtm import DomainSpec, SourceSpec, VariableSpec
from cdisc_mapper.spec.sdtm_loader import normalise_domain
from cdisc_mapper.standards import Standard, load_sdtmig
from cdisc_mapper.xlsx import layout as L
from cdisc_mapper.xlsx.layout import is_adam_dataset
from cdisc_mapper.xlsx.sheet import (
    SUPP_COLUMNS,
    Row,
    Sheet,
    cell_str,
    parse_cell,
    split_list,
    validation_error,
)

#: Variables-sheet column of each VariableSpec key (for error locations).
VARIABLE_COLUMNS = {
    "op": "Operation",
    "args": "Arguments",
    "origin": "Origin",
    "method": "Method",
    "comment": "Comment",
    "codelist": "Codelist",
    "supp": "Supp Label",
}
#: Sources-sheet column of each SourceSpec key.
SOURCE_COLUMNS = {"form": "Form", "file": "File", "required_columns": "Required Columns",
                  "drop_duplicates": "Drop Duplicates", "exclude": "Exclude",
                  "melt": "Melt", "numbers": "Numbers", "date_order": "Date Order"}  # fmt: skip
#: Datasets-sheet column of each DomainSpec key.
DOMAIN_COLUMNS = {"keys": "Key Variables", "label": "Description", "comment": "Comment",
                  "domain": "Dataset"}  # fmt: skip

#: (domain, source id) -> the source's data (with its ``variables``).
Sources = dict[tuple[str, str], dict[str, Any]]


# --------------------------------------------------------------------------- writing
def source_ids(domain: DomainSpec) -> list[str]:
    """The id of each source in the Sources/Variables sheets: its form, ``form#n`` when a
    form feeds the domain more than once."""
    ids: list[str] = []
    for src in domain.sources:
        n = sum(1 for s in domain.sources[: len(ids) + 1] if s.form == src.form)
        ids.append(src.form if n == 1 else f"{src.form}#{n}")
    return ids


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


def strings(value: Any) -> set[str]:
    """Every string value (not key) in an operation's arguments."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(strings(v) for v in value)) if value else set()
    return set()


def _method_id(domain: str, name: str, method: str | None, used: set[str]) -> str:
    """The Method cell of a variable: a named method (define.yaml ``methods:``) as is,
    else ``MT.<DOMAIN>.<VARIABLE>`` (``.n`` added when taken); '' without a method."""
    if method is None:
        return ""
    if METHOD_ID.match(method.strip()):
        return method.strip()
    method_id = f"MT.{domain}.{name}"
    n = 1
    while method_id in used:
        n += 1
        method_id = f"MT.{domain}.{name}.{n}"
    used.add(method_id)
    return method_id


def _variable_rows(domain: DomainSpec, sdtmig: Standard) -> list[Row]:
    """Variables rows, with ``_method`` (the method text) and ``_strings`` (the string
    values of the arguments, for the Codelists sheet) besides the sheet's columns."""
    out: list[Row] = []
    groups: list[tuple[str, dict[str, VariableSpec]]] = [
        (sid, src.variables) for sid, src in zip(source_ids(domain), domain.sources, strict=True)
    ]
    groups.append(("", domain.variables))
    used_methods: set[str] = set()
    order = 0
    for sid, variables in groups:
        for name, var in variables.items():
            order += 1
            meta = sdtmig.variable_allowed(domain.domain, name)
            supp = var.supp
            out.append(
                {
                    "Order": order,
                    "Dataset": domain.domain,
                    "Variable": name,
                    "Label": supp.label if supp else (meta.label if meta else ""),
                    "Data Type": _data_type(name, meta.type if meta else None),
                    "Mandatory": "Yes" if meta and meta.core == "Req" else "No",
                    "Codelist": var.codelist,
                    "Origin": var.origin,
                    "Method": _method_id(domain.domain, name, var.method, used_methods),
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
                    "_strings": strings(var.args),
                }
            )
    return out


def _source_row(domain: DomainSpec, sid: str, src: SourceSpec) -> Row:
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
        "Numbers": _compact(data["numbers"]) if "numbers" in data else None,
        "Date Order": src.date_order,
    }


def _dataset_row(code: str, domain: DomainSpec, sdtmig: Standard) -> Row:
    meta = sdtmig.dataset(code) if sdtmig.has_dataset(code) else None
    one_per_subject = meta is not None and meta.structure == "One record per subject"
    return {
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


def sdtm_content(bundle: StudyBundle) -> dict[str, list[Row]]:
    """Workbook rows of the study's SDTM domains, by sheet (Datasets, Sources, Variables,
    Methods), domains in alphabetical order."""
    sdtmig = load_sdtmig()
    datasets: list[Row] = []
    sources: list[Row] = []
    variables: list[Row] = []
    for code in sorted(bundle.domains):
        domain = bundle.domains[code]
        datasets.append(_dataset_row(code, domain, sdtmig))
        for sid, src in zip(source_ids(domain), domain.sources, strict=True):
            sources.append(_source_row(domain, sid, src))
        variables.extend(_variable_rows(domain, sdtmig))
    methods = [
        {
            "ID": row["Method"],
            "Name": f"Algorithm to derive {row['Dataset']}.{row['Variable']}",
            "Type": "Computation",
            "Description": row["_method"],
        }
        for row in variables
        if row["Method"] and not METHOD_ID.match(row["Method"])
    ]
    return {L.DATASETS: datasets, L.SOURCES: sources, L.VARIABLES: variables, L.METHODS: methods}


# --------------------------------------------------------------------------- reading
def read_sdtm(sheets: dict[str, Sheet]) -> dict[str, dict[str, Any]]:
    """The SDTM domain specs of a workbook, by domain code, each in the hand-written
    shape of ``sdtm/<domain>.yaml`` (arguments inline). Only rows of SDTM datasets are
    read; every problem is a :class:`SpecError` naming sheet, row and column."""
    sdtmig = load_sdtmig()
    ds_sheet = sheets[L.DATASETS]
    domains, rows_of = _read_datasets(ds_sheet, sdtmig)
    source_index = _read_sources(sheets[L.SOURCES], domains)
    methods = read_methods(sheets[L.METHODS])
    _read_variables(sheets[L.VARIABLES], domains, source_index, methods, sdtmig)
    for code, data in domains.items():
        if not data["sources"]:
            del data["sources"]
        try:
            DomainSpec.model_validate(normalise_domain(data))
        except ValidationError as exc:
            raise validation_error(ds_sheet, rows_of[code], exc, DOMAIN_COLUMNS) from None
    return domains


def _read_datasets(
    sheet: Sheet, sdtmig: Standard
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """The SDTM rows of the Datasets sheet: the domains (without sources and variables
    yet) and the row of each."""
    domains: dict[str, dict[str, Any]] = {}
    rows_of: dict[str, int] = {}
    for r, row in sheet.rows:
        code = cell_str(row, "Dataset")
        if code is None:
            raise sheet.error("a row without a dataset name", r, "Dataset")
        if is_adam_dataset(code):
            continue  # read by adam_sheets.read_adam
        if code in domains:
            raise sheet.error(f"dataset {code} given twice (first at row {rows_of[code]})",
                              r, "Dataset")  # fmt: skip
        rows_of[code] = r
        data: dict[str, Any] = {"domain": code}
        label = cell_str(row, "Description")
        ig_label = sdtmig.dataset(code).label if sdtmig.has_dataset(code) else None
        if label is not None and label != ig_label:
            data["label"] = label
        data["keys"] = split_list(cell_str(row, "Key Variables"))
        if (comment := cell_str(row, "Comment")) is not None:
            data["comment"] = comment
        data["sources"] = []
        data["variables"] = {}
        domains[code] = data
    return domains, rows_of


def _read_sources(sheet: Sheet, domains: dict[str, dict[str, Any]]) -> Sources:
    """The Sources rows, each added to its domain's ``sources``."""
    source_index: Sources = {}
    for r, row in sheet.rows:
        code = cell_str(row, "Dataset")
        if code is None or code not in domains:
            raise sheet.error(f"dataset {code!r} is not in the Datasets sheet", r, "Dataset")
        sid = cell_str(row, "Source Form")
        if sid is None:
            raise sheet.error("a source without an id", r, "Source Form")
        if (code, sid) in source_index:
            raise sheet.error(f"source {sid!r} of {code} given twice", r, "Source Form")
        src = _read_source(sheet, r, row, sid)
        src["variables"] = {}
        source_index[(code, sid)] = src
        domains[code]["sources"].append(src)
    return source_index


def _read_source(sheet: Sheet, r: int, row: Row, sid: str) -> dict[str, Any]:
    """One Sources row as a SourceSpec's data (checked)."""
    src: dict[str, Any] = {"form": cell_str(row, "Form") or sid.split("#")[0]}
    if (file := cell_str(row, "File")) is not None:
        src["file"] = file
    if cols := split_list(cell_str(row, "Required Columns")):
        src["required_columns"] = cols
    flag = cell_str(row, "Drop Duplicates")
    if flag is not None:
        if flag not in L.YES_NO:
            raise sheet.error(f"give Yes or No, not {flag!r}", r, "Drop Duplicates")
        src["drop_duplicates"] = flag == "Yes"
    for key, column in (("exclude", "Exclude"), ("melt", "Melt"), ("numbers", "Numbers")):
        if (text := cell_str(row, column)) is not None:
            src[key] = parse_cell(sheet, r, column, text, "json")
    if (order := cell_str(row, "Date Order")) is not None:
        src["date_order"] = order
    try:
        SourceSpec.model_validate(src)
    except ValidationError as exc:
        raise validation_error(sheet, r, exc, SOURCE_COLUMNS) from None
    return src


def read_methods(sheet: Sheet) -> dict[str, str]:
    """The Methods sheet: ID -> description (an ID given twice is an error)."""
    methods: dict[str, str] = {}
    for r, row in sheet.rows:
        mid = cell_str(row, "ID")
        if mid is None:
            raise sheet.error("a method without an ID", r, "ID")
        if mid in methods:
            raise sheet.error(f"method ID {mid!r} given twice", r, "ID")
        methods[mid] = cell_str(row, "Description") or ""
    return methods


def _read_variables(
    sheet: Sheet,
    domains: dict[str, dict[str, Any]],
    source_index: Sources,
    methods: dict[str, str],
    sdtmig: Standard,
) -> None:
    """The SDTM Variables rows, each added (in Order) to its source or domain."""
    seen: dict[tuple[str, str, str], int] = {}
    ordered: list[tuple[float, int, str, str, str, dict[str, Any]]] = []
    for r, row in sheet.rows:
        code = cell_str(row, "Dataset")
        if is_adam_dataset(code):
            continue
        if code is None or code not in domains:
            raise sheet.error(f"dataset {code!r} is not in the Datasets sheet", r, "Dataset")
        sid, name = _variable_key(sheet, r, row, code, source_index, seen, sdtmig)
        order = row.get("Order")
        if not isinstance(order, int | float):
            raise sheet.error(f"{code}.{name}: Order must be a number", r, "Order")
        body = _read_variable(sheet, r, row, methods)
        if not sid and _is_raw(body["op"]):
            raise sheet.error(
                f"{code}.{name}: operation {body['op']!r} reads raw columns, so it needs a "
                "Source Form",
                r, "Source Form",
            )  # fmt: skip
        ordered.append((float(order), r, code, sid, name, body))
    for _order, _r, code, sid, name, body in sorted(ordered, key=lambda x: x[:2]):
        target = source_index[(code, sid)]["variables"] if sid else domains[code]["variables"]
        target[name] = body


def _variable_key(
    sheet: Sheet,
    r: int,
    row: Row,
    code: str,
    source_index: Sources,
    seen: dict[tuple[str, str, str], int],
    sdtmig: Standard,
) -> tuple[str, str]:
    """The (source id, variable) of an SDTM Variables row, checked: the source is in the
    Sources sheet, the variable is given once there and SDTM allows it in the domain
    (or it is a work variable ``_NAME`` or a non-standard one with a Supp Label)."""
    name = cell_str(row, "Variable")
    if name is None:
        raise sheet.error("a row without a variable name", r, "Variable")
    sid = cell_str(row, "Source Form") or ""
    if sid and (code, sid) not in source_index:
        raise sheet.error(
            f"{code}.{name}: source {sid!r} is not in the Sources sheet", r, "Source Form"
        )
    key = (code, sid, name)
    if key in seen:
        where = f"source {sid}" if sid else "the domain-level variables"
        raise sheet.error(
            f"duplicate variable {code}.{name} in {where} (first at row {seen[key]})",
            r, "Variable",
            hint="each Dataset + Source Form + Variable may appear once",
        )  # fmt: skip
    seen[key] = r
    is_supp = cell_str(row, "Supp Label") is not None
    if not (name.startswith("_") or is_supp or sdtmig.variable_allowed(code, name)):
        raise sheet.error(
            f"unknown variable {code}.{name}: not an SDTMIG/SDTM model variable of {code}",
            r, "Variable",
            hint="check the spelling; name a work variable _NAME, or give a Supp Label "
            "for a non-standard variable (SUPP--)",
        )  # fmt: skip
    return sid, name


def _read_variable(sheet: Sheet, r: int, row: Row, methods: dict[str, str]) -> dict[str, Any]:
    """A variable's spec from its Variables row: ``op``, the arguments inline, then the
    other keys given; the operation's arguments are checked."""
    name = cell_str(row, "Variable")
    op = cell_str(row, "Operation")
    if op is None:
        raise sheet.error(f"{name}: no operation", r, "Operation")
    operation = OPERATIONS.get(op)
    if operation is None:
        close = difflib.get_close_matches(op, OPERATIONS.names(), n=1)
        raise sheet.error(
            f"{name}: unknown operation {op!r}", r, "Operation",
            hint=f"did you mean {close[0]!r}?" if close else "",
        )  # fmt: skip
    args_text = cell_str(row, "Arguments")
    args = parse_cell(sheet, r, "Arguments", args_text, "json") if args_text else {}
    if not isinstance(args, dict):
        raise sheet.error(f"{name}: the arguments must be a JSON object", r, "Arguments")
    body = _variable_body(sheet, r, row, op, args, methods)
    try:
        var = VariableSpec.model_validate(body)
    except ValidationError as exc:
        raise validation_error(sheet, r, exc, VARIABLE_COLUMNS, name=name) from None
    raw_args = dict(var.args)
    if var.codelist is not None and "codelist" in operation.args_model.model_fields:
        raw_args.setdefault("codelist", var.codelist)
    try:
        operation.args_model.model_validate(raw_args)
    except ValidationError as exc:
        columns = dict.fromkeys(raw_args, "Arguments")
        if var.codelist is not None and "codelist" not in var.args:
            columns["codelist"] = "Codelist"
        raise validation_error(sheet, r, exc, columns, default="Arguments", name=name) from None
    out = {"op": op, **args}
    out.update({k: v for k, v in body.items() if k not in ("op", "args")})
    return out


def _variable_body(
    sheet: Sheet, r: int, row: Row, op: str, args: dict[str, Any], methods: dict[str, str]
) -> dict[str, Any]:
    """A VariableSpec's data from a Variables row (``op`` and ``args`` given)."""
    body: dict[str, Any] = {"op": op, "args": args}
    for key, column in (("origin", "Origin"), ("comment", "Comment"), ("codelist", "Codelist")):
        if (value := cell_str(row, column)) is not None:
            body[key] = value
    method_id = cell_str(row, "Method")
    if method_id is not None:
        if method_id not in methods:
            name = cell_str(row, "Variable")
            raise sheet.error(f"{name}: method {method_id!r} is not in the Methods sheet",
                              r, "Method")  # fmt: skip
        # a named method (M-<ID>, define.yaml methods:) stays a reference
        body["method"] = method_id if METHOD_ID.match(method_id) else methods[method_id]
    supp = {key: cell_str(row, column) for key, column in SUPP_COLUMNS.items()}
    supp = {k: v for k, v in supp.items() if v is not None}
    if supp:
        body["supp"] = supp
    return body


def _is_raw(op: str) -> bool:
    operation = OPERATIONS.get(op)
    return bool(operation and operation.raw)
