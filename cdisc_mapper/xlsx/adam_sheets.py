"""A study's ADaM specs (``adam/*.yaml``) in the spec workbook: the rows to write and the
YAML documents read back.

Where each part of the ADaM specs goes (rows of a dataset whose name starts with ``AD``):

* Study sheet: ``adam.conventions.<key>`` rows and the conventions tables (see
  :mod:`.conventions_sheets`); ``adam.reports`` (only when ``reports.yaml`` exists), the
  file's model as one YAML text (defaults shown).
* Datasets: Description = ``label``; **Structure = the spec's ``structure`` as written**
  (``ADSL``, ``BDS`` or ``OCCDS``; define.xml's structure text is made from the keys);
  Class = the spec's ``class``, else the ADaMIG class of the structure (a Class equal to
  that class is read back as not given: the same define.xml); Purpose ``Analysis``; Key
  Variables; Comment.
* Records: one row per record step (Order, Operation = ``op``, Arguments = JSON).
* Variables: one row per variable in spec order: Operation = ``derive``, Arguments = JSON;
  Origin, Comment, Codelist and Format exactly as the spec gives them (blank: not given);
  Method = ``MT.<DATASET>.<VARIABLE>``, whose Methods-sheet row holds the spec's text, or
  the spec's ``M-<ID>`` reference as is. **Type** = the spec's ``type`` (``Char``/``Num``;
  blank: not given). **Label** = the spec's ``label``, or, when the spec gives none, the
  label the variable gets for define.xml, with **Label Source** naming where that comes from
  (``ADaMIG 1.3``, ``SDTMIG 3.4 DM.AGE`` for a copied SDTM variable, ``ADSL.EFFFL`` for a
  copied ADaM variable). So a Label is the spec's exactly when its Label Source is blank; a
  shown label that was edited is an error (clear Label Source to give a sponsor label).
  Operation blank reads as ``keep``. Data Type, Mandatory and Source are for reviewers
  (not read): the define.xml data type of the variable's type (a numeric date is
  ``integer``, as define.xml gives it with its DATE9. display format; integer or float of
  other numbers is a guess from the name and derivation, define.xml takes it from the
  data), ADaMIG core ``Req``, and what the derivation reads.

:func:`adam_content` makes the rows, :func:`read_adam` reads them back; both are pure
(no files written).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from cdisc_mapper.adam import load_adam_specs
from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.engine import CLASSES, dataset_metadata
from cdisc_mapper.adam.model import AdamVariable
from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS
from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.adam import (
    ADAM_FOLDER,
    CONVENTIONS_FILE,
    REPORTS_FILE,
    WORKING_PATTERN,
    DatasetSpec,
    ReportsSpec,
    VariableSpec,
)
from cdisc_mapper.spec.adam_loader import (
    VARIABLE_META,
    adamig_definitions,
    adamig_variable,
    copied_from,
    normalise_dataset,
)
from cdisc_mapper.spec.base import NAME_PATTERN, is_adam
from cdisc_mapper.spec.yamlio import dump_yaml
from cdisc_mapper.standards import VariableMeta, load_adamig, load_sdtmig
from cdisc_mapper.xlsx import layout as L
from cdisc_mapper.xlsx.conventions_sheets import conventions_content, read_conventions
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
_INTEGER_SUFFIXES = ("SEQ", "DY", "NUM", "N", "CD")
_INTEGER_NAMES = ("AGE", "APERIOD", "AWTARGET", "AWTDIFF")
_INTEGER_DERIVES = {"count", "sequence", "analysis_day"}


def _dump(model: BaseModel) -> str:
    data = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return dump_yaml(data).rstrip("\n")


def _data_type(name: str, derive: str, vtype: str | None, fmt: str | None) -> str:
    """define.xml DataType for reviewers: numbers are integer or float (numeric dates and
    times are integer, with a display format), text is text (ISO 8601 ``--DTC`` datetime)."""
    if vtype == "Char":
        return "datetime" if name.endswith("DTC") else "text"
    if vtype != "Num":
        return ""
    temporal = bool(fmt and re.match(r"^(E8601|DATE|TIME|DATETIME|YYMMDD|DDMMYY)", fmt.upper()))
    if temporal or derive in _INTEGER_DERIVES or name.endswith(_INTEGER_SUFFIXES):
        return "integer"
    return "integer" if name in _INTEGER_NAMES else "float"


def adam_content(study_dir: Path) -> dict[str, list[Row]]:
    """Workbook rows of the study's ADaM specs, by sheet (Study, Datasets, Records,
    Variables, Methods), each row keyed by the column titles of :data:`layout.SHEETS`.

    Empty when the study has no ``adam/`` folder. Raises :class:`SpecError` when the specs
    do not load (:func:`load_adam_specs`).
    """
    study_dir = Path(study_dir)
    if not (study_dir / ADAM_FOLDER).is_dir():
        return {}
    specs = load_adam_specs(study_dir)
    metas = {
        name: {v.name: v for v in variables}
        for name, variables in dataset_metadata(BuildContext(specs=specs)).items()
    }
    adamig, sdtmig = load_adamig(), load_sdtmig()
    classes = CLASSES

    conventions = conventions_content(specs.conventions)
    study = conventions.pop(L.STUDY)
    if (study_dir / ADAM_FOLDER / REPORTS_FILE).is_file():
        study.append({"Attribute": "adam.reports", "Value": _dump(specs.reports)})
    datasets: list[Row] = []
    records: list[Row] = []
    variables: list[Row] = []
    methods: list[Row] = []
    for name in sorted(specs.datasets, key=lambda n: (n != "ADSL", n)):
        ds = specs.datasets[name]
        datasets.append(
            {
                "Dataset": name,
                "Description": ds.label,
                "Class": ds.class_ or classes.get(ds.structure, ""),
                "Structure": ds.structure,
                "Purpose": "Analysis",
                "Key Variables": ", ".join(ds.keys),
                "Repeating": "No" if ds.structure == "ADSL" else "Yes",
                "Reference Data": "No",
                "Comment": ds.comment,
            }
        )
        for i, step in enumerate(ds.records, start=1):
            records.append(
                {
                    "Dataset": name,
                    "Order": i,
                    "Operation": step.op,
                    # 'after' (when a step runs) travels with the arguments
                    "Arguments": L.args_json({**step.model_dump(include={"after"}), **step.args})
                    if step.after
                    else L.args_json(step.args),
                }
            )
        for order, (var, vspec) in enumerate(ds.variables.items(), start=1):
            meta = metas[name].get(var) or _working_meta(var, vspec)
            label, label_source = vspec.label, None
            if label is None and not vspec.working(var):
                label = meta.label
                if adamig_variable(specs, name, var) is not None:
                    label_source = f"{adamig.name} {adamig.version}"
                elif (copy := copied_from(specs, name, var)) is not None:
                    dom, src = copy
                    if is_adam(dom):
                        label_source = f"{dom}.{src}"
                    else:
                        label_source = f"{sdtmig.name} {sdtmig.version} {dom}.{src}"
            method = ""
            if vspec.method is not None:
                if METHOD_REF.match(vspec.method):
                    method = vspec.method
                else:
                    method = f"MT.{name}.{var}"
                    methods.append(
                        {
                            "ID": method,
                            "Name": f"Algorithm to derive {name}.{var}",
                            "Type": "Computation",
                            "Description": vspec.method,
                        }
                    )
            variables.append(
                {
                    "Order": order,
                    "Dataset": name,
                    "Variable": var,
                    "Label": label,
                    "Data Type": _data_type(var, vspec.derive, meta.type, meta.format),
                    "Format": vspec.format,
                    "Mandatory": "Yes" if meta.core == "Req" else "No",
                    "Codelist": vspec.codelist,
                    "Origin": vspec.origin,
                    "Source": meta.source,
                    "Method": method,
                    "Comment": vspec.comment,
                    "Operation": vspec.derive,
                    "Arguments": L.args_json(vspec.args),
                    "Type": vspec.type,
                    "Label Source": label_source,
                    "Keep": None if vspec.keep else "No",
                }
            )
    return {
        L.STUDY: study,
        L.DATASETS: datasets,
        L.RECORDS: records,
        L.VARIABLES: variables,
        L.METHODS: methods,
        **conventions,
    }


def _working_meta(var: str, vspec: VariableSpec) -> AdamVariable:
    """What a working variable's row shows (it has no define.xml metadata): the spec's."""
    return AdamVariable(name=var, label=vspec.label or "", type=vspec.type, format=vspec.format)


# --------------------------------------------------------------------------- reading
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
