"""cdisc_mapper.adam.ops.dates: date, datetime, datetime_part, months, decline_rate,
analysis_day, duration.

Small input table -> expected table, through the registry, on the in-memory study of
tests/adam_ops_context.py (ADSL TRTSDT: S1 2020-02-01, S2 2020-02-15, S3 none).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from cdisc_mapper.adam.ops import DERIVATIONS
from cdisc_mapper.spec.operations import ColumnMeta
from tests.adam_ops_context import assert_table, col, context, day, derive, meta, tbl

MONTH = 30.4375


# --------------------------------------------------------------------------- date
def test_date_is_the_date_part_of_a_complete_iso_date_only() -> None:
    """ADaMIG v1.3 section 3.1.2: *DT from --DTC; without an imputation rule a partial
    date gives a null date (and the imputation flag is null)."""
    frame = tbl(
        "USUBJID _DTC",
        ("S1", "2020-02-03"),
        ("S1", "2020-02-03T10:11"),
        ("S2", "2020-02"),
        ("S3", ""),
    )
    ctx = context("ADQS")
    out = frame.assign(
        ADT=derive("date", frame, ctx, source="_DTC"),
        ADTF=derive("date", frame, ctx, source="_DTC", output="flag"),
    )
    expected = tbl(
        "USUBJID _DTC ADT ADTF",
        ("S1", "2020-02-03", day("2020-02-03"), ""),
        ("S1", "2020-02-03T10:11", day("2020-02-03"), ""),
        ("S2", "2020-02", None, ""),
        ("S3", "", None, ""),
    )
    assert_table(out, expected)
    # a working column is described by the SDTM variable its record step took it from
    ctx.state.columns["_DTC"] = ColumnMeta(origin="Predecessor", source="QS.QSDTC")
    assert meta("date", ctx, source="_DTC") == ColumnMeta(
        origin="Derived",
        source="QS.QSDTC",
        method="Date part of QS.QSDTC when it is a complete date; null otherwise (no imputation).",
        type="Num",
        date=True,
    )


def test_date_imputation_and_its_flag() -> None:
    """ADaMIG v1.3 section 3.1.2: *DTF is "D" when the day was imputed, "M" when month and
    day were, null when the date is complete; a missing year is not imputed."""
    frame = tbl(
        "USUBJID AESTDTC",
        ("S1", "2020-11"),
        ("S1", "2019"),
        ("S1", "2020-05-28"),
        ("S1", ""),
        ("S1", "2020-02"),
    )
    ctx = context("ADAE")
    first = {"day": "first", "month": "first"}
    last = {"day": "last", "month": "last"}
    out = frame.assign(
        FIRST=derive("date", frame, ctx, source="AESTDTC", impute=first),
        LAST=derive("date", frame, ctx, source="AESTDTC", impute=last),
        MID=derive("date", frame, ctx, source="AESTDTC", impute={"day": "mid", "month": "mid"}),
        FLAG=derive("date", frame, ctx, source="AESTDTC", impute=first, output="flag"),
    )
    expected = tbl(
        "USUBJID AESTDTC FIRST LAST MID FLAG",
        ("S1", "2020-11", day("2020-11-01"), day("2020-11-30"), day("2020-11-15"), "D"),
        ("S1", "2019", day("2019-01-01"), day("2019-12-31"), day("2019-07-01"), "M"),
        ("S1", "2020-05-28", day("2020-05-28"), day("2020-05-28"), day("2020-05-28"), ""),
        ("S1", "", None, None, None, ""),
        ("S1", "2020-02", day("2020-02-01"), day("2020-02-29"), day("2020-02-15"), "D"),
    )
    assert_table(out, expected)
    assert meta("date", ctx, source="AESTDTC", impute=first, output="flag") == ColumnMeta(
        origin="Derived",
        source="AESTDTC",
        method="Imputation flag of the date from AESTDTC: 'D' when the day was imputed, 'M' "
        "when month and day were imputed, null when the date was complete.",
        type="Char",
        codelist="DATEFL",
    )


def test_date_imputation_not_before_and_not_after_other_dates() -> None:
    """An imputed start is not moved before first treatment when treatment started within
    the partial date's range; an imputed end is capped by the end of study in range."""
    frame = tbl(
        "USUBJID AESTDTC AEENDTC",
        ("S1", "2020-01", "2020-06"),  # TRTSDT 2020-02-01 is not in January
        ("S2", "2020-02", "2020-05"),  # TRTSDT 2020-02-15 is in February; EOSDT 2020-05-15
        ("S3", "2020-02", "2020-02"),  # never treated; EOSDT 2020-02-10
    )
    ctx = context("ADAE")
    start = {"day": "first", "month": "first", "not_before": ["TRTSDT"]}
    end = {"day": "last", "month": "last", "not_after": ["EOSDT"]}
    out = frame.assign(
        ASTDT=derive("date", frame, ctx, source="AESTDTC", impute=start),
        AENDT=derive("date", frame, ctx, source="AEENDTC", impute=end),
    )
    expected = tbl(
        "USUBJID AESTDTC AEENDTC ASTDT AENDT",
        ("S1", "2020-01", "2020-06", day("2020-01-01"), day("2020-06-30")),
        ("S2", "2020-02", "2020-05", day("2020-02-15"), day("2020-05-15")),
        ("S3", "2020-02", "2020-02", day("2020-02-01"), day("2020-02-10")),
    )
    assert_table(out, expected)
    assert meta("date", ctx, source="AESTDTC", impute=start) == ColumnMeta(
        origin="Derived",
        source="AESTDTC",
        method="Date part of AESTDTC. A missing day is imputed as the 1st; a missing month and "
        "day as 1 January; if TRTSDT falls within the partial date's range and after the "
        "imputed date, that date is used instead; a missing year is not imputed.",
        type="Num",
        date=True,
    )


