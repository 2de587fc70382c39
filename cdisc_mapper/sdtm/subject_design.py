"""Subject-level trial design: SE (subject elements) and SV (subject visits)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cdisc_mapper.condition import evaluate
from cdisc_mapper.derive import dates as ddates
from cdisc_mapper.derive import timing as dtiming
from cdisc_mapper.errors import SpecError
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


def check_se_inputs(frames: dict[str, pd.DataFrame], study: StudySpec, where: Any) -> None:
    """SE needs DM (its subjects) and, for each element, the dated variable it starts at;
    a spec that maps neither is an error at the element's ``start`` in study.yaml.
    ``where(document, path)`` gives a spec location."""
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
    """
    dm = frames["DM"]
    parts = []
    for el in study.elements:
        src = frames[el.start.domain]
        if el.start.where is not None:
            src = src.loc[evaluate(el.start.where, src).to_numpy()]
        vals = src[["USUBJID", el.start.variable]].copy()
        vals.columns = ["USUBJID", "SESTDTC"]
        vals = vals[vals["SESTDTC"].fillna("").astype(str) != ""]
        vals = vals.sort_values(["USUBJID", "SESTDTC"], kind="stable")
        if el.start.occurrence is not None:
            vals["_N"] = vals.groupby("USUBJID").cumcount() + 1
            vals = vals[vals["_N"] == el.start.occurrence].drop(columns="_N")
        else:
            vals = vals.drop_duplicates("USUBJID", keep="first")
        vals["ETCD"] = el.etcd
        vals["ELEMENT"] = el.element
        vals["EPOCH"] = el.epoch
        parts.append(vals)
    se = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SE_COLUMNS)
    se = _on_the_subjects_arm(se, dm, study)
    se = se.sort_values(["USUBJID", "SESTDTC", "TAETORD"], kind="stable").reset_index(drop=True)
    nxt = se.groupby("USUBJID")["SESTDTC"].shift(-1)
    end = _subject_values(se["USUBJID"], dm, "RFPENDTC")
    se["SEENDTC"] = nxt.fillna(end).astype(str).str.slice(0, 10)
    se["SESTDTC"] = se["SESTDTC"].astype(str).str.slice(0, 10)
    se["STUDYID"] = study.studyid
    se["DOMAIN"] = "SE"
    se["SESEQ"] = (se.groupby("USUBJID").cumcount() + 1).astype(float)
    se["SESTDY"] = _study_day(se["SESTDTC"], se["USUBJID"], dm)
    se["SEENDY"] = _study_day(se["SEENDTC"], se["USUBJID"], dm)
    return se[SE_COLUMNS]


def build_sv(
    frames: dict[str, pd.DataFrame], bundle: StudyBundle, se: pd.DataFrame | None, terminology: Any
) -> pd.DataFrame | None:
    """One record per subject and visit that took place (SDTMIG 3.4 section 5.3.2):
    start and end are the earliest and latest dates recorded for the visit in any domain.
    Unscheduled visits carry SVUPDES."""
    study = bundle.study
    parts = []
    for code, spec in bundle.domains.items():
        for name, var in spec.variables.items():
            if var.op != "visitnum":
                continue
            args = bundle.op_args[(code, None, name)]
            frame = frames[code]
            if "VISITNUM" not in frame.columns:
                continue
            # the columns as they are (no conversion of every value), on the frame's index
            part = pd.DataFrame(
                {
                    "USUBJID": frame["USUBJID"],
                    "VISITNUM": frame["VISITNUM"].astype(float),
                    "VISIT": frame.get("VISIT", ""),
                    "DATE": map_unique(frame[args.date], lambda u: u.astype(str).str.slice(0, 10)),
                },
                index=frame.index,
            )
            parts.append(part.drop_duplicates(ignore_index=True))
    if not parts:
        return None
    allv = pd.concat(parts, ignore_index=True)
    allv = allv[allv["VISITNUM"].notna()]
    dated = allv[allv["DATE"].str.len() == 10]
    dated = dated.sort_values(["USUBJID", "VISITNUM", "DATE"], kind="stable")
    firsts = dated.drop_duplicates(["USUBJID", "VISITNUM"], keep="first")
    lasts = dated.drop_duplicates(["USUBJID", "VISITNUM"], keep="last")
    sv = pd.DataFrame(
        {
            "USUBJID": firsts["USUBJID"].to_numpy(),
            "VISITNUM": firsts["VISITNUM"].to_numpy(),
            "VISIT": firsts["VISIT"].to_numpy(),
            "SVSTDTC": firsts["DATE"].to_numpy(),
            "SVENDTC": lasts["DATE"].to_numpy(),
        }
    )
    sv.insert(0, "STUDYID", study.studyid)
    sv.insert(1, "DOMAIN", "SV")
    scheduled = {float(v.visitnum) for v in study.visits}
    planned = sv["VISITNUM"].isin(scheduled)
    sv["SVPRESP"] = np.where(planned, "Y", "")
    sv["SVOCCUR"] = np.where(planned, "Y", "")
    sv["SVUPDES"] = np.where(planned, "", "Unscheduled visit")
    dm = frames["DM"]
    sv["SVSTDY"] = _study_day(sv["SVSTDTC"], sv["USUBJID"], dm)
    sv["SVENDY"] = _study_day(sv["SVENDTC"], sv["USUBJID"], dm)
    if se is not None:
        sv["EPOCH"] = dtiming.derive_epoch(sv["SVSTDTC"], sv["USUBJID"], se).astype(object)
    return sv
