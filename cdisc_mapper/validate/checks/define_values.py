"""Data against define.xml (DD01xx): the values of each variable against its define.xml
code list, and against the value-level metadata that applies to it (per where clause):
code list, DataType and Length.

define.xml is read once by :func:`cdisc_mapper.define.reader.read_define` (the
:class:`~cdisc_mapper.validate.context.DefineDataset` keeps the document); where clauses
select records with the one condition evaluator (:func:`cdisc_mapper.define.where.clause_mask`)
and values are compared as define.xml writes them (:mod:`cdisc_mapper.define.datatypes`),
as the define consistency check does. Each bad value is reported once, at its first
record, with the number of records holding it. External dictionaries (MedDRA, WHODrug)
are not checked. Skipped without ``--define``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from cdisc_mapper.condition import Records
from cdisc_mapper.define import datatypes
from cdisc_mapper.define.reader import CodeList, DefineDocument, Item, WhereClause
from cdisc_mapper.define.where import clause_mask
from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.validate.checks.results import distinct_codes
from cdisc_mapper.validate.context import Context, DefineDataset
from cdisc_mapper.validate.model import ERROR, WARNING
from cdisc_mapper.validate.package import Dataset, is_char
from cdisc_mapper.validate.registry import check


@dataclass(frozen=True)
class Target:
    """One item to compare with the data: a variable's ItemDef (``where`` empty, all
    records) or a value-level ItemDef and the records its where clauses select."""

    variable: str
    item: Item
    rows: np.ndarray
    where: str = ""

    @property
    def what(self) -> str:
        return f"value level ({self.where})" if self.where else "variable"


@dataclass(frozen=True)
class Column:
    """A variable's values as define.xml writes them, by distinct value: ``codes`` per
    record (-1 when missing) into ``texts``."""

    codes: np.ndarray
    texts: tuple[str, ...]
    numeric: bool

    def counts(self, rows: np.ndarray) -> np.ndarray:
        """Records of ``rows`` holding each distinct value."""
        if rows.all():
            return self.every_count
        selected = self.codes[rows]
        return np.bincount(selected[selected >= 0], minlength=len(self.texts))

    @cached_property
    def every_count(self) -> np.ndarray:
        """Records holding each distinct value."""
        return np.bincount(self.codes + 1, minlength=len(self.texts) + 1)[1:]

    def holding(self, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Records of ``rows`` whose value is one of the distinct ``values`` (positions)."""
        table = np.zeros(len(self.texts) + 1, dtype=bool)
        table[values] = True
        return rows & table[np.where(self.codes >= 0, self.codes, len(self.texts))]


def _define_dataset(ctx: Context, ds: Dataset) -> DefineDataset | None:
    """The dataset's ItemGroupDef; skips the check when no define.xml is given."""
    if ctx.define is None:
        ctx.skip("no define.xml given")
    assert ctx.define is not None
    meta = ctx.define.dataset(ds.name) if ds.standard in ctx.define.standards else None
    return meta if meta is not None and meta.document is not None else None


def column(ctx: Context, ds: Dataset, variable: str) -> Column:
    """The variable as a :class:`Column` (cached per dataset)."""
    key = ("define-values-column", ds.name, variable)
    if key not in ctx.cache:
        series = ds.df[variable]
        codes, uniques = distinct_codes(series)
        numeric = not is_char(series)
        texts = datatypes.as_text(pd.Series(uniques, dtype=float if numeric else object))
        ctx.cache[key] = Column(codes, tuple(texts), numeric)
    found: Column = ctx.cache[key]
    return found


def describe(doc: DefineDocument, clause: WhereClause) -> str:
    """A where clause as text: ``LBTESTCD EQ ['ALB'] and LBSPEC EQ ['BLOOD']``."""
    parts = []
    for rc in clause.checks:
        item = doc.items.get(rc.item_oid)
        parts.append(f"{item.name if item else rc.item_oid} {rc.comparator} {list(rc.values)}")
    return " and ".join(parts)


def _clause_rows(doc: DefineDocument, clause: WhereClause, records: Records) -> np.ndarray | None:
    """Records a where clause selects; None when it cannot be evaluated (an undefined
    item, a variable the dataset lacks: the define consistency check reports those)."""
    checks = []
    for rc in clause.checks:
        item = doc.items.get(rc.item_oid)
        if item is None or item.name not in records.frame.columns:
            return None
        checks.append((item.name, rc.comparator, list(rc.values)))
    try:
        return np.asarray(clause_mask(records, checks), dtype=bool)
    except (CdiscMapperError, ValueError):
        return None


