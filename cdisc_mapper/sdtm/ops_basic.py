"""Row-level mapping operations: copying, constants, value maps, CT, dates, results."""

from __future__ import annotations

import re
import string

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.derive import dates as ddates
from cdisc_mapper.derive import results as dresults
from cdisc_mapper.derive import units as dunits
from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm import ctutil
from cdisc_mapper.sdtm.conditions import evaluate
from cdisc_mapper.sdtm.context import ROW, SRC, OpContext, as_text
from cdisc_mapper.sdtm.registry import OpArgs, register
from cdisc_mapper.spec.models import Condition
from cdisc_mapper.textops import map_unique


class _Input(OpArgs):
    """An input that is a raw column (inside a source) or a mapped variable."""

    column: str | None = None
    variable: str | None = None

    @model_validator(mode="after")
    def _one(self) -> _Input:
        if (self.column is None) == (self.variable is None):
            raise ValueError("give exactly one of column (raw) or variable (mapped)")
        return self

    def inputs(self) -> set[str]:
        return {self.variable} if self.variable else set()


def _get(frame: pd.DataFrame, args: _Input, ctx: OpContext) -> pd.Series:
    if args.variable is not None:
        return frame[args.variable].fillna("").astype(str)
    assert ctx.raw is not None, "raw column used outside a source"
    return ctx.raw[args.column]


# --------------------------------------------------------------------------- copy
class ColumnArgs(OpArgs):
    column: str


@register("column", ColumnArgs, origin="Collected", raw=True)
def op_column(frame: pd.DataFrame, args: ColumnArgs, ctx: OpContext) -> pd.Series:
    """The raw column's text, as collected."""
    assert ctx.raw is not None
    return ctx.raw[args.column]


class CopyArgs(OpArgs):
    variable: str

    def inputs(self) -> set[str]:
        return {self.variable}


@register("copy", CopyArgs, origin="Derived", row_local=True)
def op_copy(frame: pd.DataFrame, args: CopyArgs, ctx: OpContext) -> pd.Series:
    """The value of another variable of the same record."""
    return frame[args.variable]


class ConstantArgs(OpArgs):
    value: str | float | int


@register("constant", ConstantArgs, origin="Assigned")
def op_constant(frame: pd.DataFrame, args: ConstantArgs, ctx: OpContext) -> pd.Series:
    """A value assigned by the sponsor, the same on every record."""
    return pd.Series([args.value] * len(frame), index=frame.index, dtype=object)


class StudyidArgs(OpArgs):
    pass


@register("studyid", StudyidArgs, origin="Assigned")
def op_studyid(frame: pd.DataFrame, args: StudyidArgs, ctx: OpContext) -> pd.Series:
    """The study identifier from the study spec."""
    return pd.Series([ctx.study.studyid] * len(frame), index=frame.index, dtype=object)


class DomainArgs(OpArgs):
    pass


@register("domain", DomainArgs, origin="Assigned")
def op_domain(frame: pd.DataFrame, args: DomainArgs, ctx: OpContext) -> pd.Series:
    """The two-letter domain code."""
    return pd.Series([ctx.domain] * len(frame), index=frame.index, dtype=object)


class TemplateArgs(OpArgs):
    template: str

    @model_validator(mode="after")
    def _fields(self) -> TemplateArgs:
        for _, name, spec, conv in string.Formatter().parse(self.template):
            if name is not None and (spec or conv or not name.isidentifier()):
                raise ValueError(f"template fields are plain column names, got {{{name}}}")
        return self


@register("template", TemplateArgs, origin="Derived", raw=True)
def op_template(frame: pd.DataFrame, args: TemplateArgs, ctx: OpContext) -> pd.Series:
    """Text built from raw columns, e.g. ``Injection {INJ_NO}`` (plain substitution)."""
    assert ctx.raw is not None
    parts = list(string.Formatter().parse(args.template))
    out = pd.Series([""] * len(ctx.raw), index=ctx.raw.index, dtype=object)
    for literal, name, _, _ in parts:
        out = out + literal
        if name is not None:
            if name not in ctx.raw.columns:
                raise MappingError(
                    f"{ctx.domain}.{ctx.variable}: template names unknown column {name}"
                )
            out = out + ctx.raw[name]
    return out


