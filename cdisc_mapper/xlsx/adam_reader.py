"""Reading a study's ADaM specs back from the spec workbook: :func:`read_adam` turns the
rows :func:`~cdisc_mapper.xlsx.adam_sheets.adam_content` writes (Study, Datasets, Records,
Variables and Methods sheets; the layout is described in :mod:`.adam_sheets`) into the
``adam/*.yaml`` documents, and reports a bad cell as a
:class:`~cdisc_mapper.errors.SpecError` at its sheet, row and column. Pure: no files
written.
"""

from __future__ import annotations

import re
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from cdisc_mapper.adam.engine import CLASSES
from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS
from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.adam import (
    ADAM_FOLDER,
    CONVENTIONS_FILE,
    WORKING_PATTERN,
    DatasetSpec,
    ReportsSpec,
    VariableSpec,
)
from cdisc_mapper.spec.adam_loader import VARIABLE_META, adamig_definitions, normalise_dataset
from cdisc_mapper.spec.base import NAME_PATTERN
from cdisc_mapper.standards import VariableMeta, load_adamig, load_sdtmig
from cdisc_mapper.xlsx import layout as L
from cdisc_mapper.xlsx.conventions_sheets import read_conventions
from cdisc_mapper.xlsx.layout import is_adam_dataset
from cdisc_mapper.xlsx.sheet import (
    Row,
    Sheet,
    cell_str,
    close_hint,
    parse_cell,
    split_list,
    validation_error,
)