def test_date_of_one_record_of_another_dataset() -> None:
    """TRTSDT: the date of the first EX record."""
    frame = tbl("USUBJID", ("S1",), ("S2",), ("S3",))
    ctx = context()
    args = {"source": "EX.EXSTDTC", "select": "first", "order_by": "EXSTDTC"}
    out = frame.assign(TRTSDT=derive("date", frame, ctx, **args))
    expected = tbl(
        "USUBJID TRTSDT", ("S1", day("2020-02-01")), ("S2", day("2020-02-15")), ("S3", None)
    )
    assert_table(out, expected)
    assert meta("date", ctx, **args).method == (
        "Date part of EX.EXSTDTC when it is a complete date; null otherwise (no imputation). "
        "Record: EX.EXSTDTC (first by EXSTDTC)."
    )


# --------------------------------------------------------------------------- months, rates
def test_months_between_two_dates_with_the_study_month_length() -> None:
    frame = tbl(
        "USUBJID ONSDT TRTSDT",
        ("S1", day("2019-11-02"), day("2020-02-01")),  # 91 days
        ("S3", day("2019-11-02"), None),
    )
    ctx = context()
    out = frame.assign(ONTRTM=derive("months", frame, ctx, start="ONSDT", end="TRTSDT"))
    expected = tbl(
        "USUBJID ONSDT TRTSDT ONTRTM",
        ("S1", day("2019-11-02"), day("2020-02-01"), 91 / MONTH),
        ("S3", day("2019-11-02"), None, None),
    )
    assert_table(out, expected)
    assert meta("months", ctx, start="ONSDT", end="TRTSDT") == ColumnMeta(
        method="(TRTSDT - ONSDT) / 30.4375 (days per month).", type="Num"
    )
    assert meta("months", None, start="ONSDT", end="TRTSDT").method == (
        "(TRTSDT - ONSDT) / days per month."
    )


