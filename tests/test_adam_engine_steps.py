"""cdisc_mapper.adam.engine: record steps that run after variables (``after:``).

A small ADVS spec (two subjects, SYSBP at three time points per visit) whose AVERAGE
records (mean over a visit's time points) and LOCF records (a missing WEEK 4 filled from
WEEK 2's average) are added once the visits are derived, with ABLFL, BASE, CHG, ANL01FL
and ASEQ derived afterwards on all records, as admiral's ad_advs.R does. Expected values
are worked out by hand in the comments.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_mapper.adam import load_adam_specs
from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.engine import build_all, dataset_metadata
from cdisc_mapper.errors import SpecError
from tests.adam_ops_context import MemorySdtm, day, tbl

CONVENTIONS = """\
month_days: 30.4375
events:
  CONSENT: {domain: DM, variable: RFICDTC}
  END: {domain: DM, variable: RFPENDTC}
periods:
  - {aperiod: 1, aperiodc: STUDY, start: {event: CONSENT}, end: [{event: END}]}
windows:
  visits:
    - {avisitn: 0, avisit: BASELINE, reference: TRTSDT, target: 1, lo: -30, hi: 1}
    - {avisitn: 2, avisit: WEEK 2, reference: TRTSDT, target: 15, lo: 2, hi: 20}
    - {avisitn: 4, avisit: WEEK 4, reference: TRTSDT, target: 29, lo: 21, hi: 40}
"""
ADSL = """\
dataset: ADSL
label: Subject-Level Analysis Dataset
structure: ADSL
keys: [USUBJID]
records:
  - op: subjects
variables:
  USUBJID: {}
  TRTSDT: {derive: date, source: DM.RFXSTDTC}
"""
ADVS = """\
dataset: ADVS
label: Vital Signs Analysis Dataset
structure: BDS
keys: [USUBJID, PARAMCD, AVISITN, DTYPE, SRCSEQ]
records:
  - op: findings
    domain: VS
    test: VSTESTCD
    value: VSSTRESN
    dtc: VSDTC
    seq: VSSEQ
    keep: [VSTPT]
    parameters:
      - {paramcd: SYSBP, param: Systolic Blood Pressure (mmHg), paramn: 1, tests: [SYSBP]}
  - op: summary_record
    after: AVISITN
    dtype: AVERAGE
    function: mean
    by: [USUBJID, PARAMCD, AVISITN, AVISIT, ADT, ADY]
    set: {ATPT: ""}
  - op: locf_record
    after: AVISITN
    windows: visits
    where: {variable: DTYPE, equals: AVERAGE}
variables:
  USUBJID: {}
  ASEQ: {derive: sequence, order_by: [PARAMCD, AVISITN, DTYPE, SRCSEQ]}
  PARAMCD: {}
  ADT: {derive: date, source: _DTC}
  ADY: {derive: analysis_day}
  AVISIT: {derive: window, windows: visits, output: AVISIT}
  AVISITN: {derive: window, windows: visits, output: AVISITN}
  AWTDIFF: {derive: window, windows: visits, output: AWTDIFF}
  ATPT: {column: VSTPT}
  AVAL: {}
  DTYPE: {}
  ABLFL: {derive: baseline_flag, where: {variable: DTYPE, equals: AVERAGE}}
  BASE: {derive: base}
  CHG: {derive: chg}
  ANL01FL:
    derive: analysis_flag
    where: {variable: DTYPE, present: true}
  SRCSEQ: {}
