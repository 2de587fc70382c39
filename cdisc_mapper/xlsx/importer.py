"""Spec workbook -> spec files: write a study's YAML specs back from a workbook made by
:mod:`.exporter` (see :mod:`cdisc_mapper.xlsx`)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from cdisc_mapper.errors import SpecError
from cdisc_mapper.sdtm import OPERATIONS
from cdisc_mapper.spec.define import DEFINE_FILE, METHOD_ID
from cdisc_mapper.spec.sdtm import DomainSpec, SourceSpec, VariableSpec
from cdisc_mapper.spec.sdtm_loader import normalise_domain
from cdisc_mapper.spec.study import StudySpec, UnscheduledSpec
from cdisc_mapper.spec.yamlio import dump_yaml, load_yaml
from cdisc_mapper.standards import load_sdtmig
from cdisc_mapper.xlsx import layout as L
from cdisc_mapper.xlsx.define_sheets import read_define
from cdisc_mapper.xlsx.design_sheets import read_design
from cdisc_mapper.xlsx.provenance import WorkbookLocator

Row = dict[str, Any]

#: Variables-sheet column of each VariableSpec key (for error locations).
_VARIABLE_COLUMNS = {
    "op": "Operation",
    "args": "Arguments",
    "origin": "Origin",
    "method": "Method",
    "comment": "Comment",
    "codelist": "Codelist",
    "supp": "Supp Label",
}
_SUPP_COLUMNS = {"label": "Supp Label", "qorig": "Supp QORIG", "qeval": "Supp QEVAL",
                 "idvar": "Supp IDVAR"}  # fmt: skip


class _Sheet:
    """The rows of one sheet as dicts by header, each with its Excel row number."""

    def __init__(self, xlsx: Path, name: str, ws: Any):
        self.xlsx = xlsx
        self.name = name
        header = L.SHEETS[name]
        cells = list(ws.iter_rows(values_only=True))
        found = [_text(v) for v in (cells[0] if cells else ())]
        while found and found[-1] == "":
            found.pop()
        self.letters: dict[str, str] = {}
        for i, title in enumerate(found):
            letter = get_column_letter(i + 1)
            if title not in header:
                close = difflib.get_close_matches(title, header, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "expected: " + ", ".join(header)
                raise SpecError(
                    f"unknown column {title!r}", where=self.where(1, title, letter), hint=hint
                )
            if title in self.letters:
                raise SpecError(f"column {title!r} given twice", where=self.where(1, title, letter))
            self.letters[title] = letter
        missing = [h for h in L.REQUIRED_COLUMNS[name] if h not in self.letters]
        if missing:
            raise SpecError(
                "missing column(s): " + ", ".join(missing), where=self.where(1, None, None)
            )
        self.rows: list[tuple[int, Row]] = []
        for r, values in enumerate(cells[1:], start=2):
            row = {title: values[i] if i < len(values) else None for i, title in enumerate(found)}
            row = {k: (None if v is None or (isinstance(v, str) and v == "") else v)
                   for k, v in row.items()}  # fmt: skip
            if any(v is not None for v in row.values()):
                self.rows.append((r, row))

    def where(self, row: int, column: str | None, letter: str | None = None) -> str:
        text = f"{self.xlsx}: sheet {self.name}, row {row}"
        if column:
            letter = letter or self.letters.get(column, "?")
            text += f", column {column} ({letter})"
        return text

    def error(self, message: str, row: int, column: str | None, hint: str = "") -> SpecError:
        return SpecError(message, where=self.where(row, column), hint=hint)


_text = L.cell_text


def _str(row: Row, column: str) -> str | None:
    value = row.get(column)
    return None if value is None else _text(value)


def _parse(sheet: _Sheet, r: int, column: str, text: str, how: str) -> Any:
    try:
        return json.loads(text) if how == "json" else load_yaml(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0]
        raise sheet.error(f"cannot read this {how.upper()} value: {first}", r, column) from None


def _validation_error(
    sheet: _Sheet,
    r: int,
    exc: ValidationError,
    columns: dict[Any, str],
    default: str | None = None,
    name: str | None = None,
) -> SpecError:
    err = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
    loc = tuple(err["loc"])
    column = columns.get(loc[0], default) if loc else default
    if loc and loc[0] == "supp" and len(loc) > 1:
        column = _SUPP_COLUMNS.get(loc[1], column)
    path = ".".join(str(x) for x in (name, *loc) if x is not None) or "(row)"
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling)"
    elif err["type"] == "missing":
        msg = "required key missing"
    return sheet.error(f"{path}: {msg}", r, column)


def _read_study(
    sheets: dict[str, _Sheet], other: dict[str, list[tuple[int, str, str]]] | None = None
) -> dict[str, Any]:
    """study.yaml from the Study and Comments sheets; the rows of other spec files
    (``define.*``, ``adam.*`` attributes) are collected in ``other`` by prefix."""
    from cdisc_mapper.xlsx.define_sheets import STUDY_ATTRIBUTES as DEFINE_ATTRIBUTES

    other = {} if other is None else other
    others = {**dict.fromkeys(DEFINE_ATTRIBUTES, "define"),
              **dict.fromkeys(getattr(L, "ADAM_BLOBS", {}), "adam")}  # fmt: skip
    unscheduled = {f"unscheduled.{k}" for k in UnscheduledSpec.model_fields}
    sheet = sheets[L.STUDY]
    data: dict[str, Any] = {}
    subjects: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for r, row in sheet.rows:
        attr = _str(row, "Attribute")
        value = _str(row, "Value")
        if attr is None:
            raise sheet.error("a value without an attribute", r, "Attribute")
        if attr in seen:
            raise sheet.error(f"attribute {attr!r} given twice (first at row {seen[attr]})",
                              r, "Attribute")  # fmt: skip
        seen[attr] = r
        if value is None:
            continue
        if attr in others:
            other.setdefault(others[attr], []).append((r, attr, value))
        elif attr.startswith(L.ADAM_CONVENTIONS):
            other.setdefault("conventions", []).append((r, attr, value))
        elif attr in unscheduled:
            other.setdefault("unscheduled", []).append((r, attr, value))
        elif attr in L.STUDY_ATTRIBUTES:
            data[L.STUDY_ATTRIBUTES[attr]] = value
        elif attr.startswith("subjects."):
            subjects[attr.removeprefix("subjects.")] = value
        elif attr in L.STUDY_BLOBS:
            data[attr] = _parse(sheet, r, "Value", value, "yaml")
        else:
            known = [*L.STUDY_ATTRIBUTES, "subjects.<key>", *sorted(unscheduled), *others]
            close = difflib.get_close_matches(attr, known, n=1)
            raise sheet.error(
                f"unknown attribute {attr!r}", r, "Attribute",
                hint=f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(known),
            )  # fmt: skip
    data["subjects"] = subjects
    for key, value in read_design(sheets, other.get("unscheduled", [])).items():
        if key in data:
            raise sheet.error(
                f"{key} is given both as a YAML text in the Study sheet and in its own sheet(s)",
                seen.get(key, 1),
                "Attribute",
                hint="remove the Study row",
            )
        data[key] = value
    comments_sheet = sheets[L.COMMENTS]
    comments: dict[str, str] = {}
    for r, row in comments_sheet.rows:
        cid = _str(row, "ID")
        if cid is None:
            raise comments_sheet.error("a comment without an ID", r, "ID")
        if cid in comments:
            raise comments_sheet.error(f"comment ID {cid!r} given twice", r, "ID")
        comments[cid] = _str(row, "Description") or ""
    if comments:
        data["comments"] = comments
    data = {key: data[key] for key in StudySpec.model_fields if key in data}
    try:
        StudySpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = ".".join(str(x) for x in err["loc"]) or "(study)"
        raise _design_error(sheets, f"{path}: {err['msg']}", data) from None
    return data


def _design_error(sheets: dict[str, _Sheet], message: str, data: dict[str, Any]) -> SpecError:
    """A study-level check that failed, at the design-sheet row it is about when the
    message names one (``arms[0] names element ...``, duplicate ``visitnum``)."""
    import re

    from cdisc_mapper.xlsx.design_sheets import ARMS, VISITS

    found = re.search(r"arms\[(\d+)\]", message)
    if found and ARMS in sheets and int(found[1]) < len(sheets[ARMS].rows):
        r = sheets[ARMS].rows[int(found[1])][0]
        return sheets[ARMS].error(message, r, "elements")
    if "visitnum values must be unique" in message and VISITS in sheets:
        seen: set[float] = set()
        for r, row in sheets[VISITS].rows:
            number = row.get("visitnum")
            if number in seen:
                return sheets[VISITS].error(message, r, "visitnum")
            seen.add(number)
    return SpecError(message, where=sheets[L.STUDY].where(1, None))


def _split(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _read_variable(sheet: _Sheet, r: int, row: Row, methods: dict[str, str]) -> dict[str, Any]:

    name = _str(row, "Variable")
    op = _str(row, "Operation")
    if op is None:
        raise sheet.error(f"{name}: no operation", r, "Operation")
    operation = OPERATIONS.get(op)
    if operation is None:
        close = difflib.get_close_matches(op, OPERATIONS.names(), n=1)
        raise sheet.error(
            f"{name}: unknown operation {op!r}", r, "Operation",
            hint=f"did you mean {close[0]!r}?" if close else "",
        )  # fmt: skip
    args_text = _str(row, "Arguments")
    args = _parse(sheet, r, "Arguments", args_text, "json") if args_text else {}
    if not isinstance(args, dict):
        raise sheet.error(f"{name}: the arguments must be a JSON object", r, "Arguments")
    body: dict[str, Any] = {"op": op, "args": args}
    for key, column in (("origin", "Origin"), ("comment", "Comment"), ("codelist", "Codelist")):
        if (value := _str(row, column)) is not None:
            body[key] = value
    method_id = _str(row, "Method")
    if method_id is not None:
        if method_id not in methods:
            raise sheet.error(f"{name}: method {method_id!r} is not in the Methods sheet",
                              r, "Method")  # fmt: skip
        # a named method (M-<ID>, define.yaml methods:) stays a reference
        body["method"] = method_id if METHOD_ID.match(method_id) else methods[method_id]
    supp = {key: _str(row, column) for key, column in _SUPP_COLUMNS.items()}
    supp = {k: v for k, v in supp.items() if v is not None}
    if supp:
        body["supp"] = supp
    try:
        var = VariableSpec.model_validate(body)
    except ValidationError as exc:
        raise _validation_error(sheet, r, exc, _VARIABLE_COLUMNS, name=name) from None
    raw_args = dict(var.args)
    if var.codelist is not None and "codelist" in operation.args_model.model_fields:
        raw_args.setdefault("codelist", var.codelist)
    try:
        operation.args_model.model_validate(raw_args)
    except ValidationError as exc:
        columns = {k: "Arguments" for k in raw_args}
        if var.codelist is not None and "codelist" not in var.args:
            columns["codelist"] = "Codelist"
        raise _validation_error(sheet, r, exc, columns, default="Arguments", name=name) from None
    out = {"op": op, **args}
    out.update({k: v for k, v in body.items() if k not in ("op", "args")})
    return out


def _is_raw(op: str) -> bool:

    operation = OPERATIONS.get(op)
    return bool(operation and operation.raw)


def _read_domains(sheets: dict[str, _Sheet]) -> dict[str, dict[str, Any]]:
    from cdisc_mapper.xlsx.adam_sheets import is_adam_dataset

    sdtmig = load_sdtmig()
    ds_sheet, src_sheet, var_sheet = sheets[L.DATASETS], sheets[L.SOURCES], sheets[L.VARIABLES]
    domains: dict[str, dict[str, Any]] = {}
    rows_of: dict[str, int] = {}
    for r, row in ds_sheet.rows:
        code = _str(row, "Dataset")
        if code is None:
            raise ds_sheet.error("a row without a dataset name", r, "Dataset")
        if is_adam_dataset(code):
            continue  # read by adam_sheets.read_adam
        if code in domains:
            raise ds_sheet.error(f"dataset {code} given twice (first at row {rows_of[code]})",
                                 r, "Dataset")  # fmt: skip
        rows_of[code] = r
        data: dict[str, Any] = {"domain": code}
        label = _str(row, "Description")
        ig_label = sdtmig.dataset(code).label if sdtmig.has_dataset(code) else None
        if label is not None and label != ig_label:
            data["label"] = label
        data["keys"] = _split(_str(row, "Key Variables"))
        if (comment := _str(row, "Comment")) is not None:
            data["comment"] = comment
        data["sources"] = []
        data["variables"] = {}
        domains[code] = data

    source_index: dict[tuple[str, str], dict[str, Any]] = {}
    for r, row in src_sheet.rows:
        code = _str(row, "Dataset")
        if code not in domains:
            raise src_sheet.error(f"dataset {code!r} is not in the Datasets sheet", r, "Dataset")
        sid = _str(row, "Source Form")
        if sid is None:
            raise src_sheet.error("a source without an id", r, "Source Form")
        if (code, sid) in source_index:
            raise src_sheet.error(f"source {sid!r} of {code} given twice", r, "Source Form")
        src: dict[str, Any] = {"form": _str(row, "Form") or sid.split("#")[0]}
        if (file := _str(row, "File")) is not None:
            src["file"] = file
        if cols := _split(_str(row, "Required Columns")):
            src["required_columns"] = cols
        flag = _str(row, "Drop Duplicates")
        if flag is not None:
            if flag not in L.YES_NO:
                raise src_sheet.error(f"give Yes or No, not {flag!r}", r, "Drop Duplicates")
            src["drop_duplicates"] = flag == "Yes"
        for key, column in (("exclude", "Exclude"), ("melt", "Melt")):
            if (text := _str(row, column)) is not None:
                src[key] = _parse(src_sheet, r, column, text, "json")
        try:
            SourceSpec.model_validate(src)
        except ValidationError as exc:
            columns = {"form": "Form", "file": "File", "required_columns": "Required Columns",
                       "drop_duplicates": "Drop Duplicates", "exclude": "Exclude",
                       "melt": "Melt"}  # fmt: skip
            raise _validation_error(src_sheet, r, exc, columns) from None
        src["variables"] = {}
        source_index[(code, sid)] = src
        domains[code]["sources"].append(src)

    methods: dict[str, str] = {}
    m_sheet = sheets[L.METHODS]
    for r, row in m_sheet.rows:
        mid = _str(row, "ID")
        if mid is None:
            raise m_sheet.error("a method without an ID", r, "ID")
        if mid in methods:
            raise m_sheet.error(f"method ID {mid!r} given twice", r, "ID")
        methods[mid] = _str(row, "Description") or ""

    seen: dict[tuple[str, str, str], int] = {}
    ordered: list[tuple[float, int, str, str, str, dict[str, Any]]] = []
    for r, row in var_sheet.rows:
        code = _str(row, "Dataset")
        if is_adam_dataset(code):
            continue
        if code not in domains:
            raise var_sheet.error(f"dataset {code!r} is not in the Datasets sheet", r, "Dataset")
        name = _str(row, "Variable")
        if name is None:
            raise var_sheet.error("a row without a variable name", r, "Variable")
        sid = _str(row, "Source Form") or ""
        if sid and (code, sid) not in source_index:
            raise var_sheet.error(
                f"{code}.{name}: source {sid!r} is not in the Sources sheet", r, "Source Form"
            )
        key = (code, sid, name)
        if key in seen:
            where = f"source {sid}" if sid else "the domain-level variables"
            raise var_sheet.error(
                f"duplicate variable {code}.{name} in {where} (first at row {seen[key]})",
                r, "Variable",
                hint="each Dataset + Source Form + Variable may appear once",
            )  # fmt: skip
        seen[key] = r
        is_supp = _str(row, "Supp Label") is not None
        if not (name.startswith("_") or is_supp or sdtmig.variable_allowed(code, name)):
            raise var_sheet.error(
                f"unknown variable {code}.{name}: not an SDTMIG/SDTM model variable of {code}",
                r, "Variable",
                hint="check the spelling; name a work variable _NAME, or give a Supp Label "
                "for a non-standard variable (SUPP--)",
            )  # fmt: skip
        order = row.get("Order")
        if not isinstance(order, int | float):
            raise var_sheet.error(f"{code}.{name}: Order must be a number", r, "Order")
        body = _read_variable(var_sheet, r, row, methods)
        if not sid and _is_raw(body["op"]):
            raise var_sheet.error(
                f"{code}.{name}: operation {body['op']!r} reads raw columns, so it needs a "
                "Source Form",
                r, "Source Form",
            )  # fmt: skip
        ordered.append((float(order), r, code, sid, name, body))
    for _order, _r, code, sid, name, body in sorted(ordered, key=lambda x: x[:2]):
        target = source_index[(code, sid)]["variables"] if sid else domains[code]["variables"]
        target[name] = body

    for code, data in domains.items():
        if not data["sources"]:
            del data["sources"]
        try:
            DomainSpec.model_validate(normalise_domain(data))
        except ValidationError as exc:
            columns = {"keys": "Key Variables", "label": "Description", "comment": "Comment",
                       "domain": "Dataset"}  # fmt: skip
            raise _validation_error(ds_sheet, rows_of[code], exc, columns) from None
    return domains


def import_workbook(xlsx: Path, study_dir: Path) -> list[Path]:
    """Write the spec files of ``study_dir`` from ``xlsx``: ``study.yaml``,
    ``sdtm/<domain>.yaml``, ``adam/*.yaml`` and ``define.yaml`` (those the workbook has);
    return the files written.

    Every problem is a :class:`SpecError` naming the sheet, row and column. Spec files of
    ``study_dir`` that the workbook does not hold are left alone.
    """
    return [Path(study_dir) / rel for rel in read_workbook(xlsx, study_dir)[0]]


def open_workbook(xlsx: Path, what: str) -> Any:
    """The workbook, read-only with cell values; a SpecError naming the file when it is
    missing or not a workbook."""
    try:
        return load_workbook(xlsx, read_only=True, data_only=True)
    except FileNotFoundError:
        raise SpecError(f"{what} not found", where=str(xlsx)) from None
    except Exception as exc:  # openpyxl raises many kinds on a file that is not xlsx
        raise SpecError(f"cannot read the workbook: {exc}", where=str(xlsx)) from None


def read_workbook(xlsx: Path, study_dir: Path) -> tuple[list[str], WorkbookLocator]:
    """:func:`import_workbook`, returning the files written (relative to ``study_dir``)
    and the :class:`WorkbookLocator` that maps their values back to workbook cells."""
    xlsx = Path(xlsx)
    wb = open_workbook(xlsx, "spec workbook")
    try:
        names = list(wb.sheetnames)
        for name in names:
            if name not in L.SHEETS and name != L.LISTS:
                close = difflib.get_close_matches(name, list(L.SHEETS), n=1)
                raise SpecError(
                    f"unknown sheet {name!r}",
                    where=f"{xlsx}: sheet {name}",
                    hint=f"did you mean {close[0]!r}?" if close else "",
                )
        missing = [n for n in L.READ_SHEETS if n not in names]
        if missing:
            raise SpecError("missing sheet(s): " + ", ".join(missing), where=str(xlsx))
        sheets = {name: _Sheet(xlsx, name, wb[name]) for name in L.READ_SHEETS}
    finally:
        wb.close()
    from cdisc_mapper.xlsx.adam_sheets import read_adam

    other: dict[str, list[tuple[int, str, str]]] = {}
    study = _read_study(sheets, other)
    domains = _read_domains(sheets)
    adam = read_adam(sheets, _method_texts(sheets), other.get("conventions", []))
    define = read_define(sheets, other.get("define", []), _variable_test(sheets))

    files: dict[str, Any] = {"study.yaml": study}
    files.update({f"sdtm/{code.lower()}.yaml": data for code, data in domains.items()})
    files.update(adam)
    if define is not None:
        files[DEFINE_FILE] = define
    study_dir = Path(study_dir)
    for rel, data in files.items():
        path = study_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_yaml(data), encoding="utf-8")
    return list(files), WorkbookLocator(xlsx, sheets)


def _method_texts(sheets: dict[str, _Sheet]) -> dict[str, str]:
    return {
        mid: _str(row, "Description") or ""
        for _, row in sheets[L.METHODS].rows
        if (mid := _str(row, "ID")) is not None
    }


def _variable_test(sheets: dict[str, _Sheet]) -> Callable[[str, str], bool]:
    """Whether a dataset of the workbook has a variable: a Variables-sheet row, or for an
    SDTM domain a variable the SDTMIG / SDTM model allows (e.g. --SEQ, added by the tool)."""
    sdtmig = load_sdtmig()
    datasets = {_str(row, "Dataset") for _, row in sheets[L.DATASETS].rows}
    named = {(_str(row, "Dataset"), _str(row, "Variable")) for _, row in sheets[L.VARIABLES].rows}

    def has(dataset: str, variable: str) -> bool:
        if dataset not in datasets:
            return False
        if (dataset, variable) in named:
            return True
        return not dataset.startswith("AD") and bool(sdtmig.variable_allowed(dataset, variable))

    return has