# --------------------------------------------------------------------------- subjects
def _subject_parts(ctx: OpContext) -> tuple[pd.Series, pd.Series]:
    assert ctx.raw is not None
    subj = ctx.study.subjects
    subjid = ctx.raw[subj.subject_column]
    if subj.site_column and subj.site_column in ctx.raw.columns:
        siteid = ctx.raw[subj.site_column]
    elif subj.site_column:
        sites = ctx.extra.get("sites", {})
        siteid = subjid.map(sites).fillna("")
        unknown = siteid == ""
        if unknown.any():
            raise ctx.data_error(
                f"subject not in the registry form {subj.registry_form!r} (no site known; "
                "every subject needs an enrolment record)",
                ctx.raw,
                unknown,
                value_of=subjid,
            )
    else:
        siteid = pd.Series([subj.site or ""] * len(ctx.raw), index=ctx.raw.index, dtype=object)
    return subjid, siteid


def make_usubjid(studyid: str, siteid: pd.Series, subjid: pd.Series, template: str) -> pd.Series:
    """USUBJID from a template over STUDYID, SITEID and SUBJID (SDTMIG 3.4 section 4.1.2)."""
    out = pd.Series([""] * len(subjid), index=subjid.index, dtype=object)
    for literal, name, _, _ in string.Formatter().parse(template):
        out = out + literal
        if name == "STUDYID":
            out = out + studyid
        elif name == "SITEID":
            out = out + siteid.astype(str)
        elif name == "SUBJID":
            out = out + subjid.astype(str)
        elif name is not None:
            raise MappingError(f"usubjid template field {{{name}}} is not STUDYID/SITEID/SUBJID")
    return out


class NoArgs(OpArgs):
    pass


@register("usubjid", NoArgs, origin="Derived", raw=True)
def op_usubjid(frame: pd.DataFrame, args: NoArgs, ctx: OpContext) -> pd.Series:
    """Unique subject identifier: the study's template over STUDYID, SITEID, SUBJID."""
    subjid, siteid = _subject_parts(ctx)
    empty = subjid == ""
    if empty.any():
        raise ctx.data_error("empty subject identifier", ctx.raw, empty, value_of=subjid)
    return make_usubjid(ctx.study.studyid, siteid, subjid, ctx.study.subjects.usubjid)


@register("subjid", NoArgs, origin="Collected", raw=True)
def op_subjid(frame: pd.DataFrame, args: NoArgs, ctx: OpContext) -> pd.Series:
    """Subject identifier as the site recorded it."""
    return _subject_parts(ctx)[0]


@register("siteid", NoArgs, origin="Collected", raw=True)
def op_siteid(frame: pd.DataFrame, args: NoArgs, ctx: OpContext) -> pd.Series:
    """Study site identifier."""
    return _subject_parts(ctx)[1]


# --------------------------------------------------------------------------- value maps
class MapArgs(_Input):
    values: dict[str, str | float | int]
    default: str | None = Field(
        default=None, description="value for unlisted inputs; none: unlisted is an error"
    )
    case_sensitive: bool = False
    keep_empty: bool = True


def _norm(s: pd.Series, case_sensitive: bool) -> pd.Series:
    s = s.fillna("").astype(str).str.strip().str.replace(r"\s+", " ", regex=True)
    return s if case_sensitive else s.str.upper()


