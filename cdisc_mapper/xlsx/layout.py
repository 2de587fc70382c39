"""Sheet and column layout of the spec workbook (Pinnacle 21 define generator + mapping)."""

from __future__ import annotations

import json
from typing import Any

from cdisc_mapper.xlsx import conventions_sheets, design_sheets

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
        "Exclude", "Melt",
    ],
    RECORDS: ["Dataset", "Order", "Operation", "Arguments"],
    VARIABLES: [
        "Order", "Dataset", "Variable", "Label", "Data Type", "Length", "Significant Digits",
        "Format", "Mandatory", "Codelist", "Origin", "Source", "Pages", "Method",
        "Predecessor", "Role", "Comment", "Source Form", "Operation", "Arguments",
        "Supp Label", "Supp QORIG", "Supp QEVAL", "Supp IDVAR", "Type", "Label Source",
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

#: The study design as tables (see :mod:`cdisc_mapper.xlsx.design_sheets`).
SHEETS.update(design_sheets.headers())
#: ADaM conventions.yaml as tables (see :mod:`cdisc_mapper.xlsx.conventions_sheets`).
SHEETS.update(conventions_sheets.headers())
DESIGN_SHEETS = (*design_sheets.headers(), *conventions_sheets.headers())

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
    **design_sheets.required_columns(),
    **conventions_sheets.required_columns(),
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
#: Study sheet: prefix of the ``conventions.yaml`` keys that are not tables.
ADAM_CONVENTIONS = conventions_sheets.PREFIX


def cell_text(value: Any) -> str:
    """A cell's value as text ('' for an empty cell; a whole float without ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def args_json(args: dict[str, Any]) -> str:
    """Operation arguments as compact JSON in the spec's key order ('' for none)."""
    if not args:
        return ""
    return json.dumps(args, separators=(",", ":"), ensure_ascii=False)