def test_decline_rate_per_month_null_when_the_interval_is_not_positive() -> None:
    frame = tbl(
        "USUBJID SCORE ONSDT TRTSDT",
        ("S1", 36.0, day("2019-02-01"), day("2020-01-31")),  # 12 points in 364 days
        ("S2", 40.0, day("2020-02-15"), day("2020-02-15")),
        ("S3", 40.0, day("2020-02-15"), day("2020-02-14")),
    )
    ctx = context()
    args = {"value": "SCORE", "maximum": 48, "start": "ONSDT", "end": "TRTSDT"}
    out = frame.assign(DFS=derive("decline_rate", frame, ctx, **args))
    expected = frame.assign(DFS=col(12 / (364 / MONTH), None, None))
    assert_table(out, expected)
    assert meta("decline_rate", ctx, **args) == ColumnMeta(
        method="(48 - SCORE) / months from ONSDT to TRTSDT, months = days / 30.4375; null "
        "when the interval is not positive.",
        type="Num",
    )


# --------------------------------------------------------------------------- days, durations
def test_analysis_day_has_no_day_zero() -> None:
    """ADaMIG v1.3 section 3.3.3: ADY = ADT - reference + 1 on or after the reference
    date, ADT - reference before it; the reference is ADSL's (conventions: TRTSDT)."""
    frame = tbl(
        "USUBJID ADT",
        ("S1", day("2020-02-01")),
        ("S1", day("2020-01-31")),
        ("S1", day("2020-02-11")),
        ("S1", None),
        ("S3", day("2020-02-01")),
    )
    ctx = context("ADQS")
    out = frame.assign(
        ADY=derive("analysis_day", frame, ctx),
        CDY=derive("analysis_day", frame, ctx, reference="RFICDT"),
    )
    expected = frame.assign(
        ADY=col(1.0, -1.0, 11.0, None, None), CDY=col(32.0, 31.0, 42.0, None, 13.0)
    )
    assert_table(out, expected)
    assert meta("analysis_day", ctx, date="ASTDT") == ColumnMeta(
        method="ASTDT - TRTSDT + 1 if ASTDT is on or after it, else ASTDT - TRTSDT (no day 0).",
        type="Num",
    )


def test_duration_counts_both_end_days() -> None:
    frame = tbl(
        "USUBJID ASTDT AENDT",
        ("S1", day("2020-02-01"), day("2020-02-01")),
        ("S1", day("2020-02-01"), day("2020-02-10")),
        ("S2", day("2020-02-01"), None),
    )
    out = frame.assign(ADURN=derive("duration", frame, context("ADAE")))
    expected = frame.assign(ADURN=col(1.0, 10.0, None))
    assert_table(out, expected)
    assert meta("duration", None) == ColumnMeta(
        method="AENDT - ASTDT + 1 (days); null when either is missing.", type="Num"
    )


def test_analysis_day_declares_the_reference_date_it_reads() -> None:
    """A reference named in the spec is checked and ordered like the date (the default,
    the conventions' reference date, is an ADSL variable)."""
    model = DERIVATIONS.require("analysis_day").args_model
    assert model.model_validate({"date": "ASTDT", "reference": "RFICDT"}).inputs() == {
        "ASTDT",
        "RFICDT",
    }
    assert model.model_validate({}).inputs() == {"ADT"}


# --------------------------------------------------------------------------- datetimes
def dtm(text: str) -> float:
    """The SAS datetime (seconds since 1960-01-01T00:00:00) of ``YYYY-MM-DDThh:mm:ss``."""
    date, clock = text.split("T")
    h, m, s = (int(x) for x in clock.split(":"))
    return day(date) * 86400 + h * 3600 + m * 60 + s


PARTIAL = tbl(
    "USUBJID AESTDTC",
    ("S1", "2020-02-03T10:11:12"),
    ("S1", "2020-02-03T10:11"),
    ("S1", "2020-02-03T10"),
    ("S1", "2020-02-03"),
    ("S1", "2020-02"),
    ("S1", "2019"),
    ("S1", ""),
)