@register("map", MapArgs, origin="Derived", row_local=True)
def op_map(frame: pd.DataFrame, args: MapArgs, ctx: OpContext) -> pd.Series:
    """Recode values by an explicit table in the spec (study-specific synonyms)."""
    src = _get(frame, args, ctx)
    key = _norm(src, args.case_sensitive)
    table = {(k if args.case_sensitive else k.strip().upper()): v for k, v in args.values.items()}
    out = key.map(table)
    unmapped = out.isna()
    if args.keep_empty:
        empty = key == ""
        out = out.where(~empty, "")
        unmapped &= ~empty
    if args.default is not None:
        out = out.where(~unmapped, args.default)
    elif unmapped.any():
        holder = ctx.raw if args.column is not None else frame
        raise ctx.data_error(
            "value not in the spec's map (add it to values: or set default:)",
            holder,
            unmapped,
            value_of=src,
        )
    return out.astype(object)


class CtArgs(_Input):
    codelist: str
    synonyms: dict[str, str] = Field(default_factory=dict)


@register("ct", CtArgs, origin="Collected", row_local=True)
def op_ct(frame: pd.DataFrame, args: CtArgs, ctx: OpContext) -> pd.Series:
    """Raw terms to the codelist's submission values.

    A raw term matches a term's submission value, CDISC synonym or NCI preferred term
    (case-insensitive), or a study synonym from the spec. Anything else is an error
    that lists every occurrence.
    """
    src = _get(frame, args, ctx)
    codelist = ctx.terminology.get(args.codelist)
    syn = {k.strip().upper(): v for k, v in args.synonyms.items()}
    for target in syn.values():
        if codelist.term(target) is None and not codelist.extensible:
            raise MappingError(
                f"{ctx.domain}.{ctx.variable}: synonym target {target!r} is not a term of "
                f"non-extensible codelist {args.codelist}",
                where=ctx.spec_where,
            )
    uniq = pd.unique(src)
    lookup: dict[str, str | None] = {}
    for raw in uniq:
        text = str(raw).strip()
        if text == "":
            lookup[raw] = ""
            continue
        key = re.sub(r"\s+", " ", text).upper()
        if key in syn:
            lookup[raw] = syn[key]
            continue
        term = codelist.match(text)
        lookup[raw] = term.submission_value if term is not None else None
    out = src.map(lookup)
    bad = out.isna()
    if bad.any():
        holder = ctx.raw if args.column is not None else frame
        raise ctx.data_error(
            f"term not in codelist {args.codelist} (add a synonym in the spec, or correct "
            "the raw data)",
            holder,
            bad,
            value_of=src,
        )
    return out.astype(object)


class DecodeArgs(OpArgs):
    variable: str
    codelist: str
    target: str

    def inputs(self) -> set[str]:
        return {self.variable}


@register("ct_decode", DecodeArgs, origin="Derived", row_local=True)
def op_ct_decode(frame: pd.DataFrame, args: DecodeArgs, ctx: OpContext) -> pd.Series:
    """The paired codelist's term for a coded value (e.g. LBTESTCD -> LBTEST), by NCI code
    or, for sponsor lists, by the term's decode."""
    src = frame[args.variable].fillna("").astype(str)
    code_list = ctx.terminology.get(args.codelist)
    target = ctx.terminology.get(args.target)
    table: dict[str, str] = {"": ""}
    for value in pd.unique(src):
        if value == "":
            continue
        term = code_list.term(value)
        decoded = None
        if term is not None:
            decoded = ctutil.decode(code_list, target, term)
        if decoded is None:
            raise ctx.data_error(
                f"no {args.target} term pairs with {args.codelist} value",
                frame,
                src == value,
                value_of=src,
            )
        table[value] = decoded
    return src.map(table).astype(object)


class CaseItem(OpArgs):
    when: Condition
    value: str | float | int | None = None
    column: str | None = None
    variable: str | None = None


class CaseArgs(OpArgs):
    cases: list[CaseItem]
    default: str | float | int | None = ""

    def inputs(self) -> set[str]:
        found: set[str] = set()
        for case in self.cases:
            found |= _condition_variables(case.when)
            if case.variable:
                found.add(case.variable)
            if case.column:
                found.add(case.column)
        return found


