"""From raw form rows to a domain's records: duplicates, exclusions, melt, and the
source-level operations. Every raw row is either mapped or excluded with a reason."""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pydantic import BaseModel

from cdisc_mapper.condition import Condition, evaluate
from cdisc_mapper.errors import MappingError, RawDataError, SpecError
from cdisc_mapper.raw import RawForm
from cdisc_mapper.sdtm.context import ROW, SRC, put_column
from cdisc_mapper.sdtm.ops._common import subject_variable
from cdisc_mapper.sdtm.registry import OPERATIONS
from cdisc_mapper.spec.sdtm import (
    MELT_TEST,
    MELT_UNIT,
    MELT_VALUE,
    DomainSpec,
    MeltItem,
    MeltSpec,
)
from cdisc_mapper.spec.sdtm_loader import StudyBundle


@dataclass
class SourceResult:
    """One source's records and its reconciliation counts; ``file`` is the raw file as
    the spec names it, relative to the raw folder."""

    frame: pd.DataFrame
    form: str
    file: str
    rows_read: int
    rows_mapped: int
    excluded: dict[str, int] = field(default_factory=dict)
    values_not_recorded: int = 0


def column_readers(bundle: StudyBundle, domain: DomainSpec, index: int) -> dict[str, str]:
    """Raw columns a source needs (op arguments, conditions, melt items, subject ids),
    each with the spec line of the first entry that reads it."""
    src = domain.sources[index]
    code = domain.domain
    found: dict[str, str] = {}

    def read(columns: Iterable[str], doc: str, loc: tuple[str | int, ...]) -> None:
        for col in sorted(c for c in columns if not c.startswith("_") and c not in found):
            found[col] = bundle.where(doc, loc)

    subj = bundle.study.subjects
    read([subj.subject_column], "study", ("subjects", "subject_column"))
    if subj.site_column and (subj.registry_form is None or subj.registry_form == src.form):
        read([subj.site_column], "study", ("subjects", "site_column"))
    here: tuple[str | int, ...] = ("sources", index)
    read(src.required_columns, code, (*here, "required_columns"))
    for k, excl in enumerate(src.exclude):
        read(excl.where.variables(), code, (*here, "exclude", k))
    if src.melt:
        for k, item in enumerate(src.melt.items):
            read(item.raw_columns(), code, (*here, "melt", "items", k))
        if src.melt.keep_empty_when:
            cond = src.melt.keep_empty_when
            read(cond.variables(), code, (*here, "melt", "keep_empty_when"))
    earlier: set[str] = set()
    for name in src.variables:
        columns = _model_columns(bundle.op_args[(code, index, name)], frozenset(earlier))
        read(columns, code, (*here, "variables", name))
        earlier.add(name)
    return found


def referenced_columns(bundle: StudyBundle, domain: DomainSpec, index: int) -> set[str]:
    """Raw columns a source needs: op arguments, conditions, melt items, subject ids."""
    return set(column_readers(bundle, domain, index))


def require_columns(form: RawForm, readers: dict[str, str]) -> None:
    """Every column of ``readers`` is in ``form``; else a RawDataError naming the file,
    each missing column and the spec line that reads it."""
    try:
        form.require(sorted(readers))
    except RawDataError as exc:
        missing = sorted(c for c in readers if c not in form.data.columns)
        read_at = "; ".join(f"{c} is read at {readers[c]}" for c in missing)
        raise RawDataError(f"{exc.message}; {read_at}", where=exc.where, hint=exc.hint) from None


def check_working_columns(bundle: StudyBundle, domain: DomainSpec, index: int) -> None:
    """A source's variables read ``_NAME`` columns only where its records have them: the
    melt's (``_TEST``, ``_VALUE``, ``_UNIT``, the items' names) and its own variables."""
    src = domain.sources[index]
    there = {SRC, ROW, *src.variables}
    if src.melt is not None:
        there |= {MELT_TEST, MELT_VALUE, MELT_UNIT, *src.melt.names()}
    for name in src.variables:
        columns = _model_columns(bundle.op_args[(domain.domain, index, name)])
        absent = sorted(c for c in columns if c.startswith("_") and c not in there)
        if absent:
            made = (
                f"its melt gives {', '.join(sorted(there - {SRC, ROW, *src.variables}))}"
                if src.melt is not None
                else "it has no melt"
            )
            raise SpecError(
                f"{name} reads {', '.join(absent)}, which the records of form {src.form} "
                f"do not have ({made}; a name starting with _ is a melt's or a variable's, "
                "never a raw column)",
                where=bundle.where(domain.domain, ("sources", index, "variables", name)),
            )


def names_read(
    args: object, earlier: frozenset[str] = frozenset(), *, conditions: bool = True
) -> set[str]:
    """What an operation's arguments read by name besides :meth:`OpArgs.inputs`: raw
    columns, melt and working columns (``_NAME``) of its ``column`` fields, conditions
    (unless ``conditions`` is False) and templates (the annotated CRF follows a raw
    column to the variables it feeds)."""
    return _model_columns(args, earlier, conditions=conditions)


