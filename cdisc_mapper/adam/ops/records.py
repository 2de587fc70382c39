"""Record builders: the ``records:`` steps of a dataset spec.

The first step makes the dataset's records (one per subject, one per SDTM finding or
event, or one per subject, parameter and period); later steps add derived rows (scores,
best-of records). Every builder declares the columns it makes and their define.xml
metadata; columns whose names start with ``_`` are working columns (e.g. ``_DTC``, the
source date text) that never reach the output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.derive import (
    SCORE_RULES,
    derive_best_record,
    derive_rate,
    derive_score,
)
from cdisc_mapper.adam.derive._keys import group_codes
from cdisc_mapper.adam.ops.base import record_op
from cdisc_mapper.condition import Condition, evaluate
from cdisc_mapper.condition import describe as describe_condition
from cdisc_mapper.errors import MappingError
from cdisc_mapper.spec.base import NAME_PATTERN
from cdisc_mapper.spec.operations import ColumnMeta, OpArgs

PARAMETER_COLUMNS = ("PARAMCD", "PARAM", "PARAMN", "PARCAT1")


# --------------------------------------------------------------------------- subjects
class SubjectsArgs(OpArgs):
    domain: str = Field(default="DM", pattern=r"^[A-Z]{2}$")

    def lookups(self) -> set[tuple[str, str]]:
        return {(self.domain, "USUBJID")}


@record_op(
    "subjects",
    SubjectsArgs,
    lambda a: {"USUBJID": ColumnMeta(origin="Predecessor", source=f"{a.domain}.USUBJID")},
)
def rec_subjects(frame: pd.DataFrame | None, args: SubjectsArgs, ctx: BuildContext) -> pd.DataFrame:
    """One record per subject of DM (ADSL), in USUBJID order."""
    return pd.DataFrame({"USUBJID": np.asarray(ctx.subjects, dtype=object)})


# --------------------------------------------------------------------------- findings
class ParameterSpec(OpArgs):
    paramcd: str = Field(pattern=NAME_PATTERN)
    param: str = Field(min_length=1, max_length=200)
    paramn: float
    parcat1: str | None = Field(default=None, max_length=200)
    tests: list[str] = Field(default_factory=list, description="source --TESTCD values")


class FindingsArgs(OpArgs):
    domain: str = Field(pattern=r"^[A-Z]{2}$")
    where: Condition | None = None
    test: str = Field(description="--TESTCD")
    value: str = Field(description="--STRESN")
    value_char: str | None = Field(default=None, description="--STRESC, for AVALC")
    dtc: str = Field(description="--DTC")
    seq: str = Field(description="--SEQ")
    keep: list[str] = Field(default_factory=list, description="SDTM variables copied as they are")
    parameters: list[ParameterSpec] = Field(min_length=1)
    unmapped: Literal["error", "drop"] = "error"

    @model_validator(mode="after")
    def _unique(self) -> FindingsArgs:
        codes = [p.paramcd for p in self.parameters]
        if len(codes) != len(set(codes)):
            raise ValueError("parameters: paramcd values must be unique")
        tests = [t for p in self.parameters for t in p.tests]
        if len(tests) != len(set(tests)):
            raise ValueError("parameters: a test code is given to two parameters")
        return self

    def lookups(self) -> set[tuple[str, str]]:
        names = {"USUBJID", self.test, self.value, self.dtc, self.seq, *self.keep}
        if self.value_char:
            names.add(self.value_char)
        if self.where:
            names |= self.where.variables()
        return {(self.domain, n) for n in names}


def _findings_columns(a: FindingsArgs) -> dict[str, ColumnMeta]:
    d = a.domain
    cols = {
        "USUBJID": ColumnMeta(origin="Predecessor", source=f"{d}.USUBJID"),
        "PARAMCD": ColumnMeta(
            origin="Assigned",
            source=f"{d}.{a.test}",
            method="Assigned from "
            + "; ".join(
                f"{p.paramcd} <- {d}.{a.test} in ({', '.join(p.tests)})" for p in a.parameters
            )
            + ".",
            type="Char",
        ),
        "PARAM": ColumnMeta(
            origin="Assigned", method="The parameter's description, one per PARAMCD.", type="Char"
        ),
        "PARAMN": ColumnMeta(
            origin="Assigned", method="The parameter's number, one per PARAMCD.", type="Num"
        ),
        "AVAL": ColumnMeta(
            origin="Predecessor",
            source=f"{d}.{a.value}",
            type="Num",
            value_level=tuple(
                (
                    "PARAMCD",
                    p.paramcd,
                    "Predecessor",
                    f"{d}.{a.value}",
                    f"{d}.{a.value} of the records with {a.test} in ({', '.join(p.tests)})."
                    if len(p.tests) > 1
                    else None,
                )
                for p in a.parameters
            ),
        ),
        "_DTC": ColumnMeta(origin="Predecessor", source=f"{d}.{a.dtc}", type="Char"),
        "SRCDOM": ColumnMeta(
            origin="Assigned", method=f"'{d}' on records taken from {d}.", type="Char"
        ),
        "SRCVAR": ColumnMeta(
            origin="Assigned", method=f"'{a.value}' on records taken from {d}.", type="Char"
        ),
        "SRCSEQ": ColumnMeta(origin="Predecessor", source=f"{d}.{a.seq}", type="Num"),
        "DTYPE": ColumnMeta(origin="Assigned", method="Null on observed records.", type="Char"),
    }
    if any(p.parcat1 for p in a.parameters):
        cols["PARCAT1"] = ColumnMeta(
            origin="Assigned", method="The parameter's category, one per PARAMCD.", type="Char"
        )
    if a.value_char:
        cols["AVALC"] = ColumnMeta(origin="Predecessor", source=f"{d}.{a.value_char}", type="Char")
    for k in a.keep:
        cols[k] = ColumnMeta(origin="Predecessor", source=f"{d}.{k}")
    return cols


def _parameter_table(parameters: list[ParameterSpec]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "PARAMCD": [p.paramcd for p in parameters],
            "PARAM": [p.param for p in parameters],
            "PARAMN": [float(p.paramn) for p in parameters],
            "PARCAT1": [p.parcat1 or "" for p in parameters],
        }
    )


@record_op("findings", FindingsArgs, _findings_columns)
def rec_findings(frame: pd.DataFrame | None, args: FindingsArgs, ctx: BuildContext) -> pd.DataFrame:
    """One record per SDTM Findings record, its test code mapped to an analysis parameter."""
    src = ctx.sdtm.frame(args.domain, sorted(n for _, n in args.lookups()))
    if args.where is not None:
        src = src[evaluate(args.where, src).to_numpy()]
    test_to_param = {t: p.paramcd for p in args.parameters for t in p.tests}
    paramcd = src[args.test].map(test_to_param)
    unmapped = paramcd.isna()
    if unmapped.any():
        if args.unmapped == "error":
            codes = sorted(set(src.loc[unmapped, args.test]))
            raise MappingError(
                f"{ctx.dataset}: {args.domain}.{args.test} values with no analysis parameter: "
                f"{', '.join(codes[:20])}",
                where=ctx.specs.where(ctx.dataset, ("records",)),
                hint="add them to the parameters, exclude them with 'where', or set unmapped: drop",
            )
        src = src[~unmapped.to_numpy()]
        paramcd = paramcd[~unmapped]
    out = pd.DataFrame(
        {
            "USUBJID": src["USUBJID"].to_numpy(dtype=object),
            "PARAMCD": paramcd.to_numpy(dtype=object),
        }
    )
    table = _parameter_table(args.parameters).set_index("PARAMCD")
    codes, uniques = pd.factorize(out["PARAMCD"])
    for col in ("PARAM", "PARAMN", "PARCAT1"):
        if col == "PARCAT1" and not any(p.parcat1 for p in args.parameters):
            continue
        per_unique = table[col].reindex(uniques).to_numpy()
        out[col] = per_unique[codes]
    out["AVAL"] = src[args.value].to_numpy(dtype="float64")
    if args.value_char:
        out["AVALC"] = src[args.value_char].to_numpy(dtype=object)
    out["_DTC"] = src[args.dtc].to_numpy(dtype=object)
    out["SRCDOM"] = args.domain
    out["SRCVAR"] = args.value
    out["SRCSEQ"] = src[args.seq].to_numpy(dtype="float64")
    out["DTYPE"] = ""
    for k in args.keep:
        out[k] = src[k].to_numpy()
    return out


# --------------------------------------------------------------------------- scores
class ScoreSpec(OpArgs):
    paramcd: str = Field(pattern=NAME_PATTERN)
    param: str = Field(min_length=1, max_length=200)
    paramn: float
    parcat1: str | None = None
    items: list[str] = Field(min_length=2, description="PARAMCD of the items")
    rule: str = "all_items"
    max_missing: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _rule(self) -> ScoreSpec:
        if self.rule not in SCORE_RULES:
            raise ValueError(f"unknown rule {self.rule!r}; known: {', '.join(SCORE_RULES)}")
        if self.rule == "all_items" and self.max_missing:
            raise ValueError("rule all_items allows no missing item: max_missing must be 0")
        if self.max_missing >= len(self.items):
            raise ValueError("max_missing must be less than the number of items")
        return self

    def describe(self, by: list[str]) -> str:
        rule = (
            "missing when any item is missing"
            if self.rule == "all_items"
            else f"with at most {self.max_missing} item(s) missing, the mean of the answered items "
            f"times {len(self.items)}; missing otherwise"
        )
        return (
            f"Sum of the AVAL of {', '.join(self.items)} of the same assessment "
            f"({', '.join(by)}); {rule}."
        )


class ScoresArgs(OpArgs):
    by: list[str] = Field(default_factory=lambda: ["USUBJID", "VISITNUM", "_DTC"])
    carry: list[str] = Field(default_factory=lambda: ["VISIT"], description="taken from the items")
    scores: list[ScoreSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ScoresArgs:
        codes = [x.paramcd for x in self.scores]
        if len(codes) != len(set(codes)):
            raise ValueError("scores: paramcd values must be unique")
        return self

    def inputs(self) -> set[str]:
        return {*self.by, *self.carry, "PARAMCD", "AVAL"}


def _scores_columns(a: ScoresArgs) -> dict[str, ColumnMeta]:
    vl = tuple(("PARAMCD", x.paramcd, "Derived", None, x.describe(a.by)) for x in a.scores)
    return {"AVAL": ColumnMeta(origin="Derived", type="Num", value_level=vl)}


@record_op("scores", ScoresArgs, _scores_columns, first=False, later=True)
def rec_scores(frame: pd.DataFrame | None, args: ScoresArgs, ctx: BuildContext) -> pd.DataFrame:
    """Derived parameters (totals, subscores) per assessment, from item parameters."""
    assert frame is not None
    missing = [c for c in [*args.by, *args.carry] if c not in frame.columns]
    if missing:
        raise MappingError(f"{ctx.dataset}: scores need columns {', '.join(missing)}")
    known = set(frame["PARAMCD"].unique())
    all_items = sorted({i for x in args.scores for i in x.items})
    items = frame[frame["PARAMCD"].isin(all_items).to_numpy()]
    groups = group_codes(items, args.by)
    pieces = []
    for x in args.scores:
        if not set(x.items) & known:
            raise MappingError(
                f"{ctx.dataset}: score {x.paramcd}: none of its items is in the data"
            )
        try:
            scores = derive_score(
                items,
                by=args.by,
                item="PARAMCD",
                value="AVAL",
                item_codes=x.items,
                rule=x.rule,
                max_missing=x.max_missing,
                groups=groups,
            )
        except ValueError as exc:
            raise MappingError(f"{ctx.dataset}: score {x.paramcd}: {exc}") from None
        rows = scores[[*args.by, "AVAL"]].copy()
        for c in args.carry:
            rows[c] = items[c].to_numpy()[scores["ROW"].to_numpy()]
        rows["PARAMCD"] = x.paramcd
        rows["PARAM"] = x.param
        rows["PARAMN"] = float(x.paramn)
        if "PARCAT1" in frame.columns:
            rows["PARCAT1"] = x.parcat1 or ""
        pieces.append(rows)
    rows = pd.concat(pieces, ignore_index=True)
    rows["SRCDOM"] = ""
    rows["SRCVAR"] = ""
    rows["SRCSEQ"] = np.nan
    rows["DTYPE"] = ""
    return _append(frame, rows)


def _append(frame: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``rows`` added; columns the new rows lack are blank/NaN."""
    rows = rows.copy()
    for c in frame.columns:
        if c not in rows.columns:
            rows[c] = np.nan if pd.api.types.is_numeric_dtype(frame[c]) else ""
    rows = rows[list(frame.columns)]
    for c in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[c]):
            col = rows[c].to_numpy(dtype=object)
            miss = pd.isna(col)
            if miss.any():
                col = col.copy()
                col[miss] = ""
            rows[c] = col
    return pd.concat([frame, rows], ignore_index=True)


