"""Define-XML metadata as a define-generator workbook gives it, kept in ``metadata.yaml``.

A Pinnacle 21 style define-generator workbook made by another tool (sheets ``Study``,
``Datasets``, ``Variables``, ``ValueLevel``, ``WhereClauses``, ``Codelists``,
``Dictionaries``, ``Methods``, ``Comments``, ``Documents``; see
:mod:`cdisc_mapper.xlsx.p21`) says, for datasets written elsewhere, what define.xml should
say about them. :class:`DefineMetadata` holds exactly that, sheet by sheet, with IDs as
the workbook gives them; :mod:`cdisc_mapper.define.describe_metadata` turns it plus the
XPT datasets into a define.xml. ``metadata.yaml`` is that model as YAML::

    study: {study_name: XYZ-01, study_description: ..., protocol_name: XYZ-01,
            standard: SDTMIG, standard_version: "3.4"}
    datasets:
      VS:
        label: Vital Signs
        class: FINDINGS
        structure: One record per subject per vital sign measurement per time point
        purpose: Tabulation
        keys: [STUDYID, USUBJID, VSTESTCD]
        variables:                          # in dataset order
          VSORRES: {label: Result or Finding in Original Units, data_type: text,
                    length: 8, origin: Collected, source: Investigator, pages: "12"}
    value_levels:
      - {dataset: VS, variable: VSORRES, where: WC.VS.TEMP, origin: Collected}
    where_clauses:                          # conditions of one clause are ANDed
      WC.VS.TEMP:
        - {dataset: VS, variable: VSTESTCD, comparator: EQ, values: [TEMP]}
    codelists:
      SEX: {name: Sex, nci_code: C66731, terms: [{term: F, nci_code: C16576, decode: Female}]}
    dictionaries: {MEDDRA: {name: Adverse Event Dictionary, dictionary: MedDRA, version: "26.0"}}
    methods: {MT.AGE: {name: Algorithm to derive AGE, type: Computation, description: ...}}
    comments: {COM.DM: {description: ..., document: csdrg, pages: "3"}}
    documents: {blankcrf: {title: Annotated CRF, href: blankcrf.pdf}}

Labels, data types, lengths, significant digits, formats and Mandatory are what
define.xml says (a difference from the data is a warning). One where clause ID may serve
several datasets (P21 workbooks share a QNAM clause among the SUPP-- datasets): each
dataset's conditions are its own clause (:meth:`DefineMetadata.clause`).
Names of methods, comments, code lists, where
clauses and documents must exist; :func:`reference_problems` lists what does not, and
:func:`load_metadata` reports the first at its ``metadata.yaml`` line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.base import validate_model
from cdisc_mapper.spec.yamlio import dump_yaml, load_spec_yaml

METADATA_FILE = "metadata.yaml"

OriginType = Literal[
    "Collected", "Derived", "Assigned", "Protocol", "Predecessor", "Not Available", "Other"
]
OriginSource = Literal["Investigator", "Sponsor", "Subject", "Vendor"]
#: Comparators the define.xml assembler can evaluate on the data.
Comparator = Literal["EQ", "NE", "IN", "NOTIN", "LT", "LE", "GT", "GE"]
MethodType = Literal["Computation", "Imputation", "Transpose", "Other"]
#: Define-XML 2.1 item data types.
DataType = Literal[
    "text", "integer", "float", "date", "datetime", "time", "partialDate", "partialTime",
    "partialDatetime", "incompleteDatetime", "durationDatetime", "intervalDatetime", "URI",
]  # fmt: skip
#: Define-XML 2.1 def:Class names (define-enumerations.xsd ItemGroupClass).
DatasetClass = Literal[
    "ADAM OTHER", "BASIC DATA STRUCTURE", "DEVICE LEVEL ANALYSIS DATASET", "EVENTS",
    "FINDINGS", "FINDINGS ABOUT", "INTERVENTIONS", "MEDICAL DEVICE BASIC DATA STRUCTURE",
    "MEDICAL DEVICE OCCURRENCE DATA STRUCTURE", "OCCURRENCE DATA STRUCTURE",
    "REFERENCE DATA STRUCTURE", "RELATIONSHIP", "SPECIAL PURPOSE", "STUDY REFERENCE",
    "SUBJECT LEVEL ANALYSIS DATASET", "TRIAL DESIGN",
]  # fmt: skip
#: Define-XML 2.1 def:SubClass names (ItemGroupSubClass).
DatasetSubClass = Literal[
    "ADVERSE EVENT", "MEDICAL DEVICE TIME-TO-EVENT", "NON-COMPARTMENTAL ANALYSIS",
    "POPULATION PHARMACOKINETIC ANALYSIS", "TIME-TO-EVENT",
]  # fmt: skip
Loc = tuple[str | int, ...]


def _as_text(value: Any) -> Any:
    """A number where text is expected (``version: 3.4``, ``term: 1``) is that text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(_as_text)]


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


