"""A second ADaM example, for a study unlike the bundled one: XANPILOT02 (three arms and a
screen failure; tests/data/pilot_study/adam, written from docs/operations.md).

The study is mapped to SDTM and ADaM by the tool; every ADSL and ADVS value is then
recomputed here independently, with plain Python over the hand-written SDTM of
tests/data/pilot_expected (which tests/test_pilot_study.py compares cell by cell with the
tool's SDTM), and compared record by record:

* ADSL: the arms as treatments (TRT01P/TRT01A, TRT01PN), first and last patch as dates
  and datetimes with their time imputation flag, TRTDURD, the age at consent in whole
  years (a working variable, never written), SAFFL/ITTFL, LSTALVDT over four domains;
* ADVS: the observed records, MAP and BMI (derived parameters), the mean of each visit's
  time points (DTYPE AVERAGE), LOCF records for the planned visits without a value, the
  nominal visits, ABLFL/BASE/CHG, an on-treatment flag against ADSL dates and AVALCAT1
  for HEIGHT only; the records sorted by the keys and numbered (ASEQ).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from statistics import mean
from typing import Any

import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner

from cdisc_mapper.adam import run_adam
from cdisc_mapper.cli import main
from cdisc_mapper.define.schema import validate_define_schema
from cdisc_mapper.sdtm.pipeline import run_sdtm

DATA = Path(__file__).parent / "data"
SDTM = DATA / "pilot_expected"
PARAMS = {"SYSBP": 1, "DIABP": 2, "PULSE": 3, "TEMP": 4, "WEIGHT": 5, "HEIGHT": 6}
AVISITN = {"BASELINE": 0.0, "WEEK 2": 2.0, "WEEK 4": 4.0}
AVERAGED = ("SYSBP", "DIABP", "PULSE", "MAP")


def _rows(name: str) -> list[dict[str, str]]:
    with (SDTM / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text[:10]) if len(text) >= 10 else None


def _num(text: str) -> float | None:
    return float(text) if text != "" else None


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The study mapped to SDTM and ADaM (OUT/sdtm, OUT/adam)."""
    out = tmp_path_factory.mktemp("pilot_adam")
    run_sdtm(DATA / "pilot_study", DATA / "pilot_raw", out)
    run_adam(DATA / "pilot_study", out / "sdtm", out)
    return out


@pytest.fixture(scope="module")
def adam(package: Path) -> dict[str, pd.DataFrame]:
    """ADSL and ADVS as an independent reader (pyreadstat) reads them."""
    frames = {}
    for name in ("adsl", "advs"):
        frame, _ = pyreadstat.read_xport(str(package / "adam" / f"{name}.xpt"))
        frames[name] = frame
    return frames


# --------------------------------------------------------------------------- ADSL
def expected_adsl() -> dict[str, dict[str, Any]]:
    ex = defaultdict(list)
    for r in _rows("ex"):
        ex[r["USUBJID"]].append(r)
    dated: dict[str, list[dt.date]] = defaultdict(list)
    for name, cols in (("ae", ("AESTDTC", "AEENDTC")), ("vs", ("VSDTC",)), ("ds", ("DSSTDTC",))):
        for r in _rows(name):
            dated[r["USUBJID"]] += [d for c in cols if (d := _date(r[c])) is not None]
    out = {}
    for r in _rows("dm"):
        subj = r["USUBJID"]
        starts = [_date(e["EXSTDTC"]) for e in ex[subj]]
        ends = [_date(e["EXENDTC"]) for e in ex[subj]]
        trtsdt = min(d for d in starts if d) if ex[subj] else None
        trtedt = max(d for d in ends if d) if ex[subj] else None
        birth, consent = _date(r["BRTHDTC"]), _date(r["RFICDTC"])
        assert birth and consent
        had_birthday = (consent.month, consent.day) >= (birth.month, birth.day)
        age = int(r["AGE"])
        out[subj] = {
            "ARM": r["ARM"] or r["ARMNRS"],
            "TRT01P": r["ARM"] or r["ARMNRS"],
            "TRT01A": r["ACTARM"],
            "TRT01PN": {
                "Placebo": 0.0,
                "Xanomeline Low Dose": 54.0,
                "Xanomeline High Dose": 81.0,
            }.get(r["ARM"]),
            "AGEGR1": "<65" if age < 65 else ("65-80" if age <= 80 else ">80"),
            "TRTSDT": trtsdt,
            "TRTEDT": trtedt,
            "TRTSDTM": dt.datetime.combine(trtsdt, dt.time(0, 0, 0)) if trtsdt else None,
            "TRTEDTM": dt.datetime.combine(trtedt, dt.time(23, 59, 59)) if trtedt else None,
            "TRTSTMF": "H" if trtsdt else "",
            "TRTDURD": float((trtedt - trtsdt).days + 1) if trtsdt and trtedt else None,
            "AAGE": float(consent.year - birth.year - (0 if had_birthday else 1)),
            "SAFFL": "Y" if trtsdt else "N",
            "ITTFL": "Y" if r["ARMCD"] else "N",
            "LSTALVDT": max(dated[subj] + ([trtedt] if trtedt else [])),
            "DTHCAUS": "",
        }
    return out


