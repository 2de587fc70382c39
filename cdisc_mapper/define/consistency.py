"""Define/data consistency: does define.xml describe the datasets beside it, exactly?

:func:`check_define_consistency` compares a define.xml with the SAS XPORT files of a
folder and returns findings (never raises on a mismatch). The validator calls it; the
define tests run it on our output and on the CDISC pilot package.

Checks (``check_id``: severity, what):

* ``DC0001`` error: a dataset file is not described (no ItemGroupDef).
* ``DC0002`` warning: an ItemGroupDef has no dataset file in the folder (a package may
  be submitted in parts; the validator reports the same as DD0002).
* ``DC0003`` error: dataset label differs from the XPT label.
* ``DC0004`` error: a variable of the file has no ItemRef/ItemDef.
* ``DC0005`` error: define.xml lists a variable the file does not have.
* ``DC0006`` error: variable label differs.
* ``DC0007`` error: Char/Num differs from the define DataType.
* ``DC0008`` error: Length differs from the XPT length (character variables; numeric
  Length is a display width in many sponsors' defines and is not compared), is missing
  for text, or a value-level Length is shorter than the longest value it describes.
* ``DC0009`` error: values that do not have the shape of the DataType (``integer`` with
  decimals, ``date`` with a partial date...), per variable and per value-level item.
* ``DC0010`` error (warning for an extensible CDISC list): a value of a coded variable
  (or of a value-level item) is not in its code list. External dictionaries (MedDRA...)
  are not checked.
* ``DC0011`` error: a where clause of value-level metadata matches no record, or tests a
  variable the dataset does not have.
* ``DC0012`` error: a reference to an OID that is not defined (ItemRef, CodeListRef,
  ValueListRef, WhereClauseRef, MethodOID, def:CommentOID).
* ``DC0013`` warning: OrderNumber differs from the variable order in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from cdisc_mapper.condition import Records
from cdisc_mapper.define import datatypes
from cdisc_mapper.define.reader import DefineDocument, Item, ItemRef, WhereClause, read_define
from cdisc_mapper.define.where import clause_mask
from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.standards import load_terminology
from cdisc_mapper.xpt import XptMetadata, XptVariable, read_xpt

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class DefineFinding:
    """One define/data inconsistency. ``line`` is the define.xml line, when known."""

    check_id: str
    severity: Severity
    message: str
    dataset: str = ""
    variable: str = ""
    value: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = ".".join(x for x in (self.dataset, self.variable) if x)
        at = f" (define.xml line {self.line})" if self.line else ""
        return f"{self.check_id} {self.severity}: {where + ': ' if where else ''}{self.message}{at}"


class _Collector:
    def __init__(self) -> None:
        self.findings: list[DefineFinding] = []

    def add(self, check_id: str, message: str, severity: Severity = "error", **kw) -> None:
        self.findings.append(DefineFinding(check_id, severity, message, **kw))


def _extensible(nci_code: str | None) -> bool | None:
    """Extensibility of a CDISC list from the loaded terminology (None: not known)."""
    if not nci_code:
        return None
    try:
        found = load_terminology().find(nci_code)
    except CdiscMapperError:
        return None
    return None if found is None else found.extensible


def _where_mask(
    doc: DefineDocument, clause: WhereClause, frame: pd.DataFrame
) -> tuple[pd.Series | None, str]:
    checks = []
    for rc in clause.checks:
        item = doc.items.get(rc.item_oid)
        if item is None:
            return None, f"where clause {clause.oid} tests undefined item {rc.item_oid}"
        if item.name not in frame.columns:
            return None, f"where clause {clause.oid} tests {item.name}, not in the dataset"
        checks.append((item.name, rc.comparator, list(rc.values)))
    try:
        hit = clause_mask(Records(frame), checks)
    except CdiscMapperError as exc:
        return None, f"where clause {clause.oid}: {exc.message}"
    except ValueError as exc:
        return None, f"where clause {clause.oid}: {exc}"
    return pd.Series(hit, index=frame.index), ""


class _Checker:
    def __init__(self, doc: DefineDocument, out: _Collector) -> None:
        self.doc = doc
        self.out = out

    # ------------------------------------------------------------------ references
    def references(self) -> None:
        doc, out = self.doc, self.out

        def ref(kind: str, oid: str | None, table: dict, line: int | None, ds: str = "") -> None:
            if oid and oid not in table:
                out.add("DC0012", f"{kind} {oid} is not defined", dataset=ds, value=oid, line=line)

        for ds in doc.datasets.values():
            for r in ds.item_refs:
                ref("ItemOID", r.item_oid, doc.items, r.line, ds.name)
                ref("MethodOID", r.method_oid, doc.methods, r.line, ds.name)
        for refs in doc.value_lists.values():
            for r in refs:
                ref("ItemOID", r.item_oid, doc.items, r.line)
                ref("MethodOID", r.method_oid, doc.methods, r.line)
                for w in r.where_oids:
                    ref("WhereClauseOID", w, doc.where_clauses, r.line)
        for item in doc.items.values():
            ref("CodeListOID", item.codelist_oid, doc.codelists, item.line)
            ref("ValueListOID", item.valuelist_oid, doc.value_lists, item.line)
            ref("def:CommentOID", item.comment_oid, doc.comments, item.line)

    # ------------------------------------------------------------------ values
    def values(
        self, ds: str, item: Item, frame: pd.DataFrame, column: str, meta_type: str, what: str
    ) -> None:
        """DataType shape, code list membership and (value level) length of ``column``."""
        text = datatypes.as_text(frame[column])
        distinct = [v for v in pd.unique(text) if v != ""]
        if not distinct:
            return
        if meta_type == "Char":
            # at value level a character variable may hold integer or float values
            bad = [v for v in distinct if not datatypes.fits(v, item.data_type)]
        elif item.data_type == "integer":
            bad = [v for v in distinct if not datatypes.fits(v, "integer")]
        else:
            bad = []
        if bad and item.data_type:
            self.out.add(
                "DC0009",
                f"{what}: {len(bad)} value(s) are not {item.data_type}, e.g. {bad[:3]}",
                dataset=ds,
                variable=item.name,
                value=bad[0],
                line=item.line,
            )
        if what != "variable" and meta_type == "Char" and item.length is not None:
            longest = max(len(v.encode("utf-8")) for v in distinct)
            if longest > item.length:
                self.out.add(
                    "DC0008",
                    f"{what}: Length {item.length} but a value has {longest} bytes",
                    dataset=ds,
                    variable=item.name,
                    line=item.line,
                )
        cl = self.doc.codelists.get(item.codelist_oid or "")
        if cl is None or cl.external:
            return
        codes = set(cl.values)
        missing = sorted(v for v in distinct if not datatypes.is_term(v, codes, meta_type == "Num"))
        if missing:
            extensible = _extensible(cl.nci_code)
            severity: Severity = "warning" if extensible else "error"
            kind = "extensible" if extensible else "non-extensible" if extensible is False else ""
            self.out.add(
                "DC0010",
                f"{what}: value(s) {missing[:5]} not in {kind + ' ' if kind else ''}"
                f"code list {cl.oid} ({cl.name})",
                severity=severity,
                dataset=ds,
                variable=item.name,
                value=missing[0],
                line=cl.line,
            )

    # ------------------------------------------------------------------ datasets
    def dataset(self, name: str, frame: pd.DataFrame, meta: XptMetadata) -> None:
        doc, out = self.doc, self.out
        ds = doc.datasets[name]
        if ds.label != " ".join(meta.label.split()):
            out.add(
                "DC0003",
                f"label {meta.label!r} in the file, {ds.label!r} in define.xml",
                dataset=name,
                value=meta.label,
                line=ds.line,
            )
        by_name: dict[str, tuple[ItemRef, Item]] = {}
        for r in ds.item_refs:
            item = doc.items.get(r.item_oid)
            if item is not None:
                by_name[item.name] = (r, item)
        file_vars = {v.name.upper(): v for v in meta.variables}
        for pos, var in enumerate(meta.variables, start=1):
            key = var.name.upper()
            if key not in by_name:
                out.add(
                    "DC0004",
                    "variable is not in define.xml",
                    dataset=name,
                    variable=key,
                    line=ds.line,
                )
                continue
            ref, item = by_name[key]
            if ref.order is not None and ref.order != pos:
                out.add(
                    "DC0013",
                    f"OrderNumber {ref.order} but position {pos} in the file",
                    severity="warning",
                    dataset=name,
                    variable=key,
                    line=ref.line,
                )
            if item.label != " ".join(var.label.split()):
                out.add(
                    "DC0006",
                    f"label {var.label!r} in the file, {item.label!r} in define.xml",
                    dataset=name,
                    variable=key,
                    value=var.label,
                    line=item.line,
                )
            self.data_type(name, key, var, item)
            if key in frame.columns:
                self.values(name, item, frame, key, var.type, "variable")
                if item.valuelist_oid in doc.value_lists:
                    self.value_level(name, item, frame, var.type)
        for key, (ref, _item) in by_name.items():
            if key not in file_vars:
                out.add(
                    "DC0005",
                    "define.xml lists this variable but the file has none",
                    dataset=name,
                    variable=key,
                    line=ref.line,
                )

    def data_type(self, name: str, key: str, var: XptVariable, item: Item) -> None:
        """DataType and Length of an ItemDef against the file's variable."""
        out = self.out
        allowed = datatypes.CHAR_TYPES if var.type == "Char" else datatypes.NUM_TYPES
        if item.data_type not in allowed:
            out.add(
                "DC0007",
                f"{var.type} in the file but DataType {item.data_type!r} in define.xml",
                dataset=name,
                variable=key,
                value=item.data_type,
                line=item.line,
            )
        elif var.type == "Char":
            if item.length is not None and item.length != var.length:
                out.add(
                    "DC0008",
                    f"length {var.length} in the file, Length {item.length} in define.xml",
                    dataset=name,
                    variable=key,
                    value=str(item.length),
                    line=item.line,
                )
            elif item.length is None and item.data_type in datatypes.LENGTH_TYPES:
                out.add(
                    "DC0008",
                    f"DataType {item.data_type} needs a Length ({var.length} in the file)",
                    dataset=name,
                    variable=key,
                    line=item.line,
                )

    def value_level(self, name: str, parent: Item, frame: pd.DataFrame, meta_type: str) -> None:
        doc = self.doc
        for ref in doc.value_lists[parent.valuelist_oid or ""]:
            item = doc.items.get(ref.item_oid)
            clauses = [doc.where_clauses[w] for w in ref.where_oids if w in doc.where_clauses]
            if item is None or not clauses:
                continue
            mask = pd.Series(False, index=frame.index)
            for clause in clauses:
                hit, problem = _where_mask(doc, clause, frame)
                if hit is None:
                    self.out.add(
                        "DC0011", problem, dataset=name, variable=parent.name, line=clause.line
                    )
                    continue
                if not hit.any():
                    self.out.add(
                        "DC0011",
                        f"where clause {clause.oid} ({_describe(doc, clause)}) matches no record",
                        dataset=name,
                        variable=parent.name,
                        value=clause.oid,
                        line=clause.line,
                    )
                mask |= hit
            if mask.any():
                subset = frame.loc[mask.to_numpy(dtype=bool)]
                what = f"value level {item.oid}"
                self.values(name, item, subset, parent.name, meta_type, what)