class StudyMeta(_Strict):
    study_name: Text
    study_description: Text = ""
    protocol_name: Text | None = None
    standard: Text | None = Field(default=None, description="IG name, e.g. SDTMIG")
    standard_version: Text | None = None
    originator: Text | None = None


class VariableMeta(_Strict):
    label: Text | None = None
    data_type: DataType | None = None
    length: int | None = None
    significant_digits: int | None = None
    format: Text | None = None
    mandatory: bool | None = None
    codelist: Text | None = Field(default=None, description="a codelists: or dictionaries: ID")
    origin: OriginType | None = None
    source: OriginSource | None = None
    pages: Text | None = None
    method: Text | None = Field(default=None, description="a methods: ID")
    predecessor: Text | None = None
    role: Text | None = None
    has_no_data: bool | None = Field(default=None, description="checked against the data")
    comment: Text | None = Field(default=None, description="a comments: ID")


class DatasetMeta(_Strict):
    label: Text | None = None
    class_: DatasetClass = Field(alias="class")
    subclass: DatasetSubClass | None = None
    structure: Text
    purpose: Literal["Tabulation", "Analysis"] | None = None
    standard: Text | None = Field(default=None, description="its IG, e.g. SDTMIG 3.4")
    keys: list[Text] = Field(default_factory=list)
    repeating: bool | None = None
    reference_data: bool | None = None
    has_no_data: bool | None = Field(default=None, description="checked against the data")
    comment: Text | None = None
    variables: dict[str, VariableMeta] = Field(default_factory=dict)


class ValueLevelMeta(_Strict):
    dataset: Text
    variable: Text
    where: Text = Field(description="a where_clauses: ID")
    label: Text | None = None
    data_type: DataType | None = None
    length: int | None = None
    significant_digits: int | None = None
    format: Text | None = None
    mandatory: bool | None = None
    codelist: Text | None = None
    origin: OriginType | None = None
    source: OriginSource | None = None
    pages: Text | None = None
    method: Text | None = None
    predecessor: Text | None = None
    comment: Text | None = None


class ConditionMeta(_Strict):
    dataset: Text
    variable: Text
    comparator: Comparator
    values: list[Text]


class TermMeta(_Strict):
    term: Text
    nci_code: Text | None = None
    decode: Text | None = None


class CodelistMeta(_Strict):
    name: Text
    nci_code: Text | None = None
    data_type: Literal["text", "integer", "float"] | None = None
    terminology: Text | None = None
    comment: Text | None = None
    terms: list[TermMeta] = Field(default_factory=list)


class DictionaryMeta(_Strict):
    name: Text | None = None
    data_type: Text = "text"
    dictionary: Text
    version: Text | None = None
    href: Text | None = None


class MethodMeta(_Strict):
    name: Text | None = None
    type: MethodType = "Computation"
    description: Text
    expression_context: Text | None = None
    expression_code: Text | None = None
    document: Text | None = None
    pages: Text | None = None


class CommentMeta(_Strict):
    description: Text
    document: Text | None = None
    pages: Text | None = None


class DocumentMeta(_Strict):
    title: Text
    href: Text
    kind: Literal["acrf", "supplemental"] | None = Field(
        default=None, description="default: acrf for an annotated CRF (by ID or title)"
    )
    standards: list[Literal["sdtm", "adam"]] | None = None


