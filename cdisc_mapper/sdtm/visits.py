"""The subjects' visit calendar: nominal visits from the schedule, unscheduled visits
numbered after the last scheduled visit before them, the same in every domain."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cdisc_mapper.sdtm.context import OpContext
from cdisc_mapper.spec.study import StudySpec
from cdisc_mapper.textops import map_unique

CAL_COLUMNS = ["USUBJID", "LABEL", "DATE"]


def _norm_label(s: pd.Series) -> pd.Series:
    return map_unique(
        s, lambda u: u.astype(str).str.strip().str.replace(r"\s+", " ", regex=True).str.upper()
    )


def label_table(study: StudySpec) -> dict[str, float]:
    """Raw label (normalised) -> scheduled VISITNUM."""
    table: dict[str, float] = {}
    for visit in study.visits:
        for label in [*visit.raw_labels, visit.visit]:
            table[re.sub(r"\s+", " ", label.strip()).upper()] = float(visit.visitnum)
    return table


def unscheduled_labels(study: StudySpec) -> set[str]:
    if study.unscheduled is None:
        return set()
    return {re.sub(r"\s+", " ", x.strip()).upper() for x in study.unscheduled.raw_labels}


def build_calendar(entries: list[pd.DataFrame], study: StudySpec) -> pd.DataFrame:
    """Per subject: every scheduled visit's date and every unscheduled visit's number.

    ``entries`` are frames with USUBJID, LABEL (raw visit label), DATE (ISO 8601 date)
    from every domain that records visits. Returns columns USUBJID, DATE, VISITNUM,
    UNSCHED (bool) for unscheduled dates; scheduled visits keep their nominal number.
    """
    if not entries:
        return pd.DataFrame(columns=["USUBJID", "DATE", "VISITNUM", "UNSCHED"])
    cal = pd.concat(entries, ignore_index=True)
    cal["LABEL"] = _norm_label(cal["LABEL"])
    cal["DATE"] = cal["DATE"].fillna("").astype(str).str.slice(0, 10)
    table = label_table(study)
    cal["NOMINAL"] = cal["LABEL"].map(table)
    sched = cal[cal["NOMINAL"].notna()]
    # only a complete date places an unscheduled visit among the scheduled ones
    complete = cal["DATE"].str.len() == 10
    unsched = cal[cal["LABEL"].isin(unscheduled_labels(study)) & complete]
    unsched = unsched[["USUBJID", "DATE"]].drop_duplicates().sort_values(["USUBJID", "DATE"])
    # last scheduled visit on or before each unscheduled date
    first_dates = (
        sched.loc[sched["DATE"] != "", ["USUBJID", "NOMINAL", "DATE"]]
        .sort_values(["USUBJID", "NOMINAL", "DATE"], kind="stable")
        .drop_duplicates(["USUBJID", "NOMINAL"], keep="first")
    )
    step = study.unscheduled.step if study.unscheduled else 0.01
    base = np.zeros(len(unsched))
    if len(unsched):
        merged = unsched.merge(first_dates, on="USUBJID", how="left", suffixes=("", "_S"))
        merged = merged[merged["DATE_S"].fillna("9999") <= merged["DATE"]]
        best = merged.groupby(["USUBJID", "DATE"])["NOMINAL"].max()
        keys = pd.MultiIndex.from_frame(unsched[["USUBJID", "DATE"]])
        base = best.reindex(keys).fillna(0.0).to_numpy()
    unsched = unsched.assign(BASE=base)
    unsched["K"] = unsched.groupby(["USUBJID", "BASE"]).cumcount() + 1
    unsched["VISITNUM"] = np.round(unsched["BASE"] + step * unsched["K"], 6)
    unsched["UNSCHED"] = True
    return unsched[["USUBJID", "DATE", "VISITNUM", "UNSCHED"]].reset_index(drop=True)


def lookup_visitnum(
    frame: pd.DataFrame,
    calendar: pd.DataFrame,
    study: StudySpec,
    *,
    label: str,
    date: str,
    ctx: OpContext,
) -> pd.Series:
    labels = _norm_label(frame[label])
    out = labels.map(label_table(study)).astype(float)
    unsched = labels.isin(unscheduled_labels(study))
    if unsched.any():
        day = frame[date].fillna("").astype(str).str.slice(0, 10)
        key = pd.MultiIndex.from_arrays([frame["USUBJID"].astype(str), day])
        table = calendar.set_index(["USUBJID", "DATE"])["VISITNUM"]
        nums = pd.Series(table.reindex(key).to_numpy(), index=frame.index)
        out = out.where(~unsched, nums)
    bad = out.isna() & (labels != "")
    if (bad & ~unsched).any():
        raise ctx.data_error(
            "visit label not in the study's visit schedule (add it to a visit's raw_labels "
            "or to unscheduled.raw_labels in study.yaml)",
            frame,
            bad & ~unsched,
            value_of=frame[label],
        )
    if bad.any():
        raise ctx.data_error(
            "unscheduled visit without a complete date (cannot be numbered after the "
            "scheduled visits)",
            frame,
            bad,
            value_of=frame[date].fillna("").astype(str),
        )
    return out


def visit_names(visitnum: pd.Series, study: StudySpec) -> pd.Series:
    names = {float(v.visitnum): v.visit for v in study.visits}
    prefix = study.unscheduled.label_prefix if study.unscheduled else "UNSCHEDULED"
    out = visitnum.map(names)
    miss = out.isna() & visitnum.notna()
    if miss.any():
        out[miss] = visitnum[miss].map(lambda x: f"{prefix} {x:.2f}")
    return out.fillna("").astype(object)


def visit_entries(frame: pd.DataFrame, label: str, date: str) -> pd.DataFrame:
    """Calendar entries (USUBJID, LABEL, DATE): one per distinct subject, visit label and
    visit date among a domain's records (a visit's many records add nothing)."""
    entries = pd.DataFrame(
        {
            "USUBJID": frame["USUBJID"].to_numpy(),
            "LABEL": frame[label].to_numpy(),
            "DATE": map_unique(frame[date], lambda u: u.astype(str).str.slice(0, 10)).to_numpy(),
        }
    )
    return entries.drop_duplicates(ignore_index=True)
