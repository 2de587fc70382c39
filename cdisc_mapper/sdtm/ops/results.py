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
from cdisc_mapper.spec.operations import Example, OpArgs
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
        "[Raw {column}][{variable}] as collected, blanks trimmed; a number is written "
        "with a decimal point and no thousands separator (72,5 as 72.5; 250,000 as "
        "250000 where the study states a comma thousands separator), so that it reads "
        "as a number everywhere; nothing else changes."
    ),
    origin="Collected",
    example=Example(
        spec="LBORRES: {op: result, column: RESULT}",
        raw={"RESULT": [" 6.2 ", "72,5", "< 0,5", "06.20", "NEGATIVE", ""]},
        gives=["6.2", "72.5", "< 0.5", "06.20", "NEGATIVE", ""],
        note="Read under the bundled study's `numbers: {decimal_mark: either, "
        "thousands_separator: none}`: there `1,000` would be an error (1 or 1000?).",
    ),
)
def op_result(frame: pd.DataFrame, args: ResultArgs, ctx: OpContext) -> pd.Series:
    """The result as collected (--ORRES, SDTMIG 3.4 section 4.5.1.1), surrounding blanks
    removed, with a number written as every later step reads it: a decimal point and no
    thousands separator (``72,5`` as ``72.5``, ``< 0,5`` as ``< 0.5``, ``250,000`` as
    ``250000`` where the convention has a comma thousands separator); operator, sign,
    spaces, leading zeros and decimals stay as typed (``06.20``), and text that is no number
    (``NEGATIVE``) is unchanged. Numbers are read by the convention of the operation's
    ``decimal_mark``/``thousands_separator``, else the source's ``numbers``, else
    study.yaml ``numbers`` (default ``decimal_mark: either``, ``thousands_separator:
    none``). With ``either``, a mark followed by exactly three digits (``1,000``,
    ``1.000``) reads two ways: an error naming the file, row, value and each reading, as is
    a number the convention cannot read (``1.234,5``, ``1 000`` without that separator)."""
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

    trailing_zeros: Literal["keep", "drop"] | None = Field(
        default=None,
        description="how a result rounded to its conversion's `decimals` is written: keep "
        "(the default) "
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
    method=(
        "{orres} converted from the unit in {orresu} to the standard unit in {stresu} "
        "of the test in {testcd}, in standard format (SDTMIG 3.4 section 4.5.1)."
    ),
    origin="Derived",
    row_local=True,
    example=Example(
        spec="LBSTRESC: {op: stresc, orres: LBORRES, orresu: LBORRESU, stresu: LBSTRESU, "
        "testcd: LBTESTCD}",
        records={
            "LBTESTCD": ["WBC", "HGB", "CREAT", "TEMP", "CRP", "WBC", "WBC"],
            "LBORRES": ["06.20", "13.56", "<0.1", "98.6", "<5", "NEGATIVE", ""],
            "LBORRESU": ["10^9/L", "g/dL", "mg/dL", "F", "mg/L", "", ""],
            "LBSTRESU": ["10^9/L", "g/L", "umol/L", "C", "mg/L", "", ""],
        },
        gives=["6.2", "136", "<9", "37.0", "<5", "NEGATIVE", ""],
        note="The bundled study's `units.conversions`: g/dL -> g/L factor 10, decimals 0; "
        "CREAT mg/dL -> umol/L factor 88.42, decimals 0; F -> C decimals 1. With "
        "`trailing_zeros: drop`, 98.6 F gives 37.",
    ),
)
def op_stresc(frame: pd.DataFrame, args: StrescArgs, ctx: OpContext) -> pd.Series:
    """--STRESC, the result in standard format and units (SDTMIG 3.4 section 4.5.1.1). A
    number in --ORRESU is converted to --STRESU by study.yaml ``units.conversions`` (value
    x ``factor`` + ``offset``; the test's own conversion wins over a ``test: "*"`` one) and
    written: rounded half away from zero to the conversion's ``decimals`` with exactly that
    many decimals (with ``trailing_zeros: drop``, without trailing zeros); for a conversion
    without ``decimals``, with up to 12 significant digits and no trailing zeros (1.1 x
    17.1 is 18.81; 97.4 F is 36.3333333333, so give ``decimals``). A number already in
    the standard unit (or in no unit when --STRESU is blank) is the number without
    trailing zeros or leading zeros (``06.20`` is ``6.2``, ``5.00`` is ``5``, as the CDISC
    pilot writes it). A result with an operator keeps it before the converted bound
    (``<0.1`` mg/dL is ``<1.71`` umol/L; a negative factor turns ``<`` into ``>``); text
    (``NEGATIVE``) is copied; blank stays blank. A number without its --ORRESU while
    --STRESU is set, or units without a conversion, is an error naming the records."""
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
    method="{variable} as a number when it is a plain number; otherwise null.",
    origin="Derived",
    row_local=True,
    example=Example(
        spec="LBSTRESN: {op: stresn, variable: LBSTRESC}",
        records={"LBSTRESC": ["6.2", "-3", "1e3", "<5", "NEGATIVE", ""]},
        gives=[6.2, -3.0, 1000.0, None, None, None],
    ),
)
def op_stresn(frame: pd.DataFrame, args: NumericArgs, ctx: OpContext) -> pd.Series:
    """--STRESN, the numeric standard result (SDTMIG 3.4 section 4.5.1.1): --STRESC when it
    is a plain number (sign, digits, decimal point, exponent: ``6.2``, ``-3``, ``1e3``),
    otherwise missing (``<5``, ``NEGATIVE``, blank), so that it always agrees with
    --STRESC."""
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
        "[Raw {column}][{variable}] as a number, read by the study's number convention "
        "(72,5 read as 72.5); text that is not a number is an error listing every "
        "record."
    ),
    origin="Collected",
    row_local=True,
    example=Example(
        spec="EXDOSE: {op: number, column: DOSE}",
        raw={"DOSE": ["54", "81", "0,5", " 1e3 ", ""]},
        gives=[54.0, 81.0, 0.5, 1000.0, None],
        note="Read under the bundled study's `numbers` (either mark, no thousands "
        "separator); `<5` or `ND` would be an error naming the file, row and value.",
    ),
)
def op_number(frame: pd.DataFrame, args: NumberArgs, ctx: OpContext) -> pd.Series:
    """A number from text (for numeric variables such as --DOSE, AGE or --STRESN from a
    raw column), read by the same convention as ``result`` (``72,5`` as 72.5; ``1,000``
    under ``decimal_mark: either`` is an error, it reads two ways); a blank cell gives a
    missing value, and anything else that is not exactly a number (``<5``, ``ND``) is an
    error listing every record with its file, row and value."""
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
        "LOW, NORMAL or HIGH: {value} against the range {low} to {high} (SDTMIG 3.4 "
        "--NRIND); a character result keeps its operator: <5 against a range of 0 to 5 "
        "is NORMAL, >1000 against an upper limit of 450 is HIGH."
    ),
    origin="Derived",
    row_local=True,
    example=Example(
        spec="LBNRIND: {op: nrind, value: LBSTRESC, low: LBSTNRLO, high: LBSTNRHI}",
        records={
            "LBSTRESC": ["3.1", "5.0", "11.2", "<5", ">1000", "12", "NEGATIVE", ""],
            "LBSTNRLO": ["3.5", "3.5", "3.5", "0", "", "", "", "3.5"],
            "LBSTNRHI": ["10.5", "10.5", "10.5", "5", "450", "", "", "10.5"],
        },
        gives=["LOW", "NORMAL", "HIGH", "NORMAL", "HIGH", "", "", ""],
    ),
)
def op_nrind(frame: pd.DataFrame, args: NrindArgs, ctx: OpContext) -> pd.Series:
    """--NRIND, where the result lies against its normal range (SDTMIG 3.4 Findings,
    --NRIND; CT NRIND): LOW below the low limit, HIGH above the high limit, NORMAL within
    them, limits included (a range with one limit is open on the other side); blank when
    the result is no number or both limits are blank. A result with an operator compares
    by its bound, and on a limit the operator decides: ``<5`` against 0 to 5 is NORMAL,
    ``<5`` with a low limit of 5 is LOW, ``>1000`` against an upper limit of 450 is HIGH.
    Give the result and range in the same units (--STRESC with --STNRLO/--STNRHI). A low
    limit above the high limit is an error naming the records."""

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
    dtc: str | None = Field(
        default=None,
        description="ISO 8601 date variable of the record (--DTC); records with a partial "
        "date are never flagged. Give `dtc` or, for relative-day data without dates, `dy`",
    )
    dy: str | None = Field(
        default=None,
        description="study day variable of the record (--DY), for relative-day data without "
        "dates (study.yaml timeline without an anchor): results on or before study day "
        "`ref_dy` count",
    )
    ref_dy: int = Field(
        default=1,
        description="with `dy`: the study day of first exposure (1: the timeline's day0 "
        "event is the first dose)",
    )
    result: str = Field(
        description="variable whose non-blank value makes a record a result (e.g. LBSTRESC)"
    )
    ref: str = Field(
        default="RFXSTDTC",
        description="DM variable holding the date of first exposure that results must be on "
        "or before (SDTMIG 3.4 section 4.5.9: RFXSTDTC)",
    )

    @model_validator(mode="after")
    def _date_or_day(self) -> LobxflArgs:
        if (self.dtc is None) == (self.dy is None):
            raise ValueError("give exactly one of dtc (dates) or dy (study days)")
        return self

    def inputs(self) -> set[str]:
        return {"USUBJID", self.dtc or self.dy or "", self.result, *self.testcd}

    def lookups(self) -> set[tuple[str, str]]:
        return {("DM", self.ref), ("DM", "USUBJID")} if self.dtc else set()