def _same(got: Any, want: Any) -> bool:
    if want is None or want == "":
        return got is None or got == "" or (isinstance(got, float) and pd.isna(got)) or pd.isna(got)
    if isinstance(want, float):
        return abs(float(got) - want) < 1e-9
    if isinstance(want, dt.datetime):
        return pd.Timestamp(got).to_pydatetime() == want
    return bool(got == want)


def test_adsl_recomputed_independently(adam: dict[str, pd.DataFrame]) -> None:
    adsl = adam["adsl"].set_index("USUBJID")
    expected = expected_adsl()
    assert sorted(adsl.index) == sorted(expected)
    wrong = [
        f"{subj} {var}: got {adsl.loc[subj, var]!r}, expected {want!r}"
        for subj, values in expected.items()
        for var, want in values.items()
        if not _same(adsl.loc[subj, var], want)
    ]
    assert not wrong, "\n".join(wrong)


def test_the_working_variable_is_never_written(adam: dict[str, pd.DataFrame]) -> None:
    assert "_RFICDT" not in adam["adsl"].columns
    assert all(not c.startswith("_") for c in adam["advs"].columns)


# --------------------------------------------------------------------------- ADVS
Key = tuple[str, str, float | None, dt.date | None, float | None, str]


def _observed() -> list[dict[str, Any]]:
    """One record per VS record, and MAP and BMI where their parameters have values."""
    out = []
    for r in _rows("vs"):
        out.append(
            {
                "USUBJID": r["USUBJID"],
                "PARAMCD": r["VSTESTCD"],
                "AVAL": _num(r["VSSTRESN"]),
                "ADT": _date(r["VSDTC"]),
                "VISIT": r["VISIT"],
                "ATPTN": _num(r["VSTPTNUM"]),
                "VSTPT": r["VSTPT"],
                "DTYPE": "",
                "SRCSEQ": float(r["VSSEQ"]),
            }
        )
    by_point: dict[tuple[Any, ...], dict[str, float | None]] = defaultdict(dict)
    heights = {}
    for rec in out:
        point = (rec["USUBJID"], rec["VISIT"], rec["ADT"], rec["ATPTN"], rec["VSTPT"])
        by_point[point][rec["PARAMCD"]] = rec["AVAL"]
        if rec["PARAMCD"] == "HEIGHT":
            heights[rec["USUBJID"]] = rec["AVAL"]
    derived = []
    for (subj, visit, adt, atptn, tpt), values in by_point.items():
        sys, dia = values.get("SYSBP"), values.get("DIABP")
        if sys is not None and dia is not None:
            derived.append(("MAP", subj, visit, adt, atptn, tpt, (sys + 2 * dia) / 3))
        weight, height = values.get("WEIGHT"), heights.get(subj)
        if weight is not None and height is not None:
            derived.append(("BMI", subj, visit, adt, atptn, tpt, weight / (height / 100) ** 2))
    for paramcd, subj, visit, adt, atptn, tpt, aval in derived:
        out.append(
            {
                "USUBJID": subj,
                "PARAMCD": paramcd,
                "AVAL": aval,
                "ADT": adt,
                "VISIT": visit,
                "ATPTN": atptn,
                "VSTPT": tpt,
                "DTYPE": "",
                "SRCSEQ": None,
            }
        )
    for rec in out:
        rec["AVISITN"] = AVISITN.get(rec["VISIT"])
    return out


