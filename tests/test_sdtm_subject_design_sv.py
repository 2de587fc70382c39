"""SV (:func:`cdisc_mapper.sdtm.subject_design.build_sv`) from visits of both sources: op
visitnum (visit labels, dated records) and op visit_window (study-day windows, dated or
not). Expected rows worked out by hand from the records below."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pandas as pd

from cdisc_mapper.sdtm.ops.timeline import VisitWindowArgs
from cdisc_mapper.sdtm.ops.visits import VisitnumArgs
from cdisc_mapper.sdtm.subject_design import build_sv, date_of_study_day
from tests.sdtm_ops_helpers import study

COLUMNS = ["USUBJID", "VISITNUM", "VISIT", "SVSTDTC", "SVENDTC", "SVSTDY", "SVENDY"]


def _bundle(domains: dict[str, str], args: dict[str, Any]) -> Any:
    """A bundle with the bundled study (visits 1, 2, ... scheduled) whose domain ``code``
    maps VISITNUM with op ``domains[code]`` and arguments ``args[code]``."""
    return SimpleNamespace(
        study=study(),
        domains={
            code: SimpleNamespace(variables={"VISITNUM": SimpleNamespace(op=op)})
            for code, op in domains.items()
        },
        op_args={(code, None, "VISITNUM"): a for code, a in args.items()},
    )


def _sv(frames: dict[str, pd.DataFrame], bundle: Any) -> list[list[Any]]:
    sv = build_sv(frames, bundle, None, None)
    assert sv is not None
    return sv[COLUMNS].fillna("").values.tolist()


DM = pd.DataFrame({"USUBJID": ["S-1", "S-2"], "RFSTDTC": ["2020-01-10", "2020-02-01"]})


def test_the_study_day_of_a_date_variable() -> None:
    assert [date_of_study_day(n) for n in ("QSDY", "AESTDY", "AEENDY")] == [
        "QSDTC",
        "AESTDTC",
        "AEENDTC",
    ]


def test_visits_from_study_day_windows_without_dates_span_their_study_days() -> None:
    qs = pd.DataFrame(
        {
            "USUBJID": ["S-1", "S-1", "S-1", "S-2", "S-2"],
            "QSDY": [3, -2, 90, 1, None],
            "VISITNUM": [1.0, 1.0, 2.0, 1.0, None],  # a blank day: no visit, no SV record
            "VISIT": ["SCREENING", "SCREENING", "V2", "SCREENING", ""],
        }
    )
    bundle = _bundle({"QS": "visit_window"}, {"QS": VisitWindowArgs(dy="QSDY")})
    assert _sv({"DM": DM, "QS": qs}, bundle) == [
        ["S-1", 1.0, "SCREENING", "", "", -2.0, 3.0],
        ["S-1", 2.0, "V2", "", "", 90.0, 90.0],
        ["S-2", 1.0, "SCREENING", "", "", 1.0, 1.0],
    ]


def test_dated_visits_take_dates_from_both_sources_and_study_days_from_dm() -> None:
    vs = pd.DataFrame(
        {
            "USUBJID": ["S-1", "S-1"],
            "VSDTC": ["2020-01-12T09:00", "2020-03-01"],
            "VISITNUM": [1.0, 2.0],
            "VISIT": ["SCREENING", "V2"],
        }
    )
    qs = pd.DataFrame(  # QSDTC given: the visit is dated, its QSDY not used for SV
        {
            "USUBJID": ["S-1", "S-1"],
            "QSDY": [1, 200],
            "QSDTC": ["2020-01-10", ""],
            "VISITNUM": [1.0, 3.0],
            "VISIT": ["SCREENING", "V3"],
        }
    )
    bundle = _bundle(
        {"VS": "visitnum", "QS": "visit_window"},
        {"VS": VisitnumArgs(label="X", date="VSDTC"), "QS": VisitWindowArgs(dy="QSDY")},
    )
    # S-1 visit 1: 2020-01-10 (QS) to 2020-01-12 (VS), days 1 to 3 (RFSTDTC 2020-01-10);
    # visit 2 2020-03-01 is day 21 + 29 + 1 = 52; visit 3 has no date: day 200 from QSDY
    assert _sv({"DM": DM, "VS": vs, "QS": qs}, bundle) == [
        ["S-1", 1.0, "SCREENING", "2020-01-10", "2020-01-12", 1.0, 3.0],
        ["S-1", 2.0, "V2", "2020-03-01", "2020-03-01", 52.0, 52.0],
        ["S-1", 3.0, "V3", "", "", 200.0, 200.0],
    ]
