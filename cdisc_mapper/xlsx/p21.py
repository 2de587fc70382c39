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
  ``WhereClauses``, or the clause itself written ``VSTESTCD EQ TEMP AND VSPOS EQ SUPINE``);
  the label is ``Label``, or ``Description`` in the older (Define-XML 2.0) template.
* ``WhereClauses``: ID, Dataset, Variable, Comparator, Value (rows with one ID and dataset
  are one clause, their conditions ANDed; one ID may serve several datasets, e.g. a QNAM
  clause of every SUPP--; IN/NOTIN values comma-separated).
* ``Codelists``: ID, Name, NCI Codelist Code, Data Type, Terminology, Comment, Order,
  Term, NCI Term Code, Decoded Value (one row per term).
* ``Dictionaries``: ID, Name, Data Type, Dictionary, Version (Href).
* ``Methods``: ID, Name, Type, Description, Expression Context, Expression Code,
  Document, Pages.
* ``Comments``: ID, Description, Document, Pages.
* ``Documents``: ID, Title, Href (Type, Standards).

Tolerant of what it does not read: another sheet or column is a warning, one per sheet
and column (the templates' working columns ``Developer Notes``, ``Assigned Value``,
``Common`` and ``Has No Data`` as not read, any other as unknown).
Strict about what it reads: a sheet or column named like a
missing one (a misspelling, difflib ratio >= 0.8), a dataset, variable, term or ID given
twice, a name that points at nothing (a variable's dataset, a value-level variable, a
where clause's variable, an undefined where clause, method, comment or code list), and a
value that is not what the column holds are :class:`SpecError`\\ s naming the sheet, row
and column.

The sheets and columns are declared in :mod:`.p21_layout`, read into tables by
:mod:`.p21_tables`; :mod:`.p21_values` reads the cells that are not plain text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.metadata import (
    METADATA_FILE,
    DefineMetadata,
    Loc,
    dump_metadata,
    reference_problems,
)
from cdisc_mapper.xlsx.p21_layout import (
    CL_TYPES,
    CLASS_NAMES,
    CODELISTS,
    COMMENTS,
    DATA_TYPES,
    DATASETS,
    DICTIONARIES,
    DOC_KINDS,
    DOCUMENTS,
    METHOD_TYPES,
    METHODS,
    ORIGINS,
    SILENT_ATTRIBUTES,
    SOURCES,
    STUDY,
    STUDY_ATTRIBUTES,
    SUBCLASS_NAMES,
    SUPPORTED_COMPARATORS,
    VALUELEVEL,
    VARIABLES,
    WHERECLAUSES,
    SheetSpec,
    close_name,
    norm,
)
from cdisc_mapper.xlsx.p21_tables import Row, Table, open_tables
from cdisc_mapper.xlsx.p21_values import (
    choice,
    comparator,
    inline_clause,
    number,
    order,
    pages,
    where_values,
    yes_no,
)


class _Reader:
    """Reads the sheets into DefineMetadata data, remembering the cell of each value."""

    def __init__(self, xlsx: Path, tables: dict[str, Table], warnings: list[str]) -> None:
        self.xlsx = xlsx
        self.tables = tables
        self.warnings = warnings
        self.cells: dict[Loc, tuple[Table, int, str | None]] = {}

    def mark(self, loc: Loc, table: Table, row: int, key: str | None) -> None:
        self.cells[loc] = (table, row, key)

    def where(self, loc: Loc) -> str:
        loc = tuple(loc)
        while loc:
            if loc in self.cells:
                table, row, key = self.cells[loc]
                return table.where(row, key)
            loc = loc[:-1]
        return str(self.xlsx)

    def item(self, table: Table, r: int, row: Row, loc: Loc) -> dict[str, Any]:
        """The define.xml columns shared by Variables and ValueLevel."""
        out: dict[str, Any] = {}
        for key in ("label", "format", "codelist", "method", "predecessor", "comment"):
            if key in row:
                out[key] = row[key]
        if "data_type" in row:
            out["data_type"] = choice(table, r, row, "data_type", DATA_TYPES)
        for key in ("length", "significant_digits"):
            if (n := number(table, r, row, key)) is not None:
                out[key] = n
        if (flag := yes_no(table, r, row, "mandatory")) is not None:
            out["mandatory"] = flag
        origin = choice(table, r, row, "origin", ORIGINS)
        if origin is not None:
            out["origin"] = origin[0]
            if origin[1]:
                out["source"] = origin[1]
        if "source" in row:
            out["source"] = choice(table, r, row, "source", SOURCES)
        if (page_list := pages(table, r, row)) is not None:
            out["pages"] = page_list
        for key in out:
            self.mark((*loc, key), table, r, key)
        return out

    def unique_id(self, table: Table, r: int, row: Row, seen: dict[str, int], what: str) -> str:
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
            key = STUDY_ATTRIBUTES.get(norm(attr))
            if key is None:
                if norm(attr) not in SILENT_ATTRIBUTES:
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
            norm(name): name
            for name, key in (
                ("StudyName", "study_name"),
                ("ProtocolName", "protocol_name"),
                ("StudyDescription", "study_description"),
            )
            if key not in rows
        }
        for r, attr in unknown:
            close = close_name(attr, wanted)
            if close is not None:
                raise table.error(
                    f"unknown attribute {attr!r}", r, "attribute", hint=f"did you mean {close!r}?"
                )
            self.warnings.append(
                f"{table.where(r, 'attribute')}: unknown attribute {attr!r}, not read"
            )
        if "study_name" in rows and "study_name" not in out:
            raise table.error(
                "StudyName has no Value", rows["study_name"], "value", hint="give the study's name"
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
            data["class"] = choice(table, r, row, "class", CLASS_NAMES)
            if "subclass" in row:
                data["subclass"] = choice(table, r, row, "subclass", SUBCLASS_NAMES)
            data["structure"] = row["structure"]
            if "label" in row:
                data["label"] = row["label"]
            if "purpose" in row:
                data["purpose"] = choice(
                    table, r, row, "purpose", {"tabulation": "Tabulation", "analysis": "Analysis"}
                )
            if "keys" in row:
                data["keys"] = [k.upper() for k in re.split(r"[\s,;]+", row["keys"]) if k]
            for key in ("repeating", "reference_data", "has_no_data"):
                if (flag := yes_no(table, r, row, key)) is not None:
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
                "has_no_data",
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
            if (flag := yes_no(table, r, row, "has_no_data")) is not None:
                data["has_no_data"] = flag
                self.mark((*loc, "has_no_data"), table, r, "has_no_data")
            ordered.setdefault(ds, []).append((order(table, r, row), r, name, data))
        for ds, entries in ordered.items():
            for _order, _r, name, data in sorted(entries, key=lambda e: e[:2]):
                datasets[ds]["variables"][name] = data

    def where_clauses(self) -> dict[str, list[dict[str, Any]]]:
        table = self.tables.get(WHERECLAUSES.name)
        out: dict[str, list[dict[str, Any]]] = {}
        if table is None:
            return out
        first: dict[str, int] = {}
        for r, row in table.rows:
            wid = row.get("id")
            if wid is None:
                raise table.error("a condition without a where clause ID", r, "id")
            blank = row.get("comparator", "").upper() in ("EQ", "NE")  # EQ '': missing
            for key in ("dataset", "variable", "comparator", "value"):
                if key not in row and not (key == "value" and blank):
                    raise table.error(f"where clause {wid}: no {table.headers[key]}", r, key)
            ds, var = row["dataset"].upper(), row["variable"].upper()
            # one ID may serve several datasets (P21 shares a QNAM clause among the SUPP--
            # datasets): each dataset's rows are its own clause, read per dataset
            conditions = out.setdefault(wid, [])
            if any(c["variable"] == var and c["dataset"] == ds for c in conditions):
                raise table.error(
                    f"where clause {wid}: variable {ds}.{var} given twice",
                    r,
                    "variable",
                    hint="a clause's conditions are ANDed; use IN for several values",
                )
            first.setdefault(wid, r)
            checked = comparator(table, r, row["comparator"])
            loc: Loc = ("where_clauses", wid, len(conditions))
            conditions.append(
                {
                    "dataset": ds,
                    "variable": var,
                    "comparator": checked,
                    "values": where_values(row.get("value", ""), checked),
                }
            )
            for key, col in (
                ("dataset", "dataset"),
                ("variable", "variable"),
                ("comparator", "comparator"),
                ("values", "value"),
            ):
                self.mark((*loc, key), table, r, col)
            self.mark(("where_clauses", wid), table, first[wid], "id")
        return out

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
            if not any(c["dataset"] == ds for c in clauses.get(where, [])):
                self.inline(table, r, where, ds, clauses)
            entries.append((order(table, r, row), r, ds, var, where, row))
        out = []
        for i, (_order, r, ds, var, where, row) in enumerate(sorted(entries, key=lambda e: e[:2])):
            loc: Loc = ("value_levels", i)
            data = {"dataset": ds, "variable": var, "where": where}
            for key in data:
                self.mark((*loc, key), table, r, key)
            data.update(self.item(table, r, row, loc))
            out.append(data)
        return out

    def inline(
        self, table: Table, r: int, where: str, ds: str, clauses: dict[str, list[dict[str, Any]]]
    ) -> None:
        """A where clause written in the ValueLevel cell, added to ``clauses`` for ``ds``
        (the same text in rows of several datasets is a clause of each)."""
        inline = inline_clause(where, ds)
        if inline is None:
            return
        for cond in inline:
            if cond["comparator"] not in SUPPORTED_COMPARATORS:
                raise table.error(
                    f"comparator {cond['comparator']} is not supported for "
                    "value-level metadata yet",
                    r,
                    "where",
                    hint="use " + ", ".join(SUPPORTED_COMPARATORS),
                )
        conditions = clauses.setdefault(where, [])
        for cond in inline:
            self.mark(("where_clauses", where, len(conditions)), table, r, "where")
            conditions.append(cond)

    def codelists(self) -> dict[str, Any]:
        """Codelists: one row per term; a codelist's Name, NCI code, data type,
        terminology and comment must agree across its rows."""
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
            self.cells.setdefault(("codelists", cid), (table, r, "id"))
            self.codelist_header(table, r, row, out.setdefault(cid, {}), header_rows)
            entry = self.codelist_term(table, r, row, cid, term_rows)
            if entry is not None:
                terms.setdefault(cid, []).append((order(table, r, row), r, entry))
        for cid, data in out.items():
            if "name" not in data:
                _table, r, _key = self.cells[("codelists", cid)]
                raise table.error(f"codelist {cid} has no Name", r, "name")
            ranked = sorted(terms.get(cid, []), key=lambda t: t[:2])
            data["terms"] = [entry for _o, _r, entry in ranked]
            for i, (_o, r, _e) in enumerate(ranked):
                self.mark(("codelists", cid, "terms", i), table, r, "term")
        return out

    def codelist_header(
        self,
        table: Table,
        r: int,
        row: Row,
        data: dict[str, Any],
        header_rows: dict[tuple[str, str], int],
    ) -> None:
        """The codelist's own columns of a Codelists row into ``data`` (the codelist's),
        checked against the values of its earlier rows (``header_rows``: where each came
        from)."""
        cid = row["id"]
        if "data_type" in row:
            row = {**row, "data_type": choice(table, r, row, "data_type", CL_TYPES)}
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

    @staticmethod
    def codelist_term(
        table: Table, r: int, row: Row, cid: str, term_rows: dict[tuple[str, str], int]
    ) -> dict[str, Any] | None:
        """The term of a Codelists row (None for a row without one), given once per
        codelist (``term_rows``: where each was)."""
        term = row.get("term")
        if term is None:
            return None
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
        return entry

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
                    data[key] = pages(table, r, row)
                elif key == "type" and spec is METHODS:
                    data[key] = choice(table, r, row, key, METHOD_TYPES)
                elif key == "type" and spec is DOCUMENTS:
                    data["kind"] = choice(table, r, row, key, DOC_KINDS)
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


def read_define_workbook(xlsx: Path) -> tuple[DefineMetadata, list[str]]:
    """The define.xml metadata of a define-generator workbook, and warnings (sheets and
    columns not read). Raises :class:`SpecError` naming sheet, row and column."""
    xlsx = Path(xlsx)
    warnings: list[str] = []
    reader = _Reader(xlsx, open_tables(xlsx, warnings), warnings)
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
