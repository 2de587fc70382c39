"""Subject-level trial design: SE (subject elements) and SV (subject visits)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from cdisc_mapper.condition import evaluate
from cdisc_mapper.derive import dates as ddates
from cdisc_mapper.derive import relative as drelative
from cdisc_mapper.derive import timing as dtiming
from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.spec.sdtm_loader import StudyBundle
from cdisc_mapper.spec.study import StudySpec
from cdisc_mapper.textops import map_unique

SE_COLUMNS = [
    "STUDYID",
    "DOMAIN",
    "USUBJID",
    "SESEQ",
    "ETCD",
    "ELEMENT",
    "TAETORD",
    "EPOCH",
    "SESTDTC",
    "SEENDTC",
    "SESTDY",
    "SEENDY",
]


#: What define.xml says of how SE and SV are derived.
SUBJECT_DESIGN_METHODS = {
    "SE": ("One record per subject and element actually experienced (SDTMIG 3.4 section 5.3.1)."),
    "SV": (
        "One record per subject and visit that took place (SDTMIG 3.4 section 5.3.2): start "
        "and end are the earliest and latest dates recorded for the visit in any domain. "
        "Unscheduled visits carry SVUPDES."
    ),
}


#: What define.xml adds to SV's method when the study has study days and no dates
#: (a relative-day timeline without an anchor).
SV_ON_STUDY_DAYS = (
    " Without dates (relative-day data), SVSTDY and SVENDY are the earliest and latest "
    "study days recorded for the visit and SVSTDTC and SVENDTC are null."
)


def sv_method(study: StudySpec) -> str:
    """What define.xml says of how SV is derived, for ``study``."""
    timeline = study.timeline
    days_only = timeline is not None and timeline.anchor is None
    return SUBJECT_DESIGN_METHODS["SV"] + (SV_ON_STUDY_DAYS if days_only else "")


#: Why SE is not written for relative-day data without dates (elements starting at study
#: days): its SESTDTC is Required (SDTMIG 3.4 section 5.3.1) and there is no date to give;
#: EPOCH is still derived from the elements' study-day spans.
SE_NOT_WRITTEN = (
    "SE is not written: the elements start at study days and SE's SESTDTC is Required "
    "(SDTMIG 3.4 section 5.3.1), with no date to give; EPOCH comes from the elements' "
    "study days (SESTDY <= --DY < the next element's SESTDY)"
)


#: DM dates SE uses when the DM spec maps them: the end of the last element (RFPENDTC)
#: and study day 1 (RFSTDTC).
SE_REFERENCE_DATES = ("RFPENDTC", "RFSTDTC")


def _subject_values(usubjid: pd.Series, dm: pd.DataFrame, name: str) -> pd.Series:
    """DM's ``name`` (a date, the arm) for each subject of ``usubjid``; empty when DM does
    not map it."""
    if name not in dm.columns:
        return pd.Series("", index=usubjid.index, dtype=object)
    return usubjid.map(dm.set_index("USUBJID")[name]).fillna("").astype(str)


def _study_day(dtc: pd.Series, usubjid: pd.Series, dm: pd.DataFrame) -> pd.Series:
    ref = _subject_values(usubjid, dm, "RFSTDTC")
    return ddates.derive_study_day(dtc.fillna("").astype(str), ref).astype(float)


def is_study_day(variable: str) -> bool:
    """Whether an element starts at a study day rather than a date: the variable is a
    study day (--DY, --STDY, --ENDY or a helper named like them: its name ends in DY)."""
    return variable.upper().endswith("DY")


def starts_on_study_days(study: StudySpec) -> bool:
    """Whether the study's elements start at study days (relative-day data without dates:
    SE then has SESTDY/SEENDY and null SESTDTC/SEENDTC)."""
    return any(is_study_day(el.start.variable) for el in study.elements)


def check_se_inputs(frames: dict[str, pd.DataFrame], study: StudySpec, where: Any) -> None:
    """SE needs DM (its subjects) and, for each element, the dated variable (or study
    day) it starts at; a spec that maps neither is an error at the element's ``start`` in
    study.yaml, and so are elements some of which start at dates and some at study days.
    ``where(document, path)`` gives a spec location."""
    kinds = [is_study_day(el.start.variable) for el in study.elements]
    if len(set(kinds)) > 1:
        i = kinds.index(not kinds[0])
        raise SpecError(
            f"element {study.elements[i].etcd} starts at {study.elements[i].start.variable} "
            f"and element {study.elements[0].etcd} at {study.elements[0].start.variable}: "
            "one at a study day, the other at a date",
            where=where("study", ("elements", i, "start")),
            hint="start every element at a date (--DTC) or every one at a study day "
            "(--DY, --STDY): SE compares the starts with each other",
        )
    if "DM" not in frames or "USUBJID" not in frames["DM"].columns:
        raise SpecError(
            "the study defines elements, so SE is built, but no DM spec maps USUBJID",
            where=where("study", ("elements",)),
            hint="add sdtm/dm.yaml: SE lists the elements of each subject in DM",
        )
    for i, el in enumerate(study.elements):
        start = el.start
        if start.domain not in frames or start.variable not in frames[start.domain].columns:
            raise SpecError(
                f"element {el.etcd} starts at {start.domain}.{start.variable}, which no "
                "domain spec maps",
                where=where("study", ("elements", i, "start")),
                hint="map that variable, or point the element's start at one that is mapped",
            )


#: DM variables naming the subject's arm, whose elements (TA) are the subject's: the
#: actual arm, else the planned one.
SE_ARM_VARIABLES = ("ACTARMCD", "ARMCD")


def _taetord(study: StudySpec) -> dict[str, int]:
    order: dict[str, int] = {}
    for arm in study.arms:
        for i, etcd in enumerate(arm.elements, start=1):
            order.setdefault(etcd, i)
    return order


def _subject_arms(usubjid: pd.Series, dm: pd.DataFrame) -> pd.Series:
    """Each record's subject's arm: DM.ACTARMCD, else DM.ARMCD (blank when neither)."""
    arm = pd.Series("", index=usubjid.index, dtype=object)
    for name in reversed(SE_ARM_VARIABLES):
        value = _subject_values(usubjid, dm, name).str.strip()
        arm = arm.where(value == "", value)
    return arm


def _on_the_subjects_arm(se: pd.DataFrame, dm: pd.DataFrame, study: StudySpec) -> pd.DataFrame:
    """The element records of ``se`` that lie on their subject's arm, with TAETORD the
    element's place in that arm (TA). A subject whose arm is not one of the study's (a
    screen failure, no arm) keeps every element it has a start for, TAETORD the
    element's first place in any arm."""
    places = {
        (arm.armcd, etcd): float(i)
        for arm in study.arms
        for i, etcd in enumerate(arm.elements, start=1)
    }
    arms = _subject_arms(se["USUBJID"], dm)
    known = arms.isin({arm.armcd for arm in study.arms})
    keys = list(zip(arms, se["ETCD"], strict=True))
    on_arm = pd.Series([k in places for k in keys], index=se.index)
    anywhere = se["ETCD"].map(_taetord(study)).astype(float)
    own = pd.Series([places.get(k, np.nan) for k in keys], index=se.index, dtype=float)
    se = se.assign(TAETORD=own.where(known, anywhere))
    return se.loc[~known | on_arm]


