"""Every ADPROG value of the demo recomputed from its written ADSL, ADQS and ADRE files,
independently of the derivation code: the interval dates from ADSL APxxSDT/APxxEDT (an
interval with a fallback takes the fallback periods of a subject without its own), the
source records from the ANLzzFL flags (themselves checked against the dates), the rates by
plain numpy least squares or two points, then BASE, CHG, PCTIMPR, PCTIREAS, CRITy/CRITyFL,
ASTDY/AENDY, TRTP/TRTA, to 1e-9.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml

from cdisc_mapper.adam import run_adam

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "mappings" / "als_msc"
MONTH = 30.4375
TOL = 1e-9
# AVISITN -> (ADSL periods, the periods of a subject who had none of them, ANLzzFL of the
# source records), as adprog.yaml states
INTERVALS = {
    1: ([1], [], "ANL02FL"),
    2: ([2], [], "ANL03FL"),
    3: ([3], [], "ANL04FL"),
    4: ([4], [], "ANL05FL"),
    5: ([5], [], "ANL06FL"),
    6: ([2], [5], "ANL09FL"),  # the paper's first row: injection 1 to 2, else to the end
    10: ([2, 3, 4], [], "ANL07FL"),
    11: ([2, 3, 4, 5], [], "ANL08FL"),
    12: ([2, 3, 4], [5], "ANL10FL"),  # the paper's overall: to the last injection, else end
}
SOURCES = {  # PARAMCD -> (dataset, source PARAMCD, extra condition, method)
    "ALSSLOPE": ("ADQS", "ALSRTOT", None, "slope"),
    "ALSRATE": ("ADQS", "ALSRTOT", None, "two_point"),
    "FVCSLOPE": ("ADRE", "FVCPP", ("DTYPE", "MAXIMUM"), "slope"),
}
TREATED = "AUTOLOGOUS MSC IT"
RUNIN = "NO TREATMENT (RUN-IN)"


def _read(folder: Path, name: str) -> pd.DataFrame:
    df, _ = pyreadstat.read_xport(str(folder / f"{name}.xpt"), disable_datetime_conversion=True)
    for c in df.columns:
        if not pd.api.types.is_numeric_dtype(df[c]):
            df[c] = df[c].fillna("").astype(str)
    return df


@pytest.fixture(scope="module")
def adam(demo_sdtm, tmp_path_factory) -> dict[str, pd.DataFrame]:
    out = tmp_path_factory.mktemp("adprog")
    run_adam(STUDY, demo_sdtm[0] / "sdtm", out)
    folder = out / "adam" if (out / "adam").is_dir() else out
    return {n: _read(folder, n.lower()) for n in ("ADSL", "ADQS", "ADRE", "ADPROG")}


@pytest.fixture(scope="module")
def spec() -> dict:
    doc = yaml.safe_load((STUDY / "adam" / "adprog.yaml").read_text())
    return doc["variables"]["PCTIMPR"]


def _interval(adsl: pd.Series, periods: list[int], fallback: list[int]) -> tuple[float, float]:
    """Earliest start to latest end of the listed periods the subject had; when it had
    none of them, the same of ``fallback``."""
    starts = [adsl[f"AP{n:02d}SDT"] for n in periods]
    ends = [adsl[f"AP{n:02d}EDT"] for n in periods]
    if all(np.isnan(starts)):
        return _interval(adsl, fallback, []) if fallback else (np.nan, np.nan)
    return float(np.nanmin(starts)), float(np.nanmax(ends))


def _rate(points: pd.DataFrame, start: float, method: str) -> tuple[float, int]:
    by_day = points.groupby("ADT")["AVAL"].mean()
    n = len(by_day)
    if n < 2:
        return np.nan, n
    x = (by_day.index.to_numpy(dtype=float) - start) / MONTH
    y = by_day.to_numpy(dtype=float)
    if method == "two_point":
        return float((y[-1] - y[0]) / (x[-1] - x[0])), n
    design = np.column_stack([x, np.ones_like(x)])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(coef[0]), n


def _day(d: float, ref: float) -> float:
    if np.isnan(d) or np.isnan(ref):
        return np.nan
    return d - ref + 1 if d >= ref else d - ref


def _close(got: float, want: float) -> bool:
    if np.isnan(want):
        return bool(np.isnan(got))
    return abs(got - want) <= TOL * max(1.0, abs(want))


def _expected_rows(adam: dict[str, pd.DataFrame], spec: dict) -> list[dict]:
    """Every ADPROG record the specs call for, with its values, from ADSL/ADQS/ADRE."""
    adsl = adam["ADSL"].set_index("USUBJID")
    rows: list[dict] = []
    for paramcd, (dataset, source, extra, method) in SOURCES.items():
        src = adam[dataset]
        src = src[source == src.PARAMCD]
        if extra:
            src = src[src[extra[0]] == extra[1]]
        for s, subj in adsl.iterrows():
            base = np.nan
            for avisitn, (periods, fallback, flag) in INTERVALS.items():
                start, end = _interval(subj, periods, fallback)
                mine = src[s == src.USUBJID]
                if np.isnan(start):  # no interval: none of the subject's records flagged
                    assert not mine[flag].eq("Y").any(), (s, avisitn, flag)
                    continue
                flagged = mine[mine[flag] == "Y"]
                # the flag marks exactly the dated, valued records within the interval
                inside = mine[mine.AVAL.notna() & (start <= mine.ADT) & (end >= mine.ADT)]
                assert sorted(flagged.index) == sorted(inside.index), (s, avisitn, flag)
                aval, n = _rate(flagged, start, method)
                if avisitn == 1:
                    base = aval
                rows.append(
                    {
                        "USUBJID": s,
                        "PARAMCD": paramcd,
                        "AVISITN": float(avisitn),
                        "APERIOD": float(periods[0])
                        if len(periods) == 1 and not fallback
                        else np.nan,
                        "ASTDT": start,
                        "AENDT": end,
                        "ASTDY": _day(start, subj.TRTSDT),
                        "AENDY": _day(end, subj.TRTSDT),
                        "TRTA": RUNIN if avisitn == 1 else TREATED,
                        "AVAL": aval,
                        "NASMT": float(n),
                        "BASE": base,
                        "EFFFL": subj.EFFFL,
                        "PH": (subj.PH1SDT, subj.PH1EDT)
                        if avisitn == 1
                        else (subj.PH2SDT, subj.PH2EDT),
                    }
                )
    for r in rows:  # BASE on every record: the subject's run-in rate
        r["BASE"] = next(
            x["AVAL"]
            for x in rows
            if x["USUBJID"] == r["USUBJID"] and x["PARAMCD"] == r["PARAMCD"] and x["AVISITN"] == 1
        )
        _improvement(r, spec)
    return rows


def _improvement(r: dict, spec: dict) -> None:
    """PCTIMPR, PCTIREAS, CHG and the CRITyFL of one record (treatment records only)."""
    treated = r["AVISITN"] != 1
    limit = spec["min_base_decline"][r["PARAMCD"]]
    aval, base = r["AVAL"], r["BASE"]
    r["CHG"] = aval - base if treated else np.nan
    r["PCTIMPR"], r["PCTIREAS"] = np.nan, ""
    if treated:
        if np.isnan(base):
            r["PCTIREAS"] = spec["missing_reason"]
        elif not base <= -limit:
            r["PCTIREAS"] = spec["no_decline_reason"]
        elif np.isnan(aval):
            r["PCTIREAS"] = spec["missing_reason"]
        else:
            r["PCTIMPR"] = 100 * (aval - base) / abs(base)
    for k, thr in ((1, 25), (2, 50), (3, 75), (4, 100)):
        p = r["PCTIMPR"]
        r[f"CRIT{k}FL"] = "" if np.isnan(p) else ("Y" if p >= thr else "N")
        r[f"CRIT{k}"] = f"Rate improved by >= {thr}% vs run-in"


def test_the_intervals_recomputed_are_those_of_the_specs() -> None:
    """INTERVALS above is written by hand from adprog.yaml; the flags' derivations in
    ADQS and ADRE give the same periods and fallback as the interval they serve."""
    step = yaml.safe_load((STUDY / "adam" / "adprog.yaml").read_text())["records"][0]
    stated = {
        int(i["avisitn"]): (i["periods"], i.get("fallback", []), i["flag"])
        for i in step["intervals"]
    }
    assert stated == INTERVALS
    for name in ("adqs", "adre"):
        variables = yaml.safe_load((STUDY / "adam" / f"{name}.yaml").read_text())["variables"]
        for periods, fallback, flag in INTERVALS.values():
            derivation = variables[flag]
            assert derivation["derive"] == "in_periods", (name, flag)
            assert (derivation["periods"], derivation.get("fallback", [])) == (periods, fallback)


def test_every_adprog_value_recomputed(adam, spec) -> None:
    prog = adam["ADPROG"].set_index(["USUBJID", "PARAMCD", "AVISITN"])
    want = _expected_rows(adam, spec)
    assert len(prog) == len(want)  # no record missing, none extra
    numeric = ["APERIOD", "ASTDT", "AENDT", "ASTDY", "AENDY", "AVAL", "NASMT", "BASE", "CHG"]
    text = ["TRTA", "EFFFL", "PCTIREAS", *[f"CRIT{k}" for k in range(1, 5)]]
    text += [f"CRIT{k}FL" for k in range(1, 5)]
    for r in want:
        got = prog.loc[(r["USUBJID"], r["PARAMCD"], r["AVISITN"])]
        for c in [*numeric, "PCTIMPR"]:
            assert _close(got[c], r[c]), (r["USUBJID"], r["PARAMCD"], r["AVISITN"], c)
        for k, thr in ((1, 25), (2, 50), (3, 75), (4, 100)):
            if abs(r["PCTIMPR"] - thr) <= TOL * thr:  # a tie within rounding: the stored value
                r[f"CRIT{k}FL"] = "Y" if thr <= got.PCTIMPR else "N"
        for c in text:
            assert got[c] == r[c], (r["USUBJID"], r["PARAMCD"], r["AVISITN"], c)
        assert r["TRTA"] == got.TRTP
        assert r["PH"] == (got.PHSDT, got.PHEDT)
        one = not np.isnan(r["APERIOD"])
        assert _close(got.APERSDT, r["ASTDT"] if one else np.nan)
        assert _close(got.APEREDT, r["AENDT"] if one else np.nan)
        assert (got.AVALREAS != "") == np.isnan(r["AVAL"])
        assert ("Y" if r["AVISITN"] == 1 else "") == got.ABLFL


def test_adprog_reports_the_subjects_without_a_run_in_decline(adam, spec) -> None:
    """PCTIMPR is missing, with the reason, on every treatment record of a subject whose
    run-in rate is not a decline of at least the spec's threshold."""
    prog = adam["ADPROG"]
    runin = prog[prog.AVISITN == 1].set_index(["USUBJID", "PARAMCD"]).AVAL
    limit = prog.PARAMCD.map(spec["min_base_decline"])
    base = pd.Series(list(zip(prog.USUBJID, prog.PARAMCD, strict=True))).map(runin).to_numpy()
    flat = (prog.AVISITN != 1).to_numpy() & ~(base <= -limit.to_numpy()) & ~np.isnan(base)
    assert flat.any()  # the demo has such subjects
    assert prog.loc[flat, "PCTIMPR"].isna().all()
    assert prog.loc[flat, "PCTIREAS"].eq(spec["no_decline_reason"]).all()