class DefineMetadata(_Strict):
    """What a define-generator workbook says (see the module docstring)."""

    study: StudyMeta
    datasets: dict[str, DatasetMeta]
    value_levels: list[ValueLevelMeta] = Field(default_factory=list)
    where_clauses: dict[str, list[ConditionMeta]] = Field(default_factory=dict)
    codelists: dict[str, CodelistMeta] = Field(default_factory=dict)
    dictionaries: dict[str, DictionaryMeta] = Field(default_factory=dict)
    methods: dict[str, MethodMeta] = Field(default_factory=dict)
    comments: dict[str, CommentMeta] = Field(default_factory=dict)
    documents: dict[str, DocumentMeta] = Field(default_factory=dict)

    def clause(self, where: str, dataset: str) -> list[ConditionMeta]:
        """The conditions of where clause ``where`` about ``dataset``: one clause ID may
        serve several datasets (a QNAM clause shared by the SUPP-- datasets), each with
        its own conditions."""
        return [c for c in self.where_clauses.get(where, []) if c.dataset == dataset]


# ---------------------------------------------------------------------------- references
def _listed(what: str, known: Mapping[str, Any] | list[str]) -> str:
    names = sorted(known)
    shown = ", ".join(names[:12]) + (" ..." if len(names) > 12 else "")
    return f"{what}: {shown or 'none'}"


Problems = Iterator[tuple[Loc, str]]


def _missing(value: str | None, known: Mapping[str, Any], field: str, sheet: str) -> str | None:
    if value is None or value in known:
        return None
    return f"{field} {value!r} is not in {_listed(sheet, known)}"


def _named_fields(meta: DefineMetadata) -> tuple[tuple[str, Mapping[str, Any], str], ...]:
    """(field, the definitions it names, their sheet) of variables and value levels."""
    return (
        ("codelist", {**meta.codelists, **meta.dictionaries}, "Codelists or Dictionaries"),
        ("method", meta.methods, "Methods"),
        ("comment", meta.comments, "Comments"),
    )


def reference_problems(meta: DefineMetadata) -> Problems:
    """Every name that points at nothing, as ``(location in the model, message)``:
    comments, methods, code lists, documents, where clauses, keys, value-level variables,
    where-clause variables; also a value-level row or a where-clause variable given twice."""
    yield from _dataset_problems(meta)
    yield from _value_level_problems(meta)
    yield from _where_clause_problems(meta)
    yield from _definition_problems(meta)


def _dataset_problems(meta: DefineMetadata) -> Problems:
    for ds_name, ds in meta.datasets.items():
        base: Loc = ("datasets", ds_name)
        if msg := _missing(ds.comment, meta.comments, "comment", "Comments"):
            yield (*base, "comment"), f"{ds_name}: {msg}"
        for key in ds.keys if ds.variables else ():
            if key not in ds.variables:
                msg = f"key variable {key} is not a variable of {ds_name} in Variables"
                yield (*base, "keys"), f"{ds_name}: {msg}"
        for var_name, var in ds.variables.items():
            for field, known, sheet in _named_fields(meta):
                if msg := _missing(getattr(var, field), known, field, sheet):
                    loc = (*base, "variables", var_name, field)
                    yield loc, f"{ds_name}.{var_name}: {msg}"


def _value_level_problems(meta: DefineMetadata) -> Problems:
    seen: dict[tuple[str, str, str], int] = {}
    for i, vl in enumerate(meta.value_levels):
        loc: Loc = ("value_levels", i)
        what = f"{vl.dataset}.{vl.variable} [{vl.where}]"
        ds = meta.datasets.get(vl.dataset)
        if ds is None:
            known = _listed("Datasets", meta.datasets)
            yield (*loc, "dataset"), f"{what}: dataset {vl.dataset} is not in {known}"
            continue
        if vl.variable not in ds.variables:
            msg = f"{vl.variable} is not a variable of {vl.dataset} in Variables"
            yield (*loc, "variable"), f"{what}: {msg}"
        yield from _clause_of(meta, vl, loc, what)
        for field, defined, sheet in _named_fields(meta):
            if problem := _missing(getattr(vl, field), defined, field, sheet):
                yield (*loc, field), f"{what}: {problem}"
        key = (vl.dataset, vl.variable, vl.where)
        if key in seen:
            yield (*loc, "where"), f"{what}: given twice (first as value-level row {seen[key] + 1})"
        seen.setdefault(key, i)