def _describe(doc: DefineDocument, clause: WhereClause) -> str:
    parts = []
    for rc in clause.checks:
        item = doc.items.get(rc.item_oid)
        parts.append(f"{item.name if item else rc.item_oid} {rc.comparator} {list(rc.values)}")
    return " and ".join(parts)


def _dataset_files(dataset_dir: Path) -> dict[str, Path]:
    return {
        p.stem.upper(): p
        for p in sorted(Path(dataset_dir).iterdir())
        if p.is_file() and p.suffix.lower() == ".xpt"
    }


def check_define_consistency(
    define_path: Path, dataset_dir: Path, *, encoding: str | None = None
) -> list[DefineFinding]:
    """Compare ``define_path`` with the ``.xpt`` files of ``dataset_dir``.

    ``encoding`` is the character encoding of the XPT files (``None``: let the reader
    decide; ``"WINDOWS-1252"`` for files written by SAS on Windows).

    Raises:
        DefineReadError: define.xml is missing or is not a Define-XML document.
        XptError: a dataset file cannot be read.
    """
    doc = read_define(Path(define_path))
    out = _Collector()
    checker = _Checker(doc, out)
    checker.references()
    files = _dataset_files(Path(dataset_dir))
    by_file: dict[str, str] = {}
    for name, ds in doc.datasets.items():
        href = Path(ds.href.replace("\\", "/")).stem.upper() if ds.href else name
        target: str = href if href in files else name
        if target not in files:
            out.add(
                "DC0002",
                f"described in define.xml ({ds.href or 'no file'}) but not in {dataset_dir}",
                severity="warning",
                dataset=name,
                line=ds.line,
            )
            continue
        by_file[target] = name
    for stem, path in files.items():
        described = by_file.get(stem)
        if described is None:
            out.add("DC0001", f"{path.name} is not described in define.xml", dataset=stem)
            continue
        frame, meta = read_xpt(path, encoding=encoding)
        checker.dataset(described, frame, meta)
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(
        out.findings,
        key=lambda f: (order[f.severity], f.check_id, f.dataset, f.variable, f.message),
    )


__all__ = ["DefineFinding", "check_define_consistency"]
