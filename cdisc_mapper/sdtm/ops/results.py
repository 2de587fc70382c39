"""Findings results: --ORRES as collected, --STRESC/--STRESN in standard units (SDTMIG
3.4 section 4.5.1), numbers from text (read by the study's number convention), --NRIND and
--LOBXFL (section 4.5.9)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.derive import flags as dflags
from cdisc_mapper.derive import results as dresults
from cdisc_mapper.derive import units as dunits
from cdisc_mapper.derive.numbers import CANONICAL, NumberConvention
from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.sdtm.context import OpContext, as_text
from cdisc_mapper.sdtm.ops._common import (
    ColumnOrVariable,
    by_record,
    in_variable,
    input_values,
    record_labels,
    subject_key,
)
from cdisc_mapper.sdtm.registry import register
from cdisc_mapper.spec.operations import OpArgs
from cdisc_mapper.spec.study import DecimalMark, NumberFormat, ThousandsSeparator


class NumberSettings(OpArgs):
    """How this operation's input writes numbers, over the source's and study's
    ``numbers`` (README, "Numbers")."""

    decimal_mark: DecimalMark | None = Field(
        default=None,
        description="'.', ',' or either; default: the source's or study.yaml `numbers` for "
        "a raw column, '.' for a mapped variable (how result and number write numbers). "
        "With either, a mark followed by exactly three digits (1,000) is ambiguous: an error",
    )
    thousands_separator: ThousandsSeparator | None = Field(
        default=None,
        description="none, ',', '.', ' ' or \"'\"; default as for decimal_mark (none for a "
        "mapped variable). A number the convention cannot read (250,000 with none) is an "
        "error naming the setting that reads it",
    )
    decimal_comma: bool | None = Field(
        default=None,
        description="older spelling of decimal_mark: true is either, false is '.'",
    )

    @model_validator(mode="after")
    def _one_spelling(self) -> NumberSettings:
        if self.decimal_comma is not None and self.decimal_mark is not None:
            raise ValueError("give decimal_mark or decimal_comma (its older spelling), not both")
        self.stated()  # the two settings must not name the same character
        return self

    def stated(self) -> NumberFormat:
        mark = self.decimal_mark
        if self.decimal_comma is not None:
            mark = "either" if self.decimal_comma else "."
        return NumberFormat(decimal_mark=mark, thousands_separator=self.thousands_separator)


#: How mapped variables write numbers: ``result`` and ``number`` write them this way.
_MAPPED = NumberFormat(decimal_mark=".", thousands_separator="none")


def number_convention(args: NumberSettings, ctx: OpContext, *, raw: bool) -> NumberConvention:
    """The convention for the operation's input: its own settings over, for a raw column,
    the source's and study's ``numbers``; for a mapped variable, over how the tool writes
    numbers (decimal point, no thousands separator)."""
    base = (ctx.numbers or ctx.study.numbers) if raw else _MAPPED
    merged = args.stated().over(base)
    try:
        return NumberConvention(
            decimal_mark=merged.decimal_mark or "either",
            thousands_separator=merged.thousands_separator or "none",
        )
    except SpecError as exc:
        raise SpecError(
            f"{ctx.domain}.{ctx.variable}: number settings: {exc.message}",
            where=ctx.spec_where,
            hint="the operation's settings combine with the source's and study.yaml `numbers`",
        ) from None


def _settings_hint(raw: bool) -> str:
    if raw:
        return (
            "state how the form writes numbers: `numbers: {decimal_mark: ..., "
            "thousands_separator: ...}` in study.yaml, or in this source for one form; "
            "decimal_mark/thousands_separator on the operation override both"
        )
    return (
        "a mapped variable is read as result and number write numbers (decimal point, no "
        "thousands separator): map it with result or number from the raw column, or give "
        "the operation decimal_mark/thousands_separator"
    )


def read_numbers(
    frame: pd.DataFrame,
    text: pd.Series,
    args: NumberSettings,
    ctx: OpContext,
    *,
    column: str | None = None,
) -> pd.DataFrame:
    """:func:`~cdisc_mapper.derive.results.parse_numeric_result` of ``text`` (the raw
    ``column``, or a mapped variable when None) under the operation's convention; a number
    it cannot read is an error naming each record (file and row), its value, the readings
    and the setting that resolves it."""
    raw = column is not None
    convention = number_convention(args, ctx, raw=raw)
    try:
        return dresults.parse_numeric_result(text, convention=convention)
    except MappingError:
        holder = ctx.raw if raw and ctx.raw is not None else frame
        try:  # again on the records' file:row labels, for the message
            dresults.parse_numeric_result(by_record(holder, text), convention=convention)
        except MappingError as exc:
            place = f", column {column}" if raw else ""
            spec = f" [spec {ctx.spec_where}]" if ctx.spec_where else ""
            raise MappingError(
                f"{ctx.domain}.{ctx.variable}{place}: {exc.message}{spec}",
                hint=_settings_hint(raw),
            ) from None
        raise


class ResultArgs(NumberSettings, ColumnOrVariable):
    pass


@register(
    "result",
    ResultArgs,
    method=(
        "The result as collected (--ORRES), blanks trimmed; a number is written with a "
        "decimal point and no thousands separator (72,5 as 72.5; 250,000 as 250000 where "
        "the study states a comma thousands separator), so that --ORRES reads as a number "
        "everywhere; nothing else changes."
    ),
    origin="Collected",
)
def op_result(frame: pd.DataFrame, args: ResultArgs, ctx: OpContext) -> pd.Series:
    """The result as collected (--ORRES), blanks trimmed; a number is written with a
    decimal point and no thousands separator, read by the study's number convention
    (``numbers``), so that --ORRES reads as a number everywhere; nothing else changes. A
    number the convention cannot read, or reads two ways, is an error."""
    src = input_values(frame, args, ctx)
    parsed = read_numbers(frame, src, args, ctx, column=args.column)
    return parsed["canonical"].astype(object)


class _StrescVariables(OpArgs):
    orres: str = Field(
        description="variable holding the result as collected (--ORRES, or a range limit such "
        "as --ORNRLO)"
    )
    orresu: str = Field(description="variable holding the original unit (--ORRESU)")
    stresu: str = Field(
        description="variable holding the standard unit (--STRESU); numbers are converted "
        "from --ORRESU to it with study.yaml `units.conversions`"
    )
    testcd: str = Field(
        description="variable holding the test code (--TESTCD) that picks a test's own "
        'conversion over a `test: "*"` one'
    )

    trailing_zeros: Literal["keep", "drop"] = Field(
        default="keep",
        description="how a result rounded to its conversion's `decimals` is written: keep "
        "writes exactly that many decimals (98.6 F with decimals 1: 37.0), drop removes "
        "trailing zeros (37; 36.50 as 36.5), as SAS's BEST. format writes them and the CDISC "
        "pilot submitted them. A result already in the standard unit is always written "
        "without trailing zeros (06.20 as 6.2)",
    )

    def inputs(self) -> set[str]:
        return {self.orres, self.orresu, self.stresu, self.testcd}


class StrescArgs(NumberSettings, _StrescVariables):
    pass


@register(
    "stresc",
    StrescArgs,
    method="Result in standard format and units (SDTMIG 3.4 section 4.5.1).",
    origin="Derived",
    row_local=True,
)
def op_stresc(frame: pd.DataFrame, args: StrescArgs, ctx: OpContext) -> pd.Series:
    """--STRESC, the result in standard format and units (SDTMIG 3.4 section 4.5.1):
    numeric results are converted from --ORRESU to --STRESU with the study's conversion
    table (study.yaml ``units.conversions``, rounded to its ``decimals``); results with an
    operator (``<5``) keep it, with the bound converted; text results are copied."""
    orres = frame[args.orres].fillna("").astype(str)
    parsed = read_numbers(frame, orres, args, ctx)
    table = [
        {"test": c.test, "from": c.from_, "to": c.to, "factor": c.factor, "offset": c.offset}
        for c in ctx.study.units.conversions
    ]
    from_u = frame[args.orresu].fillna("").astype(str)
    to_u = frame[args.stresu].fillna("").astype(str)
    # every result with a number, also an inequality (<0.1 mg/dL -> <1.71 umol/L)
    unitless = parsed["value"].notna() & (from_u == "") & (to_u != "")
    if unitless.any():  # its unit is unknown: never assume the standard one
        raise ctx.data_error(
            f"a number without its unit ({args.orresu} empty) cannot be given in the "
            f"standard unit {args.stresu}",
            frame,
            unitless,
            value_of=orres,
        )
    need = parsed["value"].notna() & (from_u != "") & (to_u != "")
    factor = pd.Series(1.0, index=frame.index)
    offset = pd.Series(0.0, index=frame.index)
    if need.any():
        try:
            where = record_labels(frame)[need]
            f, o = dunits.conversion_factors(
                frame.loc[need, args.testcd].astype(str).set_axis(where),
                from_u[need].set_axis(where),
                to_u[need].set_axis(where),
                table,
            )
            f, o = f.set_axis(frame.index[need]), o.set_axis(frame.index[need])
        except MappingError as exc:
            raise MappingError(
                f"{ctx.domain}.{ctx.variable}: {exc}", where=ctx.spec_where
            ) from None
        factor[need] = f.astype(float)
        offset[need] = o.astype(float)
    decimals = pd.Series(np.nan, index=frame.index)
    converted = need & (from_u != to_u)
    if converted.any():
        rounding = {
            (c.test, c.from_, c.to): c.decimals
            for c in ctx.study.units.conversions
            if c.decimals is not None
        }
        tests = frame[args.testcd].fillna("").astype(str)
        for (test, src_u, dst_u), dec in rounding.items():
            hit = converted & (from_u == src_u) & (to_u == dst_u)
            if test != "*":
                hit &= tests == test
            decimals[hit] = dec
    std = dresults.derive_standard_result(
        orres,
        factor,
        offset=offset,
        decimals=decimals,
        convention=number_convention(args, ctx, raw=False),
    )
    stresc = std["stresc"]
    if args.trailing_zeros == "drop":
        rounded = decimals.notna()  # numbers only: a conversion applies to them alone
        stresc = stresc.where(~rounded, _without_trailing_zeros(stresc))
    return stresc.astype(object)


def _without_trailing_zeros(text: pd.Series) -> pd.Series:
    """Numbers written without the zeros after their last significant decimal, nor a
    point left alone (``36.50`` -> ``36.5``, ``<37.0`` -> ``<37``, ``140`` stays)."""
    trimmed = text.str.replace(r"(\.\d*?)0+$", r"\1", regex=True)
    return trimmed.str.replace(r"\.$", "", regex=True)


class NumericArgs(OpArgs):
    variable: str = Field(
        description="variable holding the standard result as text (--STRESC); a plain "
        "number gives --STRESN, anything else (e.g. <5, POSITIVE) gives missing"
    )

    def inputs(self) -> set[str]:
        return {self.variable}


@register(
    "stresn",
    NumericArgs,
    method="Numeric standard result: --STRESC when it is a plain number, otherwise missing.",
    origin="Derived",
    row_local=True,
)
def op_stresn(frame: pd.DataFrame, args: NumericArgs, ctx: OpContext) -> pd.Series:
    """Numeric standard result: --STRESC when it is a plain number, otherwise missing."""
    text = frame[args.variable].fillna("").astype(str)
    num = pd.to_numeric(
        text.where(text.str.fullmatch(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?"), ""), errors="coerce"
    )
    return num.astype(float)


class NumberArgs(NumberSettings, ColumnOrVariable):
    pass


@register(
    "number",
    NumberArgs,
    method=(
        "A numeric value from text, read by the study's number convention (72,5 read as "
        "72.5); text that is not a number is an error listing every record."
    ),
    origin="Collected",
    row_local=True,
)
def op_number(frame: pd.DataFrame, args: NumberArgs, ctx: OpContext) -> pd.Series:
    """A numeric value from text, read by the study's number convention (``72,5`` read as
    72.5); text that is not a number is an error listing every record."""
    src = input_values(frame, args, ctx)
    parsed = read_numbers(frame, src, args, ctx, column=args.column)
    bad = (src.astype(str).str.strip() != "") & (~parsed["numeric"] | (parsed["operator"] != ""))
    if bad.any():
        holder = ctx.raw if args.column is not None else frame
        raise ctx.data_error("not a number", holder, bad, value_of=src)
    return parsed["value"].astype(float)


class NrindArgs(OpArgs):
    value: str = Field(
        description="variable holding the result (e.g. LBSTRESC or LBSTRESN); a text result "
        "keeps its operator (<5)"
    )
    low: str = Field(
        description="variable holding the lower limit of the normal range in the result's "
        "units (e.g. LBSTNRLO); blank: no lower limit"
    )
    high: str = Field(
        description="variable holding the upper limit of the normal range in the result's "
        "units (e.g. LBSTNRHI); blank: no upper limit"
    )

    def inputs(self) -> set[str]:
        return {self.value, self.low, self.high}


@register(
    "nrind",
    NrindArgs,
    method=(
        "Reference range indicator LOW/NORMAL/HIGH from the result and its range (SDTMIG "
        "3.4 --NRIND). A character result keeps its operator: <5 against a range of 0 to "
        "5 is NORMAL, >1000 against an upper limit of 450 is HIGH."
    ),
    origin="Derived",
    row_local=True,
)
def op_nrind(frame: pd.DataFrame, args: NrindArgs, ctx: OpContext) -> pd.Series:
    """Reference range indicator LOW/NORMAL/HIGH from the result and its range
    (SDTMIG 3.4 --NRIND). A character result keeps its operator: ``<5`` against a range
    of 0 to 5 is NORMAL, ``>1000`` against an upper limit of 450 is HIGH."""

    def parsed(name: str) -> tuple[pd.Series, pd.Series | None]:
        s = by_record(frame, frame[name])  # errors name each record's file:row
        if pd.api.types.is_numeric_dtype(s.dtype):
            return s.astype(float), None
        res = dresults.parse_numeric_result(as_text(s), convention=CANONICAL)
        return res["value"], res["operator"]

    try:
        value, operator = parsed(args.value)
        low, _ = parsed(args.low)
        high, _ = parsed(args.high)
        nrind = dflags.derive_nrind(value, low, high, operator=operator)
    except MappingError as exc:
        raise in_variable(exc, ctx) from None
    return nrind.set_axis(frame.index).astype(object)


class LobxflArgs(OpArgs):
    testcd: list[str] = Field(
        description="variables that identify a test, one flag per subject and test, e.g. "
        "[LBCAT, LBTESTCD] (add --SPEC, --LOC... when the domain needs them)"
    )
    dtc: str = Field(
        description="ISO 8601 date variable of the record (--DTC); records with a partial "
        "date are never flagged"
    )
    result: str = Field(
        description="variable whose non-blank value makes a record a result (e.g. LBSTRESC)"
    )
    ref: str = Field(
        default="RFXSTDTC",
        description="DM variable holding the date of first exposure that results must be on "
        "or before (SDTMIG 3.4 section 4.5.9: RFXSTDTC)",
    )

    def inputs(self) -> set[str]:
        return {"USUBJID", self.dtc, self.result, *self.testcd}

    def lookups(self) -> set[tuple[str, str]]:
        return {("DM", self.ref), ("DM", "USUBJID")}


@register(
    "lobxfl",
    LobxflArgs,
    method=(
        "--LOBXFL: Y on the subject's last non-missing result per test on or before "
        "DM.RFXSTDTC (SDTMIG 3.4 section 4.5.9, Baseline Values)."
    ),
    origin="Derived",
    needs_all=True,
)
def op_lobxfl(frame: pd.DataFrame, args: LobxflArgs, ctx: OpContext) -> pd.Series:
    """--LOBXFL: ``Y`` on the subject's last non-missing result per test on or before
    DM.RFXSTDTC (SDTMIG 3.4 section 4.5.9, Baseline Values), null on the other records. A
    result dated on the RFXSTDTC day without a time counts as before exposure; subjects
    never exposed get no flag."""
    dm = ctx.domains["DM"]
    work = frame.copy()
    work["_REF"] = subject_key(frame).map(dm.set_index("USUBJID")[args.ref]).fillna("")
    work.index = record_labels(frame).to_numpy()  # errors name each record's file:row
    try:
        flag = dflags.derive_last_obs_before_exposure_flag(
            work,
            by=["USUBJID", *args.testcd],
            dtc=args.dtc,
            ref_dtc="_REF",
            value_present=args.result,
        )
    except MappingError as exc:
        raise in_variable(exc, ctx) from None
    return flag.set_axis(frame.index).astype(object)