"""

DM = tbl(
    "USUBJID RFICDTC RFPENDTC RFXSTDTC",
    ("S1", "2020-01-01", "2020-06-30", "2020-02-01"),
    ("S2", "2020-01-10", "2020-05-15", "2020-02-15"),
)
VS = tbl(
    "USUBJID VSSEQ VSTESTCD VSTPT VSDTC VSSTRESN",
    # S1 (TRTSDT 2020-02-01): baseline day -1, WEEK 2 day 15, no WEEK 4
    ("S1", 1, "SYSBP", "LYING", "2020-01-31", 120),
    ("S1", 2, "SYSBP", "STANDING", "2020-01-31", 130),
    ("S1", 3, "SYSBP", "LYING", "2020-02-15", 128),
    ("S1", 4, "SYSBP", "STANDING", "2020-02-15", 134),
    # S2 (TRTSDT 2020-02-15): baseline day 1, WEEK 2 day 16, WEEK 4 day 29 (one missing)
    ("S2", 1, "SYSBP", "LYING", "2020-02-15", 110),
    ("S2", 2, "SYSBP", "LYING", "2020-03-01", 100),
    ("S2", 3, "SYSBP", "STANDING", "2020-03-01", 104),
    ("S2", 4, "SYSBP", "LYING", "2020-03-14", 99),
    ("S2", 5, "SYSBP", "STANDING", "2020-03-14", None),
)  # fmt: skip


class Sdtm(MemorySdtm):
    def release(self, domain: str) -> None:
        """Nothing to forget: the domains are in memory."""

    def declared(self, domain: str, variable: str) -> None:
        """No XPT file declares the variables."""


def study(tmp_path: Path, advs: str = ADVS) -> Path:
    folder = tmp_path / "study" / "adam"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "conventions.yaml").write_text(CONVENTIONS)
    (folder / "adsl.yaml").write_text(ADSL)
    (folder / "advs.yaml").write_text(advs)
    return folder.parent


def built(tmp_path: Path) -> tuple[BuildContext, dict]:
    specs = load_adam_specs(study(tmp_path))
    ctx = BuildContext(specs=specs, sdtm=Sdtm({"DM": DM, "VS": VS}))
    return ctx, build_all(ctx, say=lambda _: None)


def test_average_and_locf_records_before_baseline_and_analysis_flag(tmp_path: Path) -> None:
    """AVERAGE: S1 BASELINE (120+130)/2 = 125, WEEK 2 (128+134)/2 = 131; S2 BASELINE 110,
    WEEK 2 (100+104)/2 = 102, WEEK 4 99 (the missing value ignored). LOCF: S1 WEEK 4
    carries WEEK 2's average 131 (S2 has every visit). ABLFL (derived after both steps,
    among AVERAGE records): the baseline averages; BASE 125 / 110 on every record of the
    subject, CHG = AVAL - BASE; ANL01FL on one DTYPE record per visit; ASEQ numbers
    every record, old and new, by PARAMCD, AVISITN, DTYPE, SRCSEQ."""
    _, out = built(tmp_path)
    frame = out["ADVS"].frame
    d = day
    n = None
    want = pd.DataFrame(
        [
            ("S1", 1.0, "SYSBP", d("2020-01-31"), -1.0, "BASELINE", 0.0, 2.0, "LYING", 120.0,
             "", "", 125.0, -5.0, "", 1.0),
            ("S1", 2.0, "SYSBP", d("2020-01-31"), -1.0, "BASELINE", 0.0, 2.0, "STANDING",
             130.0, "", "", 125.0, 5.0, "", 2.0),
            ("S1", 3.0, "SYSBP", d("2020-01-31"), -1.0, "BASELINE", 0.0, 2.0, "", 125.0,
             "AVERAGE", "Y", 125.0, 0.0, "Y", n),
            ("S1", 4.0, "SYSBP", d("2020-02-15"), 15.0, "WEEK 2", 2.0, 0.0, "LYING", 128.0,
             "", "", 125.0, 3.0, "", 3.0),
            ("S1", 5.0, "SYSBP", d("2020-02-15"), 15.0, "WEEK 2", 2.0, 0.0, "STANDING", 134.0,
             "", "", 125.0, 9.0, "", 4.0),
            ("S1", 6.0, "SYSBP", d("2020-02-15"), 15.0, "WEEK 2", 2.0, 0.0, "", 131.0,
             "AVERAGE", "", 125.0, 6.0, "Y", n),
            ("S1", 7.0, "SYSBP", n, n, "WEEK 4", 4.0, n, "", 131.0, "LOCF", "", 125.0, 6.0,
             "Y", n),
            ("S2", 1.0, "SYSBP", d("2020-02-15"), 1.0, "BASELINE", 0.0, 0.0, "LYING", 110.0,
             "", "", 110.0, 0.0, "", 1.0),
            ("S2", 2.0, "SYSBP", d("2020-02-15"), 1.0, "BASELINE", 0.0, 0.0, "", 110.0,
             "AVERAGE", "Y", 110.0, 0.0, "Y", n),
            ("S2", 3.0, "SYSBP", d("2020-03-01"), 16.0, "WEEK 2", 2.0, 1.0, "LYING", 100.0,
             "", "", 110.0, -10.0, "", 2.0),
            ("S2", 4.0, "SYSBP", d("2020-03-01"), 16.0, "WEEK 2", 2.0, 1.0, "STANDING", 104.0,
             "", "", 110.0, -6.0, "", 3.0),
            ("S2", 5.0, "SYSBP", d("2020-03-01"), 16.0, "WEEK 2", 2.0, 1.0, "", 102.0,
             "AVERAGE", "", 110.0, -8.0, "Y", n),
            ("S2", 6.0, "SYSBP", d("2020-03-14"), 29.0, "WEEK 4", 4.0, 0.0, "LYING", 99.0,
             "", "", 110.0, -11.0, "", 4.0),
            ("S2", 7.0, "SYSBP", d("2020-03-14"), 29.0, "WEEK 4", 4.0, 0.0, "STANDING", n,
             "", "", 110.0, n, "", 5.0),
            ("S2", 8.0, "SYSBP", d("2020-03-14"), 29.0, "WEEK 4", 4.0, 0.0, "", 99.0,
             "AVERAGE", "", 110.0, -11.0, "Y", n),
        ],
        columns=["USUBJID", "ASEQ", "PARAMCD", "ADT", "ADY", "AVISIT", "AVISITN", "AWTDIFF",
                 "ATPT", "AVAL", "DTYPE", "ABLFL", "BASE", "CHG", "ANL01FL", "SRCSEQ"],
    )  # fmt: skip
    got = frame.sort_values(["USUBJID", "ASEQ"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        got.astype({c: object for c in got.columns if got[c].dtype != np.float64}),
        want.astype({c: object for c in want.columns if want[c].dtype != np.float64}),
        check_dtype=False,
    )


def test_define_metadata_describes_the_dtype_records(tmp_path: Path) -> None:
    """define.xml: DTYPE has one value-level entry per DTYPE term with its method."""
    ctx, _ = built(tmp_path)
    dtype = next(v for v in dataset_metadata(ctx)["ADVS"] if v.name == "DTYPE")
    where = [(vl.where, vl.method.split(":")[0]) for vl in dtype.value_level]
    assert where == [({"DTYPE": "AVERAGE"}, "'AVERAGE'"), ({"DTYPE": "LOCF"}, "'LOCF'")]


def _error(tmp_path: Path, old: str, new: str) -> tuple[str, int]:
    assert old in ADVS
    line = ADVS[: ADVS.index(old)].count("\n") + 1
    with pytest.raises(SpecError) as err:
        load_adam_specs(study(tmp_path, ADVS.replace(old, new, 1)))
    return str(err.value), line


def test_after_an_unknown_variable_is_a_spec_error(tmp_path: Path) -> None:
    msg, line = _error(tmp_path, "    after: AVISITN\n    dtype", "    after: AVISTN\n    dtype")
    assert "records[1] (summary_record): after names AVISTN, not a variable of ADVS" in msg
    assert f"advs.yaml:{line}" in msg


def test_reading_a_variable_derived_later_is_a_spec_error(tmp_path: Path) -> None:
    msg, line = _error(tmp_path, "    after: AVISITN\n    windows", "    windows")
    assert "records[2] (locf_record): follows a step with 'after'" in msg
    assert f"advs.yaml:{line - 1}:" in msg  # the step's first line
    msg, _ = _error(tmp_path, "    after: AVISITN\n    dtype", "    dtype")
    assert "records[1] (summary_record): reads ADT, a variable derived after this step; " in msg
    assert "add 'after: ADT'" in msg


def test_a_dtype_step_needs_a_dtype_variable(tmp_path: Path) -> None:
    """Without a DTYPE variable the added records could not be told apart in the output."""
    advs = ADVS.replace("  DTYPE: {}\n", "").replace("AVISITN, DTYPE, SRCSEQ]", "AVISITN, SRCSEQ]")
    with pytest.raises(
        SpecError,
        match="records\\[1\\] \\(summary_record\\): marks its records "
        "with DTYPE, which is not among the variables",
    ):
        load_adam_specs(study(tmp_path, advs))
