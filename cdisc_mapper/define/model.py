"""The intermediate metadata model: what one define.xml says, before any XML.

Builders (:mod:`.describe_sdtm`, :mod:`.describe_adam`) fill a :class:`DefineModel` from the specs
and the written datasets; :mod:`.writer` turns it into Define-XML 2.1. Every OID is made
here, from names only (``IT.DM.SEX``, ``CL.SEX``, ``MT.AE.AESTDY``), so reruns give the
same document. Lists are kept in a meaningful order (datasets by name, variables in file
order) or sorted by OID where the order carries no meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdisc_mapper.oids import oid_part as oid_part  # the OID rules live there

OriginType = str  # Collected | Derived | Assigned | Protocol | Predecessor | Not Available


@dataclass(frozen=True)
class DocRef:
    leaf_id: str
    pages: str | None = None


@dataclass(frozen=True)
class Origin:
    type: OriginType
    source: str | None = None  # Investigator | Sponsor | Subject | Vendor
    text: str = ""
    document: DocRef | None = None


@dataclass(frozen=True)
class Method:
    oid: str
    name: str
    description: str
    type: str = "Computation"
    document: DocRef | None = None
    expression: tuple[str, str] | None = None  # (Context, code) of a FormalExpression


@dataclass(frozen=True)
class Comment:
    oid: str
    text: str
    document: DocRef | None = None


@dataclass(frozen=True)
class Term:
    value: str
    decode: str | None = None
    nci_code: str | None = None
    extended: bool = False


@dataclass
class CodeListDef:
    oid: str
    name: str
    data_type: str
    terms: list[Term] = field(default_factory=list)
    nci_code: str | None = None
    standard_oid: str | None = None
    non_standard: bool = False
    dictionary: str | None = None  # external code list
    version: str | None = None
    href: str | None = None
    comment_oid: str | None = None

    @property
    def has_decodes(self) -> bool:
        return any(t.decode for t in self.terms)


@dataclass(frozen=True)
class RangeCheckDef:
    """One RangeCheck of a where clause: ``ItemOID comparator values``."""

    item_oid: str
    comparator: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class WhereClause:
    """A def:WhereClauseDef: its RangeChecks are ANDed (``line``: where a read
    define.xml has it)."""

    oid: str
    checks: tuple[RangeCheckDef, ...]
    line: int | None = None


@dataclass
class ItemDef:
    oid: str
    name: str
    label: str
    data_type: str
    length: int | None = None
    significant_digits: int | None = None
    display_format: str | None = None
    codelist_oid: str | None = None
    origin: Origin | None = None
    valuelist_oid: str | None = None
    comment_oid: str | None = None


@dataclass
class ItemRef:
    item_oid: str
    order: int
    mandatory: bool
    key_sequence: int | None = None
    method_oid: str | None = None
    role: str | None = None
    where_oids: tuple[str, ...] = ()
    has_no_data: bool = False
    non_standard: bool = False


@dataclass
class ValueList:
    oid: str
    item_refs: list[ItemRef] = field(default_factory=list)


@dataclass
class DatasetDef:
    oid: str
    name: str
    domain: str | None
    label: str
    structure: str
    class_: str
    purpose: str
    repeating: bool
    reference_data: bool
    standard_oid: str
    href: str
    subclass: str | None = None
    comment_oid: str | None = None
    non_standard: bool = False
    domain_description: str | None = None  # parent's label, for SUPP--
    item_refs: list[ItemRef] = field(default_factory=list)

    @property
    def leaf_id(self) -> str:
        return f"LF.{oid_part(self.name)}"


@dataclass(frozen=True)
class StandardDef:
    oid: str
    name: str
    type: str
    version: str
    publishing_set: str | None = None
    status: str = "Final"


@dataclass(frozen=True)
class Leaf:
    id: str
    href: str
    title: str


@dataclass(frozen=True)
class AnalysisDatasetRef:
    """An arm:AnalysisDataset: the dataset, the where clause choosing its records (None:
    all, or a selection no where clause can say) and the variables analysed."""

    dataset_oid: str
    where_oid: str | None
    variable_oids: tuple[str, ...]


@dataclass(frozen=True)
class AnalysisResultDef:
    """An arm:AnalysisResult (ARM 1.0 section 3.2): what is analysed, why, and how."""

    oid: str
    description: str
    reason: str
    purpose: str
    datasets: tuple[AnalysisDatasetRef, ...]
    parameter_oid: str | None = None
    documentation: str = ""
    code: tuple[str, str] | None = None  # (Context, programming statement)


@dataclass(frozen=True)
class ResultDisplayDef:
    """An arm:ResultDisplay: a table or figure and the analysis results it shows."""

    oid: str
    name: str
    description: str
    results: tuple[AnalysisResultDef, ...]
    document: DocRef | None = None


@dataclass
class DefineModel:
    """One define.xml."""

    which: str  # "sdtm" | "adam"
    file_oid: str
    study_oid: str
    study_name: str
    study_description: str
    protocol_name: str
    mdv_oid: str
    mdv_name: str
    mdv_description: str
    creation_datetime: str
    originator: str
    source_system_version: str
    standards: list[StandardDef] = field(default_factory=list)
    acrf_leaf: str | None = None
    supplemental_leaves: list[str] = field(default_factory=list)
    datasets: list[DatasetDef] = field(default_factory=list)
    items: dict[str, ItemDef] = field(default_factory=dict)
    value_lists: dict[str, ValueList] = field(default_factory=dict)
    where_clauses: dict[str, WhereClause] = field(default_factory=dict)
    codelists: dict[str, CodeListDef] = field(default_factory=dict)
    methods: dict[str, Method] = field(default_factory=dict)
    comments: dict[str, Comment] = field(default_factory=dict)
    leaves: list[Leaf] = field(default_factory=list)
    result_displays: list[ResultDisplayDef] = field(default_factory=list)  # ARM 1.0
    files: dict[str, bytes] = field(default_factory=dict)
    """Documents written beside define.xml, by file name (the generated acrf.pdf)."""

    def add_item(self, item: ItemDef) -> ItemDef:
        self.items[item.oid] = item
        return item