def _datetimes(impute: dict[str, object] | None) -> pd.DataFrame:
    ctx = context("ADAE")
    args = {"source": "AESTDTC", "impute": impute}
    return PARTIAL.assign(
        ASTDTM=derive("datetime", PARTIAL, ctx, **args),
        ASTDTF=derive("datetime", PARTIAL, ctx, **args, output="date_flag"),
        ASTTMF=derive("datetime", PARTIAL, ctx, **args, output="time_flag"),
    )


def test_datetime_without_imputation_needs_a_complete_date_and_time() -> None:
    """admiral highest_imputation "n": only a value with seconds gives a datetime."""
    out = _datetimes(None)
    assert out["ASTDTM"].tolist()[0] == dtm("2020-02-03T10:11:12")
    assert out["ASTDTM"].isna().tolist() == [False] + [True] * 6
    assert set(out["ASTDTF"]) == {""} and set(out["ASTTMF"]) == {""}


def test_datetime_time_imputation_first_flags_hour_minute_second() -> None:
    """ADaMIG v1.3 section 3.1.3: *TMF H (whole time imputed), M (minutes and seconds), S
    (seconds); with only time imputation (admiral's default "h") a partial date is null."""
    expected = PARTIAL.assign(
        ASTDTM=col(
            dtm("2020-02-03T10:11:12"),
            dtm("2020-02-03T10:11:00"),
            dtm("2020-02-03T10:00:00"),
            dtm("2020-02-03T00:00:00"),
            None,
            None,
            None,
        ),
        ASTDTF=col("", "", "", "", "", "", ""),
        ASTTMF=col("", "S", "M", "H", "", "", ""),
    )
    assert_table(_datetimes({"time": "first"}), expected)


def test_datetime_imputation_last_of_day_and_month() -> None:
    """With day and month imputation (admiral "M") the date is imputed as for *DT and the
    whole time is imputed (*DTF D/M with *TMF H)."""
    expected = PARTIAL.assign(
        ASTDTM=col(
            dtm("2020-02-03T10:11:12"),
            dtm("2020-02-03T10:11:59"),
            dtm("2020-02-03T10:59:59"),
            dtm("2020-02-03T23:59:59"),
            dtm("2020-02-29T23:59:59"),
            dtm("2019-12-31T23:59:59"),
            None,
        ),
        ASTDTF=col("", "", "", "", "D", "M", ""),
        ASTTMF=col("", "S", "M", "H", "H", "H", ""),
    )
    assert_table(_datetimes({"time": "last", "day": "last", "month": "last"}), expected)


def test_datetime_day_imputation_without_month_leaves_a_year_only_value_null() -> None:
    out = _datetimes({"time": "first", "day": "mid"})
    assert out["ASTDTM"].tolist()[4] == dtm("2020-02-15T00:00:00")
    assert np.isnan(out["ASTDTM"].tolist()[5])
    assert out["ASTDTF"].tolist()[4:6] == ["D", ""]


def test_datetime_ignore_seconds_does_not_flag_missing_seconds() -> None:
    out = _datetimes({"time": "first", "ignore_seconds": True})
    assert out["ASTTMF"].tolist() == ["", "", "M", "H", "", "", ""]


def test_datetime_not_before_first_dose_within_the_partial_range() -> None:
    """admiral min_dates: an imputed start in the hour of first dose is not placed before
    the dose; outside the range the imputed value stays."""
    frame = tbl(
        "USUBJID AESTDTC TRTSDTM",
        ("S1", "2020-02-01T08", dtm("2020-02-01T08:30:00")),
        ("S2", "2020-02-01T07", dtm("2020-02-01T08:30:00")),
        ("S3", "2020-02-01T08:45", dtm("2020-02-01T08:30:00")),
    )
    ctx = context("ADAE")
    imp = {"time": "first", "not_before": ["TRTSDTM"]}
    out = derive("datetime", frame, ctx, source="AESTDTC", impute=imp)
    assert out.tolist() == [
        dtm("2020-02-01T08:30:00"),
        dtm("2020-02-01T07:00:00"),
        dtm("2020-02-01T08:45:00"),
    ]