def _condition_variables(cond: Condition) -> set[str]:
    out: set[str] = set()
    if cond.column:
        out.add(cond.column)
    for sub in (cond.all or []) + (cond.any or []) + ([cond.not_] if cond.not_ else []):
        out |= _condition_variables(sub)
    return out


@register("case", CaseArgs, origin="Derived", row_local=True)
def op_case(frame: pd.DataFrame, args: CaseArgs, ctx: OpContext) -> pd.Series:
    """The first case whose condition holds gives the value; otherwise the default.

    Conditions test mapped variables (at domain level) or raw columns (in a source).
    """
    base = ctx.raw if ctx.raw is not None else frame
    view = base if ctx.raw is None else pd.concat([frame, base], axis=1)
    view = view.loc[:, ~view.columns.duplicated()]
    out = pd.Series([args.default] * len(frame), index=frame.index, dtype=object)
    done = pd.Series(False, index=frame.index)
    for case in args.cases:
        hit = evaluate(case.when, view) & ~done
        if case.column is not None:
            value = view[case.column]
        elif case.variable is not None:
            value = frame[case.variable]
        else:
            value = pd.Series([case.value] * len(frame), index=frame.index, dtype=object)
        out = out.where(~hit, value)
        done |= hit
    return out


# --------------------------------------------------------------------------- dates
class DateArgs(OpArgs):
    column: str
    time_column: str | None = None


@register("date", DateArgs, origin="Collected", raw=True)
def op_date(frame: pd.DataFrame, args: DateArgs, ctx: OpContext) -> pd.Series:
    """ISO 8601 date (and time when recorded) from raw text in the study's date order.

    Partial dates stay partial (SDTMIG 3.4 section 4.4.2): no day or month is invented.
    """
    assert ctx.raw is not None
    try:
        date = ddates.parse_partial_date(ctx.raw[args.column], order=ctx.study.subjects.date_order)
        if args.time_column:
            time = ddates.parse_time(ctx.raw[args.time_column])
            return ddates.combine_dtc(date, time)
    except MappingError as exc:
        raise _with_file(exc, ctx, args.column) from None
    return date


def _with_file(exc: MappingError, ctx: OpContext, column: str) -> MappingError:
    src = ""
    if ctx.raw is not None and "_SRC" in ctx.raw.columns and len(ctx.raw):
        src = str(ctx.raw["_SRC"].iloc[0])
    spec = f" [spec {ctx.spec_where}]" if ctx.spec_where else ""
    return type(exc)(f"{src}, column {column} (rows are file rows): {exc}{spec}")


# --------------------------------------------------------------------------- results
class ResultArgs(_Input):
    decimal_comma: bool = True


_DECIMAL_COMMA = r"^(?P<op>[<>]=?\s*)?(?P<int>[-+]?\d+),(?P<frac>\d+)$"


@register("result", ResultArgs, origin="Collected")
def op_result(frame: pd.DataFrame, args: ResultArgs, ctx: OpContext) -> pd.Series:
    """The result as collected (--ORRES), blanks trimmed. With ``decimal_comma`` (the
    default) a number typed with a decimal comma (``6,7``) is written with a decimal
    point (``6.7``), so that --ORRES reads as a number everywhere; nothing else changes."""

    def clean(u: pd.Series) -> pd.Series:
        text = u.astype(str).str.strip()
        if args.decimal_comma:
            text = text.str.replace(_DECIMAL_COMMA, r"\g<op>\g<int>.\g<frac>", regex=True)
        return text

    return map_unique(_get(frame, args, ctx), clean)


class UnitArgs(OpArgs):
    column: str | None = None
    variable: str | None = None
    value: str | None = None
    codelist: str = "UNIT"

    def inputs(self) -> set[str]:
        return {self.variable} if self.variable else set()