def study_day_variables(code: str, names: Any) -> list[str]:
    """The study-day timing variables of domain ``code`` among ``names`` (--DY, --STDY,
    --ENDY; SDTMIG 3.4 section 4.4.4)."""
    pattern = re.compile(rf"^{re.escape(code)}(ST|EN)?DY$")
    return [n for n in names if pattern.match(n)]


def _last_study_days(frames: dict[str, pd.DataFrame], usubjid: pd.Series) -> pd.Series:
    """Each record's subject's latest study day in any domain (its --DY, --STDY, --ENDY):
    on study days, the subject's last known contact, as DM.RFPENDTC is on dates."""
    days = [
        frame[["USUBJID", name]].set_axis(["USUBJID", "DAY"], axis=1)
        for code, frame in frames.items()
        if "USUBJID" in frame.columns
        for name in study_day_variables(code, frame.columns)
    ]
    if not days:
        return pd.Series(np.nan, index=usubjid.index, dtype=float)
    every = pd.concat(days, ignore_index=True)
    last = pd.to_numeric(every["DAY"], errors="coerce").groupby(every["USUBJID"]).max()
    return usubjid.map(last).astype(float)


def _start_values(values: pd.Series, on_days: bool, el: Any) -> pd.Series:
    """An element's start values: the dates as text, or the study days as numbers (a
    study day that is no number is an error naming the element and the values)."""
    if not on_days:
        return values
    days = pd.to_numeric(values, errors="coerce")
    bad = days.isna() & (values.fillna("").astype(str).str.strip() != "")
    if bad.any():
        raise MappingError(
            f"element {el.etcd} starts at {el.start.domain}.{el.start.variable}, a study "
            f"day, and it holds values that are no number: {sorted(set(values[bad]))[:5]}",
            hint="point the element's start at a numeric study day (--DY, --STDY)",
        )
    return days