def _clause_of(meta: DefineMetadata, vl: ValueLevelMeta, loc: Loc, what: str) -> Problems:
    clause = meta.where_clauses.get(vl.where)
    if clause is None:
        known = _listed("WhereClauses", meta.where_clauses)
        yield (*loc, "where"), f"{what}: where clause {vl.where!r} is not in {known}"
        return
    if not meta.clause(vl.where, vl.dataset):
        other = ", ".join(sorted({c.dataset for c in clause}))
        msg = f"where clause {vl.where} is about dataset {other}, not {vl.dataset}"
        yield (*loc, "where"), f"{what}: {msg}"


def _where_clause_problems(meta: DefineMetadata) -> Problems:
    for wc_id, conditions in meta.where_clauses.items():
        what = f"where clause {wc_id}"
        for j, cond in enumerate(conditions):
            loc: Loc = ("where_clauses", wc_id, j)
            ds = meta.datasets.get(cond.dataset)
            if ds is None:
                known = _listed("Datasets", meta.datasets)
                yield (*loc, "dataset"), f"{what}: dataset {cond.dataset} is not in {known}"
            elif cond.variable not in ds.variables:
                msg = f"{cond.variable} is not a variable of {cond.dataset} in Variables"
                yield (*loc, "variable"), f"{what}: {msg}"
            if any(
                (c.dataset, c.variable) == (cond.dataset, cond.variable) for c in conditions[:j]
            ):
                yield (*loc, "variable"), f"{what}: variable {cond.variable} given twice"


def _definition_problems(meta: DefineMetadata) -> Problems:
    for cl_id, cl in meta.codelists.items():
        if msg := _missing(cl.comment, meta.comments, "comment", "Comments"):
            yield ("codelists", cl_id, "comment"), f"codelist {cl_id}: {msg}"
    sections: tuple[tuple[str, Mapping[str, MethodMeta | CommentMeta]], ...] = (
        ("methods", meta.methods),
        ("comments", meta.comments),
    )
    for section, defs in sections:
        for def_id, d in defs.items():
            if msg := _missing(d.document, meta.documents, "document", "Documents"):
                yield (section, def_id, "document"), f"{section[:-1]} {def_id}: {msg}"


def check_metadata(meta: DefineMetadata) -> None:
    """Raise :class:`SpecError` for the first name that points at nothing."""
    for loc, message in reference_problems(meta):
        raise SpecError(message, where="metadata " + ".".join(str(x) for x in loc))


# ---------------------------------------------------------------------------- YAML
def metadata_path(path: Path) -> Path:
    """``path`` itself, or ``path/metadata.yaml`` for a folder."""
    path = Path(path)
    return path / METADATA_FILE if path.is_dir() else path


def load_metadata(path: Path) -> DefineMetadata:
    """Read ``metadata.yaml`` (or a folder holding one); SpecError at the file's line for
    malformed YAML, unknown keys, wrong values and names that point at nothing."""
    doc = load_spec_yaml(metadata_path(path))
    meta: DefineMetadata = validate_model(DefineMetadata, doc.data, doc)
    for loc, message in reference_problems(meta):
        raise SpecError(message, where=doc.where(loc))
    return meta


def metadata_data(meta: DefineMetadata) -> dict[str, Any]:
    """The model as plain data, without empty or default values."""
    return meta.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)


def dump_metadata(meta: DefineMetadata, path: Path) -> Path:
    """Write ``meta`` as YAML to ``path`` (a folder gets ``metadata.yaml``); return the file."""
    path = Path(path)
    if path.is_dir():
        path = path / METADATA_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_yaml(metadata_data(meta)), encoding="utf-8")
    return path