# --------------------------------------------------------------------------- best of several
class BestRecordArgs(OpArgs):
    parameters: list[str] = Field(min_length=1)
    function: Literal["maximum", "minimum"] = "maximum"
    dtype: str = Field(default="MAXIMUM", max_length=20)
    by: list[str] = Field(default_factory=lambda: ["USUBJID", "PARAMCD", "_DTC"])
    order_by: list[str] = Field(default_factory=list, description="tie-break, first wins")
    clear: list[str] = Field(default_factory=list, description="columns blanked on the new rows")

    def inputs(self) -> set[str]:
        return {*self.by, *self.order_by, *self.clear, "PARAMCD", "AVAL"}


def _best_columns(a: BestRecordArgs) -> dict[str, ColumnMeta]:
    how = "highest" if a.function == "maximum" else "lowest"
    return {
        "DTYPE": ColumnMeta(
            origin="Assigned",
            method=f"{a.dtype!r} on the record added per {', '.join(a.by)} for "
            f"{', '.join(a.parameters)}: a copy "
            f"of the record with the {how} AVAL"
            + (f" (ties: the first by {', '.join(a.order_by)})" if a.order_by else "")
            + "; null on observed records.",
            type="Char",
            codelist="DTYPE",
        ),
    }


@record_op("best_record", BestRecordArgs, _best_columns, first=False, later=True)
def rec_best_record(
    frame: pd.DataFrame | None, args: BestRecordArgs, ctx: BuildContext
) -> pd.DataFrame:
    """A DTYPE record per group: a copy of the record with the best value (e.g. the best
    FVC effort of a visit)."""
    assert frame is not None
    cand = frame[frame["PARAMCD"].isin(args.parameters) & frame["DTYPE"].eq("")]
    pos = derive_best_record(
        cand, by=args.by, value="AVAL", function=args.function, order_by=args.order_by
    )
    rows = cand.iloc[pos.to_numpy()].copy()
    rows["DTYPE"] = args.dtype
    for c in args.clear:
        rows[c] = np.nan if pd.api.types.is_numeric_dtype(rows[c]) else ""
    return _append(frame, rows.reset_index(drop=True))


