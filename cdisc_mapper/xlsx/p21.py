"""Read a define-generator workbook made by another tool (Pinnacle 21 layout) into
:class:`~cdisc_mapper.define.metadata.DefineMetadata`.

Sheets and columns are the Pinnacle 21 Community define-generator ones (Define-XML 2.0
and 2.1 templates), matched without regard to case, blanks or a plural ``s``:

* ``Study`` (or ``Define``): Attribute, Value (StudyName, StudyDescription, ProtocolName,
  StandardName, StandardVersion; Originator/Sponsor).
* ``Datasets``: Dataset, Description (or Label), Class, SubClass, Structure, Purpose,
  Standard (2.1: ``SDTMIG 3.4``), Key Variables, Repeating, Reference Data, Comment.
* ``Variables``: Order, Dataset, Variable, Label, Data Type, Length, Significant Digits,
  Format, Mandatory, Codelist, Origin, Source, Pages, Method, Predecessor, Role, Comment.
* ``ValueLevel``: the same for Dataset, Variable and a Where Clause (an ID of
  ``WhereClauses``, or the clause itself written ``VSTESTCD EQ TEMP AND VSPOS EQ SUPINE``).
* ``WhereClauses``: ID, Dataset, Variable, Comparator, Value (rows with one ID are one
  clause, their conditions ANDed; IN/NOTIN values comma-separated).
* ``Codelists``: ID, Name, NCI Codelist Code, Data Type, Terminology, Comment, Order,
  Term, NCI Term Code, Decoded Value (one row per term).
* ``Dictionaries``: ID, Name, Data Type, Dictionary, Version (Href).
* ``Methods``: ID, Name, Type, Description, Expression Context, Expression Code,
  Document, Pages.
* ``Comments``: ID, Description, Document, Pages.
* ``Documents``: ID, Title, Href (Type, Standards).

Tolerant of what it does not read: another sheet or column (``Developer Notes``, ``Has
No Data``...) is a warning. Strict about what it reads: a sheet or column named like a
missing one (a misspelling, difflib ratio >= 0.8), a dataset, variable, term or ID given
twice, a name that points at nothing (a variable's dataset, a value-level variable, a
where clause's variable, an undefined where clause, method, comment or code list), and a
value that is not what the column holds are :class:`SpecError`\\ s naming the sheet, row
and column.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.metadata import (
    METADATA_FILE,
    DatasetClass,
    DatasetSubClass,
    DataType,
    DefineMetadata,
    Loc,
    dump_metadata,
    reference_problems,
)
from cdisc_mapper.xlsx.sheet import cell_text, open_workbook

#: difflib ratio from which an unknown sheet or column name counts as a misspelling.
CLOSE = 0.8
Row = dict[str, str]


def _norm(name: str) -> str:
    """A sheet or column name for matching: no blanks, underscores or hyphens, case-folded."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


def _sheet_key(name: str) -> str:
    """A sheet or column name for matching, also without a plural ``s``."""
    key = _norm(name)
    return key[:-1] if key.endswith("s") else key


@dataclass(frozen=True)
class Col:
    key: str
    titles: tuple[str, ...]  # the first is the P21 name
    required: bool = False

    @property
    def title(self) -> str:
        return self.titles[0]


@dataclass(frozen=True)
class SheetSpec:
    names: tuple[str, ...]  # the first is the P21 name
    columns: tuple[Col, ...]
    required: bool = False

    @property
    def name(self) -> str:
        return self.names[0]


def _c(key: str, *titles: str, required: bool = False) -> Col:
    return Col(key, titles, required)


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
        *_ITEM_COLUMNS,
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
SILENT_ATTRIBUTES = ("language",)  # define.xml is written in English (xml:lang="en")

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
CLASS_NAMES = {_norm(c): c for c in get_args(DatasetClass)} | {
    "adsl": "SUBJECT LEVEL ANALYSIS DATASET",
    "bds": "BASIC DATA STRUCTURE",
    "occds": "OCCURRENCE DATA STRUCTURE",
    "other": "ADAM OTHER",
    "specialpurpose": "SPECIAL PURPOSE",
}
SUBCLASS_NAMES = {_norm(c): c for c in get_args(DatasetSubClass)}
_INLINE_PART = re.compile(
    r"^\s*(?:[A-Za-z][A-Za-z0-9_]*\.)?([A-Za-z][A-Za-z0-9_]{0,7})\s+(" + "|".join(COMPARATORS)
    + r")\s+(.+?)\s*$",
    re.IGNORECASE,
)  # fmt: skip


