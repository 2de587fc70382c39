"""Values across several sources: the first non-missing value of an ordered list of
sources (``coalesce``) and the latest or earliest date over several domains
(``latest_date``, ``earliest_date``), in the manner of admiral's ``derive_vars_merged``
with several sources and ``derive_var_extreme_dt``.

Rules implemented (ADaMIG v1.3):

* Section 3.1.1 (General Variable Conventions): a subject-level variable may be derived
  from several SDTM domains; the spec states the sources and their order of precedence
  (e.g. DTHCAUS from AE, else DS).
* Section 3.1.2 (Timing Variable Conventions): dates are SAS date numbers; a partial
  ISO 8601 date counts only when the spec states how it is completed (``impute``),
  otherwise it is left out (admiral's default, no imputation).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.derive import derive_imputed_date, derive_numeric_date
from cdisc_mapper.adam.ops.base import column_op
from cdisc_mapper.adam.ops.common import column_of
from cdisc_mapper.adam.ops.dates import ImputeSpec
from cdisc_mapper.adam.ops.lookups import Lookup, lookup
from cdisc_mapper.condition import Condition, evaluate
from cdisc_mapper.condition import describe as describe_condition
from cdisc_mapper.spec.base import split_source
from cdisc_mapper.spec.operations import ColumnMeta, Example, OpArgs


def _blank(values: pd.Series) -> np.ndarray:
    """Where a value is missing: NaN, or null/blank text."""
    if pd.api.types.is_numeric_dtype(values):
        return np.isnan(values.to_numpy(dtype="float64"))
    text = values.astype(object).where(values.notna(), "")
    return (text.astype(str).str.strip() == "").to_numpy()


# --------------------------------------------------------------------------- coalesce
class CoalesceArgs(OpArgs):
    sources: list[Lookup] = Field(
        min_length=2,
        description="the sources in order of precedence, each as `derive: value` reads one "
        "(`source`, and for another dataset `where`, `select`, `order_by`); the first that "
        "has a value for the record gives it",
    )

    def inputs(self) -> set[str]:
        return set().union(*(s.inputs() for s in self.sources))

    def lookups(self) -> set[tuple[str, str]]:
        return set().union(*(s.lookups() for s in self.sources))


def _coalesce_meta(a: CoalesceArgs, c: BuildContext | None) -> ColumnMeta:
    listed = "; else ".join(s.describe() for s in a.sources)
    return ColumnMeta(
        origin="Derived",
        source=", ".join(".".join(p for p in split_source(s.source) if p) for s in a.sources),
        method=f"The first non-missing of: {listed}; null when none has a value.",
    )


@column_op(
    "coalesce",
    CoalesceArgs,
    _coalesce_meta,
    example=Example(
        spec="DTHCAUS: {derive: coalesce, sources: [{source: AE.AEDECOD, where: {variable: "
        "AEOUT, equals: FATAL}}, {source: DS.DSTERM, where: {variable: DSDECOD, equals: "
        "DEATH}}]}",
        records={"USUBJID": ["S1", "S2", "S3"]},
        domains={
            "AE": {
                "USUBJID": ["S1", "S2"],
                "AEDECOD": ["MYOCARDIAL INFARCTION", "HEADACHE"],
                "AEOUT": ["FATAL", "RECOVERED/RESOLVED"],
            },
            "DS": {
                "USUBJID": ["S1", "S2", "S3"],
                "DSTERM": ["DEATH DUE TO MI", "DEATH", "COMPLETED"],
                "DSDECOD": ["DEATH", "DEATH", "COMPLETED"],
            },
        },
        gives=["MYOCARDIAL INFARCTION", "DEATH", ""],
    ),
)
def op_coalesce(frame: pd.DataFrame, args: CoalesceArgs, ctx: BuildContext) -> pd.Series:
    """The first non-missing value over an ordered list of sources (admiral
    ``derive_vars_merged`` applied source by source, keeping the first value found), ADaMIG
    v1.3 section 3.1.1: e.g. DTHCAUS from the fatal adverse event, else from the
    disposition record of death. Each source is read as ``derive: value`` reads it (one
    record per subject: ``where``, then ``select``/``order_by`` when several qualify);
    null where no source has a value. The sources must all be text or all numbers."""
    values = [lookup(frame, ctx, s) for s in args.sources]
    numeric = [pd.api.types.is_numeric_dtype(v) for v in values]
    if any(numeric) and not all(numeric):
        kinds = ", ".join(
            f"{s.source} ({'number' if n else 'text'})"
            for s, n in zip(args.sources, numeric, strict=True)
        )
        raise ValueError(f"coalesce needs sources of one type: {kinds}")
    if all(numeric):
        out = np.full(len(frame), np.nan)
        for v in values:
            arr = v.to_numpy(dtype="float64")
            out = np.where(np.isnan(out), arr, out)
        return pd.Series(out, index=frame.index)
    text = np.full(len(frame), "", dtype=object)
    for v in values:
        take = (text == "") & ~_blank(v)
        text[take] = v.to_numpy(dtype=object)[take]
    return pd.Series(text, index=frame.index, dtype=object)


# --------------------------------------------------------------------------- extreme dates
class DateSource(OpArgs):
    source: str = Field(
        description="the dates: `VAR` (this dataset's variable, or ADSL's) or `DOMAIN.VAR` "
        "(an SDTM domain or an earlier ADaM dataset); ISO 8601 text (e.g. AE.AESTDTC) or "
        "numeric SAS dates (e.g. ADSL.TRTEDT)"
    )
    where: Condition | None = Field(
        default=None,
        description="condition on that dataset's variables choosing the records whose dates "
        "count (another dataset only); none: every record of the subject",
    )
    impute: ImputeSpec | None = Field(
        default=None,
        description="how a partial ISO 8601 date is completed before it counts (`day`, "
        "`month` as in `derive: date`); none: partial dates are left out",
    )

    @model_validator(mode="after")
    def _check(self) -> DateSource:
        dom, _ = split_source(self.source)
        if dom is None and self.where is not None:
            raise ValueError(f"{self.source}: where applies to a source in another dataset")
        if self.impute is not None and (self.impute.not_before or self.impute.not_after):
            raise ValueError("impute: not_before/not_after do not apply to a date source")
        return self

    def as_lookup(self) -> Lookup:
        return Lookup(source=self.source, where=self.where)

    def describe(self) -> str:
        dom, var = split_source(self.source)
        text = f"{dom}.{var}" if dom else var
        if self.where is not None:
            text += f" where {describe_condition(self.where)}"
        if self.impute is not None:
            text += f" (partial dates imputed: {self.impute.day} day, {self.impute.month} month)"
        return text


class ExtremeDateArgs(OpArgs):
    sources: list[DateSource] = Field(
        min_length=1,
        description="the date sources; the subject's latest (or earliest) date over all "
        "their records gives the value",
    )

    def inputs(self) -> set[str]:
        return {
            split_source(s.source)[1] for s in self.sources if split_source(s.source)[0] is None
        }

    def lookups(self) -> set[tuple[str, str]]:
        out: set[tuple[str, str]] = set()
        for s in self.sources:
            out |= s.as_lookup().lookups()
        return out


def _as_dates(values: pd.Series, impute: ImputeSpec | None) -> pd.Series:
    """SAS dates of ``values``: numbers as they are; ISO 8601 text complete to the day (or
    imputed by ``impute``)."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = values.astype(object).where(values.notna(), "")
    if impute is None:
        return derive_numeric_date(text)
    return derive_imputed_date(text, day=impute.day, month=impute.month)[0]