def test_trtsdtm_from_the_first_exposure_record_and_its_date_part() -> None:
    """ADSL TRTSDTM / TRTSTMF / TRTSDT as admiral's ad_adsl.R derives them."""
    frame = tbl("USUBJID", ("S1",), ("S2",), ("S3",))
    ex = tbl(
        "USUBJID EXSEQ EXSTDTC",
        ("S1", 1, "2020-02-01"),
        ("S1", 2, "2020-03-02T09:30:00"),
        ("S2", 1, "2020-02-15T08:05"),
    )
    ctx = context(sdtm={"EX": ex})
    args = {
        "source": "EX.EXSTDTC",
        "select": "first",
        "order_by": "EXSTDTC",
        "impute": {"time": "first"},
    }
    out = frame.assign(
        TRTSDTM=derive("datetime", frame, ctx, **args),
        TRTSTMF=derive("datetime", frame, ctx, **args, output="time_flag"),
    )
    out = out.assign(
        TRTSDT=derive("datetime_part", out, ctx, source="TRTSDTM"),
        TRTSTM=derive("datetime_part", out, ctx, source="TRTSDTM", part="time"),
    )
    expected = tbl(
        "USUBJID TRTSDTM TRTSTMF TRTSDT TRTSTM",
        ("S1", dtm("2020-02-01T00:00:00"), "H", day("2020-02-01"), 0.0),
        ("S2", dtm("2020-02-15T08:05:00"), "S", day("2020-02-15"), 8 * 3600 + 5 * 60.0),
        ("S3", None, "", None, None),
    )
    assert_table(out, expected)
    # a datetime before 1960 keeps its date (floor, not truncation)
    early = tbl("USUBJID X", ("S1", -1.0))
    assert derive("datetime_part", early, ctx, source="X").tolist() == [-1.0]
    assert derive("datetime_part", early, ctx, source="X", part="time").tolist() == [86399.0]


def test_datetime_metadata_gives_formats_and_codelists() -> None:
    ctx = context("ADAE")
    imp = {"time": "last", "day": "last", "month": "last", "not_after": ["EOSDTM"]}
    assert meta("datetime", ctx, source="AEENDTC", impute=imp) == ColumnMeta(
        origin="Derived",
        source="AEENDTC",
        method="AEENDTC as a datetime. A missing time (or its missing part) is imputed from "
        "23:59:59; a missing day as the last day of the month; a missing month and day as 31 "
        "December; if EOSDTM falls within the partial value's range and before the imputed "
        "datetime, it is used instead; a value missing its year gives null.",
        type="Num",
        format="DATETIME20.",
    )
    flag = meta("datetime", ctx, source="AEENDTC", impute=imp, output="time_flag")
    assert (flag.type, flag.codelist) == ("Char", "TIMEFL")
    assert meta("datetime", ctx, source="AEENDTC", output="date_flag").codelist == "DATEFL"
    assert meta("datetime_part", ctx, source="ASTDTM") == ColumnMeta(
        source="ASTDTM", method="Date part of ASTDTM.", type="Num", date=True
    )
    assert meta("datetime_part", ctx, source="ASTDTM", part="time").format == "TIME8."
    assert DERIVATIONS.require("datetime").args_model.model_validate(
        {"source": "X", "impute": imp}
    ).inputs() == {"X", "EOSDTM"}


def test_datetime_month_imputation_needs_day_imputation() -> None:
    with pytest.raises(ValidationError, match="month needs day"):
        DERIVATIONS.require("datetime").args_model.model_validate(
            {"source": "AESTDTC", "impute": {"month": "first"}}
        )
