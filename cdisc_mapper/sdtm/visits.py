"""The subjects' visit calendar and the visit schedule (SDTMIG 3.4 section 4.4.5).

An EDC visit label is a scheduled visit's (study.yaml ``visits``: VISITNUM is the
visit's, also when out of window), or an unscheduled visit's (``unscheduled``): its
VISITNUM is the number the label holds (``pattern`` with a ``number`` group, e.g.
``Unscheduled 8.2``), or else the calendar's, the same in every domain: the subject's
last scheduled visit on or before the visit's date plus ``step``, 2 x ``step``... (a
number some label of the subject already holds is skipped).
"""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
import pandas as pd

from cdisc_mapper.sdtm.context import OpContext
from cdisc_mapper.spec.study import StudySpec, visit_label_key
from cdisc_mapper.textops import format_number, map_unique

CALENDAR_COLUMNS = ["USUBJID", "DATE", "VISITNUM", "UNSCHED", "BY_LABEL"]
"""The calendar: a row per unscheduled visit of a subject; ``BY_LABEL`` rows are numbered
by their label (DATE as recorded, possibly empty), the others by the calendar (one per
complete date)."""

#: How a label writes an unscheduled visit's number: digits, optionally a decimal part.
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _norm_label(s: pd.Series) -> pd.Series:
    return map_unique(s, lambda u: u.astype(str).map(visit_label_key))


def label_table(study: StudySpec) -> dict[str, float]:
    """Raw label (normalised) -> scheduled VISITNUM."""
    table: dict[str, float] = {}
    for visit in study.visits:
        for label in [*visit.raw_labels, visit.visit]:
            table[visit_label_key(label)] = float(visit.visitnum)
    return table


def label_numbers(labels: pd.Series, study: StudySpec) -> pd.Series:
    """For each normalised label: how it numbers an unscheduled visit (``""``: by the
    calendar; else the number as the label writes it), None when it is not an
    unscheduled visit's label. A scheduled visit's label is never unscheduled."""
    unsched = study.unscheduled
    scheduled = label_table(study)
    if unsched is None:
        return pd.Series(None, index=labels.index, dtype=object)

    def one(key: str) -> str | None:
        return None if key in scheduled else unsched.number_in(key)

    return map_unique(labels, lambda u: u.map(one))


def _as_number(text: pd.Series) -> pd.Series:
    """Numbers written in labels as floats; NaN where the text is not a number."""
    good = text.fillna("").astype(str).str.fullmatch(_NUMBER)
    return pd.to_numeric(text.where(good), errors="coerce").astype(float)


def build_calendar(entries: list[pd.DataFrame], study: StudySpec) -> pd.DataFrame:
    """Per subject: every unscheduled visit's number (:data:`CALENDAR_COLUMNS`).

    ``entries`` are frames with USUBJID, LABEL (raw visit label), DATE (ISO 8601 date)
    from every domain that records visits. A visit whose label holds its number has that
    number; the others are numbered per complete date after the subject's last scheduled
    visit on or before it (scheduled visits keep their nominal number).
    """
    if not entries:
        return pd.DataFrame(columns=CALENDAR_COLUMNS)
    cal = pd.concat(entries, ignore_index=True)
    cal["LABEL"] = _norm_label(cal["LABEL"])
    cal["DATE"] = cal["DATE"].fillna("").astype(str).str.slice(0, 10)
    cal["NOMINAL"] = cal["LABEL"].map(label_table(study))
    number = label_numbers(cal["LABEL"], study)
    by_label = cal.loc[number.fillna("") != "", ["USUBJID", "DATE"]].assign(
        VISITNUM=_as_number(number[number.fillna("") != ""]), UNSCHED=True, BY_LABEL=True
    )
    by_label = by_label[by_label["VISITNUM"].notna()].drop_duplicates(ignore_index=True)
    # only a complete date places an unscheduled visit among the scheduled ones
    dated = (number == "") & (cal["DATE"].str.len() == 10)
    unsched = cal.loc[dated, ["USUBJID", "DATE"]].drop_duplicates()
    unsched = unsched.sort_values(["USUBJID", "DATE"])
    step = study.unscheduled.step if study.unscheduled else 0.01
    numbered = _number_by_date(cal[cal["NOMINAL"].notna()], unsched, step, by_label)
    return pd.concat([numbered.assign(UNSCHED=True, BY_LABEL=False), by_label], ignore_index=True)[
        CALENDAR_COLUMNS
    ]


def _number_by_date(
    sched: pd.DataFrame, unsched: pd.DataFrame, step: float, by_label: pd.DataFrame
) -> pd.DataFrame:
    """USUBJID, DATE, VISITNUM of each unscheduled visit numbered by the calendar: the
    last scheduled visit on or before its date (0 when none) + step, 2 x step..., numbers
    held by the subject's numbered labels skipped."""
    first_dates = (
        sched.loc[sched["DATE"] != "", ["USUBJID", "NOMINAL", "DATE"]]
        .sort_values(["USUBJID", "NOMINAL", "DATE"], kind="stable")
        .drop_duplicates(["USUBJID", "NOMINAL"], keep="first")
    )
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
    if len(by_label) and len(unsched):
        unsched["VISITNUM"] = _skip_taken(unsched, step, by_label)
    return unsched[["USUBJID", "DATE", "VISITNUM"]].reset_index(drop=True)


