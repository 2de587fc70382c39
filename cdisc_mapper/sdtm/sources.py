"""From raw form rows to a domain's records: duplicates, exclusions, melt, and the
source-level operations. Every raw row is either mapped or excluded with a reason."""

from __future__ import annotations

import string
from dataclasses import dataclass, field

import pandas as pd
from pydantic import BaseModel

from cdisc_mapper.condition import Condition, evaluate
from cdisc_mapper.errors import MappingError
from cdisc_mapper.raw import RawForm
from cdisc_mapper.sdtm.context import ROW, SRC
from cdisc_mapper.sdtm.ops._common import subject_variable
from cdisc_mapper.sdtm.registry import OPERATIONS
from cdisc_mapper.spec.sdtm import DomainSpec, SourceSpec
from cdisc_mapper.spec.sdtm_loader import StudyBundle

MELT_TEST, MELT_VALUE, MELT_UNIT = "_TEST", "_VALUE", "_UNIT"


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


def referenced_columns(bundle: StudyBundle, domain: DomainSpec, index: int) -> set[str]:
    """Raw columns a source needs: op arguments, conditions, melt items, subject ids."""
    src = domain.sources[index]
    cols: set[str] = set(src.required_columns)
    subj = bundle.study.subjects
    cols.add(subj.subject_column)
    if subj.site_column and (subj.registry_form is None or subj.registry_form == src.form):
        cols.add(subj.site_column)
    for excl in src.exclude:
        cols |= excl.where.variables()
    if src.melt:
        for item in src.melt.items:
            cols.add(item.value)
            if item.unit_column:
                cols.add(item.unit_column)
        if src.melt.keep_empty_when:
            cols |= src.melt.keep_empty_when.variables()
    earlier: set[str] = set()
    for name in src.variables:
        cols |= _model_columns(bundle.op_args[(domain.domain, index, name)], frozenset(earlier))
        earlier.add(name)
    return {c for c in cols if not c.startswith("_")}


def _model_columns(model: object, earlier: frozenset[str] = frozenset()) -> set[str]:
    """Raw columns an operation's arguments name: ``column``/``time_column`` fields,
    conditions (at any depth) and template fields; a condition or template name that is
    a variable defined ``earlier`` in the source reads that variable, and ``DM.VAR`` the
    subject's DM value, so neither is a raw column."""
    out: set[str] = set()
    if isinstance(model, Condition):
        names = model.variables()
        return {n for n in names - earlier if subject_variable(n) is None}
    if isinstance(model, list | tuple):
        for item in model:
            out |= _model_columns(item, earlier)
        return out
    if not isinstance(model, BaseModel):
        return out
    for key in type(model).model_fields:
        value = getattr(model, key)
        if key in ("column", "time_column") and isinstance(value, str):
            out.add(value)
        elif key == "template" and isinstance(value, str):
            out |= {f for _, f, _, _ in string.Formatter().parse(value) if f} - earlier
        elif isinstance(value, BaseModel | list | tuple):
            out |= _model_columns(value, earlier)
    return out


def _melt(raw: pd.DataFrame, src: SourceSpec) -> tuple[pd.DataFrame, int, pd.Series]:
    """One record per (row, item); empty items dropped unless keep_empty_when holds.

    Returns the melted frame, the number of empty item cells dropped, and for each raw
    row whether it produced at least one record.
    """
    assert src.melt is not None
    keep_empty = (
        evaluate(src.melt.keep_empty_when, raw)
        if src.melt.keep_empty_when is not None
        else pd.Series(False, index=raw.index)
    )
    parts = []
    dropped = 0
    for order, item in enumerate(src.melt.items):
        value = raw[item.value]
        keep = (value != "") | keep_empty
        dropped += int((~keep).sum())
        part = raw.loc[keep].copy()
        part[MELT_TEST] = item.test
        part[MELT_VALUE] = value[keep]
        if item.unit_column:
            part[MELT_UNIT] = raw.loc[keep, item.unit_column]
        else:
            part[MELT_UNIT] = item.unit or ""
        part["_ITEM"] = order
        parts.append(part)
    melted = pd.concat(parts) if parts else raw.iloc[0:0]
    melted = melted.reset_index(names="_IDX").sort_values(["_IDX", "_ITEM"], kind="stable")
    produced = pd.Series(raw.index.isin(melted["_IDX"]), index=raw.index)
    melted = melted.set_index("_IDX")
    melted.index.name = None
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
    needed = sorted(referenced_columns(bundle, domain, index))
    form.require(needed)
    raw = form.data.copy()
    raw[SRC] = form.file
    raw[ROW] = raw.index
    rows_read = len(raw)
    excluded: dict[str, int] = {}
    alive = pd.Series(True, index=raw.index)
    if src.drop_duplicates:
        data_cols = [c for c in form.data.columns]
        dup = raw.duplicated(subset=data_cols, keep="first")
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
        raw, not_recorded, produced = _melt(raw, src)
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
        out[name] = value.to_numpy()
    out[SRC] = raw[SRC].to_numpy()
    out[ROW] = raw[ROW].to_numpy()
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
