"""Where in the workbook each value of the imported spec files came from.

A command given a workbook (``--study SPEC.xlsx``) reads it through spec files written to
a temporary folder; the checks that run on those files (operation arguments, names a
derivation refers to, dataset variables...) report ``file:line``. :class:`WorkbookLocator`
turns such a location (a file and a key path in it) back into the sheet, row and column
of the workbook, so that every error names the cell to fix.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from cdisc_mapper.errors import Location
from cdisc_mapper.xlsx import layout as L
from cdisc_mapper.xlsx.sheet import Row, Sheet, cell_text

Loc = tuple[Any, ...]

#: spec key -> workbook column, per sheet (a key not listed: the sheet's main column).
_VARIABLE_KEYS = {"op": "Operation", "derive": "Operation", "origin": "Origin",
                  "method": "Method", "comment": "Comment", "codelist": "Codelist",
                  "supp": "Supp Label", "label": "Label", "format": "Format"}  # fmt: skip
_DATASET_KEYS = {"keys": "Key Variables", "label": "Description", "comment": "Comment",
                 "domain": "Dataset", "dataset": "Dataset", "structure": "Structure",
                 "class": "Class"}  # fmt: skip
_SOURCE_KEYS = {"form": "Form", "file": "File", "required_columns": "Required Columns",
                "drop_duplicates": "Drop Duplicates", "exclude": "Exclude",
                "melt": "Melt", "date_order": "Date Order"}  # fmt: skip
_LEVEL_KEYS = {"where": "Where Clause", "label": "Label", "origin": "Origin",
               "source": "Source", "method": "Method", "comment": "Comment",
               "codelist": "Codelist"}  # fmt: skip


def _text(row: Row, column: str | None) -> str:
    return cell_text(row.get(column)) if column is not None else ""


def _order(row: Row, r: int) -> float:
    order = row.get("Order")
    return float(order) if isinstance(order, int | float) else float(r)


class WorkbookLocator:
    """Maps (spec file relative to the study folder, key path) to a workbook cell."""

    def __init__(self, xlsx: Path, sheets: dict[str, Sheet]) -> None:
        self.xlsx = xlsx
        self.sheets = sheets
        self.datasets: dict[str, int] = {}
        self.sources: dict[str, list[tuple[str, int]]] = defaultdict(list)
        self.variables: dict[tuple[str, str, str], int] = {}
        self.records: dict[str, list[int]] = defaultdict(list)
        self.study: dict[str, int] = {}
        self.comments: dict[str, int] = {}
        self.methods: dict[str, int] = {}
        self.documents: dict[str, int] = {}
        self.dictionaries: dict[str, int] = {}
        self.levels: dict[str, list[int]] = defaultdict(list)
        for r, row in self._rows(L.DATASETS):
            self.datasets.setdefault(_text(row, "Dataset"), r)
        for r, row in self._rows(L.SOURCES):
            self.sources[_text(row, "Dataset")].append((_text(row, "Source Form"), r))
        for r, row in self._rows(L.VARIABLES):
            key = (_text(row, "Dataset"), _text(row, "Source Form"),
                   _text(row, "Variable"))  # fmt: skip
            self.variables.setdefault(key, r)
        records = sorted(self._rows(L.RECORDS), key=lambda x: (_order(x[1], x[0]), x[0]))
        for r, row in records:
            self.records[_text(row, "Dataset")].append(r)
        for r, row in self._rows(L.STUDY):
            self.study.setdefault(_text(row, "Attribute"), r)
        for sheet, table in ((L.COMMENTS, self.comments), (L.METHODS, self.methods),
                             (L.DOCUMENTS, self.documents),
                             (L.DICTIONARIES, self.dictionaries)):  # fmt: skip
            for r, row in self._rows(sheet):
                table.setdefault(_text(row, "ID"), r)
        levels = sorted(self._rows(L.VALUELEVEL), key=lambda x: (_order(x[1], x[0]), x[0]))
        for r, row in levels:
            self.levels[f"{_text(row, 'Dataset')}.{_text(row, 'Variable')}"].append(r)

    def _rows(self, sheet: str) -> list[tuple[int, Row]]:
        found = self.sheets.get(sheet)
        return list(found.rows) if found is not None else []

    def _cell(self, sheet: str, row: int | None, column: str | None) -> Location | None:
        if row is None:
            return None
        found = self.sheets.get(sheet)
        letter = found.letters.get(column or "", None) if found is not None else None
        where = f"{column} ({letter})" if column and letter else None
        return Location(file=f"{self.xlsx}: sheet {sheet}", row=row, column=where)

    # ------------------------------------------------------------------ per file
    def locate(self, relpath: str, loc: Loc) -> Location | None:
        parts = relpath.split("/")
        if relpath == "study.yaml":
            return self._study(loc)
        if relpath == "define.yaml":
            return self._define(loc)
        if relpath == "adam/conventions.yaml":
            return self._conventions(loc)
        if len(parts) == 2 and parts[0] == "adam":
            blob = {v: k for k, v in L.ADAM_BLOBS.items()}.get(parts[1])
            if blob is not None:
                return self._cell(L.STUDY, self.study.get(blob), "Value")
            return self._dataset(Path(parts[1]).stem.upper(), loc)
        if len(parts) == 2 and parts[0] == "sdtm":
            return self._dataset(Path(parts[1]).stem.upper(), loc)
        return None

    def _study(self, loc: Loc) -> Location | None:
        if not loc:
            return self._cell(L.STUDY, min(self.study.values(), default=None), "Attribute")
        key = loc[0]
        if key == "comments" and len(loc) > 1:
            return self._cell(L.COMMENTS, self.comments.get(str(loc[1])), "Description")
        if key in ("subjects", "unscheduled") and len(loc) > 1:
            return self._cell(L.STUDY, self.study.get(f"{key}.{loc[1]}"), "Value")
        for sheet, (path, _model) in L.DESIGN_TABLES.items():  # the design sheets
            n = len(path)
            if tuple(loc[:n]) == path and len(loc) > n and isinstance(loc[n], int):
                rows = self._rows(sheet)
                if loc[n] < len(rows):
                    column = str(loc[n + 1]) if len(loc) > n + 1 else None
                    return self._cell(sheet, rows[loc[n]][0], column)
        attr: Any = {v: k for k, v in L.STUDY_ATTRIBUTES.items()}.get(key, key)
        return self._cell(L.STUDY, self.study.get(attr), "Value")

    def _conventions(self, loc: Loc) -> Location | None:
        """conventions.yaml: its tables (AnalysisPeriods...) or its Study rows."""
        if not loc:
            first = [r for a, r in self.study.items() if a.startswith(L.CONVENTIONS_PREFIX)]
            return self._cell(L.STUDY, min(first, default=None), "Attribute")
        for sheet, (field, _model, key, many) in L.CONVENTION_TABLES.items():
            if loc[0] != field or len(loc) < 2:
                continue
            rows = self._rows(sheet)
            if key is None:  # a list: (field, i, column)
                index, rest = loc[1], loc[2:]
            elif many:  # (field, set, i, column)
                rows = [x for x in rows if _text(x[1], key) == str(loc[1])]
                index, rest = (loc[2], loc[3:]) if len(loc) > 2 else (0, ())
            else:  # (field, name, column)
                rows = [x for x in rows if _text(x[1], key) == str(loc[1])]
                index, rest = 0, loc[2:]
            if not isinstance(index, int) or index >= len(rows):
                return None
            return self._cell(sheet, rows[index][0], str(rest[0]) if rest else key)
        return self._cell(L.STUDY, self.study.get(f"{L.CONVENTIONS_PREFIX}{loc[0]}"), "Value")

    def _define(self, loc: Loc) -> Location | None:
        if not loc:
            return None
        key, rest = loc[0], loc[1:]
        if key == "value_level" and rest:
            rows = self.levels.get(str(rest[0]), [])
            if len(rest) > 1 and isinstance(rest[1], int) and rest[1] < len(rows):
                column = _LEVEL_KEYS.get(rest[2], "Variable") if len(rest) > 2 else "Variable"
                return self._cell(L.VALUELEVEL, rows[rest[1]], column)
            return self._cell(L.VALUELEVEL, rows[0] if rows else None, "Variable")
        tables = {"methods": (L.METHODS, self.methods), "documents": (L.DOCUMENTS, self.documents),
                  "dictionaries": (L.DICTIONARIES, self.dictionaries)}  # fmt: skip
        if key in tables and rest:
            sheet, table = tables[key]
            return self._cell(sheet, table.get(str(rest[0])), "ID")
        return self._cell(L.STUDY, self.study.get(f"define.{key}"), "Value")

    def _dataset(self, code: str, loc: Loc) -> Location | None:
        if not loc:
            return self._cell(L.DATASETS, self.datasets.get(code), "Dataset")
        key = loc[0]
        if key == "sources" and len(loc) > 1 and isinstance(loc[1], int):
            sources = self.sources.get(code, [])
            if loc[1] >= len(sources):
                return None
            sid, r = sources[loc[1]]
            if len(loc) > 3 and loc[2] == "variables":
                return self._variable(code, sid, loc[3], loc[4:])
            column = _SOURCE_KEYS.get(loc[2], "Source Form") if len(loc) > 2 else "Source Form"
            return self._cell(L.SOURCES, r, column)
        if key == "variables" and len(loc) > 1:
            return self._variable(code, "", loc[1], loc[2:])
        if key == "records" and len(loc) > 1 and isinstance(loc[1], int):
            rows = self.records.get(code, [])
            if loc[1] < len(rows):
                column = "Operation" if loc[2:3] == ("op",) else "Arguments"
                return self._cell(L.RECORDS, rows[loc[1]], column if len(loc) > 2 else "Order")
            return None
        return self._cell(L.DATASETS, self.datasets.get(code), _DATASET_KEYS.get(key, "Dataset"))

    def _variable(self, code: str, sid: str, name: Any, rest: Loc) -> Location | None:
        r = self.variables.get((code, sid, str(name)))
        column = "Variable"
        if rest:
            column = _VARIABLE_KEYS.get(rest[0], "Arguments")
            if rest[0] == "args":
                column = "Arguments"
        return self._cell(L.VARIABLES, r, column)