def _source_dates(
    frame: pd.DataFrame, ctx: BuildContext, src: DateSource, latest: bool
) -> np.ndarray:
    """The extreme date of one source on the rows of ``frame``."""
    dom, var = split_source(src.source)
    if dom is None:
        return _as_dates(column_of(frame, ctx, var), src.impute).to_numpy(dtype="float64")
    needed = ["USUBJID", var] + (sorted(src.where.variables()) if src.where else [])
    other = ctx.table(dom, needed)
    if src.where is not None:
        other = other[evaluate(src.where, other).to_numpy()]
    dates = _as_dates(other[var].reset_index(drop=True), src.impute)
    grouped = dates.groupby(other["USUBJID"].to_numpy())
    per_subject = grouped.max() if latest else grouped.min()
    per_subject.index.name = "USUBJID"
    return ctx.to_rows(frame, per_subject.astype("float64")).to_numpy(dtype="float64")


def _extreme(
    frame: pd.DataFrame, args: ExtremeDateArgs, ctx: BuildContext, latest: bool
) -> pd.Series:
    out = np.full(len(frame), np.nan)
    pick = np.fmax if latest else np.fmin
    for src in args.sources:
        out = pick(out, _source_dates(frame, ctx, src, latest))
    return pd.Series(out, index=frame.index)


