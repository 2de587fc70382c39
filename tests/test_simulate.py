"""Tests of the synthetic ALS-MSC raw export (contract: docs/raw_forms.md)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_mapper.simulate import simulate
from cdisc_mapper.simulate.catalog import FORM_COLUMNS

DOC = Path(__file__).resolve().parents[1] / "docs" / "raw_forms.md"
FULL_DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")
PARTIAL_DAY = re.compile(r"^UN/\d{2}/\d{4}$")
PARTIAL_MONTH = re.compile(r"^UN/UNK/\d{4}$")
TIME = re.compile(r"^\d{2}:\d{2}$")
ITEMS = [
    "Q1_SPEECH",
    "Q2_SALIVATION",
    "Q3_SWALLOWING",
    "Q4_HANDWRITING",
    "Q5A_CUTTING",
    "Q5B_CUTTING_GASTRO",
    "Q6_DRESSING",
    "Q7_TURNING",
    "Q8_WALKING",
    "Q9_CLIMBING",
    "Q10_DYSPNEA",
    "Q11_ORTHOPNEA",
    "Q12_RESP_INSUFF",
]


def doc_forms() -> dict[str, list[str]]:
    """Form file name -> column names, as listed in docs/raw_forms.md."""
    forms: dict[str, list[str]] = {}
    for block in re.split(r"^### ", DOC.read_text(encoding="utf-8"), flags=re.M)[1:]:
        name = re.match(r"`([a-z_]+\.csv)`", block)
        if not name:
            continue
        rows = [line for line in block.splitlines() if line.startswith("|")]
        cols: list[str] = []
        if rows[0].startswith("| column"):
            for line in rows[2:]:
                cols += [c.strip() for c in line.split("|")[1].split(",")]
        else:  # a one-line table whose header row lists the columns
            cols = [cell.strip().split(" ")[0] for cell in rows[0].strip().strip("|").split("|")]
        forms[name.group(1)] = cols
    return forms


def read(out: Path, name: str) -> pd.DataFrame:
    """A form as text, exactly as written (no NA conversion)."""
    return pd.read_csv(out / name, dtype=str, keep_default_na=False, na_filter=False)


def norm_visit(series: pd.Series) -> pd.Series:
    """Canonical visit label (the site varies case and spacing)."""
    return series.str.strip().str.lower().str.replace(r"\s+", " ", regex=True)


def to_date(series: pd.Series) -> pd.Series:
    """Parse full ``dd/mm/yyyy`` dates."""
    return pd.to_datetime(series, format="%d/%m/%Y")


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default export: 20 subjects, default seed."""
    out = tmp_path_factory.mktemp("default")
    simulate(out)
    return out


