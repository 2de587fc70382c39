"""Date and timing checks (TM): ISO 8601, study days, order of dates, death, EPOCH (the
visit checks TM0008-TM0010 are in :mod:`.visits`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdisc_mapper import iso8601 as iso
from cdisc_mapper.validate.checks.results import distinct_codes
from cdisc_mapper.validate.context import Context, fmt_value
from cdisc_mapper.validate.model import ERROR, INFO, WARNING, scope
from cdisc_mapper.validate.package import Dataset, blank, codes_in, distinct
from cdisc_mapper.validate.registry import check

_DURATION_SUFFIXES = ("DUR", "ELTM", "EVLINT", "STINT", "ENINT")


def _day(values: pd.Series, table: np.ndarray | None = None) -> np.ndarray:
    """SAS date of each value's date portion (its study day is checked even when its time
    part is invalid; TM0001 reports that), read once per distinct value (``table``: those
    of :func:`_day_table`, when known)."""
    codes, uniques = distinct_codes(values)
    if table is None:
        table = _day_table(uniques)
    return table[np.where(codes >= 0, codes, len(uniques))]


def _day_table(uniques: np.ndarray) -> np.ndarray:
    """:func:`_day` of each distinct value, and NaN (for a missing value) after them."""
    return np.append(iso.to_sas_date(pd.Series(uniques, dtype=object), date_portion=True), np.nan)


def _days(ctx: Context, ds: Dataset, col: str) -> np.ndarray:
    """:func:`_day` of ``ds.col``, its distinct values read once per run (TM0003 and
    TM0006 read the same dates)."""
    key = ("days", ds.name, col)
    if key not in ctx.cache:
        ctx.cache[key] = _day_table(distinct_codes(ds.df[col])[1])
    return _day(ds.df[col], ctx.cache[key])


def _char(ds: Dataset, col: str) -> bool:
    return ds.df[col].dtype.kind not in "fiub"


@check(
    "TM0001",
    ERROR,
    "timing",
    "Date/time is not ISO 8601",
    explanation="--DTC variables hold ISO 8601 extended-format dates/times, complete or "
    "truncated (2016-08, 2016-08-04T13:45), with missing middle components as '-' "
    "(2003---15), and must be real calendar dates.",
    reference="SDTMIG v3.4 §4.4.1-4.4.4",
)
def iso8601(ctx: Context, ds: Dataset) -> None:
    for col in ds.columns:
        if not col.endswith("DTC") or not _char(ds, col):
            continue
        codes, uniques = distinct_codes(ds.df[col])
        values = np.empty(len(uniques) + 1, dtype=object)  # the last one: missing
        values[:-1], values[-1] = list(uniques), ""
        reasons = iso.problems(pd.Series(values, dtype=object))  # once per distinct value
        at = np.where(codes >= 0, codes, len(uniques))

        def reason(rows: np.ndarray, reasons: np.ndarray = reasons, at: np.ndarray = at) -> list:
            return list(reasons[at[rows]])

        ctx.flag(ds, (reasons != "")[at], reason, variable=col)


@check(
    "TM0002",
    ERROR,
    "timing",
    "Duration or interval is not ISO 8601",
    explanation="--DUR, --ELTM, --EVLINT, --STINT, --ENINT and TEDUR hold ISO 8601 "
    "durations (P1Y2M, PT30M, P2W); TSVAL values whose TSVCDREF is 'ISO 8601' hold an "
    "ISO 8601 date or duration.",
    reference="SDTMIG v3.4 §4.4.3",
)
def iso_duration(ctx: Context, ds: Dataset) -> None:
    for col in ds.columns:
        if _char(ds, col) and any(col.endswith(s) for s in _DURATION_SUFFIXES) and len(col) > 4:
            bad = iso.duration_problems(ds.df[col]) != ""
            ctx.flag(ds, bad, f"{col} is not an ISO 8601 duration", variable=col)
    if ds.name == "TS" and ds.has("TSVAL", "TSVCDREF"):
        declared = (ds.df["TSVCDREF"] == "ISO 8601").to_numpy(dtype=bool)
        tsval = ds.df["TSVAL"]
        bad = declared & (iso.duration_problems(tsval) != "") & (iso.problems(tsval) != "")
        ctx.flag(ds, bad, "TSVAL is neither an ISO 8601 date nor a duration", variable="TSVAL")


def _dy_pairs(ds: Dataset) -> list[tuple[str, str]]:
    out = []
    for dy_suffix, dtc_suffix in (("DY", "DTC"), ("STDY", "STDTC"), ("ENDY", "ENDTC")):
        dy, dtc = ds.var(dy_suffix), ds.var(dtc_suffix)
        if dy:
            out.append((dy, dtc or ""))
    return out


@check(
    "TM0003",
    ERROR,
    "timing",
    "Study day is inconsistent with the date and DM.RFSTDTC",
    scope=scope("SDTM"),
    explanation="--DY = date - RFSTDTC + 1 on or after the reference start date, "
    "date - RFSTDTC before it; there is no day 0. Only records with complete dates are "
    "checked against the date; a --DY without its --DTC (relative-day data, where the "
    "day is all there is) is checked only for day 0.",
    reference="SDTMIG v3.4 §4.4.4",
)
def study_day(ctx: Context, ds: Dataset) -> None:
    subjects = ctx.subjects
    if subjects is None or ds.name == "DM" or "USUBJID" not in ds.df.columns:
        return
    pairs = _dy_pairs(ds)
    if not pairs:
        return
    ref = ctx.per_record(ds, subjects["_rf_day"])
    for dy_col, dtc_col in pairs:
        if not ds.has_numeric(dy_col):
            continue
        dy = ds.df[dy_col].to_numpy(dtype=float)
        day = _days(ctx, ds, dtc_col) if dtc_col else np.full(ds.n, np.nan)
        expected = iso.study_day(day, ref)
        zero = dy == 0
        wrong = ~np.isnan(dy) & ~np.isnan(expected) & (dy != expected)

        def messages(
            rows: np.ndarray, dy_col=dy_col, dtc_col=dtc_col, expected=expected, zero=zero
        ) -> list[str]:
            return [
                f"{dy_col} is 0 (there is no study day 0)"
                if zero[r]
                else f"expected {fmt_value(expected[r])} from {dtc_col} and RFSTDTC"
                for r in rows
            ]

        ctx.flag(ds, zero | wrong, messages, variable=dy_col)


@check(
    "TM0013",
    INFO,
    "timing",
    "Study day without a date (relative-day data): checked for day 0 only",
    scope=scope("SDTM"),
    explanation="A --DY, --STDY or --ENDY whose --DTC, --STDTC or --ENDTC is null (or "
    "absent) cannot be compared with a date and DM.RFSTDTC; as in relative-day data "
    "(pooled registries giving days from an event of each subject), the study day is then "
    "all there is. The rule applied to it is the one study days share with dates: day 1 "
    "is the reference day, the day before it -1, no day 0 (TM0003 reports a 0). One note "
    "per dataset and variable, with the number of such records.",
    reference="SDTMIG v3.4 §4.4.4",
)
def study_day_without_date(ctx: Context, ds: Dataset) -> None:
    if ds.name == "DM" or ds.is_supp:
        return
    for dy_col, dtc_col in _dy_pairs(ds):
        if not ds.has_numeric(dy_col):
            continue
        undated = ds.df[dy_col].notna().to_numpy()
        if dtc_col:
            undated = undated & blank(ds.df[dtc_col])
        count = int(undated.sum())
        if count:
            ctx.note(
                f"{dy_col}: {count} of {ds.n} records have a study day and no "
                f"{dtc_col or dy_col[:-2] + 'DTC'}: "
                "checked for day 0 only (day 1 is the reference day, the day before it -1; "
                "SDTMIG v3.4 §4.4.4)",
                dataset=ds.name,
                variable=dy_col,
            )


def _start_end_pairs(ds: Dataset) -> list[tuple[str, str]]:
    cols = set(ds.columns)
    pairs: list[tuple[str, str]] = []
    if ds.standard == "SDTM":
        if ds.name == "DM":
            pairs += [("RFSTDTC", "RFENDTC"), ("RFXSTDTC", "RFXENDTC")]
        st, en = ds.var("STDTC"), ds.var("ENDTC")
        if st and en:
            pairs.append((st, en))
    else:
        for st, en in (
            ("ASTDT", "AENDT"),
            ("ASTDTM", "AENDTM"),
            ("TRTSDT", "TRTEDT"),
            ("TRTSDTM", "TRTEDTM"),
            ("APERSDT", "APEREDT"),
        ):
            pairs.append((st, en))
        for col in ds.columns:
            if col.startswith("TR") and col.endswith("SDT") and len(col) == 7:
                pairs.append((col, col[:4] + "EDT"))
    return [(a, b) for a, b in pairs if a in cols and b in cols]


@check(
    "TM0004",
    ERROR,
    "timing",
    "End date is before the start date",
    explanation="--ENDTC must not precede --STDTC (compared at their common precision: "
    "2016-08 vs 2016-08-04 is not a conflict); likewise RFENDTC/RFSTDTC, "
    "RFXENDTC/RFXSTDTC and ADaM AENDT/ASTDT, TRTEDT/TRTSDT.",
    reference="SDTMIG v3.4 §4.4",
)
def end_before_start(ctx: Context, ds: Dataset) -> None:
    for st, en in _start_end_pairs(ds):
        if ds.standard == "SDTM":
            order = iso.compare(ds.df[st], ds.df[en])
            bad = order > 0
        elif ds.has_numeric(st, en):
            a = ds.df[st].to_numpy(dtype=float)
            b = ds.df[en].to_numpy(dtype=float)
            bad = ~np.isnan(a) & ~np.isnan(b) & (b < a)
        else:
            continue
        starts = ds.df[st]

        def before(
            rows: np.ndarray, st: str = st, en: str = en, starts: pd.Series = starts
        ) -> list[str]:
            return [f"{en} is before {st} {fmt_value(starts.iloc[r])!r}" for r in rows]

        ctx.flag(ds, bad, before, variable=en)


@check(
    "TM0005",
    ERROR,
    "timing",
    "Date is after the subject's death (DM.DTHDTC)",
    scope=scope("SDTM"),
    explanation="No observation, intervention or event can start or end after death; "
    "compared at the common precision of the two dates.",
    reference="SDTMIG v3.4 DM assumptions (DTHDTC)",
)
def after_death(ctx: Context, ds: Dataset) -> None:
    subjects = ctx.subjects
    if (
        subjects is None
        or "DTHDTC" not in subjects.columns
        or ds.name == "DM"
        or ds.is_supp
        or "USUBJID" not in ds.df.columns
    ):
        return
    death = subjects["DTHDTC"]
    death = death[~blank(death)]
    if death.empty:
        return
    death_of = ctx.per_record(ds, death, missing="")
    rows = np.flatnonzero(death_of != "")
    if rows.size == 0:
        return
    sub_death = pd.Series(death_of[rows], dtype=object)
    for suffix in ("DTC", "STDTC", "ENDTC"):
        col = ds.var(suffix)
        if col is None:
            continue
        after = iso.compare(ds.df[col].iloc[rows].reset_index(drop=True), sub_death) > 0
        mask = np.zeros(ds.n, dtype=bool)
        mask[rows[after]] = True

        def after_death(flagged: np.ndarray, col: str = col) -> list[str]:
            return [f"{col} is after death on {death_of[r]}" for r in flagged]

        ctx.flag(ds, mask, after_death, variable=col)


#: Classes whose EPOCH is that of the start date (--STDTC); other classes use --DTC.
_START_DATE_CLASSES = frozenset({"Events", "Interventions"})


def epoch_date_variable(ds: Dataset) -> str | None:
    """The date EPOCH describes: --STDTC for Events and Interventions, --DTC otherwise
    (SDTMIG v3.4 §4.4.10: "EPOCH ... should be based on --STDTC for Interventions and
    Events, on --DTC for Findings"); the other one when the dataset lacks it."""
    first, second = ("STDTC", "DTC") if ds.class_ in _START_DATE_CLASSES else ("DTC", "STDTC")
    return ds.var(first) or ds.var(second)


def _epoch_status(ctx: Context, ds: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(mismatch, outside, expected-epochs text) per record, or None when not checkable."""
    key = ("epoch", ds.name)
    if key in ctx.cache:
        cached: tuple[np.ndarray, np.ndarray, np.ndarray] | None = ctx.cache[key]
        return cached
    result = None
    se = ctx.get("SE")
    date_col = epoch_date_variable(ds)
    if (
        se is not None
        and ds.name not in ("SE", "DM")
        and not ds.is_supp
        and "EPOCH" in ds.df.columns
        and "USUBJID" in ds.df.columns
        and date_col is not None
        and se.has("USUBJID", "SESTDTC", "EPOCH")
    ):
        result = _epoch_match(ds, _elements(ctx, se), _days(ctx, ds, date_col))
    ctx.cache[key] = result
    return result


@dataclass(frozen=True)
class Elements:
    """The SE elements with a start date, sorted by subject, start and end day (an end
    day missing: +inf), each with its predecessor of the same subject (end -inf and
    epoch ``""`` for a subject's first element)."""

    subjects: pd.Index
    """The distinct USUBJID of SE; ``subject`` holds positions in it."""
    subject: np.ndarray
    start: np.ndarray
    end: np.ndarray
    epoch: np.ndarray
    prev_end: np.ndarray
    prev_epoch: np.ndarray

    @classmethod
    def of(cls, se: Dataset) -> Elements:
        """The elements of ``se`` (which has USUBJID, SESTDTC and EPOCH)."""
        start = _day(se.df["SESTDTC"])
        end = _day(se.df["SEENDTC"]) if "SEENDTC" in se.df.columns else np.full(se.n, np.nan)
        keep = np.flatnonzero(~np.isnan(start))
        usubjid = se.df["USUBJID"].to_numpy(dtype=object)[keep]
        codes, uniques = pd.factorize(usubjid, use_na_sentinel=False)
        start, end = start[keep], np.where(np.isnan(end[keep]), np.inf, end[keep])
        order = np.lexsort((end, start, codes))  # stable: ties keep the file's order
        codes, start, end = codes[order], start[order], end[order]
        epoch = se.df["EPOCH"].to_numpy(dtype=object)[keep][order]
        same = np.zeros(len(codes), dtype=bool)
        same[1:] = codes[1:] == codes[:-1]
        prev_end = np.where(same, np.roll(end, 1), -np.inf)
        prev_epoch = np.where(same, np.roll(epoch, 1), "")
        return cls(pd.Index(uniques), codes, start, end, epoch, prev_end, prev_epoch)

    def latest_started(self, subject: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Per record: the position of the subject's element started latest on or before
        ``day`` (among several starting that day, the last in sort order), -1 for none.

        One binary search over (subject, start) pairs, as complex numbers: numpy orders
        them by real part, then imaginary part."""
        keys = self.subject.astype(float) + 1j * self.start
        found = np.searchsorted(keys, subject.astype(float) + 1j * day, side="right") - 1
        ok = found >= 0
        ok[ok] = self.subject[found[ok]] == subject[ok]
        return np.where(ok, found, -1)


def _elements(ctx: Context, se: Dataset) -> Elements:
    """:meth:`Elements.of` SE, made once per run."""
    key = ("epoch-elements", se.name)
    if key not in ctx.cache:
        ctx.cache[key] = Elements.of(se)
    found: Elements = ctx.cache[key]
    return found


def _epoch_match(
    ds: Dataset, elements: Elements, day: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mismatch, outside, expected-epochs text) of each record dated ``day``."""
    epoch = ds.df["EPOCH"]
    rows = np.flatnonzero(~np.isnan(day) & ~blank(epoch))
    mismatch = np.zeros(ds.n, dtype=bool)
    outside = np.zeros(ds.n, dtype=bool)
    expected = np.full(ds.n, "", dtype=object)
    if rows.size == 0 or len(elements.subject) == 0:
        return mismatch, outside, expected
    subject = codes_in(ds.df["USUBJID"], elements.subjects)[rows]
    at = elements.latest_started(subject, day[rows])
    found_at = np.where(at >= 0, at, 0)
    started = at >= 0
    in_elem = started & (day[rows] <= elements.end[found_at])
    in_prev = started & (day[rows] <= elements.prev_end[found_at])
    epochs = pd.Index(pd.unique(np.concatenate([elements.epoch, distinct(epoch)])))
    have = codes_in(epoch, epochs)[rows]
    current = epochs.get_indexer(elements.epoch)[found_at]
    previous = epochs.get_indexer(elements.prev_epoch)[found_at]
    ok = (in_elem & (have == current)) | (in_prev & (have == previous))
    found = in_elem | in_prev
    flagged = found & ~ok
    mismatch[rows[flagged]] = True
    outside[rows[~found]] = True
    cur = elements.epoch[found_at[flagged]]
    prev = elements.prev_epoch[found_at[flagged]]
    expected[rows[flagged]] = [
        f"{p} or {c}" if both else (c if inside else p)
        for p, c, both, inside in zip(
            prev, cur, (in_elem & in_prev)[flagged], in_elem[flagged], strict=True
        )
    ]
    return mismatch, outside, expected


@check(
    "TM0006",
    ERROR,
    "timing",
    "EPOCH differs from the subject's element (SE) on that date",
    scope=scope("SDTM"),
    explanation="EPOCH is the epoch of the SE element whose SESTDTC-SEENDTC span holds the "
    "record's start date --STDTC in Events and Interventions (AE, CM, EX, MH...) and its "
    "--DTC in Findings and other classes (the other date when the dataset has only that "
    "one). On a day where one element ends and the next starts, either epoch is accepted "
    "(dates are compared by day).",
    reference="SDTMIG v3.4 §4.4.10, §5.2 (SE)",
)
def epoch_vs_se(ctx: Context, ds: Dataset) -> None:
    status = _epoch_status(ctx, ds)
    if status is None:
        return
    mismatch, _, expected = status
    ctx.flag(
        ds,
        mismatch,
        lambda rows: [f"expected EPOCH {expected[r]} (SE)" for r in rows],
        variable="EPOCH",
    )


@check(
    "TM0007",
    WARNING,
    "timing",
    "EPOCH is populated but the date is outside every SE element of the subject",
    scope=scope("SDTM"),
    explanation="A record dated before the subject's first element or after the last one "
    "has no epoch in SE; EPOCH should then be null (e.g. medical history or prior "
    "medications).",
    reference="SDTMIG v3.4 §4.4.10",
)
def epoch_outside_se(ctx: Context, ds: Dataset) -> None:
    status = _epoch_status(ctx, ds)
    if status is None:
        return
    ctx.flag(
        ds,
        status[1],
        "date is outside the subject's SE elements but EPOCH is set",
        variable="EPOCH",
    )
