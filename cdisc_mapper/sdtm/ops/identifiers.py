"""Identifiers: USUBJID, SUBJID, SITEID (SDTMIG 3.4 section 4.1.2), --SEQ (section
4.1.7) and the inclusion/exclusion criterion of a code (TI)."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import Field

from cdisc_mapper.derive import flags as dflags
from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm.codes import ColumnCodes
from cdisc_mapper.sdtm.context import OpContext
from cdisc_mapper.sdtm.registry import register
from cdisc_mapper.spec.operations import Example, OpArgs
from cdisc_mapper.textops import map_unique


@dataclass(frozen=True)
class SubjectParts:
    """A source's subject identifiers, one per raw row: SUBJID, SITEID and the named
    groups of ``subjects.subject_pattern`` (the ``usubjid`` template's fields)."""

    subjid: pd.Series
    siteid: pd.Series
    groups: dict[str, pd.Series]


def _pattern_groups(ctx: OpContext, value: pd.Series) -> dict[str, pd.Series]:
    """The named groups of ``subjects.subject_pattern`` in each subject value (``""``
    where a group took no part, and for an empty value); a value that is not empty and
    does not match as a whole is an error naming the records."""
    subj = ctx.study.subjects
    if subj.subject_pattern is None:
        return {}
    regex = re.compile(subj.subject_pattern)
    codes, uniques = pd.factorize(value.astype(object).where(value.notna(), ""), sort=False)
    found = [regex.fullmatch(str(u)) for u in uniques]
    bad = np.asarray([m is None and u != "" for m, u in zip(found, uniques, strict=True)])
    if len(uniques) and bad[codes].any():
        raise ctx.data_error(
            f"subject {subj.subject_column} does not match subjects.subject_pattern "
            f"'{subj.subject_pattern}' (see {ctx.study_line('subjects', 'subject_pattern')})",
            ctx.raw,
            pd.Series(bad[codes], index=value.index),
            value_of=value,
        )
    return {
        name: pd.Series(
            np.asarray([(m.group(name) or "") if m else "" for m in found] or [""], dtype=object)[
                codes
            ],
            index=value.index,
            dtype=object,
        )
        for name in regex.groupindex
    }


def _registry_sites(ctx: OpContext, value: pd.Series) -> pd.Series:
    """Each subject's site on ``subjects.registry_form``; a subject not there is an error."""
    sites = ctx.extra.get("sites", {})
    siteid = map_unique(value, lambda u: u.map(sites).fillna(""))
    unknown = (siteid == "") & (value != "")  # an empty one: error below
    if unknown.any():
        raise ctx.data_error(
            f"subject not in the registry form {ctx.study.subjects.registry_form!r} (no site "
            "known; every subject needs an enrolment record)",
            ctx.raw,
            unknown,
            value_of=value,
        )
    return siteid


def _check_sites_agree(
    ctx: OpContext, value: pd.Series, from_pattern: pd.Series, column: pd.Series
) -> None:
    """A form with both a site column and a subject_pattern SITEID: they must agree."""
    differ = (from_pattern != column.fillna("")) & (from_pattern != "")
    if differ.any():
        subj = ctx.study.subjects
        raise ctx.data_error(
            f"the site in {subj.subject_column} (subject_pattern's SITEID) is not the site in "
            f"{subj.site_column}",
            ctx.raw,
            differ,
            value_of=value + " vs " + column,
        )


def _subject_parts(ctx: OpContext) -> SubjectParts:
    assert ctx.raw is not None
    subj = ctx.study.subjects
    value = ctx.raw[subj.subject_column]
    groups = _pattern_groups(ctx, value)
    column = ctx.raw[subj.site_column] if subj.site_column in ctx.raw.columns else None
    if "SITEID" in groups:
        siteid = groups["SITEID"]
        if column is not None:
            _check_sites_agree(ctx, value, siteid, column)
    elif column is not None:
        siteid = column
    elif subj.site_column:
        siteid = _registry_sites(ctx, value)
    else:
        siteid = pd.Series([subj.site or ""] * len(value), index=value.index, dtype=object)
    return SubjectParts(subjid=groups.get("SUBJID", value), siteid=siteid, groups=groups)


def make_usubjid(studyid: str, fields: dict[str, pd.Series], template: str) -> pd.Series:
    """USUBJID from the study's template (SDTMIG 3.4 section 4.1.2: unique in the
    submission): ``{STUDYID}`` is ``studyid``, any other ``{NAME}`` the record's value in
    ``fields`` (SITEID, SUBJID and the subject_pattern's groups)."""
    index = next(iter(fields.values())).index
    parts = list(string.Formatter().parse(template))
    for _, name, _, _ in parts:
        if name is not None and name != "STUDYID" and name not in fields:
            known = ", ".join(f"{{{k}}}" for k in ["STUDYID", *fields])
            raise MappingError(f"usubjid template field {{{name}}} is not one of {known}")
    used = sorted({name for _, name, _, _ in parts if name in fields})
    # the template is filled once per distinct combination of the fields it uses
    table = pd.DataFrame({name: fields[name].to_numpy() for name in used}, index=index)
    if used:
        first, inverse = ColumnCodes().combined(table, used)
        distinct = table.take(first)
    else:
        inverse, distinct = None, pd.DataFrame(index=pd.RangeIndex(1))
    out = pd.Series([""] * len(distinct), index=distinct.index, dtype=object)
    for literal, name, _, _ in parts:
        out = out + literal
        if name == "STUDYID":
            out = out + studyid
        elif name is not None:
            out = out + distinct[name].astype(str)
    values = out.to_numpy(dtype=object)
    if inverse is None:
        return pd.Series([values[0]] * len(index), index=index, dtype=object)
    return pd.Series(values[inverse], index=index, dtype=object)


class NoArgs(OpArgs):
    pass


#: Raw subject values of the CDISC pilot, the examples' subjects.
_PILOT = {"PATNUM": ["701-1015", "701-1023", "702-1001"]}
_PILOT_STUDY = {
    "subjects": {
        "subject_column": "PATNUM",
        "subject_pattern": "(?P<SITEID>\\d+)-(?P<SUBJID>\\d+)",
        "usubjid": "01-{SITEID}-{SUBJID}",
    }
}


@register(
    "usubjid",
    NoArgs,
    method="Unique subject identifier: the study's template over STUDYID, SITEID, SUBJID.",
    origin="Derived",
    raw=True,
    example=Example(
        spec="USUBJID: {op: usubjid}",
        raw=_PILOT,
        study=_PILOT_STUDY,
        gives=["01-701-1015", "01-701-1023", "01-702-1001"],
    ),
)
def op_usubjid(frame: pd.DataFrame, args: NoArgs, ctx: OpContext) -> pd.Series:
    """Unique subject identifier (SDTMIG 3.4 section 4.1.2: unique within the submission):
    study.yaml's ``subjects.usubjid`` template, text in which ``{STUDYID}`` (``studyid``),
    ``{SITEID}`` and ``{SUBJID}`` (as siteid and subjid give them) and ``{NAME}`` for each
    named group ``(?P<NAME>...)`` of ``subjects.subject_pattern`` are replaced by the
    record's values; plain names only (no format such as ``{SUBJID:04}``), ``{{`` and
    ``}}`` write a brace; default ``{STUDYID}-{SITEID}-{SUBJID}``. An empty subject value,
    and one that does not match ``subjects.subject_pattern``, are errors naming the file
    and rows."""
    parts = _subject_parts(ctx)
    empty = parts.subjid == ""
    if empty.any():
        raise ctx.data_error("empty subject identifier", ctx.raw, empty, value_of=parts.subjid)
    fields = {**parts.groups, "SITEID": parts.siteid, "SUBJID": parts.subjid}
    return make_usubjid(ctx.study.studyid, fields, ctx.study.subjects.usubjid)


@register(
    "subjid",
    NoArgs,
    method="Subject identifier as the site recorded it.",
    origin="Collected",
    raw=True,
    example=Example(
        spec="SUBJID: {op: subjid}",
        raw=_PILOT,
        study=_PILOT_STUDY,
        gives=["1015", "1023", "1001"],
    ),
)
def op_subjid(frame: pd.DataFrame, args: NoArgs, ctx: OpContext) -> pd.Series:
    """Subject identifier as the site recorded it: the raw column that study.yaml's
    ``subjects.subject_column`` names, or, when ``subjects.subject_pattern`` has a group
    named SUBJID, that part of it (``(?P<SITEID>\\d+)-(?P<SUBJID>\\d+)`` reads 701-1015 as
    1015); a value the pattern does not match is an error naming the file and rows."""
    return _subject_parts(ctx).subjid


@register(
    "siteid",
    NoArgs,
    method="Study site identifier.",
    origin="Collected",
    raw=True,
    example=Example(
        spec="SITEID: {op: siteid}",
        raw=_PILOT,
        study=_PILOT_STUDY,
        gives=["701", "701", "702"],
    ),
)
def op_siteid(frame: pd.DataFrame, args: NoArgs, ctx: OpContext) -> pd.Series:
    """Study site identifier: the group named SITEID of ``subjects.subject_pattern`` in
    the subject value (701-1015 -> 701; where the form also has ``subjects.site_column``,
    the two must agree); else the raw column ``subjects.site_column`` names; where a form
    lacks it, the subject's site on ``subjects.registry_form``; with no site column, the
    single ``subjects.site``."""
    return _subject_parts(ctx).siteid


class SeqArgs(OpArgs):
    order_by: list[str] = Field(
        default_factory=list,
        description="variables that order the records within USUBJID before numbering "
        "(SDTMIG 3.4 section 4.1.7), e.g. [AESTDTC, AETERM]; ties keep their record order. "
        "Left out (or []): the records are numbered in the order they were read: the "
        "domain's sources in spec order, each form in file row order, a melted row's items "
        "in the order `melt.items` lists them",
    )

    def inputs(self) -> set[str]:
        return {"USUBJID", *self.order_by}


@register(
    "seq",
    SeqArgs,
    method=(
        "Sequence number 1, 2, ... within each subject, in the order of {order_by} "
        "(SDTMIG 3.4 section 4.1.7: unique within USUBJID)."
    ),
    origin="Derived",
    needs_all=True,
    example=Example(
        spec="AESEQ: {op: seq, order_by: [AESTDTC]}",
        records={
            "USUBJID": ["S-2", "S-1", "S-1", "S-2"],
            "AESTDTC": ["2016-08-01", "2016-09-10", "2016-07-02", "2016-07-15"],
        },
        gives=[2, 2, 1, 1],
        note="Without `order_by`, the same records would be numbered as read: 1, 1, 2, 2.",
    ),
)
def op_seq(frame: pd.DataFrame, args: SeqArgs, ctx: OpContext) -> pd.Series:
    """--SEQ (SDTMIG 3.4 section 4.1.7: unique within USUBJID): 1, 2, ... within each
    subject, numbering the domain's records in the order of ``order_by`` (ties in the
    order they were read), or without it in the order they were read: the domain's
    sources in spec order, each form in file row order, a melted row's items in
    ``melt.items`` order."""
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
    method=(
        "The {field} of the criterion whose code is {variable}, from the study's "
        "inclusion/exclusion criteria (TI)."
    ),
    origin="Assigned",
    row_local=True,
    example=Example(
        spec="IECAT: {op: criterion, variable: IETESTCD, field: iecat}",
        records={"IETESTCD": ["INCL03", "EXCL02"]},
        gives=["INCLUSION", "EXCLUSION"],
        note="The bundled study's criteria: INCL03 (Age 18 to 65 years) and EXCL02 "
        "(Active infection).",
    ),
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