@pytest.fixture(scope="module")
def big_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A 300-subject export and its manifest."""
    out = tmp_path_factory.mktemp("n300")
    return out, simulate(out, 300, seed=7)


# --- determinism and files -------------------------------------------------------------


def test_same_seed_is_byte_identical(default_run: Path, tmp_path: Path) -> None:
    simulate(tmp_path / "again")
    names = sorted(p.name for p in default_run.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "again").iterdir())
    for name in names:
        assert (default_run / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name


def test_other_seed_differs(default_run: Path, tmp_path: Path) -> None:
    manifest = simulate(tmp_path, seed=12345)
    assert manifest["seed"] == 12345
    for name in ("alsfrs.csv", "labs.csv", "enrollment.csv"):
        assert (tmp_path / name).read_bytes() != (default_run / name).read_bytes()


def test_every_form_and_column_of_the_contract(default_run: Path) -> None:
    contract = doc_forms()
    assert len(contract) == 12
    assert {k: list(v) for k, v in FORM_COLUMNS.items()} == contract
    for name, columns in contract.items():
        with (default_run / name).open(encoding="utf-8", newline="") as handle:
            header = handle.readline().rstrip("\n").split(",")
        assert header == columns, name


def test_manifest(default_run: Path) -> None:
    text = (default_run / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(text)
    assert text == json.dumps(manifest, sort_keys=True, indent=2) + "\n"
    assert manifest["study"] == "0208-16-HMO"
    assert manifest["generator"] == "cdisc_mapper.simulate"
    assert manifest["seed"] == 20160101 and manifest["subjects"] == 20
    assert manifest["version"]
    assert sorted(manifest["forms"]) == sorted(FORM_COLUMNS)
    for name, entry in manifest["forms"].items():
        data = (default_run / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["rows"] == len(read(default_run, name))
        assert b"\r" not in data
        data.decode("utf-8")


def test_text_as_typed(default_run: Path) -> None:
    vitals = (default_run / "vitals.csv").read_text(encoding="utf-8")
    labs = (default_run / "labs.csv").read_text(encoding="utf-8")
    assert ",°C," in vitals
    assert ",µmol/L," in labs
    assert re.search(r',"\d+,\d+",', labs)  # a comma decimal, quoted by the CSV writer


# --- subjects, roles, disposition ------------------------------------------------------


def test_subject_ids_and_enrollment(default_run: Path) -> None:
    enr = read(default_run, "enrollment.csv")
    assert enr["PT_ID"].tolist() == [f"{i:03d}" for i in range(1, 21)]
    assert set(enr["SITE_NO"]) == {"01"} and set(enr["COUNTRY"]) == {"Israel"}
    assert set(enr["GENDER"]) <= {"M", "F", "Male", "female"}
    icf = to_date(enr["ICF_DATE"])
    assert icf.min() >= pd.Timestamp("2016-01-01") and icf.max() <= pd.Timestamp("2018-12-31")
    full = enr["BIRTH_DATE"].str.match(FULL_DATE)
    assert (~full).any() and full.any()
    age = (icf[full] - to_date(enr.loc[full, "BIRTH_DATE"])).dt.days / 365.25
    assert age.between(18, 66).all()
    weight = enr["WEIGHT_KG"].str.replace(",", ".").astype(float)
    assert weight.between(35, 140).all()
    assert enr["WEIGHT_KG"].str.contains(",").any()


def test_last_subject_withdraws_before_bma(default_run: Path) -> None:
    eos = read(default_run, "end_of_study.csv").set_index("PT_ID")
    assert eos.loc["020", "STATUS"] == "Withdrew consent"
    assert "020" not in set(read(default_run, "bma.csv")["PT_ID"])
    assert "020" not in set(read(default_run, "injections.csv")["PT_ID"])
    alsfrs = read(default_run, "alsfrs.csv")
    visits = set(norm_visit(alsfrs.loc[alsfrs["PT_ID"] == "020", "VISIT"]))
    assert visits == {"screening", "run-in month 2", "run-in month 4"}


def test_injection_counts_follow_published_pattern(default_run: Path) -> None:
    inj = read(default_run, "injections.csv")
    per_subject = inj.groupby("PT_ID")["INJ_NO"].apply(lambda s: sorted(map(int, s)))
    assert all(nos == list(range(1, len(nos) + 1)) for nos in per_subject)
    counts = per_subject.map(len)
    assert [int((counts >= k).sum()) for k in (1, 2, 3, 4)] == [19, 15, 12, 10]
    assert set(counts) == {1, 2, 3, 4}
    weight = inj["WEIGHT_KG"].astype(float)
    assert (inj["TOTAL_CELLS"].astype(int) == (weight * 1e6).round().astype(int)).all()
    assert set(inj["DOSE_PER_KG"]) == {"1x10^6"}
    assert set(inj["LP_LEVEL"]) <= {"L4-L5", "L4-5"}
    gaps = inj.assign(d=to_date(inj["INJ_DATE"])).groupby("PT_ID")["d"].diff().dt.days.dropna()
    assert gaps.between(85, 190).all() and gaps.std() > 10  # 3 to 6 months, uneven


def test_one_death_with_fatal_ae(default_run: Path) -> None:
    eos = read(default_run, "end_of_study.csv")
    dead = eos[eos["STATUS"] == "Death"]
    assert len(dead) == 1
    row = dead.iloc[0]
    assert FULL_DATE.match(row["DEATH_DATE"]) and row["DEATH_CAUSE"]
    death, last = to_date(pd.Series([row["DEATH_DATE"], row["LAST_VISIT_DATE"]]))
    assert death > last
    assert (eos.loc[eos["STATUS"] != "Death", "DEATH_DATE"] == "").all()
    ae = read(default_run, "adverse_events.csv")
    fatal = ae[ae["OUTCOME"] == "Fatal"]
    assert fatal["PT_ID"].tolist() == [row["PT_ID"]]
    assert fatal.iloc[0]["END_DATE"] == row["DEATH_DATE"] and fatal.iloc[0]["SERIOUS"] == "Yes"
    assert row["PT_ID"] in set(read(default_run, "injections.csv")["PT_ID"])


def test_eligibility_and_waived_criterion(default_run: Path) -> None:
    el = read(default_run, "eligibility.csv")
    assert len(el) == 20 * 8
    assert el.groupby("PT_ID")["CRIT_ID"].apply(sorted).map(tuple).nunique() == 1
    expected = np.where(el["CRIT_ID"].str.startswith("INCL"), "Yes", "No")
    deviations = el[el["CRIT_MET"] != expected]
    assert deviations["CRIT_ID"].tolist() == ["INCL02"]
    alsfrs = read(default_run, "alsfrs.csv")
    pt = deviations["PT_ID"].iloc[0]
    scr = alsfrs[(alsfrs["PT_ID"] == pt) & (norm_visit(alsfrs["VISIT"]) == "screening")]
    assert int(scr["TOTAL"].iloc[0]) < 15


# --- required mess -----------------------------------------------------------------------


def test_partial_dates_only_where_allowed(default_run: Path) -> None:
    hist = read(default_run, "als_history.csv")
    assert hist["ONSET_DATE"].str.match(PARTIAL_DAY).any()
    assert hist["ONSET_DATE"].str.match(PARTIAL_MONTH).any()
    ae = read(default_run, "adverse_events.csv")
    assert ae["START_DATE"].str.match(PARTIAL_DAY).any()
    assert ae["END_DATE"].str.match(PARTIAL_DAY).any()
    meds = read(default_run, "medications.csv")
    assert meds["START_DATE"].str.startswith("UN/").any()
    for name, col in [
        ("alsfrs.csv", "ASSESS_DATE"),
        ("fvc.csv", "TEST_DATE"),
        ("vitals.csv", "VS_DATE"),
        ("labs.csv", "SAMPLE_DATE"),
        ("injections.csv", "INJ_DATE"),
        ("bma.csv", "BMA_DATE"),
        ("enrollment.csv", "ICF_DATE"),
        ("eligibility.csv", "VISIT_DATE"),
    ]:
        assert read(default_run, name)[col].str.match(FULL_DATE).all(), name


def test_times_on_some_records(default_run: Path) -> None:
    for name, col in [
        ("vitals.csv", "VS_TIME"),
        ("labs.csv", "SAMPLE_TIME"),
        ("injections.csv", "INJ_TIME"),
    ]:
        values = read(default_run, name)[col]
        assert (values == "").any() and values.str.match(TIME).any(), name
        assert (values.str.match(TIME) | (values == "")).all()


def test_unscheduled_visit_with_alsfrs_fvc_vitals(default_run: Path) -> None:
    keys = []
    for name, date in [
        ("alsfrs.csv", "ASSESS_DATE"),
        ("fvc.csv", "TEST_DATE"),
        ("vitals.csv", "VS_DATE"),
    ]:
        form = read(default_run, name)
        uns = form[norm_visit(form["VISIT"]) == "unscheduled"]
        keys.append(set(zip(uns["PT_ID"], uns[date], strict=True)))
    assert keys[0] and keys[0] == keys[1] == keys[2]


def test_visit_outside_window(default_run: Path) -> None:
    vs = read(default_run, "vitals.csv").drop_duplicates()
    vs = vs.assign(v=norm_visit(vs["VISIT"]), d=to_date(vs["VS_DATE"]))
    wide = vs.pivot(index="PT_ID", columns="v", values="d")
    delay = (wide["follow-up 1"] - wide["injection 1"]).dt.days.dropna()
    assert (delay >= 110).any()  # a Follow-up 1 about 4 months after injection 1
    assert delay.median() < 75


def test_duplicate_entries(default_run: Path) -> None:
    for name in ("vitals.csv", "alsfrs.csv"):
        form = read(default_run, name)
        assert form.duplicated().sum() >= 1, name


def test_lab_mess_units_and_conversions(default_run: Path) -> None:
    labs = read(default_run, "labs.csv")
    assert ((labs["TEST"] == "CRP") & (labs["RESULT"] == "<5") & (labs["UNIT"] == "mg/L")).any()
    assert ((labs["TEST"] == "Platelets") & (labs["RESULT"] == ">1000")).any()
    assert labs["RESULT"].str.match(r"^\d+,\d+$").any()
    nd = labs[labs["NOT_DONE"] == "ND"]
    assert len(nd) and (nd["RESULT"] == "").all()
    assert set(nd["ND_REASON"]) == {"Sample haemolysed", "Sample lost"}
    assert (labs.loc[labs["NOT_DONE"] == "", "ND_REASON"] == "").all()
    assert set(labs["UNIT"]) == {
        "10^9/L",
        "x10^9/l",
        "10E9/L",
        "g/dL",
        "g/dl",
        "g/L",
        "%",
        "mmol/L",
        "mmol/l",
        "umol/L",
        "µmol/L",
        "mg/dL",
        "U/L",
        "IU/L",
        "mg/L",
    }
    assert {"Hemoglobin", "Haemoglobin"} <= set(labs["TEST"])
    assert labs.groupby(["PT_ID", "VISIT", "SAMPLE_DATE"]).size().eq(16).all()
    num = pd.to_numeric(labs["RESULT"].str.replace(",", "."), errors="coerce")
    low = pd.to_numeric(labs["REF_LOW"])
    high = pd.to_numeric(labs["REF_HIGH"])
    assert (low < high).all()
    creat = labs["TEST"] == "Creatinine"
    mg = creat & (labs["UNIT"] == "mg/dL")
    umol = creat & labs["UNIT"].isin(["umol/L", "µmol/L"])
    assert mg.any() and umol.any()
    assert num[mg].dropna().between(0.25, 1.6).all()
    assert num[umol].dropna().between(22, 140).all()
    mg_ranges = set(zip(low[mg], high[mg], strict=True))
    umol_ranges = set(zip(low[umol], high[umol], strict=True))
    assert mg_ranges == {(0.70, 1.20), (0.50, 0.90)}
    for lo, hi in mg_ranges:  # the same range, converted (umol/L = mg/dL * 88.42)
        assert any(
            abs(lo * 88.42 - ul) <= 1 and abs(hi * 88.42 - uh) <= 1 for ul, uh in umol_ranges
        )
    ratio = num[umol].median() / num[mg].median()
    assert 88.42 / 1.5 < ratio < 88.42 * 1.5
    hgb_gl = labs["UNIT"] == "g/L"
    hgb_gdl = labs["UNIT"].isin(["g/dL", "g/dl"])
    assert num[hgb_gl].dropna().between(90, 195).all()
    assert num[hgb_gdl].dropna().between(9, 19.5).all()


def test_vitals_units_and_values(default_run: Path) -> None:
    vs = read(default_run, "vitals.csv")
    assert set(vs["TEMP_UNIT"]) <= {"C", "c", "Celsius", "°C", "F"}
    assert set(vs["WEIGHT_UNIT"]) <= {"kg", "KG", "Kg", "lb"}
    temp = vs["TEMP"].astype(float)
    is_f = vs["TEMP_UNIT"] == "F"
    assert is_f.any() and temp[is_f].between(95, 100.5).all()
    assert temp[~is_f].between(35.5, 38).all()
    weight = vs["WEIGHT"].astype(float)
    is_lb = vs["WEIGHT_UNIT"] == "lb"
    assert is_lb.any() and weight[is_lb].between(80, 310).all()
    assert weight[~is_lb].between(35, 140).all()
    assert (vs["SYS_BP"].astype(int) > vs["DIA_BP"].astype(int) + 20).all()
    assert vs["PULSE"].astype(int).between(45, 120).all()
    assert vs["RESP_RATE"].astype(int).between(10, 25).all()
    assert {"bma", "injection 1", "end of study"} <= set(norm_visit(vs["VISIT"]))


# --- ALSFRS-R and FVC ----------------------------------------------------------------------


def test_alsfrs_items_and_totals(default_run: Path) -> None:
    a = read(default_run, "alsfrs.csv")
    items = a[ITEMS]
    assert items.isin(["", "0", "1", "2", "3", "4"]).all().all()
    q5a, q5b = a["Q5A_CUTTING"] != "", a["Q5B_CUTTING_GASTRO"] != ""
    assert (q5a ^ q5b).all() and q5b.any() and q5a.any()
    missing = (items == "").sum(axis=1) > 1  # one of Q5A/Q5B is always empty
    assert missing.any()
    assert (a.loc[missing, "TOTAL"] == "").all()
    complete = a.loc[~missing]
    total = complete[ITEMS].replace("", "0").astype(int).sum(axis=1)
    assert (complete["TOTAL"].astype(int) == total).all()
    assert total.between(0, 48).all()
    # gastrostomy, once in place, stays (5b from then on)
    a = a.assign(d=to_date(a["ASSESS_DATE"])).sort_values(["PT_ID", "d"], kind="stable")
    peg = (a["Q5B_CUTTING_GASTRO"] != "").astype(int)
    assert (peg.groupby(a["PT_ID"]).diff().fillna(0) >= 0).all()


def test_bulbar_onset_loses_bulbar_items_first(default_run: Path) -> None:
    a = read(default_run, "alsfrs.csv")
    a = a[norm_visit(a["VISIT"]) == "screening"].drop_duplicates("PT_ID")
    hist = read(default_run, "als_history.csv").set_index("PT_ID")
    bulbar_site = hist.loc[a["PT_ID"], "ONSET_SITE"].str.lower().eq("bulbar").to_numpy()
    vals = a[["Q1_SPEECH", "Q2_SALIVATION", "Q3_SWALLOWING"]].replace("", "4").astype(int)
    bulbar_loss = 12 - vals.sum(axis=1).to_numpy()
    assert bulbar_site.any() and (~bulbar_site).any()
    assert bulbar_loss[bulbar_site].mean() > bulbar_loss[~bulbar_site].mean() + 1


def _slopes(a: pd.DataFrame) -> pd.DataFrame:
    """Run-in and injection 1 -> 2 ALSFRS-R decline (points a month) per subject."""
    a = a.drop_duplicates().assign(
        v=norm_visit(a["VISIT"]),
        d=to_date(a["ASSESS_DATE"]),
        t=pd.to_numeric(a["TOTAL"], errors="coerce"),
    )
    rows = []
    for pt, group in a.groupby("PT_ID"):
        g = group.dropna(subset=["t"])
        inj = {v: d for v, d in zip(g["v"], g["d"], strict=True) if v.startswith("injection")}
        end1 = inj.get("injection 1", g["d"].max())
        run = g[g["d"] <= end1]
        post = g[(g["d"] >= end1) & (g["d"] <= inj.get("injection 2", pd.NaT))]

        def slope(part: pd.DataFrame) -> float:
            """Least-squares decline of the total, points a month."""
            if len(part) < 2:
                return np.nan
            months = (part["d"] - part["d"].min()).dt.days / 30.4375
            return -np.polyfit(months, part["t"], 1)[0]

        rows.append((pt, slope(run), slope(post)))
    return pd.DataFrame(rows, columns=["pt", "run_in", "post"]).set_index("pt")


def test_progression_run_in_and_after_injection(default_run: Path) -> None:
    s = _slopes(read(default_run, "alsfrs.csv"))
    # no per-subject bound: real run-in slopes (with measurement noise) spread widely
    assert 0.5 <= s["run_in"].median() <= 1.5
    assert s["run_in"].std() > 0.1  # varies by patient
    both = s.dropna()
    improved = (both["run_in"] - both["post"]) / both["run_in"] > 0.25
    assert improved.mean() >= 0.5  # most patients slow down after injection 1


def test_fvc_efforts_and_decline(default_run: Path) -> None:
    f = read(default_run, "fvc.csv")
    efforts = f.groupby(["PT_ID", "VISIT", "TEST_DATE"])["EFFORT"].apply(list)
    assert set(map(tuple, efforts)) == {("1", "2"), ("1", "2", "3")}
    litres = f["FVC_L"].str.replace(",", ".").astype(float)
    assert f["FVC_L"].str.contains(",").any()
    assert litres.between(0.3, 6.5).all()
    pct = f["FVC_PRED_PCT"].astype(float)
    assert pct.between(10, 135).all()
    assert (
        f["FVC_PRED_PCT"].str.contains(r"\.").any()
        and (~f["FVC_PRED_PCT"].str.contains(r"\.")).any()
    )
    best = f.assign(p=pct, v=norm_visit(f["VISIT"])).groupby(["PT_ID", "v"])["p"].max().unstack()
    decline = (best["screening"] - best["injection 1"]).dropna() / 6
    assert 0.5 <= decline.median() <= 3.5


# --- other forms ---------------------------------------------------------------------------


def test_medications_and_riluzole(default_run: Path) -> None:
    hist = read(default_run, "als_history.csv")
    meds = read(default_run, "medications.csv")
    users = set(hist.loc[hist["RILUZOLE"] == "Yes", "PT_ID"])
    assert users and users <= set(meds.loc[meds["MED_NAME"] == "Riluzole", "PT_ID"])
    assert set(meds["ROUTE"]) <= {"Oral", "PO", "oral"}
    assert set(meds["DOSE_UNIT"]) == {"mg"}
    assert ((meds["ONGOING"] == "Yes") == (meds["STOP_DATE"] == "")).all()
    assert set(hist["EL_ESCORIAL"]) == {"Definite"}
    assert set(hist["ONSET_SITE"]) <= {"Bulbar", "bulbar", "Limb", "Spinal"}


def test_adverse_events_coding(default_run: Path) -> None:
    ae = read(default_run, "adverse_events.csv")
    assert len(ae)
    for level in ("LLT", "PT", "HLT", "HLGT", "SOC"):
        assert ae[f"{level}_CODE"].str.match(r"^\d{8}$").all()
        assert (ae.groupby(f"{level}_NAME")[f"{level}_CODE"].nunique() == 1).all()
        assert (ae.groupby(f"{level}_CODE")[f"{level}_NAME"].nunique() == 1).all()
    assert (
        ae.groupby("PT_ID")["AE_NO"]
        .apply(lambda s: list(map(int, s)) == list(range(1, len(s) + 1)))
        .all()
    )
    assert set(ae["SEVERITY"]) <= {"Mild", "Moderate", "Severe", "mild"}
    assert set(ae["OUTCOME"]) <= {
        "Recovered",
        "Recovering",
        "Not recovered",
        "Recovered with sequelae",
        "Fatal",
        "Unknown",
    }
    rel = {"Not related", "Unlikely", "Possible", "Probable", "Definite"}
    assert set(ae["REL_INJECTION"]) <= rel and set(ae["REL_LP"]) <= rel
    assert ((ae["ONGOING"] == "Yes") <= (ae["END_DATE"] == "")).all()


def test_bma(default_run: Path) -> None:
    bma = read(default_run, "bma.csv")
    assert len(bma) == 19
    assert bma["VOLUME_ML"].astype(int).between(130, 170).all()
    assert set(bma["ANESTHESIA"]) == {"Light general"}


# --- scale -----------------------------------------------------------------------------------


def test_300_subjects(big_run: tuple[Path, dict]) -> None:
    out, manifest = big_run
    enr = read(out, "enrollment.csv")
    assert len(enr) == 300 and enr["PT_ID"].iloc[-1] == "300"
    eos = read(out, "end_of_study.csv")
    status = eos["STATUS"].value_counts()
    assert 10 <= status["Withdrew consent"] <= 25
    assert 5 <= status["Death"] <= 25
    assert eos["STATUS"].iloc[-1] == "Withdrew consent"
    vs = read(out, "vitals.csv")
    assert vs.duplicated().sum() >= 5
    assert (norm_visit(vs["VISIT"]) == "unscheduled").sum() >= 10
    for name, entry in manifest["forms"].items():
        assert entry["rows"] == len(read(out, name))
    dates = pd.concat([to_date(vs["VS_DATE"]), to_date(read(out, "labs.csv")["SAMPLE_DATE"])])
    assert dates.min() >= pd.Timestamp("2016-01-01") and dates.max() < pd.Timestamp("2100-01-01")
    labs = read(out, "labs.csv")
    assert (labs["RESULT"] == ">1000").sum() >= 1 and (labs["RESULT"] == "<5").sum() > 10


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        simulate(tmp_path, 0)
    with pytest.raises(ValueError):
        simulate(tmp_path, 5, seed=-1)


# --- realistic cohort and the treatment effect (large cohorts, simulate only) ----------------


def _big(folder: Path, effect: str, n: int = 1500, seed: int = 3) -> tuple[Path, pd.DataFrame]:
    """An ``n``-subject export with ``effect`` in ``folder``, and its run-in and
    post-injection-1 slopes."""
    simulate(folder, n, seed=seed, effect=effect)
    return folder, _slopes(read(folder, "alsfrs.csv"))


@pytest.fixture(scope="module")
def null_big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A 1,500-subject export without treatment effect, and its slopes."""
    return _big(tmp_path_factory.mktemp("sim_none"), "none")