def _element_starts(
    frames: dict[str, pd.DataFrame], study: StudySpec, on_days: bool
) -> pd.DataFrame:
    """Each subject's start (``_START``: a date or a study day) of each element."""
    parts = []
    for el in study.elements:
        src = frames[el.start.domain]
        if el.start.where is not None:
            src = src.loc[evaluate(el.start.where, src).to_numpy()]
        vals = src[["USUBJID", el.start.variable]].copy()
        vals.columns = ["USUBJID", "_START"]
        vals["_START"] = _start_values(vals["_START"], on_days, el)
        vals = vals[vals["_START"].fillna("").astype(str) != ""]
        vals = vals.sort_values(["USUBJID", "_START"], kind="stable")
        if el.start.occurrence is not None:
            vals["_N"] = vals.groupby("USUBJID").cumcount() + 1
            vals = vals[vals["_N"] == el.start.occurrence].drop(columns="_N")
        else:
            vals = vals.drop_duplicates("USUBJID", keep="first")
        vals["ETCD"] = el.etcd
        vals["ELEMENT"] = el.element
        vals["EPOCH"] = el.epoch
        parts.append(vals)
    if not parts:
        return pd.DataFrame(columns=["USUBJID", "_START", "ETCD", "ELEMENT", "EPOCH"])
    return pd.concat(parts, ignore_index=True)


def build_se(frames: dict[str, pd.DataFrame], study: StudySpec, terminology: Any) -> pd.DataFrame:
    """One record per subject and element actually experienced (SDTMIG 3.4 section 5.3.1).

    Each element starts where the study spec says (a dated variable of another domain,
    optionally its n-th occurrence); it ends when the subject's next element starts, the
    last one at DM.RFPENDTC. Elements whose start is absent are not recorded, nor are
    elements outside the subject's arm (DM.ACTARMCD, else ARMCD; TA lists an arm's
    elements, and TAETORD is the element's place there): two arms' treatment elements may
    both start at the first dose. A subject with no arm of the study (a screen failure)
    gets every element it has a start for.

    SEENDTC is Expected and SESTDY/SEENDY Permissible in SDTMIG 3.4 (section 5.3.1): when
    the DM spec maps no RFPENDTC, each subject's last element has an empty end date (as any
    unmapped Expected variable is empty); without RFSTDTC the study days are empty.

    Relative-day data without dates (elements starting at a study day, e.g. EXSTDY):
    SESTDY is the start's study day and SEENDY the next element's SESTDY, the last one
    the subject's latest study day in any domain (its last known contact); SESTDTC and
    SEENDTC are null. SESTDTC being Required (SDTMIG 3.4 section 5.3.1), such an SE
    serves op epoch and is not written (``SE_NOT_WRITTEN``).
    """
    dm = frames["DM"]
    on_days = starts_on_study_days(study)
    se = _on_the_subjects_arm(_element_starts(frames, study, on_days), dm, study)
    se = se.sort_values(["USUBJID", "_START", "TAETORD"], kind="stable").reset_index(drop=True)
    nxt = se.groupby("USUBJID")["_START"].shift(-1)
    if on_days:
        se["SESTDY"] = se["_START"].astype(float)
        se["SEENDY"] = nxt.astype(float).fillna(_last_study_days(frames, se["USUBJID"]))
        se["SESTDTC"] = se["SEENDTC"] = ""
    else:
        end = _subject_values(se["USUBJID"], dm, "RFPENDTC")
        se["SEENDTC"] = nxt.fillna(end).astype(str).str.slice(0, 10)
        se["SESTDTC"] = se["_START"].astype(str).str.slice(0, 10)
        se["SESTDY"] = _study_day(se["SESTDTC"], se["USUBJID"], dm)
        se["SEENDY"] = _study_day(se["SEENDTC"], se["USUBJID"], dm)
    se["STUDYID"] = study.studyid
    se["DOMAIN"] = "SE"
    se["SESEQ"] = (se.groupby("USUBJID").cumcount() + 1).astype(float)
    return se[SE_COLUMNS]


