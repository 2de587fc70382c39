"""Visit checks (TM0008-TM0010): VISITNUM/VISIT one-to-one, subject visits in SV, planned
visits in TV. VISITNUM values are compared as numbers (:func:`numeric_key`: 9.299999999999999
is 9.3), and each cause is reported once, with its record count, not once per record."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_mapper.validate.checks.results import distinct_codes
from cdisc_mapper.validate.context import Context, fmt_value
from cdisc_mapper.validate.model import ERROR, scope
from cdisc_mapper.validate.package import Dataset, blank, numeric_key, row_keys
from cdisc_mapper.validate.registry import check


def _visit_pairs(ctx: Context) -> pd.DataFrame:
    """Every distinct (VISITNUM, VISIT) of each SDTM dataset with its record count:
    columns num (VISITNUM as :func:`numeric_key`), VISIT, dataset, records."""
    key = ("visit-pairs",)
    if key not in ctx.cache:
        frames = []
        for ds in ctx.sdtm():
            if not ds.has("VISITNUM", "VISIT"):
                continue
            # only the two columns, not the other columns of a large file
            frame = _distinct_pairs(ds.select(["VISITNUM", "VISIT"]))
            counts = frame.groupby(["num", "VISIT"], sort=True)["records"].sum()
            frames.append(counts.reset_index().assign(dataset=ds.name))
        ctx.cache[key] = (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame(columns=["num", "VISIT", "records", "dataset"])
        )
    return ctx.cache[key]


def _distinct_pairs(read: pd.DataFrame) -> pd.DataFrame:
    """The (VISITNUM as :func:`numeric_key`, VISIT) pairs of the records of ``read`` (a
    dataset's VISITNUM and VISIT) with both, with their record counts (columns num, VISIT,
    records), counted on the columns' codes."""
    num_codes, nums = pd.factorize(numeric_key(read["VISITNUM"]))  # NaN: -1
    visit_codes, visits = distinct_codes(read["VISIT"])
    named = np.array([not (pd.isna(v) or v == "") for v in visits] + [False])
    valid = (num_codes >= 0) & named[visit_codes]  # code -1 (missing): the last entry
    if len(nums) * len(visits) > 4 * len(read) + 1024:  # too sparse to count by position
        frame = pd.DataFrame(
            {"num": numeric_key(read["VISITNUM"]), "VISIT": read["VISIT"].astype(object)}
        )[valid]
        return frame.groupby(["num", "VISIT"], sort=False).size().rename("records").reset_index()
    pair = num_codes[valid].astype(np.int64) * len(visits) + visit_codes[valid]
    counts = np.bincount(pair, minlength=len(nums) * len(visits))
    seen = np.flatnonzero(counts)
    return pd.DataFrame(
        {
            "num": np.asarray(nums, dtype=float)[seen // len(visits)],
            "VISIT": pd.Series(visits[seen % len(visits)], dtype=object),
            "records": counts[seen],
        }
    )


def _tv_visits(ctx: Context) -> dict[float, str]:
    """VISITNUM (as :func:`numeric_key`) -> VISIT of the planned visits in TV."""
    tv = ctx.get("TV")
    if tv is None or not tv.has("VISITNUM", "VISIT"):
        return {}
    nums = numeric_key(tv.df["VISITNUM"])
    return {
        n: str(v)
        for n, v in zip(nums.tolist(), tv.df["VISIT"].astype(object), strict=True)
        if not np.isnan(n) and v != ""
    }


def _where(pairs: pd.DataFrame, num: float, name: object) -> str:
    """'12 records of DM, LB': how often and where the package uses the pair."""
    rows = pairs[(pairs["num"] == num) & (pairs["VISIT"] == name)]
    total = int(rows["records"].sum())
    datasets = ", ".join(sorted(rows["dataset"].astype(str).unique()))
    return f"{total} record{'' if total == 1 else 's'} of {datasets}"


def _usual(totals: pd.Series, planned: object) -> object | None:
    """The value of a conflicting group taken as right: TV's when TV has one of them,
    else the one used by the most records; None on a tie (all are then reported)."""
    if planned is not None and planned in totals.index:
        return planned
    ranked = totals.sort_values(ascending=False, kind="stable")
    if len(ranked) > 1 and ranked.iloc[0] == ranked.iloc[1]:
        return None
    return ranked.index[0]


def _visit_conflicts(ctx: Context) -> dict[tuple[float, object], str]:
    """(VISITNUM key, VISIT) pairs that break one-to-one, with the reason: for each
    VISITNUM with several names (and each VISIT with several numbers), every pair but the
    right one (TV's, else the most used)."""
    key = ("visit-conflicts",)
    if key in ctx.cache:
        cached: dict[tuple[float, object], str] = ctx.cache[key]
        return cached
    pairs = _visit_pairs(ctx)
    tv = _tv_visits(ctx)
    tv_nums = {name: num for num, name in sorted(tv.items())}
    totals = pairs.groupby(["num", "VISIT"], sort=True)["records"].sum()
    bad: dict[tuple[float, object], str] = {}
    for key_num, group in totals.groupby(level="num", sort=True):
        num = float(key_num)  # type: ignore[arg-type]
        names = group.droplevel("num")
        if len(names) < 2:
            continue
        right = _usual(names, tv.get(num))
        for name in names.index:
            if name == right:
                continue
            others = "; ".join(
                f"{other!r} in {_where(pairs, num, other)}"
                for other in names.index
                if other != name
            )
            bad[(num, name)] = f"VISITNUM {fmt_value(num)} is named {name!r} here but {others}"
    for name, group in totals.groupby(level="VISIT", sort=True):
        nums = group.droplevel("VISIT")
        if len(nums) < 2:
            continue
        right = _usual(nums, tv_nums.get(str(name)))
        for num in nums.index:
            if num == right or (num, name) in bad:
                continue
            others = "; ".join(
                f"{fmt_value(other)} in {_where(pairs, other, name)}"
                for other in nums.index
                if other != num
            )
            bad[(num, name)] = f"VISIT {name!r} has VISITNUM {fmt_value(num)} here but {others}"
    ctx.cache[key] = bad
    return bad


@check(
    "TM0008",
    ERROR,
    "timing",
    "VISITNUM and VISIT are not one-to-one across the package",
    scope=scope("SDTM"),
    explanation="Each VISITNUM has one VISIT name and each VISIT one VISITNUM, in every "
    "dataset and in TV and SV. VISITNUM values are compared as numbers to 10 significant "
    "digits (9.299999999999999 is 9.3). A conflict is reported once per dataset and "
    "(VISITNUM, VISIT) pair that deviates, at its first record with the number of records: "
    "the pair TV defines, or else the one most records use, is taken as right (on a tie "
    "every pair is reported).",
    reference="SDTMIG v3.4 §4.4.5",
)
def visit_one_to_one(ctx: Context, ds: Dataset) -> None:
    if not ds.has("VISITNUM", "VISIT"):
        return
    bad = _visit_conflicts(ctx)
    if not bad:
        return
    nums = pd.Series(numeric_key(ds.df["VISITNUM"]), index=ds.df.index)
    visits = ds.df["VISIT"].astype(object)
    keys, bad_keys = row_keys(
        [nums, visits],
        [pd.Series([n for n, _ in bad], dtype=float), pd.Series([v for _, v in bad], dtype=object)],
    )
    ctx.flag_groups(
        ds,
        np.isin(keys, bad_keys),
        [ds.df["VISITNUM"], ds.df["VISIT"]],
        lambda row: bad[(float(nums.iloc[row]), visits.iloc[row])],
        variable="VISITNUM",
    )


@check(
    "TM0009",
    ERROR,
    "timing",
    "Subject visit is not in SV",
    scope=scope("SDTM"),
    explanation="Every (USUBJID, VISITNUM) used in a domain must have a record in SV "
    "(one record per actual visit per subject). Reported once per dataset, subject and "
    "VISITNUM, with the number of records.",
    reference="SDTMIG v3.4 §5.3 (SV)",
)
def visit_in_sv(ctx: Context, ds: Dataset) -> None:
    sv = ctx.get("SV")
    if sv is None:
        ctx.skip("no SV dataset")
    assert sv is not None
    if ds.name == "SV" or ds.is_supp or not ds.has("USUBJID", "VISITNUM"):
        return
    if not sv.has("USUBJID", "VISITNUM"):
        return
    keys, sv_keys = row_keys(
        [ds.df["USUBJID"], ds.df["VISITNUM"]], [sv.df["USUBJID"], sv.df["VISITNUM"]]
    )
    have = ds.df["VISITNUM"].notna().to_numpy()
    present = np.isin(keys, sv_keys)
    visitnum = ds.df["VISITNUM"]
    ctx.flag_groups(
        ds,
        have & ~present,
        [ds.df["USUBJID"], visitnum],
        lambda row: f"subject has no SV record for VISITNUM {fmt_value(visitnum.iloc[row])}",
        variable="VISITNUM",
    )


@check(
    "TM0010",
    ERROR,
    "timing",
    "Planned visit in SV is not in TV (or has another name there)",
    scope=scope("SDTM", datasets=("SV",)),
    explanation="Planned visits (SVPRESP = 'Y', or no SVUPDES) are defined in TV with the "
    "same VISITNUM and VISIT; unplanned visits are in SV only. Reported once per VISITNUM "
    "(and VISIT), with the number of SV records.",
    reference="SDTMIG v3.4 §7.3.1 (TV), §5.3 (SV)",
)
def sv_in_tv(ctx: Context, ds: Dataset) -> None:
    tv = ctx.get("TV")
    if tv is None:
        ctx.skip("no TV dataset")
    assert tv is not None
    if ds.name != "SV" or not ds.has("VISITNUM") or not tv.has("VISITNUM"):
        return
    if "SVPRESP" in ds.df.columns:
        planned = (ds.df["SVPRESP"] == "Y").to_numpy(dtype=bool)
    elif "SVUPDES" in ds.df.columns:
        planned = blank(ds.df["SVUPDES"])
    else:
        planned = np.ones(ds.n, dtype=bool)
    nums = numeric_key(ds.df["VISITNUM"])
    in_tv = np.isin(nums, numeric_key(tv.df["VISITNUM"]))
    visitnum = ds.df["VISITNUM"]
    ctx.flag_groups(
        ds,
        planned & ~in_tv,
        [visitnum],
        lambda row: f"planned VISITNUM {fmt_value(visitnum.iloc[row])} is not in TV",
        variable="VISITNUM",
    )
    if "VISIT" in ds.df.columns and "VISIT" in tv.df.columns:
        names = _tv_visits(ctx)
        want = np.array([names.get(n, "") for n in nums.tolist()], dtype=object)
        visit = ds.df["VISIT"].astype(object)
        bad = planned & in_tv & (want != visit.to_numpy()) & (want != "")
        ctx.flag_groups(
            ds,
            bad,
            [visitnum, visit],
            lambda row: f"VISIT {visit.iloc[row]!r} differs from TV: {want[row]!r}",
            variable="VISIT",
        )