def _model_columns(
    model: object, earlier: frozenset[str] = frozenset(), *, conditions: bool = True
) -> set[str]:
    """Raw columns an operation's arguments name: ``column``/``time_column`` fields, the
    keys of a ``columns`` mapping,
    conditions (at any depth) and template fields; a condition or template name that is
    a variable defined ``earlier`` in the source reads that variable, and ``DM.VAR`` the
    subject's DM value, so neither is a raw column."""
    out: set[str] = set()
    if isinstance(model, Condition):
        if not conditions:
            return out
        names = model.variables()
        return {n for n in names - earlier if subject_variable(n) is None}
    if isinstance(model, list | tuple):
        for item in model:
            out |= _model_columns(item, earlier, conditions=conditions)
        return out
    if not isinstance(model, BaseModel):
        return out
    for key in type(model).model_fields:
        value = getattr(model, key)
        if key in ("column", "time_column") and isinstance(value, str):
            out.add(value)
        elif key == "columns" and isinstance(value, dict | list):  # one_hot, best_of
            out |= {str(c) for c in value}
        elif key == "template" and isinstance(value, str):
            out |= {f for _, f, _, _ in string.Formatter().parse(value) if f} - earlier
        elif isinstance(value, BaseModel | list | tuple):
            out |= _model_columns(value, earlier, conditions=conditions)
    return out


def _item_records(raw: pd.DataFrame, item: MeltItem, names: list[str]) -> pd.DataFrame:
    """The records of ``item`` for the form rows ``raw``: its test, value, unit (blank
    where the value is) and each ``_NAME`` (blank when the item gives none)."""
    part = raw.copy()
    value = raw[item.value]
    part[MELT_TEST] = item.test
    part[MELT_VALUE] = value
    unit = raw[item.unit_column] if item.unit_column else item.unit or ""
    part[MELT_UNIT] = pd.Series(unit, index=raw.index).where(value != "", "")
    for name in names:
        part[name] = raw[item.columns[name]] if name in item.columns else item.values.get(name, "")
    return part


def _melt(raw: pd.DataFrame, melt: MeltSpec) -> tuple[pd.DataFrame, int, pd.Series]:
    """One record per (row, item), in form row then item order; an empty item makes a
    record only where ``keep_empty_when`` holds for that record.

    Returns the melted frame, the number of empty items that made no record, and for each
    raw row whether it produced at least one record.
    """
    names = melt.names()
    position = np.arange(len(raw))
    parts, rows, items = [], [], []
    dropped = 0
    for k, item in enumerate(melt.items):
        empty = (raw[item.value] == "").to_numpy()
        keep = ~empty
        if melt.keep_empty_when is not None and empty.any():
            candidates = _item_records(raw[empty], item, names)
            held = evaluate(melt.keep_empty_when, candidates).to_numpy(dtype=bool)
            keep[np.flatnonzero(empty)[held]] = True
        dropped += int((~keep).sum())
        parts.append(_item_records(raw[keep], item, names))
        rows.append(position[keep])
        items.append(np.full(int(keep.sum()), k))
    row_of, item_of = np.concatenate(rows), np.concatenate(items)
    melted = pd.concat(parts).iloc[np.lexsort((item_of, row_of))]
    produced = pd.Series(np.isin(position, row_of), index=raw.index)
    return melted, dropped, produced


def map_source(
    bundle: StudyBundle,
    domain: DomainSpec,
    index: int,
    form: RawForm,
    make_ctx,
) -> SourceResult:
    """Map one raw form to records of ``domain`` (source-level variables only)."""
    src = domain.sources[index]
    readers = column_readers(bundle, domain, index)
    needed = sorted(readers)
    require_columns(form, readers)
    check_working_columns(bundle, domain, index)
    raw = form.data[needed].copy()  # only the columns the spec reads
    raw[SRC] = form.file
    raw[ROW] = raw.index
    rows_read = len(raw)
    excluded: dict[str, int] = {}
    alive = pd.Series(True, index=raw.index)
    if src.drop_duplicates:
        data_cols = [c for c in form.data.columns if c not in form.system_columns]
        dup = form.data.duplicated(subset=data_cols, keep="first")
        if dup.any():
            excluded["duplicate form entry (exact repeat of an earlier row)"] = int(dup.sum())
        alive &= ~dup
    for excl in src.exclude:
        hit = evaluate(excl.where, raw) & alive
        if hit.any():
            excluded[excl.reason] = excluded.get(excl.reason, 0) + int(hit.sum())
        alive &= ~hit
    # only the columns the spec reads travel on (a melt copies them once per item)
    raw = raw.loc[alive, [*needed, SRC, ROW]]
    not_recorded = 0
    if src.melt is not None:
        raw, not_recorded, produced = _melt(raw, src.melt)
        empty_rows = int((~produced).sum())
        if empty_rows:
            excluded["no item recorded on the form row"] = empty_rows
    out = pd.DataFrame(index=raw.index)
    for name, var in src.variables.items():
        op = OPERATIONS.require(var.op)
        args = bundle.op_args[(domain.domain, index, name)]
        ctx = make_ctx(domain.domain, name, raw=raw, loc=("sources", index, "variables", name))
        value = op.fn(out, args, ctx)
        if len(value) != len(out):
            raise MappingError(f"{domain.domain}.{name}: operation {var.op} changed row count")
        put_column(out, name, value)
    put_column(out, SRC, raw[SRC])
    put_column(out, ROW, raw[ROW])
    rows_mapped = rows_read - sum(excluded.values())
    return SourceResult(
        frame=out.reset_index(drop=True),
        form=src.form,
        file=form.file,
        rows_read=rows_read,
        rows_mapped=rows_mapped,
        excluded=excluded,
        values_not_recorded=not_recorded,
    )