def _skip_taken(unsched: pd.DataFrame, step: float, by_label: pd.DataFrame) -> np.ndarray:
    """The calendar's numbers (``unsched`` in subject and date order) with each subject's
    numbers held by its labels (``by_label``) skipped."""
    taken: dict[str, set[float]] = {}
    for subject, number in zip(by_label["USUBJID"], by_label["VISITNUM"], strict=True):
        taken.setdefault(str(subject), set()).add(round(float(number), 6))
    last: dict[tuple[str, float], int] = {}
    out = []
    for subject, base in zip(unsched["USUBJID"].astype(str), unsched["BASE"], strict=True):
        held = taken.get(subject, set())
        k = last.get((subject, base), 0) + 1
        while round(base + step * k, 6) in held:
            k += 1
        last[(subject, base)] = k
        out.append(round(base + step * k, 6))
    return np.asarray(out, dtype=float)


def lookup_visitnum(
    frame: pd.DataFrame,
    calendar: pd.DataFrame,
    study: StudySpec,
    *,
    label: str,
    date: str,
    ctx: OpContext,
) -> pd.Series:
    """VISITNUM of each record from its visit label, date and subject (see the module
    docstring); a label in neither the schedule nor ``unscheduled``, a number in a label
    that is not one, an unscheduled visit numbered by the calendar without a complete
    date, and an unscheduled number that is a scheduled visit's are errors naming the
    records."""
    labels = _norm_label(frame[label])
    out = labels.map(label_table(study)).astype(float)
    number = label_numbers(labels, study)
    unsched = number.notna()
    if unsched.any():
        out = out.where(~unsched, _unscheduled_numbers(frame, calendar, number, date))
    _check_numbers(frame, out, labels, number, label, date, ctx)
    return out


def _unscheduled_numbers(
    frame: pd.DataFrame, calendar: pd.DataFrame, number: pd.Series, date: str
) -> pd.Series:
    """The number of each unscheduled visit: its label's, else the calendar's."""
    day = frame[date].fillna("").astype(str).str.slice(0, 10)
    key = pd.MultiIndex.from_arrays([frame["USUBJID"].astype(str), day])
    by_date = calendar[~calendar["BY_LABEL"].astype(bool)].set_index(["USUBJID", "DATE"])
    nums = pd.Series(by_date["VISITNUM"].reindex(key).to_numpy(), index=frame.index)
    return _as_number(number).where(number != "", nums.astype(float))


def _check_numbers(
    frame: pd.DataFrame,
    out: pd.Series,
    labels: pd.Series,
    number: pd.Series,
    label: str,
    date: str,
    ctx: OpContext,
) -> None:
    unsched = number.notna()
    bad = out.isna() & (labels != "")
    if (bad & ~unsched).any():
        raise ctx.data_error(
            "visit label not in the study's visit schedule (add it to a visit's raw_labels "
            "or to unscheduled.raw_labels in study.yaml, or make unscheduled.pattern match it)",
            frame,
            bad & ~unsched,
            value_of=frame[label],
        )
    if (bad & (number != "")).any():
        raise ctx.data_error(
            "the number group of an unscheduled visit's label is not a number (digits, "
            "optionally a decimal point and digits; see "
            f"{ctx.study_line('unscheduled', 'pattern')})",
            frame,
            bad & (number != ""),
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
    names = {float(v.visitnum): v.visit for v in ctx.study.visits}
    clash = unsched & out.isin(list(names))
    if clash.any():
        setting = "pattern" if (number[clash] != "").any() else "step"
        shown = frame[label].astype(str) + " -> " + out.map(lambda x: f"{x:g}")
        raise ctx.data_error(
            "unscheduled visit numbered as a scheduled visit (VISITNUM "
            + ", ".join(f"{x:g} is {names[x]}" for x in sorted(set(out[clash])))
            + "; a VISITNUM names one visit; see "
            f"{ctx.study_line('unscheduled', setting)})",
            frame,
            clash,
            value_of=shown,
        )


def visit_decimals(study: StudySpec) -> int:
    """Decimals of an unscheduled VISIT's number: those of ``unscheduled.step``."""
    step = study.unscheduled.step if study.unscheduled else 0.01
    return max(0, -int(Decimal(repr(step)).normalize().as_tuple().exponent))


def unscheduled_name(visitnum: float, prefix: str, decimals: int) -> str:
    """``prefix`` and VISITNUM with ``decimals`` decimals, or more when the number has
    more (so that two numbers never share a name)."""
    text = format_number(visitnum)
    own = len(text.partition(".")[2])
    return f"{prefix} {format_number(visitnum, max(decimals, own))}"


def visit_names(visitnum: pd.Series, study: StudySpec) -> pd.Series:
    """VISIT of each VISITNUM: the schedule's name, else ``label_prefix`` and the number
    (:func:`unscheduled_name`); empty without a number."""
    names = {float(v.visitnum): v.visit for v in study.visits}
    prefix = study.unscheduled.label_prefix if study.unscheduled else "UNSCHEDULED"
    decimals = visit_decimals(study)
    out = visitnum.map(names)
    miss = out.isna() & visitnum.notna()
    if miss.any():
        out[miss] = visitnum[miss].map(lambda x: unscheduled_name(float(x), prefix, decimals))
    return out.fillna("").astype(object)


def visit_entries(frame: pd.DataFrame, label: str, date: str) -> pd.DataFrame:
    """Calendar entries (USUBJID, LABEL, DATE): one per distinct subject, visit label and
    visit date among a domain's records (a visit's many records add nothing)."""
    entries = pd.DataFrame(
        {
            "USUBJID": frame["USUBJID"],
            "LABEL": frame[label],
            "DATE": map_unique(frame[date], lambda u: u.astype(str).str.slice(0, 10)),
        },
        index=frame.index,
    )  # the columns as they are: no conversion of every value
    return entries.drop_duplicates(ignore_index=True)