#: A method text that is one ``M-<ID>`` word names a define.yaml method (as define.spec's
#: METHOD_ID): it stays in the Method cell, with no Methods-sheet row.
METHOD_REF = re.compile(r"^M-[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: Variables-sheet columns of the VariableSpec keys (for error locations).
VARIABLE_COLUMNS = {
    "derive": "Operation",
    "args": "Arguments",
    "label": "Label",
    "type": "Type",
    "origin": "Origin",
    "method": "Method",
    "comment": "Comment",
    "codelist": "Codelist",
    "format": "Format",
    "keep": "Keep",
}
#: Datasets-sheet columns of the DatasetSpec keys.
DATASET_COLUMNS = {
    "dataset": "Dataset",
    "label": "Description",
    "structure": "Structure",
    "class": "Class",
    "keys": "Key Variables",
    "comment": "Comment",
    "records": "Dataset",
    "variables": "Dataset",
}
#: The ADaM structures a dataset spec may give (the Structure cell, as written).
STRUCTURES: tuple[str, ...] = get_args(DatasetSpec.model_fields["structure"].annotation)
_SDTM_ONLY = ("Source Form", "Supp Label", "Supp QORIG", "Supp QEVAL", "Supp IDVAR")


def _known(name: str, known: list[str]) -> str:
    return close_hint(name, known, "known: " + ", ".join(sorted(known)))


def _order(sheet: Sheet, r: int, row: Row, what: str) -> float:
    order = row.get("Order")
    if isinstance(order, bool) or not isinstance(order, int | float):
        raise sheet.error(f"{what}: Order must be a number", r, "Order")
    return float(order)


def _arguments(sheet: Sheet, r: int, row: Row, what: str, reserved: set[str]) -> dict[str, Any]:
    text = cell_str(row, "Arguments")
    args = parse_cell(sheet, r, "Arguments", text, "json") if text else {}
    if not isinstance(args, dict):
        raise sheet.error(f"{what}: the arguments must be a JSON object", r, "Arguments")
    clash = sorted(reserved & set(args))
    if clash:
        raise sheet.error(
            f"{what}: {clash[0]!r} is not an argument (it has its own column)", r, "Arguments"
        )
    return args


def _check_args(
    sheet: Sheet, r: int, model: type[BaseModel], args: dict[str, Any], what: str
) -> None:
    try:
        model.model_validate(args)
    except ValidationError as exc:
        columns = dict.fromkeys(args, "Arguments")
        raise validation_error(sheet, r, exc, columns, default="Arguments", name=what) from None


def _read_blobs(sheet: Sheet) -> dict[str, Any]:
    models: dict[str, type[BaseModel]] = {"adam.reports": ReportsSpec}
    out: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for r, row in sheet.rows:
        attr = cell_str(row, "Attribute")
        if attr is None or not attr.startswith("adam.") or attr.startswith(L.CONVENTIONS_PREFIX):
            continue
        if attr not in L.ADAM_BLOBS:
            raise sheet.error(f"unknown attribute {attr!r}", r, "Attribute",
                              hint=_known(attr, list(L.ADAM_BLOBS)))  # fmt: skip
        if attr in seen:
            raise sheet.error(f"attribute {attr!r} given twice (first at row {seen[attr]})",
                              r, "Attribute")  # fmt: skip
        seen[attr] = r
        if (text := cell_str(row, "Value")) is None:
            continue
        data = parse_cell(sheet, r, "Value", text, "yaml")
        try:
            models[attr].model_validate(data)
        except ValidationError as exc:
            raise validation_error(sheet, r, exc, {}, default="Value", name=attr) from None
        out[attr] = data
    return out


def _read_datasets(sheet: Sheet) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    classes = CLASSES
    datasets: dict[str, dict[str, Any]] = {}
    rows_of: dict[str, int] = {}
    for r, row in sheet.rows:
        code = cell_str(row, "Dataset")
        if not is_adam_dataset(code):
            continue  # an SDTM dataset (or a row without a name: the SDTM reader tells)
        assert code is not None
        if code in datasets:
            raise sheet.error(f"dataset {code} given twice (first at row {rows_of[code]})",
                              r, "Dataset")  # fmt: skip
        rows_of[code] = r
        data: dict[str, Any] = {"dataset": code}
        if (label := cell_str(row, "Description")) is not None:
            data["label"] = label
        structure = cell_str(row, "Structure")
        if structure is not None:
            if structure not in STRUCTURES:  # checked first: the labels depend on it
                raise sheet.error(
                    f"{code}: unknown ADaM structure {structure!r}", r, "Structure",
                    hint="give one of " + ", ".join(STRUCTURES),
                )  # fmt: skip
            data["structure"] = structure
        cls = cell_str(row, "Class")
        if cls is not None and cls != classes.get(structure or ""):
            data["class"] = cls
        data["keys"] = split_list(cell_str(row, "Key Variables"))
        if (comment := cell_str(row, "Comment")) is not None:
            data["comment"] = comment
        data["records"] = []
        data["variables"] = {}
        datasets[code] = data
    return datasets, rows_of


def _read_records(sheet: Sheet | None, datasets: dict[str, dict[str, Any]]) -> None:

    if sheet is None:
        return
    ordered: list[tuple[float, int, str, dict[str, Any]]] = []
    for r, row in sheet.rows:
        code = cell_str(row, "Dataset")
        if code not in datasets:
            raise sheet.error(
                f"dataset {code!r} is not an ADaM dataset of the Datasets sheet", r, "Dataset",
                hint="record steps are for ADaM datasets (AD...) listed in the Datasets sheet",
            )  # fmt: skip
        order = _order(sheet, r, row, f"{code} record step")
        op = cell_str(row, "Operation")
        if op is None:
            raise sheet.error(f"{code}: a record step without an operation", r, "Operation")
        if op not in RECORD_BUILDERS:
            raise sheet.error(f"{code}: unknown record builder {op!r}", r, "Operation",
                              hint=_known(op, RECORD_BUILDERS.names()))  # fmt: skip
        args = _arguments(sheet, r, row, f"{code} {op}", {"op"})
        after = {"after": args.pop("after")} if "after" in args else {}
        _check_args(sheet, r, RECORD_BUILDERS.require(op).args_model, args, f"{code}.{op}")
        ordered.append((order, r, code, {"op": op, **after, **args}))
    for *_, code, step in sorted(ordered, key=lambda x: x[:2]):
        datasets[code]["records"].append(step)


class _Labels:
    """The label a Label Source names, to tell an edited shown label."""

    def __init__(self, sheet: Sheet) -> None:
        self.adamig, self.sdtmig = load_adamig(), load_sdtmig()
        self.shown: dict[tuple[str, str], str | None] = {}
        for _r, row in sheet.rows:
            code, var = cell_str(row, "Dataset"), cell_str(row, "Variable")
            if is_adam_dataset(code) and var is not None:
                self.shown.setdefault((str(code), var), cell_str(row, "Label"))

    def definition(self, structure: str | None, var: str) -> VariableMeta | None:
        """The ADaMIG definition of ``var`` in a ``structure`` dataset (None: none)."""
        if not structure or not self.adamig.has_dataset(structure):
            return None
        found = adamig_definitions(structure, var)
        return found[0] if found else None

    def named(self, sheet: Sheet, r: int, source: str) -> str | None:
        """The label of ``SDTMIG <version> DOM.VAR`` or ``DATASET.VARIABLE`` (None: not
        known here)."""
        words = source.split()
        dom, _, var = words[-1].partition(".")
        if not (dom and var) or (len(words) > 1 and words[0] != self.sdtmig.name):
            raise sheet.error(
                f"Label Source {source!r} is not understood", r, "Label Source",
                hint=f"give {self.adamig.name}, '{self.sdtmig.name} DOMAIN.VARIABLE' or "
                "ADaM 'DATASET.VARIABLE' for a label shown from there, or leave it empty "
                "when the Label is the spec's",
            )  # fmt: skip
        if is_adam_dataset(dom):
            return self.shown.get((dom, var))
        if not self.sdtmig.has_dataset(dom):
            return None
        meta = self.sdtmig.variable(dom, var)
        return meta.label if meta is not None else None


def _read_label(
    sheet: Sheet, r: int, row: Row, labels: _Labels, structure: str | None, what: str
) -> str | None:
    """The spec's label of a Variables row (None: the label shown is not the spec's)."""
    label = cell_str(row, "Label")
    source = cell_str(row, "Label Source")
    ig = labels.definition(structure, what.split(".")[-1])
    if ig is not None and ig.template is None:
        if label is not None and label != ig.label:
            raise sheet.error(
                f"{what}: ADaMIG defines this variable; its label is {ig.label!r} and cannot "
                "be changed", r, "Label",
            )  # fmt: skip
        return None
    if source is None or label is None:
        return label
    if source.split()[0] == labels.adamig.name:
        if ig is None:
            raise sheet.error(
                f"{what}: not an ADaMIG {structure} variable, so its label is not ADaMIG's",
                r, "Label Source", hint="clear the Label Source: the Label is then the spec's",
            )  # fmt: skip
        if label != ig.label:
            raise sheet.error(
                f"{what}: the label shown comes from {source} ({ig.label!r}), so it is not "
                "read", r, "Label",
                hint="to give the variable a label of its own, clear its Label Source",
            )  # fmt: skip
        return None
    expected = labels.named(sheet, r, source)
    if expected is not None and label != expected:
        raise sheet.error(
            f"{what}: the label shown comes from {source} ({expected!r}), so it is not read",
            r, "Label", hint="to give the variable a label of its own, clear its Label Source",
        )  # fmt: skip
    return None


def _read_variables(
    sheet: Sheet, datasets: dict[str, dict[str, Any]], methods: dict[str, str]
) -> None:
    """The Variables rows of the ADaM datasets into ``datasets`` (in Order)."""
    labels = _Labels(sheet)
    seen: dict[tuple[str, str], int] = {}
    ordered: list[tuple[float, int, str, str, dict[str, Any]]] = []
    for r, row in sheet.rows:
        code = cell_str(row, "Dataset")
        if not is_adam_dataset(code):
            continue  # SDTM rows: the SDTM reader's
        assert code is not None
        var = _variable_name(sheet, r, row, code, datasets, seen)
        what = f"{code}.{var}"
        order = _order(sheet, r, row, what)
        derive = cell_str(row, "Operation") or "keep"
        if derive not in DERIVATIONS:
            raise sheet.error(f"{what}: unknown derivation {derive!r}", r, "Operation",
                              hint=_known(derive, DERIVATIONS.names()))  # fmt: skip
        args = _arguments(sheet, r, row, what, VARIABLE_META | {"args"})
        _check_args(sheet, r, DERIVATIONS.require(derive).args_model, args, what)
        structure = datasets[code].get("structure")
        meta = _variable_meta(sheet, r, row, labels, structure, what, methods)
        try:
            VariableSpec.model_validate({"derive": derive, "args": args, **meta})
        except ValidationError as exc:
            raise validation_error(sheet, r, exc, VARIABLE_COLUMNS, name=what) from None
        body = ({"derive": derive} if derive != "keep" else {}) | args | meta
        ordered.append((order, r, code, var, body))
    for *_, code, var, body in sorted(ordered, key=lambda x: x[:2]):
        datasets[code]["variables"][var] = body


def _variable_name(
    sheet: Sheet,
    r: int,
    row: Row,
    code: str,
    datasets: dict[str, dict[str, Any]],
    seen: dict[tuple[str, str], int],
) -> str:
    """The Variable of an ADaM row, checked: its dataset is listed, the name is a SAS
    name given once, and no SDTM-only column is filled."""
    if code not in datasets:
        raise sheet.error(f"dataset {code!r} is not in the Datasets sheet", r, "Dataset")
    var = cell_str(row, "Variable")
    if var is None:
        raise sheet.error("a row without a variable name", r, "Variable")
    what = f"{code}.{var}"
    if not re.match(NAME_PATTERN, var) and not re.match(WORKING_PATTERN, var):
        raise sheet.error(
            f"{what}: not a valid SAS V5 variable name", r, "Variable",
            hint="1-8 characters: A-Z, 0-9, _; starting with a letter (or, for a working "
            "variable never written, _ then capital letters, digits, _)",
        )  # fmt: skip
    if (code, var) in seen:
        raise sheet.error(
            f"duplicate variable {what} (first at row {seen[(code, var)]})", r, "Variable",
            hint="each Dataset + Variable may appear once",
        )  # fmt: skip
    seen[(code, var)] = r
    for column in _SDTM_ONLY:
        if cell_str(row, column) is not None:
            raise sheet.error(f"{what}: {column} is for SDTM variables only", r, column)
    return var


def _variable_meta(
    sheet: Sheet,
    r: int,
    row: Row,
    labels: _Labels,
    structure: str | None,
    what: str,
    methods: dict[str, str],
) -> dict[str, Any]:
    """The variable's keys besides ``derive`` and its arguments: label, type, origin,
    method, comment, codelist, format (those given)."""
    meta: dict[str, Any] = {}
    if (label := _read_label(sheet, r, row, labels, structure, what)) is not None:
        meta["label"] = label
    for key in ("type", "origin"):
        if (value := cell_str(row, VARIABLE_COLUMNS[key])) is not None:
            meta[key] = value
    method_id = cell_str(row, "Method")
    if method_id is not None:
        meta["method"] = _method_text(sheet, r, method_id, what, methods)
    for key in ("comment", "codelist", "format"):
        if (value := cell_str(row, VARIABLE_COLUMNS[key])) is not None:
            meta[key] = value
    keep = cell_str(row, "Keep")
    if keep is not None:
        if keep.strip().lower() not in ("yes", "no"):
            raise sheet.error(
                f"{what}: Keep is {keep!r}", r, "Keep",
                hint="No (a working variable, not written) or Yes/blank (written)",
            )  # fmt: skip
        if keep.strip().lower() == "no":
            meta["keep"] = False
    return meta


def _method_text(sheet: Sheet, r: int, method_id: str, what: str, methods: dict[str, str]) -> str:
    """A Method cell as the spec's method: an ``M-<ID>`` reference as is, else the text
    of its Methods-sheet row."""
    if METHOD_REF.match(method_id):
        return method_id
    if method_id in methods:
        return methods[method_id]
    raise sheet.error(f"{what}: method {method_id!r} is not in the Methods sheet", r, "Method")


def read_adam(
    sheets: dict[str, Sheet],
    methods: dict[str, str],
    conventions_rows: list[tuple[int, str, str]] | None = None,
) -> dict[str, Any]:
    """The ADaM spec documents of a workbook, by path relative to the study folder:
    ``adam/conventions.yaml``, ``adam/<dataset>.yaml`` (lower case) and
    ``adam/reports.yaml``, each in the hand-written shape (arguments inline), ready for
    :func:`~cdisc_mapper.spec.yamlio.dump_yaml`. Empty when the workbook has no ADaM rows.

    ``sheets`` are the parsed Study, Datasets, Records (optional) and Variables sheets;
    ``methods`` maps Methods-sheet IDs to their descriptions. Only rows of ADaM datasets
    (``AD...``) are read. Every problem is a :class:`SpecError` naming sheet, row and
    column; cross-references (variables used before they are derived, periods, windows)
    are left to :func:`load_adam_specs` on the files written.
    """
    study = sheets[L.STUDY]
    blobs = _read_blobs(study)
    conventions = read_conventions(sheets, conventions_rows or [])
    if conventions is not None:
        blobs["adam.conventions"] = conventions
    ds_sheet = sheets[L.DATASETS]
    datasets, rows_of = _read_datasets(ds_sheet)
    _read_records(sheets.get(L.RECORDS), datasets)
    _read_variables(sheets[L.VARIABLES], datasets, methods)
    if datasets and "adam.conventions" not in blobs:
        first = min(rows_of.values())
        raise study.error(
            "the workbook has ADaM datasets but no ADaM conventions", 1, "Attribute",
            hint=f"fill the AnalysisPeriods, AnalysisEvents (...) sheets and the "
            f"adam.conventions.* rows (the Datasets sheet lists ADaM datasets from row {first})",
        )  # fmt: skip
    for code, data in datasets.items():
        try:
            DatasetSpec.model_validate(normalise_dataset(data))
        except ValidationError as exc:
            raise _dataset_error(ds_sheet, rows_of[code], exc, code) from None
    out: dict[str, Any] = {}
    if "adam.conventions" in blobs:
        out[f"{ADAM_FOLDER}/{CONVENTIONS_FILE}"] = blobs["adam.conventions"]
    for code, data in datasets.items():
        out[f"{ADAM_FOLDER}/{code.lower()}.yaml"] = data
    if "adam.reports" in blobs:
        out[f"{ADAM_FOLDER}/{L.ADAM_BLOBS['adam.reports']}"] = blobs["adam.reports"]
    return out


def _dataset_error(sheet: Sheet, r: int, exc: ValidationError, code: str) -> SpecError:
    err = exc.errors()[0]
    if err["type"] == "too_short" and tuple(err["loc"]) in (("records",), ("variables",)):
        what = "record steps (Records sheet)" if err["loc"][0] == "records" else "variables"
        return sheet.error(f"{code}: no {what}", r, "Dataset")
    return validation_error(sheet, r, exc, DATASET_COLUMNS, default="Key Variables", name=code)