# --------------------------------------------------------------------------- occurrences
class OccurrencesArgs(OpArgs):
    domain: str = Field(pattern=r"^[A-Z]{2}$")
    keep: list[str] = Field(min_length=1)
    where: Condition | None = None

    def lookups(self) -> set[tuple[str, str]]:
        names = {"USUBJID", *self.keep} | (self.where.variables() if self.where else set())
        return {(self.domain, n) for n in names}


@record_op(
    "occurrences",
    OccurrencesArgs,
    lambda a: {
        "USUBJID": ColumnMeta(origin="Predecessor", source=f"{a.domain}.USUBJID"),
        **{k: ColumnMeta(origin="Predecessor", source=f"{a.domain}.{k}") for k in a.keep},
    },
)
def rec_occurrences(
    frame: pd.DataFrame | None, args: OccurrencesArgs, ctx: BuildContext
) -> pd.DataFrame:
    """One record per SDTM Events/Interventions record (OCCDS), its variables copied."""
    src = ctx.sdtm.frame(args.domain, sorted(n for _, n in args.lookups()))
    if args.where is not None:
        src = src[evaluate(args.where, src).to_numpy()]
    cols = ["USUBJID", *[k for k in args.keep if k != "USUBJID"]]
    return src[cols].reset_index(drop=True).copy()


