"""Subject-level values taken from another domain: the subject's first, last or single
value of a variable (e.g. RFXSTDTC, the first EXSTDTC; SDTMIG 3.4 DM)."""

from __future__ import annotations

import pandas as pd
from pandas.api.types import is_numeric_dtype
from pydantic import Field

from cdisc_mapper.condition import Condition, evaluate
from cdisc_mapper.sdtm.context import OpContext, as_text
from cdisc_mapper.sdtm.ops._common import subject_key
from cdisc_mapper.sdtm.registry import register
from cdisc_mapper.spec.operations import Example, OpArgs


class SubjectAggArgs(OpArgs):
    domain: str = Field(
        description="the other SDTM domain to read (e.g. EX, DS); its records are matched to "
        "this record by USUBJID"
    )
    variable: str = Field(
        description="variable of that domain whose value is taken (e.g. EXSTDTC); blank "
        "values are ignored, and a subject with none (a screen failure never dosed) gets "
        "blank. subject_first/subject_last compare ISO 8601 text as text (chronological; a "
        "partial date 2014-01 sorts before 2014-01-05) and a numeric variable as numbers"
    )
    where: Condition | None = Field(
        default=None,
        description="condition on that domain's variables choosing the records considered "
        "(e.g. `{variable: DSDECOD, equals: DEATH}`); none: all of the subject's records",
    )

    def inputs(self) -> set[str]:
        return {"USUBJID"}

    def lookups(self) -> set[tuple[str, str]]:
        needed = {(self.domain, self.variable), (self.domain, "USUBJID")}
        if self.where is not None:
            needed |= {(self.domain, c) for c in self.where.variables()}
        return needed


def _subject_agg(frame: pd.DataFrame, args: SubjectAggArgs, ctx: OpContext, how: str) -> pd.Series:
    other = ctx.domains[args.domain]
    if args.where is not None:
        other = other.loc[evaluate(args.where, other).to_numpy()]
    column = other[args.variable]
    vals = pd.DataFrame(
        {"USUBJID": other["USUBJID"].astype(str), "_TEXT": as_text(column)},
        index=other.index,
    )
    # numbers compare as numbers (9 before 10), ISO 8601 text as text (chronologically)
    vals["_KEY"] = column.astype(float) if is_numeric_dtype(column.dtype) else vals["_TEXT"]
    vals = vals[vals["_TEXT"] != ""].sort_values(["USUBJID", "_KEY"], kind="stable")
    last = vals.drop_duplicates(["USUBJID"], keep="first" if how == "min" else "last")
    agg = last.set_index("USUBJID")["_TEXT"]
    return subject_key(frame).map(agg).astype(object).fillna("")


@register(
    "subject_first",
    SubjectAggArgs,
    method=(
        "The subject's earliest {domain}.{variable}[ among the records where {where}] "
        "(ISO 8601 text sorts chronologically)."
    ),
    origin="Derived",
    row_local=True,
    example=Example(
        spec="RFXSTDTC: {op: subject_first, domain: EX, variable: EXSTDTC}",
        records={"USUBJID": ["701-1015", "701-1023", "701-1028"]},
        domains={
            "EX": {
                "USUBJID": ["701-1015", "701-1015", "701-1015", "701-1023"],
                "EXSTDTC": ["2014-01-16", "2014-01-02", "", "2013-12-30"],
                "EXENDTC": ["2014-03-04", "2014-01-15", "", "2014-01-12"],
            }
        },
        gives=["2014-01-02", "2013-12-30", ""],
        note="701-1028, a screen failure, has no EX record: blank.",
    ),
)
def op_subject_first(frame: pd.DataFrame, args: SubjectAggArgs, ctx: OpContext) -> pd.Series:
    """The subject's earliest value of another domain's variable, over that domain's
    records of the subject where ``where`` holds (SDTMIG 3.4 DM: RFXSTDTC is the first
    EXSTDTC, RFSTDTC the first dose). Blank values are ignored; a subject without one
    gets blank. ISO 8601 text compares as text, which is chronological for dates of the
    same precision (a partial ``2014-01`` comes before ``2014-01-05``); a numeric variable
    compares as numbers."""
    return _subject_agg(frame, args, ctx, "min")