def targets(ctx: Context, ds: Dataset, meta: DefineDataset) -> list[Target]:
    """Every variable of ``ds`` described in define.xml, then each value-level item of it
    with the records its where clauses select (a record selected by several clauses of
    one item counts once). Computed once per dataset for the four checks."""
    key = ("define-values-targets", ds.name)
    if key not in ctx.cache:
        ctx.cache[key] = list(_targets(ds, meta))
    found: list[Target] = ctx.cache[key]
    return found


def _targets(ds: Dataset, meta: DefineDataset) -> Iterator[Target]:
    doc = meta.document
    assert doc is not None
    records = Records(ds.df)
    masks: dict[str, np.ndarray | None] = {}
    everything = np.ones(ds.n, dtype=bool)
    for variable, item in meta.variables.items():
        if variable not in ds.df.columns:
            continue
        yield Target(variable, item, everything)
        for ref in doc.value_lists.get(item.valuelist_oid or "", ()):
            value_item = doc.items.get(ref.item_oid)
            clauses = [doc.where_clauses[w] for w in ref.where_oids if w in doc.where_clauses]
            if value_item is None or not clauses:
                continue
            rows = np.zeros(ds.n, dtype=bool)
            for clause in clauses:
                if clause.oid not in masks:
                    masks[clause.oid] = _clause_rows(doc, clause, records)
                hit = masks[clause.oid]
                if hit is not None:
                    rows |= hit
            if rows.any():
                where = " or ".join(describe(doc, c) for c in clauses)
                yield Target(variable, value_item, rows, where)


def report_values(
    ctx: Context,
    ds: Dataset,
    target: Target,
    values: Column,
    bad: Callable[[str], bool],
    message: Callable[[str], str],
) -> None:
    """Report each distinct non-blank value of the target's records for which ``bad``
    holds, once, at its first record, with its record count."""
    counts = values.counts(target.rows)
    found = np.array(
        [i for i in np.flatnonzero(counts) if values.texts[i] != "" and bad(values.texts[i])],
        dtype=np.int64,
    )
    if found.size == 0:
        return
    rows = np.flatnonzero(values.holding(target.rows, found))
    codes, firsts = np.unique(values.codes[rows], return_index=True)
    subjects = ds.df["USUBJID"] if "USUBJID" in ds.df.columns else None
    for code, first in sorted(zip(codes, rows[firsts], strict=True), key=lambda x: x[1]):
        text, n = values.texts[code], int(counts[code])
        ctx.note(
            f"{message(text)} ({n} record{'' if n == 1 else 's'})",
            dataset=ds.name,
            variable=target.variable,
            value=text,
            usubjid=subjects.iloc[first] if subjects is not None else "",
            record=int(first) + 1,
            seq=ds.df[ds.seq_var].iloc[first] if ds.seq_var else None,
        )


def _extensible(ctx: Context, codelist: CodeList) -> bool:
    """Whether the define.xml code list is a CDISC list that is extensible (a sponsor list,
    without NCI code, is complete by definition)."""
    if not codelist.nci_code:
        return False
    found = ctx.terminology.find(codelist.nci_code)
    return bool(found is not None and found.extensible)


def _codelist_check(ctx: Context, ds: Dataset, *, extensible: bool) -> None:
    meta = _define_dataset(ctx, ds)
    if meta is None:
        return
    doc = meta.document
    assert doc is not None
    for target in targets(ctx, ds, meta):
        codelist = doc.codelists.get(target.item.codelist_oid or "")
        if codelist is None or codelist.external or not codelist.values:
            continue
        if _extensible(ctx, codelist) != extensible:
            continue
        values = column(ctx, ds, target.variable)
        terms = set(codelist.values)
        kind = "extensible CDISC" if extensible else "non-extensible"

        def missing(text: str, terms: set[str] = terms, numeric: bool = values.numeric) -> bool:
            return not datatypes.is_term(text, terms, numeric)

        def message(text: str, t: Target = target, cl: CodeList = codelist, k: str = kind) -> str:
            return (
                f"{t.variable} {text!r} is not in the {k} define.xml code list {cl.oid} "
                f"({cl.name}) of the {t.what}"
            )

        report_values(ctx, ds, target, values, missing, message)