def _cell(value: Any) -> str | None:
    """A cell as text (``12.0`` -> ``12``), stripped; None when empty."""
    if value is None:
        return None
    text = cell_text(value).strip()
    return text or None


class _Table:
    """The rows of one sheet, by column key, each with its Excel row number."""

    def __init__(self, xlsx: Path, spec: SheetSpec, title: str, ws: Any, warnings: list[str]):
        self.xlsx = xlsx
        self.spec = spec
        self.title = title
        self.letters: dict[str, str] = {}
        self.headers: dict[str, str] = {}
        cells = list(ws.iter_rows(values_only=True))
        header = [_cell(v) for v in (cells[0] if cells else ())]
        by_name = {_sheet_key(t): col for col in spec.columns for t in col.titles}
        index: dict[str, int] = {}
        unknown: list[tuple[str, str]] = []
        for i, text in enumerate(header):
            if text is None:
                continue
            letter = get_column_letter(i + 1)
            col = by_name.get(_sheet_key(text))
            if col is None:
                unknown.append((text, letter))
            elif col.key in index:
                first = self.headers[col.key]
                if _sheet_key(first) == _sheet_key(text):
                    raise SpecError(
                        f"column {text!r} given twice (first in column {self.letters[col.key]})",
                        where=self.where(1, None, text, letter),
                    )
                warnings.append(
                    f"{self.where(1, None, text, letter)}: column not read: {first!r} "
                    f"(column {self.letters[col.key]}) gives the same"
                )
            else:
                index[col.key] = i
                self.letters[col.key] = letter
                self.headers[col.key] = text
        missing = [col for col in spec.columns if col.key not in index]
        wanted = {_sheet_key(t): col.title for col in missing for t in col.titles}
        for text, letter in unknown:
            close = _close(_sheet_key(text), wanted)
            if close is not None:
                raise SpecError(
                    f"unknown column {text!r}, and column {close!r} is missing",
                    where=self.where(1, None, text, letter),
                    hint=f"did you mean {close!r}? (rename the column)",
                )
            warnings.append(f"{self.where(1, None, text, letter)}: unknown column, not read")
        required = [col.title for col in missing if col.required]
        if required:
            raise SpecError(
                "missing column(s): " + ", ".join(required),
                where=self.where(1),
                hint="expected columns: " + ", ".join(c.title for c in spec.columns),
            )
        self.rows: list[tuple[int, Row]] = []
        for r, values in enumerate(cells[1:], start=2):
            row = {}
            for key, i in index.items():
                text = _cell(values[i]) if i < len(values) else None
                if text is not None:
                    row[key] = text
            if row:
                self.rows.append((r, row))

    def where(
        self, row: int, key: str | None = None, text: str | None = None, letter: str | None = None
    ) -> str:
        out = f"{self.xlsx}: sheet {self.title}, row {row}"
        if key is not None:
            text = self.headers.get(key, key)
            letter = self.letters.get(key, "?")
        if text is not None:
            out += f", column {text} ({letter})"
        return out

    def error(self, message: str, row: int, key: str | None, hint: str = "") -> SpecError:
        return SpecError(message, where=self.where(row, key), hint=hint)


def _close(text: str, wanted: dict[str, str]) -> str | None:
    """The wanted name ``text`` misspells (normalised ratio >= CLOSE), if any."""
    best, score = None, 0.0
    for norm, title in wanted.items():
        ratio = difflib.SequenceMatcher(None, _norm(text), norm).ratio()
        if ratio > score:
            best, score = title, ratio
    return best if score >= CLOSE else None


