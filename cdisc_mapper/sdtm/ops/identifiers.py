"""Identifiers: USUBJID, SUBJID, SITEID (SDTMIG 3.4 section 4.1.2), --SEQ (section
4.1.7) and the inclusion/exclusion criterion of a code (TI)."""

from __future__ import annotations

import string

import pandas as pd
from pydantic import Field

from cdisc_mapper.derive import flags as dflags
from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm.context import OpContext
from cdisc_mapper.sdtm.registry import register
from cdisc_mapper.spec.operations import OpArgs


def _subject_parts(ctx: OpContext) -> tuple[pd.Series, pd.Series]:
    assert ctx.raw is not None
    subj = ctx.study.subjects
    subjid = ctx.raw[subj.subject_column]
    if subj.site_column and subj.site_column in ctx.raw.columns:
        siteid = ctx.raw[subj.site_column]
    elif subj.site_column:
        sites = ctx.extra.get("sites", {})
        siteid = subjid.map(sites).fillna("")
        unknown = (siteid == "") & (subjid != "")  # an empty one: error below
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


@register(
    "usubjid",
    NoArgs,
    method="Unique subject identifier: the study's template over STUDYID, SITEID, SUBJID.",
    origin="Derived",
    raw=True,
)
def op_usubjid(frame: pd.DataFrame, args: NoArgs, ctx: OpContext) -> pd.Series:
    """Unique subject identifier (SDTMIG 3.4 section 4.1.2): study.yaml's
    ``subjects.usubjid`` template (default ``{STUDYID}-{SITEID}-{SUBJID}``) filled from the
    study, the record's site and its subject column; an empty subject identifier is an
    error."""
    subjid, siteid = _subject_parts(ctx)
    empty = subjid == ""
    if empty.any():
        raise ctx.data_error("empty subject identifier", ctx.raw, empty, value_of=subjid)
    return make_usubjid(ctx.study.studyid, siteid, subjid, ctx.study.subjects.usubjid)


@register(
    "subjid",
    NoArgs,
    method="Subject identifier as the site recorded it.",
    origin="Collected",
    raw=True,
)
def op_subjid(frame: pd.DataFrame, args: NoArgs, ctx: OpContext) -> pd.Series:
    """Subject identifier as the site recorded it: the raw column that study.yaml's
    ``subjects.subject_column`` names."""
    return _subject_parts(ctx)[0]


@register("siteid", NoArgs, method="Study site identifier.", origin="Collected", raw=True)
def op_siteid(frame: pd.DataFrame, args: NoArgs, ctx: OpContext) -> pd.Series:
    """Study site identifier: the raw column study.yaml's ``subjects.site_column`` names;
    where a form lacks it, the subject's site on the ``subjects.registry_form``; with no
    site column, the single ``subjects.site``."""
    return _subject_parts(ctx)[1]


class SeqArgs(OpArgs):
    order_by: list[str] = Field(
        description="variables that order the records within USUBJID before numbering "
        "(SDTMIG 3.4 section 4.1.7), e.g. [AESTDTC, AETERM]; ties keep their record order"
    )

    def inputs(self) -> set[str]:
        return {"USUBJID", *self.order_by}


@register(
    "seq",
    SeqArgs,
    method=(
        "--SEQ: 1..n within subject in the given order (SDTMIG 3.4 section 4.1.7: unique "
        "within USUBJID)."
    ),
    origin="Derived",
    needs_all=True,
)
def op_seq(frame: pd.DataFrame, args: SeqArgs, ctx: OpContext) -> pd.Series:
    """--SEQ: 1, 2, ... within each subject, numbering the domain's records in the order
    of ``order_by`` (SDTMIG 3.4 section 4.1.7: unique within USUBJID)."""
    return dflags.derive_seq(frame, by=["USUBJID"], order_by=args.order_by).astype(float)


class CriterionArgs(OpArgs):
    variable: str = Field(
        description="variable holding the criterion code (IETESTCD), looked up in study.yaml "
        "`criteria`"
    )
    field: str = Field(
        pattern="^(ietest|iecat)$",
        description="what to give: `ietest` (the criterion's text, IETEST) or `iecat` "
        "(INCLUSION or EXCLUSION, IECAT)",
    )

    def inputs(self) -> set[str]:
        return {self.variable}


@register(
    "criterion",
    CriterionArgs,
    method="IETEST or IECAT of a criterion code, from the study's criteria (TI).",
    origin="Assigned",
    row_local=True,
)
def op_criterion(frame: pd.DataFrame, args: CriterionArgs, ctx: OpContext) -> pd.Series:
    """IETEST or IECAT of a criterion code, from the study's criteria (study.yaml
    ``criteria``, which also make TI); a code not listed there is an error."""
    table = {c.ietestcd: getattr(c, args.field) for c in ctx.study.criteria}
    codes = frame[args.variable].fillna("").astype(str)
    out = codes.map(table)
    bad = out.isna()
    if bad.any():
        raise ctx.data_error(
            "criterion code not in study.yaml criteria", frame, bad, value_of=codes
        )
    return out.astype(object)
