"""Sheet and column layout of the spec workbook (Pinnacle 21 define generator + mapping).

The bottom of :mod:`cdisc_mapper.xlsx`: declarations only (it imports no other module of
the package). The design sheets (``study.yaml`` lists as tables, read and written by
:mod:`.design_sheets`) and the conventions sheets (``adam/conventions.yaml`` as tables,
:mod:`.conventions_sheets`) are declared here too, so that every sheet's header is known
from this module alone.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from cdisc_mapper.spec.adam import Conventions, EventSpec, PeriodSpec, PhaseSpec, WindowSpec
from cdisc_mapper.spec.study import (
    ArmSpec,
    Criterion,
    ElementSpec,
    TrialSummaryParam,
    UnitConversion,
    VisitSpec,
)

STUDY = "Study"
DATASETS = "Datasets"
SOURCES = "Sources"
RECORDS = "Records"
VARIABLES = "Variables"
VALUELEVEL = "ValueLevel"
WHERECLAUSES = "WhereClauses"
CODELISTS = "Codelists"
DICTIONARIES = "Dictionaries"
METHODS = "Methods"
COMMENTS = "Comments"
DOCUMENTS = "Documents"
LISTS = "_Lists"

#: Every sheet, in workbook order, with its header row.
SHEETS: dict[str, list[str]] = {
    STUDY: ["Attribute", "Value"],
    DATASETS: [
        "Dataset", "Description", "Class", "Structure", "Purpose", "Key Variables",
        "Repeating", "Reference Data", "Comment",
    ],
    SOURCES: [
        "Dataset", "Source Form", "Form", "File", "Required Columns", "Drop Duplicates",
        "Exclude", "Melt", "Numbers", "Date Order",
    ],
    RECORDS: ["Dataset", "Order", "Operation", "Arguments"],
    VARIABLES: [
        "Order", "Dataset", "Variable", "Label", "Data Type", "Length", "Significant Digits",
        "Format", "Mandatory", "Codelist", "Origin", "Source", "Pages", "Method",
        "Predecessor", "Role", "Comment", "Source Form", "Operation", "Arguments",
        "Supp Label", "Supp QORIG", "Supp QEVAL", "Supp IDVAR", "Type", "Label Source", "Keep",
    ],
    VALUELEVEL: [
        "Order", "Dataset", "Variable", "Where Clause", "Label", "Data Type", "Length",
        "Significant Digits", "Format", "Mandatory", "Codelist", "Origin", "Source", "Pages",
        "Method", "Predecessor", "Comment",
    ],
    WHERECLAUSES: ["ID", "Dataset", "Variable", "Comparator", "Value", "Comment"],
    CODELISTS: [
        "ID", "Name", "NCI Codelist Code", "Data Type", "Terminology", "Order", "Term",
        "NCI Term Code", "Decoded Value",
    ],
    DICTIONARIES: ["ID", "Name", "Data Type", "Dictionary", "Version", "Href"],
    METHODS: [
        "ID", "Name", "Type", "Description", "Expression Context", "Expression Code",
        "Document", "Pages",
    ],
    COMMENTS: ["ID", "Description", "Document", "Pages"],
    DOCUMENTS: ["ID", "Title", "Href", "Type", "Standards"],
}  # fmt: skip

# ------------------------------------------------------------------ the design sheets
ARMS, ELEMENTS, VISITS = "Arms", "Elements", "Visits"
TRIAL_SUMMARY, CRITERIA = "TrialSummary", "Criteria"
STANDARD_UNITS, UNIT_SYNONYMS, UNIT_CONVERSIONS = "StandardUnits", "UnitSynonyms", "UnitConversions"

#: Design sheet -> (StudySpec path, model of a row): one row per list entry, one column
#: per spec key.
DESIGN_TABLES: dict[str, tuple[tuple[str, ...], type[BaseModel]]] = {
    ARMS: (("arms",), ArmSpec),
    ELEMENTS: (("elements",), ElementSpec),
    VISITS: (("visits",), VisitSpec),
    TRIAL_SUMMARY: (("trial_summary",), TrialSummaryParam),
    CRITERIA: (("criteria",), Criterion),
    UNIT_CONVERSIONS: (("units", "conversions"), UnitConversion),
}
#: Design sheet -> (StudySpec path of a mapping, its columns).
DESIGN_PAIRS: dict[str, tuple[tuple[str, ...], list[str]]] = {
    STANDARD_UNITS: (("units", "standard"), ["domain", "testcd", "unit"]),
    UNIT_SYNONYMS: (("units", "synonyms"), ["synonym", "unit"]),
}
#: Study sheet: prefix of the ``unscheduled`` keys of study.yaml.
UNSCHEDULED = "unscheduled."

# ------------------------------------------------------------- the conventions sheets
EVENTS, PERIODS, PHASES, WINDOWS = (
    "AnalysisEvents", "AnalysisPeriods", "AnalysisPhases", "AnalysisWindows",
)  # fmt: skip
#: Study sheet: prefix of the ``conventions.yaml`` keys that are not tables.
CONVENTIONS_PREFIX = "adam.conventions."
#: Conventions sheet -> (Conventions key, row model, key column for a mapping (None: a
#: list), whether each key holds a list of rows).
CONVENTION_TABLES: dict[str, tuple[str, type[BaseModel], str | None, bool]] = {
    EVENTS: ("events", EventSpec, "event", False),
    PERIODS: ("periods", PeriodSpec, None, False),
    PHASES: ("phases", PhaseSpec, None, False),
    WINDOWS: ("windows", WindowSpec, "set", True),
}
#: The Conventions keys given as ``adam.conventions.<key>`` Study rows.
CONVENTION_STUDY_KEYS = tuple(
    k for k in Conventions.model_fields if k not in {t[0] for t in CONVENTION_TABLES.values()}
)


def model_columns(model: type[BaseModel]) -> list[str]:
    """The spec keys of a model, as the spec files spell them (aliases, e.g. ``from``)."""
    return [field.alias or name for name, field in model.model_fields.items()]


def _required_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items() if f.is_required()]


def _design_headers(required: bool) -> dict[str, list[str]]:
    pick = _required_keys if required else model_columns
    out = {sheet: pick(model) for sheet, (_, model) in DESIGN_TABLES.items()}
    out.update({sheet: cols for sheet, (_, cols) in DESIGN_PAIRS.items()})
    return out


def _convention_headers(required: bool) -> dict[str, list[str]]:
    pick = _required_keys if required else model_columns
    return {
        sheet: ([key] if key else []) + pick(model)
        for sheet, (_, model, key, _many) in CONVENTION_TABLES.items()
    }


#: The study design as tables (see :mod:`cdisc_mapper.xlsx.design_sheets`).
SHEETS.update(_design_headers(required=False))
#: ADaM conventions.yaml as tables (see :mod:`cdisc_mapper.xlsx.conventions_sheets`).
SHEETS.update(_convention_headers(required=False))
DESIGN_SHEETS = (*_design_headers(required=False), *_convention_headers(required=False))

#: Sheets the import reads (the others are written for define.xml tools and ignored).
READ_SHEETS = (
    STUDY, DATASETS, SOURCES, RECORDS, VARIABLES, VALUELEVEL, WHERECLAUSES, DICTIONARIES, METHODS,
    COMMENTS, DOCUMENTS, *DESIGN_SHEETS,
)  # fmt: skip

#: Columns the import needs; the others (define.xml metadata) may be left out.
REQUIRED_COLUMNS: dict[str, list[str]] = {
    STUDY: ["Attribute", "Value"],
    DATASETS: ["Dataset", "Description", "Key Variables", "Comment"],
    SOURCES: SHEETS[SOURCES],
    RECORDS: ["Dataset", "Order", "Operation", "Arguments"],
    VARIABLES: [
        "Order", "Dataset", "Variable", "Codelist", "Origin", "Method", "Comment",
        "Source Form", "Operation", "Arguments", "Supp Label", "Supp QORIG", "Supp QEVAL",
        "Supp IDVAR",
    ],
    VALUELEVEL: [
        "Order", "Dataset", "Variable", "Where Clause", "Label", "Codelist", "Origin", "Source",
        "Method", "Predecessor", "Comment",
    ],
    WHERECLAUSES: ["ID", "Dataset", "Variable", "Comparator", "Value"],
    DICTIONARIES: ["ID", "Version", "Href"],
    METHODS: ["ID", "Name", "Type", "Description", "Document", "Pages"],
    COMMENTS: ["ID", "Description"],
    DOCUMENTS: SHEETS[DOCUMENTS],
    **_design_headers(required=True),
    **_convention_headers(required=True),
}  # fmt: skip

#: Enumerated columns: (sheet, column) -> list name in the hidden ``_Lists`` sheet.
ORIGINS = ["Collected", "Derived", "Assigned", "Protocol", "Predecessor"]
DATA_TYPES = [
    "text", "integer", "float", "datetime", "date", "time", "partialDate", "partialTime",
    "partialDatetime", "incompleteDatetime", "durationDatetime",
]  # fmt: skip
QORIGS = ["CRF", "Derived", "Assigned", "Protocol", "eDT"]
YES_NO = ["Yes", "No"]
COMPARATORS = ["EQ", "NE", "IN", "NOTIN", "LT", "LE", "GT", "GE"]
DOCUMENT_TYPES = ["acrf", "supplemental"]
METHOD_TYPES = ["Computation", "Imputation"]

#: Study sheet: attribute name -> StudySpec key (P21 names first, then cdisc_mapper's).
STUDY_ATTRIBUTES = {
    "StudyName": "studyid",
    "StudyDescription": "title",
    "ProtocolName": "protocol",
    "Sponsor": "sponsor",
    "RawFormat": "raw_format",
}
#: StudySpec keys that workbooks of cdisc_mapper 0.x carried as a YAML text in one cell
#: (still read; written as the design sheets now).
STUDY_BLOBS = ("arms", "elements", "visits", "unscheduled", "trial_summary", "criteria", "units")
#: Study sheet: attribute of each ADaM spec file carried as a YAML text in one cell
#: (``adam/<file>``; see :mod:`cdisc_mapper.xlsx.adam_sheets`).
ADAM_BLOBS = {"adam.reports": "reports.yaml"}


def is_adam_dataset(name: str | None) -> bool:
    """Whether a Dataset cell names an ADaM dataset (``AD...``) rather than an SDTM one."""
    return bool(name) and str(name).startswith("AD")


def args_json(args: dict[str, Any]) -> str:
    """Operation arguments as compact JSON in the spec's key order ('' for none)."""
    if not args:
        return ""
    return json.dumps(args, separators=(",", ":"), ensure_ascii=False)