def _averages(observed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    for rec in observed:
        if rec["PARAMCD"] in AVERAGED and rec["AVAL"] is not None:
            groups[(rec["USUBJID"], rec["PARAMCD"], rec["VISIT"], rec["ADT"])].append(rec["AVAL"])
    return [
        {
            "USUBJID": subj,
            "PARAMCD": paramcd,
            "AVAL": mean(values),
            "ADT": adt,
            "VISIT": visit,
            "ATPTN": None,
            "VSTPT": "",
            "DTYPE": "AVERAGE",
            "SRCSEQ": None,
            "AVISITN": AVISITN.get(visit),
        }
        for (subj, paramcd, visit, adt), values in groups.items()
    ]


def _locf(averages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each subject, parameter and planned visit (0, 2, 4) without an average, the
    last average at an earlier planned visit, if any."""
    series: dict[tuple[str, str], dict[float, float]] = defaultdict(dict)
    for rec in averages:
        if rec["AVISITN"] is not None:
            series[(rec["USUBJID"], rec["PARAMCD"])][rec["AVISITN"]] = rec["AVAL"]
    out = []
    for (subj, paramcd), by_visit in series.items():
        for visit in sorted(AVISITN.values()):
            earlier = [v for v in sorted(by_visit) if v < visit]
            if visit not in by_visit and earlier:
                out.append(
                    {
                        "USUBJID": subj,
                        "PARAMCD": paramcd,
                        "AVAL": by_visit[earlier[-1]],
                        "ADT": None,
                        "VISIT": "",
                        "ATPTN": None,
                        "VSTPT": "",
                        "DTYPE": "LOCF",
                        "SRCSEQ": None,
                        "AVISITN": visit,
                    }
                )
    return out


def _basetype(rec: dict[str, Any]) -> str:
    """Each time point's own baseline, the visit average's, else the last value's."""
    if rec["DTYPE"] in ("AVERAGE", "LOCF"):
        return "AVERAGE OF TIME POINTS"
    return rec["VSTPT"] or "LAST"


def expected_advs() -> dict[Key, dict[str, Any]]:
    adsl = expected_adsl()
    observed = _observed()
    averages = _averages(observed)
    records = observed + averages + _locf(averages)
    # baseline: per subject, parameter and time point, the last record with a value dated
    # on or before the first patch (LOCF records are never baselines)
    baseline: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rec in sorted(records, key=lambda r: (r["ADT"] or dt.date.min, r["SRCSEQ"] or 0)):
        trtsdt = adsl[rec["USUBJID"]]["TRTSDT"]
        if (
            rec["DTYPE"] != "LOCF"
            and rec["AVAL"] is not None
            and trtsdt is not None
            and rec["ADT"] is not None
            and rec["ADT"] <= trtsdt
        ):
            baseline[(rec["USUBJID"], rec["PARAMCD"], _basetype(rec))] = rec
    out = {}
    for rec in records:
        subj = adsl[rec["USUBJID"]]
        base_rec = baseline.get((rec["USUBJID"], rec["PARAMCD"], _basetype(rec)))
        base = base_rec["AVAL"] if base_rec else None
        adt = rec["ADT"]
        post = (adt is not None and subj["TRTSDT"] is not None and adt > subj["TRTSDT"]) or rec[
            "DTYPE"
        ] == "LOCF"
        on_trt = (
            adt is not None
            and subj["TRTSDT"] is not None
            and subj["TRTSDT"] <= adt <= subj["TRTEDT"]
        )
        aval = rec["AVAL"]
        key: Key = (rec["USUBJID"], rec["PARAMCD"], rec["AVISITN"], adt, rec["ATPTN"], rec["DTYPE"])
        assert key not in out, key
        out[key] = {
            "AVAL": aval,
            "AVISIT": {v: k for k, v in AVISITN.items()}.get(rec["AVISITN"], ""),
            "ADY": float((adt - subj["TRTSDT"]).days + (1 if adt >= subj["TRTSDT"] else 0))
            if adt and subj["TRTSDT"]
            else None,
            "ABLFL": "Y" if base_rec is rec else "",
            "BASE": base,
            "CHG": aval - base if post and aval is not None and base is not None else None,
            "ONTRTFL": "Y" if on_trt else "",
            "AVALCAT1": ("<170 cm" if aval < 170 else ">=170 cm")
            if rec["PARAMCD"] == "HEIGHT" and aval is not None
            else "",
            "TRTP": subj["TRT01P"],
            "BASETYPE": _basetype(rec),
        }
    return out


def _key(row: pd.Series) -> Key:
    def num(v: Any) -> float | None:
        return None if pd.isna(v) else float(v)

    adt = row["ADT"]
    return (
        row["USUBJID"],
        row["PARAMCD"],
        num(row["AVISITN"]),
        None if adt is None or pd.isna(adt) else adt,
        num(row["ATPTN"]),
        "" if pd.isna(row["DTYPE"]) else row["DTYPE"],
    )


def test_advs_recomputed_independently(adam: dict[str, pd.DataFrame]) -> None:
    advs = adam["advs"]
    got = {_key(row): row for _, row in advs.iterrows()}
    expected = expected_advs()
    assert len(got) == len(advs), "the keys identify the records"
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    wrong = [
        f"{key} {var}: got {got[key][var]!r}, expected {want!r}"
        for key, values in expected.items()
        for var, want in values.items()
        if not _same(got[key][var], want)
    ]
    assert not wrong, "\n".join(wrong[:20])


def test_advs_holds_every_kind_of_record(adam: dict[str, pd.DataFrame]) -> None:
    advs = adam["advs"]
    kinds = advs.groupby(advs["DTYPE"].fillna("")).size().to_dict()
    assert kinds[""] == 66 + 13 + 10  # VS records, MAP at 13 time points, BMI at 10 weights
    assert kinds["AVERAGE"] > 0 and kinds["LOCF"] > 0
    assert set(advs.loc[advs.PARAMCD == "HEIGHT", "AVALCAT1"]) == {"<170 cm", ">=170 cm"}
    assert set(advs.loc[advs.PARAMCD != "HEIGHT", "AVALCAT1"].fillna("")) == {""}


def test_advs_is_sorted_by_its_keys_and_numbered_in_that_order(
    adam: dict[str, pd.DataFrame],
) -> None:
    advs = adam["advs"]
    for _, records in advs.groupby("USUBJID", sort=False):
        assert records["ASEQ"].tolist() == list(range(1, len(records) + 1))
    # missing key values sort first (the conventions' default, as SAS sorts)
    order = advs.assign(
        _ADT=pd.to_datetime(advs["ADT"]), _DTYPE=advs["DTYPE"].fillna("")
    ).sort_values(
        ["USUBJID", "PARAMN", "PARAMCD", "AVISITN", "_ADT", "ATPTN", "_DTYPE"],
        na_position="first",
        kind="stable",
    )
    assert order.index.tolist() == advs.index.tolist()


def test_define_is_schema_valid_and_the_validator_finds_no_error(package: Path) -> None:
    """The ADaM define.xml passes the Define-XML 2.1 schema, and the validator finds no
    error in the package (ADaMIG required variables such as ADSL TRT01P for the screen
    failure, one baseline per USUBJID, PARAMCD and BASETYPE)."""
    for args in (
        ["-q", "define", "--study", DATA / "pilot_study", "--out", package],
        ["-q", "validate", package],
    ):
        result = CliRunner().invoke(main, [str(a) for a in args])
        assert result.exit_code in (0, 1), result.output
    assert validate_define_schema(package / "adam" / "define.xml") == []
    report = json.loads((package / "reports" / "validation.json").read_text(encoding="utf-8"))
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert errors == []