# --------------------------------------------------------------------------- progression
class RateParameter(OpArgs):
    paramcd: str = Field(pattern=NAME_PATTERN)
    param: str = Field(min_length=1, max_length=200)
    paramn: float
    source: str = Field(pattern=r"^AD[A-Z0-9]{1,6}$", description="BDS dataset of assessments")
    source_paramcd: str
    method: Literal["slope", "two_point"]
    where: Condition | None = None


class ProgressionArgs(OpArgs):
    date: str = "ADT"
    value: str = "AVAL"
    parameters: list[RateParameter] = Field(min_length=1)
    periods: list[int] = Field(default_factory=list)
    phases: list[int] = Field(default_factory=list)
    min_assessments: int = Field(default=2, ge=2)
    reason: str = Field(default="FEWER THAN 2 ASSESSMENTS IN THE PERIOD", max_length=200)
    count_variable: str = Field(default="NASMT", pattern=NAME_PATTERN)
    reason_variable: str = Field(default="AVALREAS", pattern=NAME_PATTERN)

    @model_validator(mode="after")
    def _some(self) -> ProgressionArgs:
        if not self.periods and not self.phases:
            raise ValueError("give periods and/or phases")
        return self

    def lookups(self) -> set[tuple[str, str]]:
        out: set[tuple[str, str]] = set()
        for p in self.parameters:
            names = {"USUBJID", "PARAMCD", self.date, self.value}
            if p.where:
                names |= p.where.variables()
            out |= {(p.source, n) for n in names}
        return out

    def conventions_used(self) -> set[tuple[str, str | int]]:
        return {("period", n) for n in self.periods}