@check(
    "DD0101",
    ERROR,
    "define",
    "Value is not in its define.xml code list (non-extensible or sponsor list)",
    explanation="Every value of a coded variable (and of a value-level item, on the "
    "records its where clause selects) is a CodedValue of the code list define.xml gives "
    "it. For a non-extensible CDISC list or a sponsor-defined list a value outside the "
    "list is an error: add the term to the list (sponsor list) or correct the value.",
    reference="Pinnacle 21 CT2001 (value not found in non-extensible codelist, with a "
    "define.xml); Define-XML v2.1 §4.3.3 (CodeList), §5.3.9 (ValueListDef)",
)
def value_in_closed_codelist(ctx: Context, ds: Dataset) -> None:
    _codelist_check(ctx, ds, extensible=False)


@check(
    "DD0102",
    WARNING,
    "define",
    "Value is not in its define.xml code list (extensible CDISC list)",
    explanation="A value outside an extensible CDISC code list is allowed as a sponsor "
    "extension, but define.xml must then list it as a CodeListItem with "
    'def:ExtendedValue="Yes"; a value missing from the define.xml list is undocumented.',
    reference="Pinnacle 21 CT2002 (value not found in extensible codelist, with a "
    "define.xml); Define-XML v2.1 §5.3.4.1 (def:ExtendedValue)",
)
def value_in_extensible_codelist(ctx: Context, ds: Dataset) -> None:
    _codelist_check(ctx, ds, extensible=True)


def _value_level(ctx: Context, ds: Dataset) -> Iterator[tuple[Target, Column]]:
    """Value-level targets of a character variable, with the variable's values."""
    meta = _define_dataset(ctx, ds)
    if meta is None:
        return
    for target in targets(ctx, ds, meta):
        if target.where and is_char(ds.df[target.variable]):
            yield target, column(ctx, ds, target.variable)


@check(
    "DD0103",
    ERROR,
    "define",
    "Value does not fit the DataType of its value-level metadata",
    explanation="On the records a where clause selects, the values of the variable have "
    "the shape of the value-level ItemDef's DataType: integer without decimals, float a "
    "number, date/datetime/partialDate... ISO 8601 text of that form (a character result "
    "variable may hold numbers at value level).",
    reference="Define-XML v2.1 §4.4 (DataType), §5.3.9 (value-level metadata); no CORE "
    "rule compares the data with value-level metadata",
)
def value_level_data_type(ctx: Context, ds: Dataset) -> None:
    for target, values in _value_level(ctx, ds):
        data_type = target.item.data_type
        if not data_type or data_type in ("text", "URI"):
            continue

        def misfit(text: str, dt: str = data_type) -> bool:
            return not datatypes.fits(text, dt)

        def message(value: str, t: Target = target, dt: str = data_type) -> str:
            return f"{t.variable} {value!r} is not {dt}, the DataType of {t.item.oid} ({t.what})"

        report_values(ctx, ds, target, values, misfit, message)


def size(value: str, data_type: str) -> int:
    """A value's size as define.xml Length counts it: digits for integer and float (the
    sign and decimal point are not counted), UTF-8 bytes for text."""
    if data_type in ("integer", "float"):
        mantissa = value.upper().split("E", 1)[0]
        return sum(c.isdigit() for c in mantissa)
    return len(value.encode("utf-8"))


@check(
    "DD0104",
    ERROR,
    "define",
    "Value is longer than the Length of its value-level metadata",
    explanation="On the records a where clause selects, no value of the variable is "
    "longer than the value-level ItemDef's Length: in UTF-8 bytes for text, in digits "
    "for integer and float (2.27045 has 6; sign and decimal point do not count).",
    reference="Define-XML v2.1 §5.3.11 (Length), §5.3.9 (value-level metadata); "
    "ODM v1.3.2 §3.1.3 (Length of float: digits)",
)
def value_level_length(ctx: Context, ds: Dataset) -> None:
    for target, values in _value_level(ctx, ds):
        length, data_type = target.item.length, target.item.data_type
        if length is None:
            continue
        unit = "digits" if data_type in ("integer", "float") else "bytes"

        def too_long(text: str, n: int = length, dt: str = data_type) -> bool:
            return size(text, dt) > n

        def message(value: str, t: Target = target, n: int = length, u: str = unit) -> str:
            return (
                f"{t.variable} {value!r} has {size(value, t.item.data_type)} {u}; Length {n} "
                f"in {t.item.oid} ({t.what})"
            )

        report_values(ctx, ds, target, values, too_long, message)