def _extreme_meta(latest: bool) -> Callable[[ExtremeDateArgs, BuildContext | None], ColumnMeta]:
    def meta(a: ExtremeDateArgs, c: BuildContext | None) -> ColumnMeta:
        which = "latest" if latest else "earliest"
        listed = "; ".join(s.describe() for s in a.sources)
        return ColumnMeta(
            origin="Derived",
            source=", ".join(".".join(p for p in split_source(s.source) if p) for s in a.sources),
            method=f"The {which} date of: {listed}. Partial dates count only where imputed; "
            "null when no source has a date.",
            type="Num",
            date=True,
        )

    return meta


_LSTALVDT = Example(
    spec="LSTALVDT: {derive: latest_date, sources: [{source: AE.AESTDTC}, {source: "
    "AE.AEENDTC}, {source: TRTSDT}]}",
    records={"USUBJID": ["S1", "S2", "S3"]},
    domains={
        "AE": {
            "USUBJID": ["S1", "S1", "S2"],
            "AESTDTC": ["2020-03-01", "2020-04", "2020-01-05"],
            "AEENDTC": ["2020-03-10", "", "2020-01-07"],
        },
        "ADSL": {"USUBJID": ["S1", "S2", "S3"], "TRTSDT": ["2020-02-01", "2020-02-15", None]},
    },
    gives=["2020-03-10", "2020-02-15", None],
    note="S1: 2020-03-10 (the partial 2020-04 is left out without `impute`); S2: TRTSDT "
    "2020-02-15 (ADSL) is later than its AE dates; S3: no date. The result is a SAS date "
    "number (shown as ISO 8601 here).",
)


@column_op("latest_date", ExtremeDateArgs, _extreme_meta(True), example=_LSTALVDT)
def op_latest_date(frame: pd.DataFrame, args: ExtremeDateArgs, ctx: BuildContext) -> pd.Series:
    """The latest date over several sources (admiral ``derive_var_extreme_dt`` with
    ``mode = "last"``), ADaMIG v1.3 section 3.1.2: e.g. LSTALVDT, the last date known
    alive, over AE, LB and the last dose. Each source gives the subject's latest date among
    its records where ``where`` holds; a partial date counts only with ``impute``; null
    when no source has a date."""
    return _extreme(frame, args, ctx, latest=True)


@column_op(
    "earliest_date",
    ExtremeDateArgs,
    _extreme_meta(False),
    example=Example(
        spec="FIRSTDT: {derive: earliest_date, sources: [{source: EX.EXSTDTC}, {source: RFICDT}]}",
        records={"USUBJID": ["S1", "S2", "S3"]},
        domains={
            "EX": {"USUBJID": ["S1", "S2"], "EXSTDTC": ["2020-02-01", "2020-01-05"]},
            "ADSL": {
                "USUBJID": ["S1", "S2", "S3"],
                "RFICDT": ["2020-01-01", "2020-01-10", "2020-01-20"],
            },
        },
        gives=["2020-01-01", "2020-01-05", "2020-01-20"],
        note="the earlier of the first dose (EX) and the consent date (ADSL RFICDT); S2 was "
        "dosed before its recorded consent, S3 never.",
    ),
)
def op_earliest_date(frame: pd.DataFrame, args: ExtremeDateArgs, ctx: BuildContext) -> pd.Series:
    """The earliest date over several sources (admiral ``derive_var_extreme_dt`` with
    ``mode = "first"``), ADaMIG v1.3 section 3.1.2; as ``latest_date`` otherwise."""
    return _extreme(frame, args, ctx, latest=False)