def _method_text(a: ProgressionArgs, p: RateParameter, month_days: str) -> str:
    rule = (
        "the ordinary least-squares slope of AVAL on time"
        if p.method == "slope"
        else "(AVAL at the last assessment - AVAL at the first) / (time between them)"
    )
    sel = f" where {describe_condition(p.where)}" if p.where else ""
    return (
        f"{rule}, time in months = (ADT - period start) / {month_days}, over the {p.source} "
        f"PARAMCD = {p.source_paramcd!r}{sel} assessments with non-missing {a.value} dated within "
        f"the period (start and end days included; values on the same day averaged). Null, with "
        f"{a.reason_variable} = {a.reason!r}, when fewer than {a.min_assessments} assessments."
    )


def _progression_columns(a: ProgressionArgs) -> dict[str, ColumnMeta]:
    vl = tuple(
        (
            "PARAMCD",
            p.paramcd,
            "Derived",
            f"{p.source}.{a.value}",
            _method_text(a, p, "30.4375 days"),
        )
        for p in a.parameters
    )
    sources = sorted({p.source for p in a.parameters})
    return {
        "USUBJID": ColumnMeta(origin="Predecessor", source="ADSL.USUBJID"),
        "PARAMCD": ColumnMeta(
            origin="Assigned", method="One code per rate parameter.", type="Char"
        ),
        "PARAM": ColumnMeta(origin="Assigned", method="The parameter's description.", type="Char"),
        "PARAMN": ColumnMeta(origin="Assigned", method="The parameter's number.", type="Num"),
        "APERIOD": ColumnMeta(
            method="The period the rate covers (ADSL APxxSDT..APxxEDT); "
            "null on whole-phase records.",
            type="Num",
        ),
        "APERIODC": ColumnMeta(method="Text of APERIOD.", type="Char"),
        "APHASE": ColumnMeta(
            method="The phase of the period, or the phase a whole-phase record covers.", type="Char"
        ),
        "APHASEN": ColumnMeta(method="Number of APHASE.", type="Num"),
        "APERSDT": ColumnMeta(method="ADSL APxxSDT of APERIOD.", type="Num", date=True),
        "APEREDT": ColumnMeta(method="ADSL APxxEDT of APERIOD.", type="Num", date=True),
        "PHSDT": ColumnMeta(method="ADSL PHwSDT of APHASE.", type="Num", date=True),
        "PHEDT": ColumnMeta(method="ADSL PHwEDT of APHASE.", type="Num", date=True),
        "AVAL": ColumnMeta(
            origin="Derived",
            source=", ".join(f"{x}.{a.value}" for x in sources),
            type="Num",
            value_level=vl,
        ),
        "ASTDT": ColumnMeta(
            method=f"{a.date} of the first assessment used.", type="Num", date=True
        ),
        "AENDT": ColumnMeta(method=f"{a.date} of the last assessment used.", type="Num", date=True),
        a.count_variable: ColumnMeta(
            method="Number of assessments (distinct days) in the period.", type="Num"
        ),
        a.reason_variable: ColumnMeta(
            method=f"{a.reason!r} when AVAL is null for that reason; null otherwise.", type="Char"
        ),
        "SRCDOM": ColumnMeta(
            origin="Assigned",
            method="The dataset of the assessments: "
            + ", ".join(f"{p.paramcd}: '{p.source}'" for p in a.parameters)
            + ".",
            type="Char",
        ),
        "SRCVAR": ColumnMeta(origin="Assigned", method=f"'{a.value}'.", type="Char"),
    }