# ---------------------------------------------------------------------------- cells
class _Reader:
    """Reads the sheets into DefineMetadata data, remembering the cell of each value."""

    def __init__(self, xlsx: Path, tables: dict[str, _Table], warnings: list[str]):
        self.xlsx = xlsx
        self.tables = tables
        self.warnings = warnings
        self.cells: dict[Loc, tuple[_Table, int, str | None]] = {}

    def mark(self, loc: Loc, table: _Table, row: int, key: str | None) -> None:
        self.cells[loc] = (table, row, key)

    def where(self, loc: Loc) -> str:
        loc = tuple(loc)
        while loc:
            if loc in self.cells:
                table, row, key = self.cells[loc]
                return table.where(row, key)
            loc = loc[:-1]
        return str(self.xlsx)

    # ------------------------------------------------------------------ values
    @staticmethod
    def yes_no(table: _Table, r: int, row: Row, key: str) -> bool | None:
        text = row.get(key)
        if text is None:
            return None
        flag = text.casefold()
        if flag in ("yes", "y"):
            return True
        if flag in ("no", "n"):
            return False
        raise table.error(f"give Yes or No, not {text!r}", r, key)

    @staticmethod
    def number(table: _Table, r: int, row: Row, key: str) -> int | None:
        text = row.get(key)
        if text is None:
            return None
        try:
            return int(text)
        except ValueError:
            raise table.error(f"give a whole number, not {text!r}", r, key) from None

    @staticmethod
    def order(table: _Table, r: int, row: Row) -> float:
        text = row.get("order")
        if text is None:
            return math.inf
        try:
            return float(text)
        except ValueError:
            raise table.error(f"Order must be a number, not {text!r}", r, "order") from None

    @staticmethod
    def choice(table: _Table, r: int, row: Row, key: str, choices: dict[str, Any]) -> Any:
        text = row.get(key)
        if text is None:
            return None
        found = choices.get(_norm(text))
        if found is None:
            shown = sorted({str(v[0] if isinstance(v, tuple) else v) for v in choices.values()})
            raise table.error(
                f"{table.headers[key]} {text!r} is not one of: " + ", ".join(shown), r, key
            )
        return found

    @staticmethod
    def pages(table: _Table, r: int, row: Row) -> str | None:
        text = row.get("pages")
        if text is None:
            return None
        out: list[str] = []
        for token in re.split(r"[\s,;]+", re.sub(r"\s*-\s*", "-", text)):
            if not token:
                continue
            m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", token)
            if m and int(m[1]) <= int(m[2]) <= int(m[1]) + 500:
                out.extend(str(p) for p in range(int(m[1]), int(m[2]) + 1))
            elif token.isdigit():
                out.append(token)
            else:
                raise table.error(
                    f"page {token!r} is not a page number",
                    r,
                    "pages",
                    hint="give page numbers separated by blanks or commas, ranges as 12-14",
                )
        return " ".join(out) or None

    def item(self, table: _Table, r: int, row: Row, loc: Loc) -> dict[str, Any]:
        """The define.xml columns shared by Variables and ValueLevel."""
        out: dict[str, Any] = {}
        for key in ("label", "format", "codelist", "method", "predecessor", "comment"):
            if key in row:
                out[key] = row[key]
        if "data_type" in row:
            out["data_type"] = self.choice(table, r, row, "data_type", DATA_TYPES)
        for key in ("length", "significant_digits"):
            if (n := self.number(table, r, row, key)) is not None:
                out[key] = n
        if (flag := self.yes_no(table, r, row, "mandatory")) is not None:
            out["mandatory"] = flag
        origin = self.choice(table, r, row, "origin", ORIGINS)
        if origin is not None:
            out["origin"] = origin[0]
            if origin[1]:
                out["source"] = origin[1]
        if "source" in row:
            out["source"] = self.choice(table, r, row, "source", SOURCES)
        if (pages := self.pages(table, r, row)) is not None:
            out["pages"] = pages
        for key in out:
            self.mark((*loc, key), table, r, key)
        return out

    def unique_id(self, table: _Table, r: int, row: Row, seen: dict[str, int], what: str) -> str:
        rid = row.get("id")
        if rid is None:
            raise table.error(f"a {what} without an ID", r, "id")
        if rid in seen:
            raise table.error(f"{what} ID {rid!r} given twice (first at row {seen[rid]})", r, "id")
        seen[rid] = r
        return rid

    # ------------------------------------------------------------------ sheets
    def study(self) -> dict[str, Any]:
        table = self.tables[STUDY.name]
        out: dict[str, Any] = {}
        rows: dict[str, int] = {}
        unknown: list[tuple[int, str]] = []
        for r, row in table.rows:
            attr = row.get("attribute")
            if attr is None:
                continue  # a legend or a note
            key = STUDY_ATTRIBUTES.get(_norm(attr))
            if key is None:
                if _norm(attr) not in SILENT_ATTRIBUTES:
                    unknown.append((r, attr))
                continue
            if key in rows:
                raise table.error(
                    f"attribute {attr!r} given twice (first at row {rows[key]})", r, "attribute"
                )
            rows[key] = r
            if "value" in row:
                out[key] = row["value"]
                self.mark(("study", key), table, r, "value")
        wanted = {
            _norm(name): name
            for name, key in (
                ("StudyName", "study_name"),
                ("ProtocolName", "protocol_name"),
                ("StudyDescription", "study_description"),
            )
            if key not in rows
        }
        for r, attr in unknown:
            close = _close(attr, wanted)
            if close is not None:
                raise table.error(
                    f"unknown attribute {attr!r}", r, "attribute", hint=f"did you mean {close!r}?"
                )
            self.warnings.append(
                f"{table.where(r, 'attribute')}: unknown attribute {attr!r}, not read"
            )
        if "study_name" not in out:
            raise table.error(
                "no StudyName", 1, None, hint="add a row with Attribute StudyName and its Value"
            )
        return out

    def datasets(self) -> dict[str, Any]:
        table = self.tables[DATASETS.name]
        out: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for r, row in table.rows:
            name = row.get("dataset")
            if name is None:
                raise table.error("a row without a dataset name", r, "dataset")
            name = name.upper()
            if name in seen:
                raise table.error(
                    f"dataset {name} given twice (first at row {seen[name]})", r, "dataset"
                )
            seen[name] = r
            loc: Loc = ("datasets", name)
            self.mark(loc, table, r, "dataset")
            data: dict[str, Any] = {}
            for key in ("class", "structure"):
                if key not in row:
                    raise table.error(
                        f"{name}: no {table.headers[key]}; define.xml needs it", r, key
                    )
            data["class"] = self.choice(table, r, row, "class", CLASS_NAMES)
            if "subclass" in row:
                data["subclass"] = self.choice(table, r, row, "subclass", SUBCLASS_NAMES)
            data["structure"] = row["structure"]
            if "label" in row:
                data["label"] = row["label"]
            if "purpose" in row:
                data["purpose"] = self.choice(
                    table, r, row, "purpose", {"tabulation": "Tabulation", "analysis": "Analysis"}
                )
            if "keys" in row:
                data["keys"] = [k.upper() for k in re.split(r"[\s,;]+", row["keys"]) if k]
            for key in ("repeating", "reference_data"):
                if (flag := self.yes_no(table, r, row, key)) is not None:
                    data[key] = flag
            for key in ("comment", "standard"):
                if key in row:
                    data[key] = row[key]
            for key in (
                "class",
                "subclass",
                "structure",
                "label",
                "purpose",
                "keys",
                "comment",
                "standard",
                "repeating",
                "reference_data",
            ):
                self.mark((*loc, key), table, r, key)
            data["variables"] = {}
            out[name] = data
        return out

    def variables(self, datasets: dict[str, Any]) -> None:
        table = self.tables[VARIABLES.name]
        seen: dict[tuple[str, str], int] = {}
        ordered: dict[str, list[tuple[float, int, str, dict[str, Any]]]] = {}
        for r, row in table.rows:
            ds = (row.get("dataset") or "").upper()
            if not ds:
                raise table.error("a row without a dataset name", r, "dataset")
            if ds not in datasets:
                raise table.error(
                    f"dataset {row['dataset']!r} is not in the {DATASETS.name} sheet",
                    r,
                    "dataset",
                )
            name = row.get("variable")
            if name is None:
                raise table.error(f"{ds}: a row without a variable name", r, "variable")
            name = name.upper()
            if (ds, name) in seen:
                raise table.error(
                    f"variable {ds}.{name} given twice (first at row {seen[(ds, name)]})",
                    r,
                    "variable",
                )
            seen[(ds, name)] = r
            loc: Loc = ("datasets", ds, "variables", name)
            self.mark(loc, table, r, "variable")
            data = self.item(table, r, row, loc)
            if "role" in row:
                data["role"] = row["role"]
                self.mark((*loc, "role"), table, r, "role")
            ordered.setdefault(ds, []).append((self.order(table, r, row), r, name, data))
        for ds, entries in ordered.items():
            for _order, _r, name, data in sorted(entries, key=lambda e: e[:2]):
                datasets[ds]["variables"][name] = data

    def where_clauses(self) -> dict[str, list[dict[str, Any]]]:
        table = self.tables.get(WHERECLAUSES.name)
        out: dict[str, list[dict[str, Any]]] = {}
        if table is None:
            return out
        first: dict[str, tuple[int, str]] = {}
        for r, row in table.rows:
            wid = row.get("id")
            if wid is None:
                raise table.error("a condition without a where clause ID", r, "id")
            for key in ("dataset", "variable", "comparator", "value"):
                if key not in row:
                    raise table.error(f"where clause {wid}: no {table.headers[key]}", r, key)
            ds, var = row["dataset"].upper(), row["variable"].upper()
            if wid in first and first[wid][1] != ds:
                raise table.error(
                    f"where clause {wid} is about {first[wid][1]} at row {first[wid][0]}, "
                    f"not {ds}: the conditions of one clause are about one dataset",
                    r,
                    "dataset",
                )
            conditions = out.setdefault(wid, [])
            if any(c["variable"] == var for c in conditions):
                raise table.error(
                    f"where clause {wid}: variable {var} given twice",
                    r,
                    "variable",
                    hint="a clause's conditions are ANDed; use IN for several values",
                )
            first.setdefault(wid, (r, ds))
            comparator = self.comparator(table, r, row["comparator"])
            loc: Loc = ("where_clauses", wid, len(conditions))
            conditions.append(
                {
                    "dataset": ds,
                    "variable": var,
                    "comparator": comparator,
                    "values": _values(row["value"], comparator),
                }
            )
            for key, col in (
                ("dataset", "dataset"),
                ("variable", "variable"),
                ("comparator", "comparator"),
                ("values", "value"),
            ):
                self.mark((*loc, key), table, r, col)
            self.mark(("where_clauses", wid), table, first[wid][0], "id")
        return out

    @staticmethod
    def comparator(table: _Table, r: int, text: str) -> str:
        comparator = text.strip().upper()
        if comparator not in COMPARATORS:
            raise table.error(
                f"comparator {text!r} is not one of: " + ", ".join(COMPARATORS), r, "comparator"
            )
        if comparator not in SUPPORTED_COMPARATORS:
            raise table.error(
                f"comparator {comparator} is not supported for value-level metadata yet",
                r,
                "comparator",
                hint="use " + ", ".join(SUPPORTED_COMPARATORS),
            )
        return comparator

    def value_levels(self, clauses: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
        table = self.tables.get(VALUELEVEL.name)
        if table is None:
            return []
        entries = []
        for r, row in table.rows:
            for key in ("dataset", "variable", "where"):
                if key not in row:
                    raise table.error(f"a value-level row without {table.headers[key]}", r, key)
            ds, var, where = row["dataset"].upper(), row["variable"].upper(), row["where"]
            if where not in clauses:
                inline = _inline(where, ds)
                if inline is not None:
                    for cond in inline:
                        if cond["comparator"] not in SUPPORTED_COMPARATORS:
                            raise table.error(
                                f"comparator {cond['comparator']} is not supported for "
                                "value-level metadata yet",
                                r,
                                "where",
                                hint="use " + ", ".join(SUPPORTED_COMPARATORS),
                            )
                    clauses[where] = inline
                    for j in range(len(inline)):
                        self.mark(("where_clauses", where, j), table, r, "where")
            entries.append((self.order(table, r, row), r, ds, var, where, row))
        out = []
        for i, (_order, r, ds, var, where, row) in enumerate(sorted(entries, key=lambda e: e[:2])):
            loc: Loc = ("value_levels", i)
            data = {"dataset": ds, "variable": var, "where": where}
            for key in data:
                self.mark((*loc, key), table, r, key)
            data.update(self.item(table, r, row, loc))
            out.append(data)
        return out

    def codelists(self) -> dict[str, Any]:
        table = self.tables.get(CODELISTS.name)
        out: dict[str, Any] = {}
        if table is None:
            return out
        header_rows: dict[tuple[str, str], int] = {}
        term_rows: dict[tuple[str, str], int] = {}
        terms: dict[str, list[tuple[float, int, dict[str, Any]]]] = {}
        for r, row in table.rows:
            cid = row.get("id")
            if cid is None:
                raise table.error("a codelist row without an ID", r, "id")
            data = out.setdefault(cid, {})
            self.cells.setdefault(("codelists", cid), (table, r, "id"))
            if "data_type" in row:
                row = {**row, "data_type": self.choice(table, r, row, "data_type", CL_TYPES)}
            for key in ("name", "nci_code", "data_type", "terminology", "comment"):
                if key not in row:
                    continue
                if key in data and data[key] != row[key]:
                    raise table.error(
                        f"codelist {cid}: {table.headers[key]} {row[key]!r} differs from "
                        f"{data[key]!r} at row {header_rows[(cid, key)]}",
                        r,
                        key,
                        hint="give one value for every row of a codelist",
                    )
                if key not in data:
                    data[key] = row[key]
                    header_rows[(cid, key)] = r
                    self.mark(("codelists", cid, key), table, r, key)
            term = row.get("term")
            if term is None:
                continue
            if (cid, term) in term_rows:
                raise table.error(
                    f"codelist {cid}: term {term!r} given twice "
                    f"(first at row {term_rows[(cid, term)]})",
                    r,
                    "term",
                )
            term_rows[(cid, term)] = r
            entry: dict[str, Any] = {"term": term}
            if "term_code" in row:
                entry["nci_code"] = row["term_code"]
            if "decode" in row:
                entry["decode"] = row["decode"]
            terms.setdefault(cid, []).append((self.order(table, r, row), r, entry))
        for cid, data in out.items():
            if "name" not in data:
                _table, r, _key = self.cells[("codelists", cid)]
                raise table.error(f"codelist {cid} has no Name", r, "name")
            ranked = sorted(terms.get(cid, []), key=lambda t: t[:2])
            data["terms"] = [entry for _o, _r, entry in ranked]
            for i, (_o, r, _e) in enumerate(ranked):
                self.mark(("codelists", cid, "terms", i), table, r, "term")
        return out

    def keyed(self, spec: SheetSpec, what: str) -> dict[str, Any]:
        """A sheet with one row per unique ID (Dictionaries, Methods, Comments, Documents)."""
        table = self.tables.get(spec.name)
        out: dict[str, Any] = {}
        if table is None:
            return out
        seen: dict[str, int] = {}
        section = spec.name.lower()
        for r, row in table.rows:
            rid = self.unique_id(table, r, row, seen, what)
            loc: Loc = (section, rid)
            self.mark(loc, table, r, "id")
            data: dict[str, Any] = {}
            for col in spec.columns[1:]:  # after the ID
                key = col.key
                if key not in row:
                    if col.required:
                        raise table.error(f"{what} {rid}: no {table.headers[key]}", r, key)
                    continue
                if key == "pages":
                    data[key] = self.pages(table, r, row)
                elif key == "type" and spec is METHODS:
                    data[key] = self.choice(table, r, row, key, METHOD_TYPES)
                elif key == "type" and spec is DOCUMENTS:
                    data["kind"] = self.choice(table, r, row, key, DOC_KINDS)
                    self.mark((*loc, "kind"), table, r, key)
                    continue
                elif key == "standards":
                    data[key] = [s.casefold() for s in re.split(r"[\s,;]+", row[key]) if s]
                    bad = [s for s in data[key] if s not in ("sdtm", "adam")]
                    if bad:
                        raise table.error(f"standard {bad[0]!r} is not sdtm or adam", r, key)
                else:
                    data[key] = row[key]
                self.mark((*loc, key), table, r, key)
            out[rid] = data
        return out


def _values(text: str, comparator: str) -> list[str]:
    """The check values of a condition: IN/NOTIN values comma-separated, quotes removed."""
    parts = text.split(",") if comparator in ("IN", "NOTIN") else [text]
    out = []
    for part in parts:
        value = part.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if value:
            out.append(value)
    return out or [text]


def _inline(text: str, dataset: str) -> list[dict[str, Any]] | None:
    """A where clause written in the cell (``VSTESTCD EQ TEMP AND VSPOS EQ SUPINE``)."""
    conditions = []
    for part in re.split(r"\s+AND\s+", text.strip()):
        m = _INLINE_PART.match(part)
        if m is None:
            return None
        comparator = m[2].upper()
        values = m[3].strip()
        if comparator in ("IN", "NOTIN") and values.startswith("(") and values.endswith(")"):
            values = values[1:-1]
        conditions.append(
            {
                "dataset": dataset,
                "variable": m[1].upper(),
                "comparator": comparator,
                "values": _values(values, comparator),
            }
        )
    return conditions


# ---------------------------------------------------------------------------- workbook
def _open_tables(xlsx: Path, warnings: list[str]) -> dict[str, _Table]:
    wb = open_workbook(xlsx, "define workbook")
    try:
        by_key = {_sheet_key(n): spec for spec in SHEETS for n in spec.names}
        found: dict[str, str] = {}
        unknown: list[str] = []
        for title in wb.sheetnames:
            spec = by_key.get(_sheet_key(title))
            if spec is None:
                if title not in SILENT_SHEETS:
                    unknown.append(title)
            elif spec.name in found:
                raise SpecError(
                    f"sheets {found[spec.name]!r} and {title!r} are both the {spec.name} sheet",
                    where=f"{xlsx}: sheet {title}",
                )
            else:
                found[spec.name] = title
        missing = [spec for spec in SHEETS if spec.name not in found]
        wanted = {_sheet_key(n): spec.name for spec in missing for n in spec.names}
        for title in unknown:
            close = _close(_sheet_key(title), wanted)
            if close is not None:
                raise SpecError(
                    f"unknown sheet {title!r}, and sheet {close!r} is missing",
                    where=f"{xlsx}: sheet {title}",
                    hint=f"did you mean {close!r}? (rename the sheet)",
                )
            warnings.append(f"{xlsx}: sheet {title}: unknown sheet, not read")
        required = [spec.name for spec in missing if spec.required]
        if required:
            raise SpecError(
                "missing sheet(s): " + ", ".join(required),
                where=str(xlsx),
                hint="a define-generator workbook has sheets "
                + ", ".join(spec.name for spec in SHEETS),
            )
        return {
            name: _Table(
                xlsx, next(s for s in SHEETS if s.name == name), title, wb[title], warnings
            )
            for name, title in found.items()
        }
    finally:
        wb.close()


def read_define_workbook(xlsx: Path) -> tuple[DefineMetadata, list[str]]:
    """The define.xml metadata of a define-generator workbook, and warnings (sheets and
    columns not read). Raises :class:`SpecError` naming sheet, row and column."""
    xlsx = Path(xlsx)
    warnings: list[str] = []
    reader = _Reader(xlsx, _open_tables(xlsx, warnings), warnings)
    study = reader.study()
    datasets = reader.datasets()
    reader.variables(datasets)
    clauses = reader.where_clauses()
    data = {
        "study": study,
        "datasets": datasets,
        "value_levels": reader.value_levels(clauses),
        "where_clauses": clauses,
        "codelists": reader.codelists(),
        "dictionaries": reader.keyed(DICTIONARIES, "dictionary"),
        "methods": reader.keyed(METHODS, "method"),
        "comments": reader.keyed(COMMENTS, "comment"),
        "documents": reader.keyed(DOCUMENTS, "document"),
    }
    try:
        meta = DefineMetadata.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        raise SpecError(
            f"{'.'.join(str(x) for x in loc)}: {err['msg']}", where=reader.where(loc)
        ) from None
    for loc, message in reference_problems(meta):
        raise SpecError(message, where=reader.where(loc))
    return meta, warnings


def import_define_workbook(xlsx: Path, study_dir: Path) -> list[str]:
    """Write ``study_dir/metadata.yaml`` from a define-generator workbook; return the
    warnings. Nothing is written when the workbook has an error (:class:`SpecError`)."""
    meta, warnings = read_define_workbook(xlsx)
    study_dir = Path(study_dir)
    study_dir.mkdir(parents=True, exist_ok=True)
    dump_metadata(meta, study_dir / METADATA_FILE)
    return warnings


__all__ = ["import_define_workbook", "read_define_workbook"]
