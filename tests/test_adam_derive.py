"""Unit tests of the ADaM derivation library (cdisc_mapper.adam.derive): small frames, exact
expectations, each rule checked on its edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_mapper.adam.derive import (
    Window,
    derive_analysis_day,
    derive_analysis_flag,
    derive_analysis_window,
    derive_base,
    derive_baseline_flag,
    derive_best_record,
    derive_chg,
    derive_criterion_flag,
    derive_group,
    derive_imputed_date,
    derive_months,
    derive_nth_date,
    derive_numeric_date,
    derive_pchg,
    derive_percent_improvement,
    derive_period_dates,
    derive_recode,
    derive_record_period,
    derive_score,
    derive_slope,
    derive_two_point_rate,
)
from cdisc_mapper.adam.derive._keys import group_codes, lexsort
from cdisc_mapper.adam.derive.dates import sas_date_to_iso
from cdisc_mapper.errors import DateParseError


def sas(text: str) -> float:
    return float((np.datetime64(text, "D") - np.datetime64("1960-01-01", "D")).astype(int))


def S(values, dtype=None) -> pd.Series:
    return pd.Series(values, dtype=dtype)


# ----------------------------------------------------------------------------- dates
def test_numeric_date_complete_only() -> None:
    out = derive_numeric_date(S(["2016-02-03", "2016-02-03T10:11", "2016-02", "", "2016"], object))
    assert out.iloc[0] == sas("2016-02-03") == out.iloc[1]
    assert out.iloc[2:].isna().all()


@pytest.mark.parametrize("bad", ["03/02/2016", "2016-13", "2016---03", "2016-02-30", "2016T10"])
def test_numeric_date_rejects_bad_text(bad: str) -> None:
    with pytest.raises(DateParseError):
        derive_numeric_date(S(["2016-01-01", bad], object))


def test_numeric_date_any_year() -> None:
    out = derive_numeric_date(S(["1500-01-01", "2300-01-01", None], object))
    assert out.tolist()[:2] == [sas("1500-01-01"), sas("2300-01-01")]
    assert np.isnan(out.iloc[2])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("03/02/2016", "not an ISO 8601 date"),
        ("2016---03", "not an ISO 8601 date"),
        ("2016T10", "not an ISO 8601 date"),
        ("2016-13", "no such date: '2016-13' \\(month 13 out of range\\)"),
        ("2016-02-30", "no such date: '2016-02-30' \\(2016-02-30 is not a calendar date\\)"),
        ("2016-02-03T25:00", "no such date: .*hour 25 out of range"),
    ],
)
def test_imputed_date_rejects_bad_text(bad: str, message: str) -> None:
    with pytest.raises(DateParseError, match=message):
        derive_imputed_date(S(["2016-01", bad], object), day="first", month="first")


def test_imputed_date_reads_stripped_values_with_times() -> None:
    dtc = S([" 2017-11 ", "2017-11-05T10:00+01:00", "  ", None, "2017-02"], object)
    out, flag = derive_imputed_date(dtc, day="last", month="first")
    assert out.tolist()[:2] == [sas("2017-11-30"), sas("2017-11-05")]
    assert np.isnan(out.iloc[2]) and np.isnan(out.iloc[3])
    assert out.iloc[4] == sas("2017-02-28")
    assert list(flag) == ["D", "", "", "", "D"]


def test_imputed_date_rules_and_flags() -> None:
    dtc = S(["2017-11", "2019", "2017-05-28", "", "2016-02"], object)
    first, flag = derive_imputed_date(dtc, day="first", month="first")
    assert list(flag) == ["D", "M", "", "", "D"]
    assert first.iloc[0] == sas("2017-11-01")
    assert first.iloc[1] == sas("2019-01-01")
    assert first.iloc[2] == sas("2017-05-28")
    assert np.isnan(first.iloc[3])
    last, _ = derive_imputed_date(dtc, day="last", month="last")
    assert last.iloc[0] == sas("2017-11-30")
    assert last.iloc[1] == sas("2019-12-31")
    assert last.iloc[4] == sas("2016-02-29")  # leap year
    mid, _ = derive_imputed_date(dtc, day="mid", month="mid")
    assert mid.iloc[0] == sas("2017-11-15")
    assert mid.iloc[1] == sas("2019-07-01")


def test_imputed_date_not_before_reference_in_range() -> None:
    dtc = S(["2017-11", "2017-11", "2017-11", "2017-11-02"], object)
    trtsdt = S([sas("2017-11-20"), sas("2017-12-05"), np.nan, sas("2017-11-20")])
    out, flag = derive_imputed_date(dtc, day="first", month="first", not_before=[trtsdt])
    # TRTSDT inside November: the event is not moved before treatment
    assert out.iloc[0] == sas("2017-11-20")
    # TRTSDT outside the partial date's range, or missing: plain rule
    assert out.iloc[1] == sas("2017-11-01")
    assert out.iloc[2] == sas("2017-11-01")
    # complete dates are never changed
    assert out.iloc[3] == sas("2017-11-02")
    assert list(flag) == ["D", "D", "D", ""]


def test_imputed_date_not_after_cap() -> None:
    dtc = S(["2017-04", "2017-04"], object)
    death = S([sas("2017-04-09"), sas("2017-06-01")])
    out, _ = derive_imputed_date(dtc, day="last", month="last", not_after=[death])
    assert out.iloc[0] == sas("2017-04-09")
    assert out.iloc[1] == sas("2017-04-30")


def test_analysis_day_has_no_day_zero() -> None:
    ref = S([sas("2016-08-04")] * 4)
    d = S([sas("2016-08-04"), sas("2016-08-03"), sas("2016-08-05"), np.nan])
    out = derive_analysis_day(d, ref)
    assert list(out)[:3] == [1.0, -1.0, 2.0]
    assert np.isnan(out.iloc[3])


def test_sas_date_to_iso() -> None:
    out = sas_date_to_iso(S([sas("2016-02-29"), np.nan, -1.0]))
    assert out.tolist() == ["2016-02-29", "", "1959-12-31"]


def test_months_convention() -> None:
    out = derive_months(S([0.0]), S([30.4375 * 3]), 30.4375)
    assert out.iloc[0] == pytest.approx(3.0, abs=1e-12)
    with pytest.raises(ValueError):
        derive_months(S([0.0]), S([1.0]), 0)


# ----------------------------------------------------------------------------- baseline
def _bds() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "USUBJID": ["A"] * 5 + ["B"] * 2,
            "PARAMCD": ["P"] * 5 + ["P"] * 2,
            "ADT": [1.0, 5.0, 10.0, 10.0, 20.0, 3.0, 4.0],
            "AVAL": [5.0, 6.0, np.nan, 7.0, 9.0, 1.0, 2.0],
            "SRCSEQ": [1.0, 2.0, 3.0, 4.0, 5.0, 1.0, 2.0],
            "TRTSDT": [10.0] * 5 + [np.nan] * 2,
        }
    )


def test_baseline_flag_last_nonmissing_on_or_before_reference() -> None:
    df = _bds()
    flag = derive_baseline_flag(
        df,
        by=["USUBJID", "PARAMCD"],
        value="AVAL",
        date="ADT",
        reference="TRTSDT",
        order_by=["SRCSEQ"],
    )
    # record 4 (day 10, AVAL 7): the missing one on day 10 does not count; day 20 is after
    assert list(flag) == ["", "", "", "Y", "", "", ""]  # B: no reference date, no baseline


def test_base_chg_pchg() -> None:
    df = _bds()
    df["ABLFL"] = ["", "", "", "Y", "", "", ""]
    base = derive_base(df, by=["USUBJID", "PARAMCD"], value="AVAL")
    assert list(base.iloc[:5]) == [7.0] * 5
    assert base.iloc[5:].isna().all()
    post = df["ADT"] > df["TRTSDT"]
    chg = derive_chg(df["AVAL"], base, where=post)
    assert chg.iloc[4] == 2.0 and chg.iloc[:4].isna().all()
    pchg = derive_pchg(df["AVAL"], base, where=post)
    assert pchg.iloc[4] == pytest.approx(200 / 7)
    assert derive_pchg(S([1.0]), S([0.0])).isna().all()


def test_base_rejects_two_baselines() -> None:
    df = _bds()
    df["ABLFL"] = ["Y", "Y", "", "", "", "", ""]
    with pytest.raises(ValueError, match="more than one"):
        derive_base(df, by=["USUBJID", "PARAMCD"], value="AVAL")


def test_base_of_text_values() -> None:
    df = pd.DataFrame({"USUBJID": ["A", "A"], "ANRIND": ["LOW", "HIGH"], "ABLFL": ["Y", ""]})
    assert list(derive_base(df, by=["USUBJID"], value="ANRIND")) == ["LOW", "LOW"]


# ----------------------------------------------------------------------------- windows
WINDOWS = [
    Window(-6, "SCREENING", "RFICDT", 1, -30, 30),
    Window(0, "BASELINE", "TRTSDT", 1, -90, 1),
    Window(2, "MONTH 2", "TRTSDT", 62, 2, 92),
]


def test_analysis_window_by_day_first_listed_wins() -> None:
    adt = S([100.0, 190.0, 200.0, 201.0, 260.0, 400.0, 100.0])
    rficdt = S([100.0] * 7)
    trtsdt = S([200.0] * 6 + [np.nan])
    out = derive_analysis_window(adt, {"RFICDT": rficdt, "TRTSDT": trtsdt}, WINDOWS)
    assert list(out["AVISIT"]) == [
        "SCREENING",
        "BASELINE",
        "BASELINE",
        "MONTH 2",
        "MONTH 2",
        "",
        "SCREENING",
    ]
    assert out["AWTDIFF"].iloc[3] == 60  # day 2, target 62
    assert np.isnan(out["AVISITN"].iloc[5])
    assert out["AWU"].iloc[5] == "" and out["AWU"].iloc[0] == "DAYS"


def test_analysis_window_overlap_resolved_by_order() -> None:
    windows = [Window(1, "A", "R", 5, 1, 10), Window(2, "B", "R", 8, 5, 20)]
    out = derive_analysis_window(S([106.0, 112.0]), {"R": S([100.0, 100.0])}, windows)
    assert list(out["AVISIT"]) == ["A", "B"]


def test_analysis_flag_one_per_window() -> None:
    df = pd.DataFrame(
        {
            "USUBJID": ["A"] * 4,
            "PARAMCD": ["P"] * 4,
            "AVISITN": [2.0, 2.0, 2.0, np.nan],
            "AWTDIFF": [5.0, 3.0, 3.0, np.nan],
            "ADT": [10.0, 12.0, 14.0, 30.0],
            "ABLFL": ["", "", "", ""],
            "SRCSEQ": [1.0, 2.0, 3.0, 4.0],
        }
    )
    flag = derive_analysis_flag(df, by=["USUBJID", "PARAMCD"], order_by=["SRCSEQ"])
    assert list(flag) == ["", "", "Y", ""]  # tie on distance: the later date
    df.loc[0, "ABLFL"] = "Y"
    assert list(derive_analysis_flag(df, by=["USUBJID", "PARAMCD"])) == ["Y", "", "", ""]


@pytest.mark.parametrize("dtype", [object, "str"])
def test_base_and_analysis_flag_read_the_flag_as_text_with_missing_values(dtype) -> None:
    """ABLFL held as object or as Arrow text, with missing values: only "Y" marks the
    baseline (ADaMIG v1.3 section 3.3.4) and the preferred record of a window (section
    4.4); a missing flag is not "Y"."""
    df = pd.DataFrame(
        {
            "USUBJID": ["A", "A", "A", "B", "B"],
            "PARAMCD": ["P"] * 5,
            "AVAL": [4.0, 5.0, 6.0, 7.0, 8.0],
            "AVISITN": [0.0, 0.0, 1.0, 0.0, 0.0],
            "AWTDIFF": [2.0, 0.0, 0.0, 0.0, 1.0],
            "ADT": [1.0, 2.0, 30.0, 1.0, 2.0],
            "ABLFL": pd.Series(["Y", None, "", None, ""], dtype=dtype),
        }
    )
    base = derive_base(df, by=["USUBJID", "PARAMCD"], value="AVAL")
    assert list(base.iloc[:3]) == [4.0, 4.0, 4.0]
    assert base.iloc[3:].isna().all()
    flag = derive_analysis_flag(df, by=["USUBJID", "PARAMCD"])
    # A, window 0: the baseline record wins over the closer one; B: the closest
    assert list(flag) == ["Y", "", "Y", "Y", ""]


# ----------------------------------------------------------------------------- periods
def test_closed_period_needs_its_end_and_last_occurrence_starts_a_period() -> None:
    usub = S(["A", "A", "A", "B"], object)
    dates = S([10.0, 20.0, 30.0, 5.0])
    idx = pd.Index(["A", "B", "C"], name="USUBJID")
    first = derive_nth_date(usub, dates, 1).reindex(idx)
    second = derive_nth_date(usub, dates, 2).reindex(idx)
    last = derive_nth_date(usub, dates, "last").reindex(idx)
    end = S([50.0, 40.0, 9.0]).set_axis(idx)
    # injection 1 -> injection 2, no fallback: B (one injection) has no such period
    s, e = derive_period_dates(first, [second], closed=True)
    assert s.tolist()[0] == 10.0 and e.tolist()[0] == 20.0
    assert np.isnan(s["B"]) and np.isnan(e["B"]) and np.isnan(s["C"])
    # open (default): B keeps its start, with no end
    s, e = derive_period_dates(first, [second])
    assert s["B"] == 5.0 and np.isnan(e["B"])
    # last injection -> end of follow-up
    s, e = derive_period_dates(last, [end], closed=True)
    assert s.tolist()[:2] == [30.0, 5.0] and e.tolist()[:2] == [50.0, 40.0]
    assert np.isnan(s["C"]) and np.isnan(e["C"])


def test_periods_and_record_period_boundaries() -> None:
    usub = S(["A", "A", "A", "B"], object)
    dates = S([10.0, 20.0, 30.0, 5.0])
    first = derive_nth_date(usub, dates, 1)
    second = derive_nth_date(usub, dates, 2)
    last = derive_nth_date(usub, dates, "last")
    assert first.to_dict() == {"A": 10.0, "B": 5.0}
    assert second.to_dict() == {"A": 20.0}
    assert last.to_dict() == {"A": 30.0, "B": 5.0}
    idx = pd.Index(["A", "B"], name="USUBJID")
    end = S([50.0, 40.0]).set_axis(idx)
    p1 = derive_period_dates(first.reindex(idx), [second.reindex(idx), end])
    p2 = derive_period_dates(second.reindex(idx), [end])
    assert list(p1[1]) == [20.0, 40.0]
    assert np.isnan(p2[0]["B"]) and np.isnan(p2[1]["B"])
    periods = {1: p1, 2: p2}
    rec_usub = S(["A", "A", "A", "B", "B"], object)
    rec_date = S([15.0, 20.0, 25.0, 40.0, 41.0])
    assert list(derive_record_period(rec_usub, rec_date, periods, boundary="end").fillna(0)) == [
        1,
        1,
        2,
        1,
        0,
    ]
    assert list(derive_record_period(rec_usub, rec_date, periods, boundary="start").fillna(0)) == [
        1,
        2,
        2,
        1,
        0,
    ]


# ----------------------------------------------------------------------------- scores
def test_score_rules_all_items_and_prorate() -> None:
    items = pd.DataFrame(
        {
            "USUBJID": ["A"] * 3 + ["B"] * 2,
            "VISITNUM": [1.0] * 5,
            "PARAMCD": ["I1", "I2", "I3", "I1", "I3"],
            "AVAL": [1.0, 2.0, 3.0, 4.0, 2.0],
        }
    )
    out = derive_score(
        items,
        by=["USUBJID", "VISITNUM"],
        item="PARAMCD",
        value="AVAL",
        item_codes=["I1", "I2", "I3"],
    )
    assert list(out["AVAL"].fillna(-1)) == [6.0, -1]
    assert list(out["NMISS"]) == [0, 1]
    pro = derive_score(
        items,
        by=["USUBJID", "VISITNUM"],
        item="PARAMCD",
        value="AVAL",
        item_codes=["I1", "I2", "I3"],
        rule="prorate",
        max_missing=1,
    )
    assert list(pro["AVAL"]) == [6.0, 9.0]  # (4 + 2) * 3 / 2
    dup = pd.concat([items, items.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match="answered twice"):
        derive_score(
            dup,
            by=["USUBJID", "VISITNUM"],
            item="PARAMCD",
            value="AVAL",
            item_codes=["I1", "I2", "I3"],
        )


# ----------------------------------------------------------------------------- rates
def test_slope_matches_polyfit_and_two_point() -> None:
    rng = np.random.default_rng(3)
    keys = pd.DataFrame({"USUBJID": np.repeat(["A", "B", "C"], [5, 4, 1])})
    x = pd.Series(rng.uniform(0, 12, 10))
    y = pd.Series(40 - 0.8 * x + rng.normal(0, 1, 10))
    slope = derive_slope(keys, x, y).set_index("USUBJID")
    for s in ("A", "B"):
        m = keys["USUBJID"] == s
        assert slope.loc[s, "AVAL"] == pytest.approx(np.polyfit(x[m], y[m], 1)[0], abs=1e-12)
    assert np.isnan(slope.loc["C", "AVAL"]) and slope.loc["C", "N"] == 1
    two = derive_two_point_rate(keys, x, y).set_index("USUBJID")
    m = (keys["USUBJID"] == "A").to_numpy()
    xa, ya = x[m].to_numpy(), y[m].to_numpy()
    i, j = np.argmin(xa), np.argmax(xa)
    assert two.loc["A", "AVAL"] == pytest.approx((ya[j] - ya[i]) / (xa[j] - xa[i]), abs=1e-12)


def test_percent_improvement_and_criteria() -> None:
    base = S([-1.0, -1.0, -1.0, 0.0, np.nan])
    aval = S([-0.5, 0.07, -1.5, 1.0, 1.0])
    imp = derive_percent_improvement(aval, base)
    assert imp.iloc[0] == pytest.approx(50.0)
    assert imp.iloc[1] == pytest.approx(107.0)
    assert imp.iloc[2] == pytest.approx(-50.0)
    assert imp.iloc[3:].isna().all()
    assert list(derive_criterion_flag(imp, op="ge", threshold=50)) == ["Y", "Y", "N", "", ""]
    worse = derive_percent_improvement(S([2.0]), S([1.0]), direction="decrease")
    assert worse.iloc[0] == pytest.approx(-100.0)


# ----------------------------------------------------------------- flags, groups, conditions
def test_group_recode_and_conditions() -> None:
    text, code = derive_group(
        S([49.0, 50.0, 60.0, np.nan]), [("<50", None, 50), ("50-59", 50, 60), (">=60", 60, None)]
    )
    assert list(text) == ["<50", "50-59", ">=60", ""]
    assert list(code.fillna(0)) == [1, 2, 3, 0]
    rec = derive_recode(
        S(["COMPLETED", "DEATH", ""], object),
        {"COMPLETED": "COMPLETED"},
        other="DISCONTINUED",
        missing="ONGOING",
    )
    assert list(rec) == ["COMPLETED", "DISCONTINUED", "ONGOING"]


def test_best_record_ties_first_by_order() -> None:
    df = pd.DataFrame(
        {
            "USUBJID": ["A"] * 3 + ["B"],
            "PARAMCD": ["P"] * 4,
            "AVAL": [2.0, 3.0, 3.0, np.nan],
            "REP": [1.0, 3.0, 2.0, 1.0],
        }
    )
    pos = derive_best_record(df, by=["USUBJID", "PARAMCD"], value="AVAL", order_by=["REP"])
    assert list(pos) == [2]


def test_keys_helpers() -> None:
    df = pd.DataFrame({"a": ["x", "y", "x", "y"], "b": [1.0, 1.0, 1.0, np.nan]})
    g = group_codes(df, ["a", "b"])
    assert g[0] == g[2] and len(set(g)) == 3
    assert list(lexsort([np.array([2, 1, 2, 1]), np.array([0.5, np.nan, 0.1, 0.2])])) == [
        3,
        1,
        2,
        0,
    ]