@register("unit", UnitArgs, origin="Collected")
def op_unit(frame: pd.DataFrame, args: UnitArgs, ctx: OpContext) -> pd.Series:
    """A unit as a CDISC UNIT submission value, via the study's unit synonyms."""
    if args.value is not None:
        src = pd.Series([args.value] * len(frame), index=frame.index, dtype=object)
    elif args.variable is not None:
        src = frame[args.variable].fillna("").astype(str)
    else:
        assert ctx.raw is not None
        src = ctx.raw[args.column]
    synonyms = dict(ctx.study.units.synonyms)
    for table in ctx.study.units.standard.values():
        for unit in table.values():
            synonyms.setdefault(unit, unit)
    if args.value is not None:
        synonyms.setdefault(args.value, args.value)
    codelist = ctx.terminology.get(args.codelist)
    src = src.fillna("").astype(str).str.strip()
    exact = src.isin(list(codelist.submission_values))
    out = src.copy()
    try:
        if (~exact).any():
            out[~exact] = dunits.normalise_unit(src[~exact], synonyms)
    except MappingError as exc:
        raise _with_file(exc, ctx, args.column or args.variable or "unit") from None
    if not codelist.extensible:
        bad = (out != "") & ~out.isin(list(codelist.submission_values))
        if bad.any():
            raise ctx.data_error(f"unit not in codelist {args.codelist}", frame, bad, value_of=out)
    return out


class StdUnitArgs(OpArgs):
    testcd: str
    result: str | None = Field(default=None, description="blank unit when this is blank")

    def inputs(self) -> set[str]:
        return {self.testcd} | ({self.result} if self.result else set())


@register("standard_unit", StdUnitArgs, origin="Assigned", row_local=True)
def op_standard_unit(frame: pd.DataFrame, args: StdUnitArgs, ctx: OpContext) -> pd.Series:
    """The standard unit the study declares for the test (units.standard in study.yaml)."""
    table = ctx.study.units.standard.get(ctx.domain, {})
    tests = frame[args.testcd].fillna("").astype(str)
    out = tests.map(table).fillna("")
    if args.result:
        out = out.where(frame[args.result].fillna("").astype(str) != "", "")
    return out.astype(object)


class StrescArgs(OpArgs):
    orres: str
    orresu: str
    stresu: str
    testcd: str
    decimal_comma: bool = True

    def inputs(self) -> set[str]:
        return {self.orres, self.orresu, self.stresu, self.testcd}


@register("stresc", StrescArgs, origin="Derived", row_local=True)
def op_stresc(frame: pd.DataFrame, args: StrescArgs, ctx: OpContext) -> pd.Series:
    """Result in standard format and units (SDTMIG 3.4 section 4.5.1).

    Numeric results are converted from --ORRESU to --STRESU with the study's conversion
    table; results with an operator (``<5``) keep it, with the bound converted; text
    results are copied.
    """
    orres = frame[args.orres].fillna("").astype(str)
    parsed = dresults.parse_numeric_result(orres, decimal_comma=args.decimal_comma)
    table = [
        {"test": c.test, "from": c.from_, "to": c.to, "factor": c.factor, "offset": c.offset}
        for c in ctx.study.units.conversions
    ]
    from_u = frame[args.orresu].fillna("").astype(str)
    to_u = frame[args.stresu].fillna("").astype(str)
    # every result with a number, also an inequality (<0.1 mg/dL -> <1.71 umol/L)
    need = parsed["value"].notna() & (from_u != "") & (to_u != "")
    factor = pd.Series(1.0, index=frame.index)
    offset = pd.Series(0.0, index=frame.index)
    if need.any():
        try:
            where = _record_labels(frame)[need]
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
        orres, factor, offset=offset, decimals=decimals, decimal_comma=args.decimal_comma
    )
    return std["stresc"].astype(object)


def _record_labels(frame: pd.DataFrame) -> pd.Series:
    """``file:row`` of each record, for error messages at domain level."""
    if SRC in frame.columns and ROW in frame.columns:
        return frame[SRC].astype(str) + ":" + frame[ROW].astype(str)
    return pd.Series(frame.index.astype(str), index=frame.index)


