"""The layout of a define-generator workbook made by another tool (Pinnacle 21 Community
templates, Define-XML 2.0 and 2.1): its sheets and columns with the other names they go
by, and the values its enumerated columns take. Names are matched without regard to case,
blanks or a plural ``s`` (:func:`sheet_key`); an unknown name close to a missing one
(:func:`close_name`) is taken for a misspelling. See :mod:`.p21`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import get_args

from cdisc_mapper.spec.metadata import DatasetClass, DatasetSubClass, DataType

#: difflib ratio from which an unknown sheet or column name counts as a misspelling.
CLOSE = 0.8


def norm(name: str) -> str:
    """A sheet or column name for matching: no blanks, underscores or hyphens, case-folded."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


def sheet_key(name: str) -> str:
    """A sheet or column name for matching, also without a plural ``s``."""
    key = norm(name)
    return key[:-1] if key.endswith("s") else key


@dataclass(frozen=True)
class Col:
    """A column: its key in a row, its titles (the first is the P21 name)."""

    key: str
    titles: tuple[str, ...]  # the first is the P21 name
    required: bool = False

    @property
    def title(self) -> str:
        return self.titles[0]


@dataclass(frozen=True)
class SheetSpec:
    """A sheet: its names (the first is the P21 name) and its columns."""

    names: tuple[str, ...]  # the first is the P21 name
    columns: tuple[Col, ...]
    required: bool = False

    @property
    def name(self) -> str:
        return self.names[0]


def _c(key: str, *titles: str, required: bool = False) -> Col:
    return Col(key, titles, required)


#: Columns of the layout that define.xml has no place for (the P21 Community templates'
#: working columns); each is told once per sheet as not read, unlike an unknown column.
UNUSED_COLUMNS = frozenset(sheet_key(t) for t in ("Developer Notes", "Assigned Value", "Common"))

_ITEM_COLUMNS = (
    _c("label", "Label"),
    _c("data_type", "Data Type"),
    _c("length", "Length"),
    _c("significant_digits", "Significant Digits", "Sig Digits"),
    _c("format", "Format", "Display Format"),
    _c("mandatory", "Mandatory"),
    _c("codelist", "Codelist", "Code List", "Controlled Terms"),
    _c("origin", "Origin", "Origin Type"),
    _c("source", "Source", "Origin Source"),
    _c("pages", "Pages"),
    _c("method", "Method"),
    _c("predecessor", "Predecessor"),
)

STUDY = SheetSpec(
    ("Study", "Define"),
    (_c("attribute", "Attribute", required=True), _c("value", "Value", required=True)),
    required=True,
)
DATASETS = SheetSpec(
    ("Datasets", "Domains"),
    (
        _c("dataset", "Dataset", "Domain", required=True),
        _c("label", "Description", "Label"),
        _c("class", "Class", required=True),
        _c("subclass", "SubClass"),
        _c("structure", "Structure", required=True),
        _c("purpose", "Purpose"),
        _c("standard", "Standard"),
        _c("keys", "Key Variables", "Keys"),
        _c("repeating", "Repeating"),
        _c("reference_data", "Reference Data", "IsReferenceData"),
        _c("has_no_data", "Has No Data"),
        _c("comment", "Comment"),
    ),
    required=True,
)
VARIABLES = SheetSpec(
    ("Variables",),
    (
        _c("order", "Order"),
        _c("dataset", "Dataset", "Domain", required=True),
        _c("variable", "Variable", "Variable Name", required=True),
        *_ITEM_COLUMNS,
        _c("role", "Role"),
        _c("has_no_data", "Has No Data"),
        _c("comment", "Comment"),
    ),
    required=True,
)
VALUELEVEL = SheetSpec(
    ("ValueLevel", "Value Level"),
    (
        _c("order", "Order"),
        _c("dataset", "Dataset", "Domain", required=True),
        _c("variable", "Variable", required=True),
        _c("where", "Where Clause", "Where Clause ID", required=True),
        # the older P21 layout (Define-XML 2.0 template) calls the label Description
        _c("label", "Label", "Description"),
        *_ITEM_COLUMNS[1:],
        _c("comment", "Comment"),
    ),
)
WHERECLAUSES = SheetSpec(
    ("WhereClauses", "Where Clause"),
    (
        _c("id", "ID", required=True),
        _c("dataset", "Dataset", "Domain", required=True),
        _c("variable", "Variable", required=True),
        _c("comparator", "Comparator", required=True),
        _c("value", "Value", "Values", required=True),
    ),
)
CODELISTS = SheetSpec(
    ("Codelists", "Code List"),
    (
        _c("id", "ID", required=True),
        _c("name", "Name", required=True),
        _c("nci_code", "NCI Codelist Code"),
        _c("data_type", "Data Type"),
        _c("terminology", "Terminology"),
        _c("comment", "Comment"),
        _c("order", "Order"),
        _c("term", "Term", "Coded Value", required=True),
        _c("term_code", "NCI Term Code"),
        _c("decode", "Decoded Value", "Decode"),
    ),
)
DICTIONARIES = SheetSpec(
    ("Dictionaries", "Dictionary"),
    (
        _c("id", "ID", required=True),
        _c("name", "Name"),
        _c("data_type", "Data Type"),
        _c("dictionary", "Dictionary", required=True),
        _c("version", "Version"),
        _c("href", "Href"),
    ),
)
METHODS = SheetSpec(
    ("Methods",),
    (
        _c("id", "ID", required=True),
        _c("name", "Name"),
        _c("type", "Type"),
        _c("description", "Description", required=True),
        _c("expression_context", "Expression Context"),
        _c("expression_code", "Expression Code"),
        _c("document", "Document"),
        _c("pages", "Pages"),
    ),
)
COMMENTS = SheetSpec(
    ("Comments",),
    (
        _c("id", "ID", required=True),
        _c("description", "Description", required=True),
        _c("document", "Document"),
        _c("pages", "Pages"),
    ),
)
DOCUMENTS = SheetSpec(
    ("Documents",),
    (
        _c("id", "ID", required=True),
        _c("title", "Title", required=True),
        _c("href", "Href", required=True),
        _c("type", "Type"),
        _c("standards", "Standards"),
    ),
)
SHEETS = (
    STUDY, DATASETS, VARIABLES, VALUELEVEL, WHERECLAUSES, CODELISTS, DICTIONARIES, METHODS,
    COMMENTS, DOCUMENTS,
)  # fmt: skip
#: Sheets of cdisc_mapper's own workbook that are skipped without a warning.
SILENT_SHEETS = ("_Lists",)