@register(
    "subject_last",
    SubjectAggArgs,
    method=(
        "The subject's latest {domain}.{variable}[ among the records where {where}] "
        "(ISO 8601 text sorts chronologically)."
    ),
    origin="Derived",
    row_local=True,
    example=Example(
        spec="RFXENDTC: {op: subject_last, domain: EX, variable: EXENDTC}",
        records={"USUBJID": ["701-1015", "701-1023", "701-1028"]},
        domains={
            "EX": {
                "USUBJID": ["701-1015", "701-1015", "701-1015", "701-1023"],
                "EXSTDTC": ["2014-01-16", "2014-01-02", "", "2013-12-30"],
                "EXENDTC": ["2014-03-04", "2014-01-15", "", "2014-01-12"],
            }
        },
        gives=["2014-03-04", "2014-01-12", ""],
    ),
)
def op_subject_last(frame: pd.DataFrame, args: SubjectAggArgs, ctx: OpContext) -> pd.Series:
    """The subject's latest value of another domain's variable, over that domain's records
    of the subject where ``where`` holds (SDTMIG 3.4 DM: RFXENDTC is the last EXENDTC,
    RFPENDTC the last date of participation). Blank values are ignored; a subject without
    one gets blank. ISO 8601 text compares as text (chronological for dates of the same
    precision; ``2014-01-05T10:00`` comes after ``2014-01-05``); a numeric variable
    compares as numbers."""
    return _subject_agg(frame, args, ctx, "max")


@register(
    "subject_value",
    SubjectAggArgs,
    method=(
        "The subject's {domain}.{variable}[ on the record where {where}] (one distinct "
        "value per subject)."
    ),
    origin="Derived",
    row_local=True,
    example=Example(
        spec="DTHDTC: {op: subject_value, domain: DS, variable: DSSTDTC, where: {variable: "
        "DSDECOD, equals: DEATH}}",
        records={"USUBJID": ["701-1015", "701-1023", "701-1028"]},
        domains={
            "DS": {
                "USUBJID": ["701-1015", "701-1015", "701-1023", "701-1023", "701-1028"],
                "DSDECOD": [
                    "RANDOMIZED",
                    "DEATH",
                    "RANDOMIZED",
                    "COMPLETED",
                    "SCREEN FAILURE",
                ],
                "DSSTDTC": ["2014-01-02", "2014-02-11", "2013-12-30", "2014-06-20", ""],
            }
        },
        gives=["2014-02-11", "", ""],
    ),
)
def op_subject_value(frame: pd.DataFrame, args: SubjectAggArgs, ctx: OpContext) -> pd.Series:
    """The subject's one value of another domain's variable, over that domain's records of
    the subject where ``where`` holds (e.g. DTHDTC from the DS record of the death;
    SDTMIG 3.4 DM). Blank values are ignored and a value recorded twice counts once; a
    subject without one gets blank, and a subject with two different values is an error
    naming the records."""
    other = ctx.domains[args.domain]
    if args.where is not None:
        other = other.loc[evaluate(args.where, other).to_numpy()]
    text = as_text(other[args.variable])
    vals = pd.DataFrame({"USUBJID": other["USUBJID"].astype(str), args.variable: text})
    vals = vals[vals[args.variable] != ""].drop_duplicates()
    dup = vals["USUBJID"].duplicated(keep=False)
    if dup.any():
        bad = other["USUBJID"].astype(str).isin(vals.loc[dup, "USUBJID"]) & (text != "")
        raise ctx.data_error(
            f"{args.domain}.{args.variable} has more than one value for a subject",
            other,
            bad,
            value_of=other["USUBJID"].astype(str) + " " + text,
        )
    table = vals.set_index("USUBJID")[args.variable]
    return subject_key(frame).map(table).astype(object).fillna("")