@pytest.fixture(scope="module")
def paper_big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A 1,500-subject export with the default (paper) effect, and its slopes."""
    return _big(tmp_path_factory.mktemp("sim_paper"), "paper")


def test_injection_count_distribution_large_cohort(paper_big: tuple[Path, pd.DataFrame]) -> None:
    # 1,500 subjects: 75 withdraw before treatment (5 %), 1,425 treated in the proportions
    # 4:3:2:10 of 19 -> exactly 300, 225, 150, 750 (1425 / 19 = 75)
    inj = read(paper_big[0], "injections.csv")
    counts = inj.groupby("PT_ID")["INJ_NO"].nunique()
    assert counts.value_counts().sort_index().tolist() == [300, 225, 150, 750]


def _runin_noise(alsfrs: pd.DataFrame) -> float:
    """Residual SD of the total around each subject's run-in line (Screening, Run-in
    Months 2 and 4, Injection 1: 4 points, 2 parameters -> E[RSS] = 2 sigma^2)."""
    a = alsfrs.drop_duplicates().assign(
        v=norm_visit(alsfrs["VISIT"]),
        d=to_date(alsfrs["ASSESS_DATE"]),
        t=pd.to_numeric(alsfrs["TOTAL"], errors="coerce"),
    )
    runin = {"screening", "run-in month 2", "run-in month 4", "injection 1"}
    a = a[a["v"].isin(runin)].dropna(subset=["t"])
    rss, dof = 0.0, 0
    for _, g in a.groupby("PT_ID"):
        if len(g) != 4 or g["t"].min() <= 1 or g["t"].max() >= 47:  # away from floor/ceiling
            continue
        x = (g["d"] - g["d"].min()).dt.days.to_numpy() / 30.4375
        fit = np.polyfit(x, g["t"].to_numpy(float), 1)
        rss += float(((g["t"].to_numpy(float) - np.polyval(fit, x)) ** 2).sum())
        dof += 2
    return float(np.sqrt(rss / dof))


def test_run_in_slopes_and_noise_like_published_cohorts(
    null_big: tuple[Path, pd.DataFrame],
) -> None:
    out, s = null_big
    run_in = s["run_in"].dropna()
    # PRO-ACT / population cohorts: mean decline about 0.9-1.0 point a month, between-subject
    # SD about 0.5-0.8; the estimate adds the run-in measurement noise (SD ~0.27 here)
    assert 0.85 <= run_in.mean() <= 1.1
    assert 0.55 <= run_in.std() <= 0.9
    assert (run_in <= 0).any()  # some observed run-in slopes show no decline at all
    # test-retest noise of the ALSFRS-R total: 1-2 points
    assert 1.0 <= _runin_noise(read(out, "alsfrs.csv")) <= 2.0


def test_fvc_declines_two_to_three_percent_a_month(null_big: tuple[Path, pd.DataFrame]) -> None:
    f = read(null_big[0], "fvc.csv")
    f = f.assign(p=f["FVC_PRED_PCT"].astype(float), v=norm_visit(f["VISIT"]))
    best = f.groupby(["PT_ID", "v", "TEST_DATE"], as_index=False)["p"].max()
    best = best[best["v"].isin({"screening", "injection 1"})]
    wide = best.assign(d=to_date(best["TEST_DATE"])).pivot(index="PT_ID", columns="v")
    months = (wide[("d", "injection 1")] - wide[("d", "screening")]).dt.days / 30.4375
    decline = ((wide[("p", "screening")] - wide[("p", "injection 1")]) / months).dropna()
    assert 2.0 <= decline.mean() <= 3.0


def test_effect_none_gives_no_systematic_change(
    null_big: tuple[Path, pd.DataFrame], paper_big: tuple[Path, pd.DataFrame]
) -> None:
    both = null_big[1].dropna()
    diff = both["run_in"] - both["post"]  # > 0: slower decline after injection 1
    se = diff.std() / np.sqrt(len(diff))
    assert len(diff) > 1000
    assert abs(diff.mean()) < 3 * se and abs(diff.mean()) < 0.1
    # the same statistic with the default effect: a clear slowing (about 1 point/month)
    treated = paper_big[1].dropna()
    assert (treated["run_in"] - treated["post"]).mean() > 0.5


def test_effect_none_rerun_identical_and_contract(tmp_path: Path, default_run: Path) -> None:
    first = simulate(tmp_path / "a", effect="none")
    simulate(tmp_path / "b", effect="none")
    assert first["effect"] == "none"
    assert json.loads((default_run / "manifest.json").read_text())["effect"] == "paper"
    contract = doc_forms()
    for name in contract:
        data = (tmp_path / "a" / name).read_bytes()
        assert data == (tmp_path / "b" / name).read_bytes(), name
        header = data.decode("utf-8").split("\n", 1)[0].split(",")
        assert header == contract[name], name
    # the effect changes progression only: the schedule and the other forms stay the same
    for name in ("injections.csv", "labs.csv", "enrollment.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (default_run / name).read_bytes(), name
    assert (tmp_path / "a" / "alsfrs.csv").read_bytes() != (default_run / "alsfrs.csv").read_bytes()


def test_unknown_effect_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown effect 'big'; choose one of paper, none"):
        simulate(tmp_path, effect="big")
    assert not any(tmp_path.iterdir())


def test_cli_effect_option(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cdisc_mapper.cli import main

    result = CliRunner().invoke(main, ["simulate", "--out", str(tmp_path), "--effect", "none"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "manifest.json").read_text())["effect"] == "none"
    bad = CliRunner().invoke(main, ["simulate", "--out", str(tmp_path / "x"), "--effect", "big"])
    assert bad.exit_code != 0 and "'big' is not one of 'paper', 'none'" in bad.output
