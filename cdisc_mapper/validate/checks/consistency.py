"""DM and AE consistency (ID01xx): planned against actual arm, the outcome of an adverse
event against its end date, the seriousness criteria against AESER, and a fatal adverse
event against the subject's death in DM.

Coded values are compared without regard to case (``Scrnfail`` is SCRNFAIL); dates are
partial ISO 8601 intervals (:func:`cdisc_mapper.iso8601.bounds`), and two dates disagree
only when their intervals cannot overlap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_mapper import iso8601
from cdisc_mapper.validate.checks.identity import NOT_TREATED_ARMS
from cdisc_mapper.validate.checks.results import per_value
from cdisc_mapper.validate.context import Context
from cdisc_mapper.validate.model import ERROR, WARNING, scope
from cdisc_mapper.validate.package import Dataset, blank
from cdisc_mapper.validate.registry import check

#: AE seriousness criteria (SDTMIG v3.4 AE: AESCAN and AESOD are permissible too).
SERIOUSNESS = ("AESCAN", "AESCONG", "AESDISAB", "AESDTH", "AESHOSP", "AESLIFE", "AESOD", "AESMIE")
#: AEOUT values of an event that has ended (C66768 OUT), and of one that has not.
ENDED = frozenset({"RECOVERED/RESOLVED", "RECOVERED/RESOLVED WITH SEQUELAE", "FATAL"})
ONGOING = frozenset({"NOT RECOVERED/NOT RESOLVED", "RECOVERING/RESOLVING"})


def upper(series: pd.Series) -> pd.Series:
    """Text stripped and upper-cased, once per distinct value (blank for missing)."""
    values = per_value(series, lambda text: text.strip().upper(), "", object)
    return pd.Series(values, index=series.index, dtype=object)


def is_yes(ds: Dataset, variable: str) -> np.ndarray:
    """Records where ``variable`` is 'Y' (any case); all False when it is absent."""
    if variable not in ds.df.columns:
        return np.zeros(ds.n, dtype=bool)
    return (upper(ds.df[variable]) == "Y").to_numpy(dtype=bool)


def days(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """First and last day (SAS day numbers) each partial ISO 8601 date may be; NaN when
    blank or invalid."""
    low, high = iso8601.bounds(values)
    return np.floor(low / iso8601.SECONDS_PER_DAY), np.floor(high / iso8601.SECONDS_PER_DAY)


@check(
    "ID0101",
    WARNING,
    "identity",
    "ACTARMCD differs from ARMCD for a treated subject",
    scope=scope("SDTM", datasets=("DM",)),
    explanation="A subject is expected to receive the arm it was assigned to: an actual "
    "arm (ACTARMCD) other than the planned one (ARMCD) needs an explanation in the "
    "reviewer's guide. Subjects without an actual arm (ACTARMCD null, SCRNFAIL, NOTASSGN, "
    "NOTTRT in any case) are not compared; codes are compared without regard to case.",
    reference="Pinnacle 21 SD2236; CORE-000655 (FB2501)",
)
def actual_arm_vs_planned(ctx: Context, ds: Dataset) -> None:
    if ds.name != "DM" or not ds.has("ARMCD", "ACTARMCD"):
        return
    planned, actual = upper(ds.df["ARMCD"]), upper(ds.df["ACTARMCD"])
    treated = ~actual.isin(NOT_TREATED_ARMS).to_numpy(dtype=bool)
    differ = (planned != actual).to_numpy(dtype=bool)
    planned_text = ds.df["ARMCD"].astype(object)

    def message(rows: np.ndarray) -> list[str]:
        return [f"ACTARMCD differs from ARMCD {planned_text.iloc[r]!r}" for r in rows]

    ctx.flag(ds, treated & differ, message, variable="ACTARMCD")


@check(
    "ID0102",
    ERROR,
    "identity",
    "AEOUT and AEENDTC disagree (ended without end date, or ongoing with one)",
    scope=scope("SDTM", datasets=("AE",)),
    explanation="An adverse event whose outcome says it ended (RECOVERED/RESOLVED, "
    "RECOVERED/RESOLVED WITH SEQUELAE, FATAL) has an end date; one that has not ended "
    "(NOT RECOVERED/NOT RESOLVED, RECOVERING/RESOLVING) has none. Outcomes are compared "
    "without regard to case; a null AEOUT is not checked. A record without dates "
    "(relative-day data: neither AESTDTC nor AEENDTC) has its end as a study day: AEENDY "
    "stands for AEENDTC there.",
    reference="Pinnacle 21 SD0021; CORE-000659 (FB3410), CORE-000657 (FB3409)",
)
def outcome_vs_end_date(ctx: Context, ds: Dataset) -> None:
    if ds.name != "AE" or not ds.has("AEOUT", "AEENDTC"):
        return
    outcome = upper(ds.df["AEOUT"])
    no_date = blank(ds.df["AEENDTC"])
    no_end = no_date
    if ds.has_numeric("AEENDY"):  # a record without dates: its end is its study day
        undated = blank(ds.df["AESTDTC"]) if "AESTDTC" in ds.df.columns else True
        no_end = no_date & ~(undated & ds.df["AEENDY"].notna().to_numpy())
    ctx.flag(
        ds,
        outcome.isin(ENDED).to_numpy(dtype=bool) & no_end,
        "AEOUT says the event ended but AEENDTC is null",
        variable="AEENDTC",
        value=ds.df["AEOUT"],
    )
    ctx.flag(
        ds,
        outcome.isin(ONGOING).to_numpy(dtype=bool) & ~no_end,
        np.where(
            no_date,
            "AEOUT says the event has not ended but AEENDY is set",
            "AEOUT says the event has not ended but AEENDTC is set",
        ),
        variable="AEENDTC",
    )


@check(
    "ID0103",
    ERROR,
    "identity",
    "Seriousness criteria disagree with AESER",
    scope=scope("SDTM", datasets=("AE",)),
    explanation="An event with a seriousness criterion = 'Y' (AESDTH, AESHOSP, AESLIFE, "
    "AESDISAB, AESCONG, AESMIE, AESCAN, AESOD) is serious (AESER = 'Y'); a serious event "
    "has at least one criterion = 'Y' when the dataset collects them.",
    reference="CORE-000022 (CG0041), CORE-000266 (CG0042); SDTMIG v3.4 §6.2.1 (AE)",
)
def seriousness_vs_aeser(ctx: Context, ds: Dataset) -> None:
    if ds.name != "AE" or "AESER" not in ds.df.columns:
        return
    criteria = [c for c in SERIOUSNESS if c in ds.df.columns]
    if not criteria:
        return
    yes = np.column_stack([is_yes(ds, c) for c in criteria])
    any_yes = yes.any(axis=1)
    serious = is_yes(ds, "AESER")

    def which(rows: np.ndarray) -> list[str]:
        return [
            ", ".join(c for c, y in zip(criteria, yes[r], strict=True) if y)
            + " = 'Y' but AESER is not 'Y'"
            for r in rows
        ]

    ctx.flag(ds, any_yes & ~serious, which, variable="AESER")
    ctx.flag(
        ds,
        serious & ~any_yes,
        f"AESER = 'Y' but no seriousness criterion ({', '.join(criteria)}) is 'Y'",
        variable="AESER",
    )


@check(
    "ID0104",
    ERROR,
    "identity",
    "Fatal adverse event without the death in DM",
    scope=scope("SDTM", datasets=("AE",)),
    explanation="A subject with a fatal adverse event (AEOUT = FATAL or AESDTH = 'Y') died: "
    "DM.DTHFL = 'Y', and when both dates are given the event's end date AEENDTC is the "
    "death date DM.DTHDTC (partial dates agree when they may be the same day).",
    reference="CORE-000254 (CG0134, FB0603), CORE-000253 (CG0135, FB0604), CORE-000841 (FB0612)",
)
def fatal_ae_vs_death(ctx: Context, ds: Dataset) -> None:
    subjects = ctx.subjects
    if subjects is None:
        ctx.skip("no DM dataset")
    assert subjects is not None
    if ds.name != "AE" or "USUBJID" not in ds.df.columns:
        return
    fatal = is_yes(ds, "AESDTH")
    if "AEOUT" in ds.df.columns:
        fatal = fatal | (upper(ds.df["AEOUT"]) == "FATAL").to_numpy(dtype=bool)
    if not fatal.any():
        return
    dthfl = (
        subjects["DTHFL"].astype(object).fillna("").astype(str).str.strip().str.upper()
        if "DTHFL" in subjects.columns
        else pd.Series("", index=subjects.index, dtype=object)
    )
    in_dm = ctx.per_record(ds, pd.Series(True, index=subjects.index), missing=False)
    died = ctx.per_record(ds, dthfl == "Y", missing=False).astype(bool)
    ctx.flag(
        ds,
        fatal & in_dm.astype(bool) & ~died,
        "the adverse event is fatal but DM.DTHFL is not 'Y'",
        variable="AEOUT" if "AEOUT" in ds.df.columns else "AESDTH",
    )
    if "DTHDTC" not in subjects.columns or "AEENDTC" not in ds.df.columns:
        return
    death = ctx.per_record(ds, subjects["DTHDTC"].astype(object), missing="")
    death_first, death_last = days(pd.Series(death, dtype=object))
    end_first, end_last = days(ds.df["AEENDTC"].astype(object))
    apart = (end_last < death_first) | (end_first > death_last)  # NaN compares False

    def message(rows: np.ndarray) -> list[str]:
        return [f"fatal adverse event ends on a day other than DM.DTHDTC {death[r]}" for r in rows]

    ctx.flag(ds, fatal & apart, message, variable="AEENDTC")