@register(
    "lobxfl",
    LobxflArgs,
    method=(
        "'Y' on the subject's last record per {testcd} with a non-missing {result} and "
        "[{dtc} on or before DM.{ref}][study day {dy} on or before day {ref_dy}]; "
        "otherwise null (SDTMIG 3.4 section 4.5.9, Baseline Values)."
    ),
    origin="Derived",
    needs_all=True,
    example=Example(
        spec="VSLOBXFL: {op: lobxfl, testcd: [VSTESTCD], dtc: VSDTC, result: VSSTRESC}",
        records={
            "USUBJID": ["701-1015"] * 5 + ["701-1023"],
            "VSTESTCD": ["SYSBP", "SYSBP", "SYSBP", "SYSBP", "PULSE", "SYSBP"],
            "VSDTC": [
                "2014-01-02",
                "2013-12-26",
                "2014-01-16",
                "2014-01",
                "2014-01-02T08:30",
                "2013-12-20",
            ],
            "VSSTRESC": ["118", "121", "125", "119", "", "130"],
        },
        domains={
            "DM": {
                "USUBJID": ["701-1015", "701-1023"],
                "RFXSTDTC": ["2014-01-02T09:00", ""],
            }
        },
        gives=["Y", "", "", "", "", ""],
        note="701-1023 is a screen failure (no RFXSTDTC): no flag. The PULSE record has no "
        "result; the partial date 2014-01 is never flagged.",
    ),
)
def op_lobxfl(frame: pd.DataFrame, args: LobxflArgs, ctx: OpContext) -> pd.Series:
    """--LOBXFL, ``Y`` on the subject's last record with a result per test (the
    ``testcd`` variables) on or before DM.RFXSTDTC, null on the others (SDTMIG 3.4
    section 4.5.9, Baseline Values). Dates and times compare at the precision both have:
    date and time when both have hh:mm, else the dates, so a result dated on the RFXSTDTC
    day without a time counts as before exposure (pre-dose); records with a partial date,
    and subjects without a complete RFXSTDTC (screen failures, never exposed), get no flag.
    Among records on the same latest date, a record with a time comes after one without,
    then the later record in the raw order wins (e.g. the last of a repeated row). With
    ``dy`` (relative-day data without dates), the last record with a result on or before
    study day ``ref_dy`` (1: the day0 event, the first dose), the later in raw order on
    the same day."""
    if args.dy is not None:
        return dflags.last_on_or_before_day(
            frame[["USUBJID", *args.testcd]],
            pd.to_numeric(frame[args.dy], errors="coerce"),
            frame[args.result].fillna("").astype(str) != "",
            args.ref_dy,
        ).astype(object)
    assert args.dtc is not None
    dm = ctx.domains["DM"]
    work = frame[list(dict.fromkeys(["USUBJID", *args.testcd, args.dtc, args.result]))].copy()
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
    return flag.set_axis(frame.index)