#: The ops that give a record's VISITNUM, whose visits SV lists: ``visitnum`` (from the
#: visit label, the record's date in ``date``) and ``visit_window`` (from the study day in
#: ``dy``; the record's date, when it has one, the --DTC of that --DY).
SV_VISIT_OPS = ("visitnum", "visit_window")


def date_of_study_day(dy: str) -> str:
    """The date variable a study-day variable counts (SDTMIG 3.4 section 4.4.4): --DY of
    --DTC, --STDY of --STDTC, --ENDY of --ENDTC."""
    return dy[:-2] + "DTC"


def _no_days(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(np.nan, index=frame.index, dtype=float)


def _visit_records(frame: pd.DataFrame, op: str, args: Any) -> pd.DataFrame:
    """A domain's visit records for SV: subject, VISITNUM, VISIT, the date (first 10
    characters, ``""`` when absent) and the study day (``visit_window``'s ``dy``; NaN for
    ``visitnum``), one row per distinct combination."""
    if op == "visitnum":
        date_column: str | None = args.date
        days = _no_days(frame)
    else:
        date_column = date_of_study_day(args.dy)
        days = pd.to_numeric(frame[args.dy], errors="coerce").astype(float)
    if date_column is not None and date_column in frame.columns:
        dates = map_unique(frame[date_column], lambda u: u.astype(str).str.slice(0, 10))
    else:
        dates = pd.Series("", index=frame.index, dtype=object)
    # the columns as they are (no conversion of every value), on the frame's index
    part = pd.DataFrame(
        {
            "USUBJID": frame["USUBJID"],
            "VISITNUM": frame["VISITNUM"].astype(float),
            "VISIT": frame.get("VISIT", ""),
            "DATE": dates,
            "DAY": days,
        },
        index=frame.index,
    )
    return part.drop_duplicates(ignore_index=True)


def _visit_spans(allv: pd.DataFrame, value: str) -> pd.DataFrame:
    """Per subject and visit (USUBJID, VISITNUM, the VISIT of its first record), the
    earliest and latest ``value`` (DATE or DAY) of the visit's records: _FIRST, _LAST."""
    ordered = allv.sort_values(["USUBJID", "VISITNUM", value], kind="stable")
    firsts = ordered.drop_duplicates(["USUBJID", "VISITNUM"], keep="first")
    lasts = ordered.drop_duplicates(["USUBJID", "VISITNUM"], keep="last")
    return pd.DataFrame(
        {
            "USUBJID": firsts["USUBJID"].to_numpy(),
            "VISITNUM": firsts["VISITNUM"].to_numpy(),
            "VISIT": firsts["VISIT"].to_numpy(),
            "_FIRST": firsts[value].to_numpy(),
            "_LAST": lasts[value].to_numpy(),
        }
    )


def _undated_visits(allv: pd.DataFrame, dated: pd.DataFrame) -> pd.DataFrame:
    """The visits (subject and VISITNUM) with no dated record but a study day
    (``visit_window`` on relative-day data without an anchor), with SVSTDY/SVENDY the
    earliest/latest study day of their records and null SVSTDTC/SVENDTC."""
    has_date = pd.MultiIndex.from_frame(dated[["USUBJID", "VISITNUM"]])
    keys = pd.MultiIndex.from_frame(allv[["USUBJID", "VISITNUM"]])
    days = allv[~keys.isin(has_date) & allv["DAY"].notna()]
    spans = _visit_spans(days, "DAY")
    return spans.rename(columns={"_FIRST": "SVSTDY", "_LAST": "SVENDY"}).assign(
        SVSTDTC="", SVENDTC=""
    )


def _sv_epoch(sv: pd.DataFrame, se: pd.DataFrame, study: StudySpec) -> pd.Series:
    """SV's EPOCH: the element holding the visit's start (SVSTDTC; on study days, SVSTDY
    when the elements start at study days)."""
    if starts_on_study_days(study):
        return drelative.epoch_of_study_days(sv["SVSTDY"], sv["USUBJID"], se)
    return dtiming.derive_epoch(sv["SVSTDTC"], sv["USUBJID"], se)


def build_sv(
    frames: dict[str, pd.DataFrame], bundle: StudyBundle, se: pd.DataFrame | None, terminology: Any
) -> pd.DataFrame | None:
    """One record per subject and visit that took place (SDTMIG 3.4 section 5.3.2):
    start and end are the earliest and latest dates recorded for the visit in any domain.
    Unscheduled visits carry SVUPDES.

    Visits assigned from study days (op ``visit_window``) count too: with dates (a
    timeline anchor's pseudo dates, the --DTC of the op's --DY) as any other visit; on
    relative-day data without dates, SVSTDY/SVENDY are the earliest/latest study day of
    the visit's records and SVSTDTC/SVENDTC null (Expected, SDTMIG 3.4 section 5.3.2)."""
    study = bundle.study
    parts = []
    for code, spec in bundle.domains.items():
        for name, var in spec.variables.items():
            if var.op not in SV_VISIT_OPS or "VISITNUM" not in frames[code].columns:
                continue
            args = bundle.op_args[(code, None, name)]
            parts.append(_visit_records(frames[code], var.op, args))
    if not parts:
        return None
    allv = pd.concat(parts, ignore_index=True)
    allv = allv[allv["VISITNUM"].notna()]
    dated = allv[allv["DATE"].str.len() == 10]
    spans = _visit_spans(dated, "DATE")
    sv = spans.rename(columns={"_FIRST": "SVSTDTC", "_LAST": "SVENDTC"})
    undated = _undated_visits(allv, dated)
    dm = frames["DM"]
    sv["SVSTDY"] = _study_day(sv["SVSTDTC"], sv["USUBJID"], dm)
    sv["SVENDY"] = _study_day(sv["SVENDTC"], sv["USUBJID"], dm)
    if len(undated):
        sv = pd.concat([sv, undated[sv.columns]], ignore_index=True)
        sv = sv.sort_values(["USUBJID", "VISITNUM"], kind="stable", ignore_index=True)
    sv.insert(0, "STUDYID", study.studyid)
    sv.insert(1, "DOMAIN", "SV")
    scheduled = {float(v.visitnum) for v in study.visits}
    planned = sv["VISITNUM"].isin(scheduled)
    sv["SVPRESP"] = np.where(planned, "Y", "")
    sv["SVOCCUR"] = np.where(planned, "Y", "")
    sv["SVUPDES"] = np.where(planned, "", "Unscheduled visit")
    if se is not None:
        sv["EPOCH"] = _sv_epoch(sv, se, study).astype(object)
    return sv