#: Study sheet attributes read, by normalised name.
STUDY_ATTRIBUTES = {
    "studyname": "study_name",
    "studydescription": "study_description",
    "protocolname": "protocol_name",
    "standardname": "standard",
    "standard": "standard",
    "standardversion": "standard_version",
    "version": "standard_version",
    "originator": "originator",
    "sponsor": "originator",
}
#: Study attributes read without a warning: Language (define.xml is written in English,
#: xml:lang="en") and the template's Legend rows (notes on the highlighted cells).
SILENT_ATTRIBUTES = ("language", "legend")

ORIGINS = {
    "collected": ("Collected", None),
    "crf": ("Collected", None),
    "edt": ("Collected", "Vendor"),
    "derived": ("Derived", None),
    "assigned": ("Assigned", None),
    "protocol": ("Protocol", None),
    "predecessor": ("Predecessor", None),
    "notavailable": ("Not Available", None),
    "other": ("Other", None),
}
SOURCES = {s.casefold(): s for s in ("Investigator", "Sponsor", "Subject", "Vendor")}
METHOD_TYPES = {t.casefold(): t for t in ("Computation", "Imputation", "Transpose", "Other")}
DOC_KINDS = {
    "acrf": "acrf", "annotatedcrf": "acrf", "blankcrf": "acrf", "crf": "acrf",
    "supplemental": "supplemental", "supplementaldoc": "supplemental",
    "supplementaldocument": "supplemental", "other": "supplemental",
}  # fmt: skip
COMPARATORS = ("EQ", "NE", "IN", "NOTIN", "LT", "LE", "GT", "GE")
SUPPORTED_COMPARATORS = COMPARATORS  # every one is evaluated (cdisc_mapper.define.where)
DATA_TYPES = {t.casefold(): t for t in get_args(DataType)}
CL_TYPES = {t: t for t in ("text", "integer", "float")}
CLASS_NAMES = {norm(c): c for c in get_args(DatasetClass)} | {
    "adsl": "SUBJECT LEVEL ANALYSIS DATASET",
    "bds": "BASIC DATA STRUCTURE",
    "occds": "OCCURRENCE DATA STRUCTURE",
    "other": "ADAM OTHER",
    "specialpurpose": "SPECIAL PURPOSE",
}
SUBCLASS_NAMES = {norm(c): c for c in get_args(DatasetSubClass)}
INLINE_PART = re.compile(
    r"^\s*(?:[A-Za-z][A-Za-z0-9_]*\.)?([A-Za-z][A-Za-z0-9_]{0,7})\s+(" + "|".join(COMPARATORS)
    + r")\s+(.+?)\s*$",
    re.IGNORECASE,
)  # fmt: skip


def close_name(text: str, wanted: dict[str, str]) -> str | None:
    """The wanted name ``text`` misspells (normalised ratio >= CLOSE), if any."""
    best, score = None, 0.0
    for key, title in wanted.items():
        ratio = difflib.SequenceMatcher(None, norm(text), key).ratio()
        if ratio > score:
            best, score = title, ratio
    return best if score >= CLOSE else None