@dataclass(frozen=True)
class _Span:
    """A period (or a whole phase, ``aperiod`` NaN) with its per-subject dates."""

    aperiod: float
    aperiodc: str
    aphasen: float
    aphase: str
    start: pd.Series
    end: pd.Series


@record_op("progression", ProgressionArgs, _progression_columns)
def rec_progression(
    frame: pd.DataFrame | None, args: ProgressionArgs, ctx: BuildContext
) -> pd.DataFrame:
    """One record per subject, rate parameter and period (or whole phase): the monthly
    progression rate over the period's assessments."""
    conv = ctx.conventions
    table = ctx.period_table
    spans: list[_Span] = []
    for n in args.periods:
        ph = conv.phase_of(n)
        s, e = table.periods[n]
        spans.append(
            _Span(
                float(n),
                conv.period(n).aperiodc,
                float(ph.aphasen) if ph else np.nan,
                ph.aphase if ph else "",
                s,
                e,
            )
        )
    for n in args.phases:
        ph = next(x for x in conv.phases if x.aphasen == n)
        s, e = table.phases[n]
        spans.append(_Span(np.nan, "", float(n), ph.aphase, s, e))
    pieces = []
    for p in args.parameters:
        src = ctx.table(p.source, sorted(n for d, n in args.lookups() if d == p.source))
        sel = src["PARAMCD"].eq(p.source_paramcd)
        if p.where is not None:
            sel = sel & evaluate(p.where, src)
        a = src.loc[sel.to_numpy(), ["USUBJID", args.date, args.value]]
        a = a[a[args.date].notna() & a[args.value].notna()]
        a = a.groupby(["USUBJID", args.date], sort=True, as_index=False)[args.value].mean()
        for span in spans:
            aperiod, aphasen, s, e = span.aperiod, span.aphasen, span.start, span.end
            subj = s.index[s.notna().to_numpy()]
            rows = pd.DataFrame({"USUBJID": np.asarray(subj, dtype=object)})
            start = s.reindex(subj).to_numpy(dtype="float64")
            end = e.reindex(subj).to_numpy(dtype="float64")
            astart = ctx.to_rows(a, s).to_numpy()
            aend = ctx.to_rows(a, e).to_numpy()
            d = a[args.date].to_numpy(dtype="float64")
            with np.errstate(invalid="ignore"):
                inside = (d >= astart) & (d <= aend)
            part = a[inside]
            x = (part[args.date] - pd.Series(astart[inside], index=part.index)) / conv.month_days
            rate = derive_rate(p.method, part[["USUBJID"]], x, part[args.value])
            rows = rows.merge(rate, on="USUBJID", how="left", sort=False)
            n_used = rows["N"].fillna(0).to_numpy()
            too_few = n_used < args.min_assessments
            rows["AVAL"] = rows["AVAL"].where(~too_few)
            rows[args.count_variable] = n_used.astype("float64")
            rows[args.reason_variable] = np.where(too_few, args.reason, "").astype(object)
            # whole days back from months (exact after rounding)
            rows["ASTDT"] = np.rint(start + rows["XFIRST"].to_numpy() * conv.month_days)
            rows["AENDT"] = np.rint(start + rows["XLAST"].to_numpy() * conv.month_days)
            rows["PARAMCD"] = p.paramcd
            rows["PARAM"] = p.param
            rows["PARAMN"] = float(p.paramn)
            rows["APERIOD"] = aperiod
            rows["APERIODC"] = span.aperiodc
            rows["APHASEN"] = aphasen
            rows["APHASE"] = span.aphase
            is_period = not np.isnan(aperiod)
            rows["APERSDT"] = start if is_period else np.nan
            rows["APEREDT"] = end if is_period else np.nan
            if not np.isnan(aphasen):
                ps, pe = table.phases[int(aphasen)]
                rows["PHSDT"] = ps.reindex(subj).to_numpy(dtype="float64")
                rows["PHEDT"] = pe.reindex(subj).to_numpy(dtype="float64")
            else:
                rows["PHSDT"] = np.nan
                rows["PHEDT"] = np.nan
            rows["SRCDOM"] = p.source
            rows["SRCVAR"] = args.value
            pieces.append(rows.drop(columns=["N", "XFIRST", "XLAST"]))
    out = pd.concat(pieces, ignore_index=True)
    return out