class NumericArgs(OpArgs):
    variable: str

    def inputs(self) -> set[str]:
        return {self.variable}


@register("stresn", NumericArgs, origin="Derived", row_local=True)
def op_stresn(frame: pd.DataFrame, args: NumericArgs, ctx: OpContext) -> pd.Series:
    """Numeric standard result: --STRESC when it is a plain number, otherwise missing."""
    text = frame[args.variable].fillna("").astype(str)
    num = pd.to_numeric(
        text.where(text.str.fullmatch(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?"), ""), errors="coerce"
    )
    return num.astype(float)


class NumberArgs(_Input):
    decimal_comma: bool = True


@register("number", NumberArgs, origin="Collected", row_local=True)
def op_number(frame: pd.DataFrame, args: NumberArgs, ctx: OpContext) -> pd.Series:
    """A numeric value from text (``72,5`` read as 72.5); text that is not a number is an
    error listing every record."""
    src = _get(frame, args, ctx)
    parsed = dresults.parse_numeric_result(src, decimal_comma=args.decimal_comma)
    bad = (src.astype(str).str.strip() != "") & (~parsed["numeric"] | (parsed["operator"] != ""))
    if bad.any():
        holder = ctx.raw if args.column is not None else frame
        raise ctx.data_error("not a number", holder, bad, value_of=src)
    return parsed["value"].astype(float)


class NrindArgs(OpArgs):
    value: str
    low: str
    high: str

    def inputs(self) -> set[str]:
        return {self.value, self.low, self.high}


@register("nrind", NrindArgs, origin="Derived", row_local=True)
def op_nrind(frame: pd.DataFrame, args: NrindArgs, ctx: OpContext) -> pd.Series:
    """Reference range indicator LOW/NORMAL/HIGH from the result and its range
    (SDTMIG 3.4 --NRIND). A character result keeps its operator: ``<5`` against a range
    of 0 to 5 is NORMAL, ``>1000`` against an upper limit of 450 is HIGH."""
    from cdisc_mapper.derive import flags

    def parsed(name: str) -> tuple[pd.Series, pd.Series | None]:
        s = frame[name]
        if pd.api.types.is_numeric_dtype(s.dtype):
            return s.astype(float), None
        res = dresults.parse_numeric_result(as_text(s))
        return res["value"], res["operator"]

    value, operator = parsed(args.value)
    low, _ = parsed(args.low)
    high, _ = parsed(args.high)
    return flags.derive_nrind(value, low, high, operator=operator).astype(object)


class ConditionArgs(OpArgs):
    when: Condition
    value: str = "Y"

    def inputs(self) -> set[str]:
        return _condition_variables(self.when)


@register("flag", ConditionArgs, origin="Derived", row_local=True)
def op_flag(frame: pd.DataFrame, args: ConditionArgs, ctx: OpContext) -> pd.Series:
    """``Y`` (or the given value) where the condition holds, otherwise null."""
    view = frame if ctx.raw is None else pd.concat([frame, ctx.raw], axis=1)
    view = view.loc[:, ~view.columns.duplicated()]
    hit = evaluate(args.when, view)
    return pd.Series(np.where(hit, args.value, ""), index=frame.index, dtype=object)


class CriterionArgs(OpArgs):
    variable: str
    field: str = Field(pattern="^(ietest|iecat)$")

    def inputs(self) -> set[str]:
        return {self.variable}


@register("criterion", CriterionArgs, origin="Assigned", row_local=True)
def op_criterion(frame: pd.DataFrame, args: CriterionArgs, ctx: OpContext) -> pd.Series:
    """IETEST or IECAT of a criterion code, from the study's criteria (TI)."""
    table = {c.ietestcd: getattr(c, args.field) for c in ctx.study.criteria}
    codes = frame[args.variable].fillna("").astype(str)
    out = codes.map(table)
    bad = out.isna()
    if bad.any():
        raise ctx.data_error(
            "criterion code not in study.yaml criteria", frame, bad, value_of=codes
        )
    return out.astype(object)
