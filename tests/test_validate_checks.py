"""Every validation check: inject its defect into a copy of the demo output and show that
the check fires at the right place (dataset, USUBJID, --SEQ/record, variable, value),
and that it is silent on the clean demo output.

ADaM checks run on a small ADaM package derived here from the demo SDTM (ADSL from DM,
ADVS from VS, ADAE from AE) until the project's own ADaM output lands; define checks on
a define.xml generated here from the demo's own metadata.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from lxml import etree

from cdisc_mapper.define import write_define
from cdisc_mapper.validate import (
    ERROR,
    Finding,
    ValidationInputError,
    ValidationReport,
    check,
    registered_checks,
    scope,
    validate_package,
    write_reports,
)
from cdisc_mapper.validate import registry as registry_module
from cdisc_mapper.xpt import XptVariable, read_xpt, write_xpt
from tests.conftest import STUDY, report_text

# Findings the clean demo output legitimately has (explained in the report).
EXPECTED_ON_CLEAN = {"CT0002": 2, "DD0000": 1, "RC0003": 3, "SD0121": 9}


# --------------------------------------------------------------------------- helpers
@pytest.fixture
def pkg(tmp_path: Path, demo_sdtm) -> Path:
    """A private copy of the demo output (sdtm/ with its reconciliation.csv)."""
    out, _ = demo_sdtm
    target = tmp_path / "pkg"
    shutil.copytree(out / "sdtm", target / "sdtm")
    return target


def xpt_path(pkg: Path, name: str) -> Path:
    folder = "adam" if name.startswith("AD") else "sdtm"
    return pkg / folder / f"{name.lower()}.xpt"


def rewrite(
    pkg: Path,
    name: str,
    change: Callable[[pd.DataFrame], pd.DataFrame | None] | None = None,
    *,
    label: str | None = None,
    dataset: str | None = None,
    target: Path | None = None,
    types_: dict[str, str] | None = None,
    lengths: dict[str, int] | None = None,
    labels: dict[str, str] | None = None,
    formats: dict[str, str | None] | None = None,
) -> None:
    """Read dataset ``name``, apply ``change`` to its records, write it back.

    Character lengths are recomputed from the values unless given in ``lengths``.
    """
    path = xpt_path(pkg, name)
    df, meta = read_xpt(path)
    out = df.copy()
    if change is not None:
        changed = change(out)
        out = changed if changed is not None else out
    old = {v.name: v for v in meta.variables}
    types_, lengths = types_ or {}, lengths or {}
    labels, formats = labels or {}, formats or {}
    variables = []
    for col in out.columns:
        base = old.get(col)
        kind = types_.get(col) or (
            base.type if base else ("Num" if out[col].dtype.kind in "fi" else "Char")
        )
        if kind == "Char":
            out[col] = out[col].map(
                lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            )
        fmt = formats.get(col, base.format if base and base.type == kind else None)
        variables.append(
            XptVariable(
                col,
                labels.get(col, base.label if base else col.title()),
                kind,  # type: ignore[arg-type]
                lengths.get(col),
                fmt,
            )
        )
    if target is not None and target != path:
        path.unlink()
    write_xpt(
        out,
        target or path,
        dataset=dataset or meta.dataset,
        label=meta.label if label is None else label,
        variables=variables,
    )


def run(pkg: Path, check_id: str, **kwargs) -> tuple[ValidationReport, list[Finding]]:
    report = validate_package(pkg, checks=[check_id], **kwargs)
    assert report.count("VX0001") == 0, report.by_check("VX0001")
    return report, report.by_check(check_id)


def one(findings: list[Finding], **where) -> Finding:
    """The single finding matching ``where`` (dataset=..., record=..., variable=...)."""
    hits = [f for f in findings if all(getattr(f, k) == v for k, v in where.items())]
    assert len(hits) == 1, (where, findings[:5])
    return hits[0]


def row_of(pkg: Path, name: str, query: Callable[[pd.DataFrame], pd.Series]) -> int:
    """0-based index of the first record matching ``query``."""
    df, _ = read_xpt(xpt_path(pkg, name))
    rows = np.flatnonzero(query(df).to_numpy())
    assert rows.size, f"no {name} record matches"
    return int(rows[0])


def set_value(df: pd.DataFrame, row: int, col: str, value) -> pd.DataFrame:
    df.loc[row, col] = value
    return df


# ------------------------------------------------------------------ clean baseline
@pytest.fixture(scope="module")
def clean_report(demo_sdtm) -> ValidationReport:
    out, _ = demo_sdtm
    return validate_package(out)


ALL_IDS = [spec.id for spec in registered_checks()]


@pytest.mark.parametrize("check_id", ALL_IDS)
def test_check_is_silent_on_the_clean_demo(clean_report: ValidationReport, check_id: str):
    assert clean_report.count(check_id) == EXPECTED_ON_CLEAN.get(check_id, 0), (
        clean_report.by_check(check_id)[:5]
    )


def test_clean_demo_warnings_are_the_known_sponsor_extensions(clean_report):
    values = sorted((f.dataset, f.variable, f.value) for f in clean_report.by_check("CT0002"))
    assert values == [("QS", "QSCAT", "ALSFRS-R"), ("TS", "TSVCDREF", "ISO 8601")]
    for result in clean_report.checks:
        if result.findings and result.spec.severity > 1:
            assert result.spec.explanation, result.spec.id


def test_every_check_has_a_test():
    tested = {
        name[len("test_") :].split("_")[0].upper()
        for name in globals()
        if name.startswith("test_") and name[5:7].isalpha() and name[7:11].isdigit()
    }
    for module in Path(__file__).parent.glob("test_validate_*.py"):  # one file per module
        tested |= {
            m.upper() for m in re.findall(r"^def test_([a-z]{2}\d{4})_", module.read_text(), re.M)
        }
    assert set(ALL_IDS) <= tested, sorted(set(ALL_IDS) - tested)


# ------------------------------------------------------------------------ structure
def test_sd0001_required_variable_missing(pkg):
    rewrite(pkg, "AE", lambda df: df.drop(columns=["AETERM"]))
    _, found = run(pkg, "SD0001")
    f = one(found, dataset="AE", variable="AETERM")
    assert "required" in f.message and f.record is None


def test_sd0002_required_variable_null(pkg):
    rewrite(pkg, "AE", lambda df: set_value(df, 3, "AETERM", ""))
    _, found = run(pkg, "SD0002")
    f = one(found, dataset="AE", record=4, variable="AETERM")
    df, _ = read_xpt(xpt_path(pkg, "AE"))
    assert f.usubjid == df.loc[3, "USUBJID"] and f.seq == df.loc[3, "AESEQ"]


def test_sd0003_expected_variable_missing(pkg):
    rewrite(pkg, "AE", lambda df: df.drop(columns=["AESER"]))
    _, found = run(pkg, "SD0003")
    assert one(found, dataset="AE", variable="AESER")


def test_sd0004_variable_type(pkg):
    rewrite(pkg, "AE", types_={"AEENDY": "Char"})
    _, found = run(pkg, "SD0004")
    f = one(found, dataset="AE", variable="AEENDY")
    assert f.value == "Char" and "Num" in f.message


def test_sd0005_variable_label(pkg):
    rewrite(pkg, "AE", labels={"AETERM": "Reported Term"})
    _, found = run(pkg, "SD0005")
    assert one(found, dataset="AE", variable="AETERM").value == "Reported Term"


def test_sd0006_char_length_longer_than_values(pkg):
    rewrite(pkg, "AE", lengths={"AETERM": 200})
    _, found = run(pkg, "SD0006")
    assert one(found, dataset="AE", variable="AETERM").value == "200"


def test_sd0007_variable_order(pkg):
    rewrite(pkg, "AE", lambda df: df[[c for c in df.columns if c != "AESEQ"] + ["AESEQ"]])
    _, found = run(pkg, "SD0007")
    f = one(found, dataset="AE", variable="AESEQ")
    assert "after USUBJID" in f.message


def test_sd0008_xpt_limits(pkg):
    df = pd.DataFrame({"STUDYID": ["S"], "DOMAIN": ["XX"], "XXLONGNAME": ["a"]})
    pyreadstat.write_xport(
        df,
        str(pkg / "sdtm" / "xx.xpt"),
        file_format_version=8,
        table_name="XX",
        column_labels=["Study Identifier", "Domain Abbreviation", "x" * 45],
    )
    _, found = run(pkg, "SD0008")
    messages = [f.message for f in found if f.dataset == "XX" and f.variable == "XXLONGNAME"]
    assert any("10 characters" in m for m in messages)
    assert any("45 characters" in m for m in messages)


def test_sd0009_dataset_name(pkg):
    rewrite(pkg, "CM", dataset="XYZ123", target=pkg / "sdtm" / "xyz123.xpt")
    _, found = run(pkg, "SD0009")
    assert one(found, dataset="XYZ123")


def test_sd0010_file_name(pkg):
    shutil.move(xpt_path(pkg, "CM"), pkg / "sdtm" / "conmeds.xpt")
    _, found = run(pkg, "SD0010")
    assert one(found, dataset="CM").value == "conmeds.xpt"


def test_sd0011_dataset_label(pkg):
    rewrite(pkg, "AE", label="Adverse Event Listing")
    rewrite(pkg, "CM", label="")
    _, found = run(pkg, "SD0011")
    assert one(found, dataset="AE").value == "Adverse Event Listing"
    assert "empty" in one(found, dataset="CM").message


def test_sd0012_domain_value(pkg):
    rewrite(pkg, "LB", lambda df: set_value(df, 2, "DOMAIN", "LX"))
    _, found = run(pkg, "SD0012")
    assert one(found, dataset="LB", variable="DOMAIN").record == 3


def test_sd0013_non_standard_variable(pkg):
    rewrite(pkg, "AE", lambda df: df.assign(AEXYZ="x"))
    _, found = run(pkg, "SD0013")
    assert one(found, dataset="AE", variable="AEXYZ")


def test_sd0014_dataset_without_metadata(pkg):
    rewrite(pkg, "CM", dataset="XX", target=pkg / "sdtm" / "xx.xpt")
    report, found = run(pkg, "SD0014")
    assert one(found, dataset="XX")
    assert report.exit_code("warning") == 0  # informational only


def test_sd0015_short_name_format(pkg):
    rewrite(pkg, "LB", lambda df: set_value(df, 5, "LBTESTCD", "1ALT"))
    rewrite(pkg, "QS", lambda df: set_value(df, 0, "QSTEST", "Q" * 41))
    _, found = run(pkg, "SD0015")
    assert one(found, dataset="LB", variable="LBTESTCD").record == 6
    assert one(found, dataset="QS", variable="QSTEST").record == 1


def test_sd0016_empty_dataset(pkg):
    rewrite(pkg, "CM", lambda df: df.iloc[0:0])
    _, found = run(pkg, "SD0016")
    assert one(found, dataset="CM")


# ---------------------------------------------------------------------- terminology
def test_sd0017_unreadable_file_is_reported_and_the_rest_checked(pkg):
    (pkg / "sdtm" / "notes.xpt").write_bytes(b"%PDF-1.7\n" + bytes(range(256)))
    path = xpt_path(pkg, "VS")
    path.write_bytes(path.read_bytes()[:-100])
    report, found = run(pkg, "SD0017")
    assert [(f.dataset, f.value) for f in found] == [
        ("NOTES", "sdtm/notes.xpt"),
        ("VS", "sdtm/vs.xpt"),
    ]
    assert "truncated" in found[1].message
    assert {"DM", "AE", "LB"} <= {d.name for d in report.datasets}
    assert "VS" not in {d.name for d in report.datasets}


def test_sd0018_placeholder_label(pkg):
    rewrite(pkg, "AE", label="{Adverse Events}", labels={"AESTDY": "{Relative Start Day}"})
    _, found = run(pkg, "SD0018")
    assert one(found, dataset="AE", variable="").value == "{Adverse Events}"
    assert one(found, dataset="AE", variable="AESTDY").value == "{Relative Start Day}"
    assert len(found) == 2


def test_ct0001_non_extensible_codelist(pkg):
    rewrite(pkg, "DM", lambda df: set_value(set_value(df, 0, "SEX", "X"), 1, "SEX", "f"))
    report, found = run(pkg, "CT0001")
    f = one(found, dataset="DM", value="X")
    assert (f.record, f.variable) == (1, "SEX") and "SEX (C66731" in f.message
    assert "'F'" in one(found, dataset="DM", value="f").message
    assert report.exit_code("error") == 1


def test_ct0002_extensible_codelist(pkg):
    row = row_of(pkg, "AE", lambda df: df["EPOCH"] == "TREATMENT")
    rewrite(pkg, "AE", lambda df: set_value(df, row, "EPOCH", "MAINTENANCE PHASE"))
    report, found = run(pkg, "CT0002")
    f = one(found, dataset="AE", variable="EPOCH")
    assert (f.record, f.value) == (row + 1, "MAINTENANCE PHASE") and "(1 record)" in f.message
    assert report.exit_code("error") == 0 and report.exit_code("warning") == 1


def test_ct0003_code_decode_one_to_one(pkg):
    row = row_of(pkg, "LB", lambda df: df["LBTESTCD"] == "ALT")
    rewrite(pkg, "LB", lambda df: set_value(df, row, "LBTEST", "ALT (SGPT)"))
    _, found = run(pkg, "CT0003")
    assert all(f.dataset == "LB" and f.variable == "LBTESTCD" for f in found)
    assert any(f.record == row + 1 for f in found)
    assert "has 2 LBTEST values" in found[0].message


def test_ct0004_test_name_is_cdisc_decode(pkg):
    def change(df):
        df.loc[df["LBTESTCD"] == "ALT", "LBTEST"] = "Alanine Transaminase"
        return df

    rewrite(pkg, "LB", change)
    _, found = run(pkg, "CT0004")
    assert found and all(f.variable == "LBTEST" for f in found)
    assert "'Alanine Aminotransferase'" in found[0].message


def test_ct0005_y_or_null_flags(pkg):
    row = row_of(pkg, "LB", lambda df: df["LBLOBXFL"] == "")
    rewrite(pkg, "LB", lambda df: set_value(df, row, "LBLOBXFL", "N"))
    _, found = run(pkg, "CT0005")
    assert one(found, dataset="LB", variable="LBLOBXFL").record == row + 1


# ---------------------------------------------------------------------------- timing
def test_tm0001_iso8601(pkg):
    rewrite(
        pkg,
        "AE",
        lambda df: set_value(set_value(df, 0, "AESTDTC", "2016-13-01"), 1, "AEENDTC", "04/08/2016"),
    )
    _, found = run(pkg, "TM0001")
    assert "month 13" in one(found, dataset="AE", record=1, variable="AESTDTC").message
    assert "not ISO 8601" in one(found, dataset="AE", record=2, variable="AEENDTC").message


def test_tm0002_iso_duration(pkg):
    row = row_of(pkg, "TS", lambda df: df["TSPARMCD"] == "AGEMIN")
    rewrite(pkg, "TS", lambda df: set_value(df, row, "TSVAL", "18 years"))
    rewrite(pkg, "TE", lambda df: set_value(df, 0, "TEDUR", "3 months"))
    _, found = run(pkg, "TM0002")
    assert one(found, dataset="TS", variable="TSVAL").record == row + 1
    assert one(found, dataset="TE", variable="TEDUR").record == 1


def test_tm0003_study_day(pkg):
    row = row_of(pkg, "AE", lambda df: df["AESTDY"].notna())
    rewrite(pkg, "AE", lambda df: set_value(df, row, "AESTDY", df.loc[row, "AESTDY"] + 5))
    _, found = run(pkg, "TM0003")
    f = one(found, dataset="AE", variable="AESTDY")
    assert f.record == row + 1 and "expected" in f.message


def test_tm0003_day_zero(pkg):
    row = row_of(pkg, "VS", lambda df: df["VSDY"] == 1)
    rewrite(pkg, "VS", lambda df: set_value(df, row, "VSDY", 0.0))
    _, found = run(pkg, "TM0003")
    assert "no study day 0" in one(found, dataset="VS", record=row + 1).message


def test_tm0004_end_before_start(pkg):
    row = row_of(pkg, "AE", lambda df: df["AEENDTC"].str.len() == 10)
    rewrite(pkg, "AE", lambda df: set_value(df, row, "AEENDTC", "2010-01-01"))
    _, found = run(pkg, "TM0004")
    assert one(found, dataset="AE", variable="AEENDTC").record == row + 1


def test_tm0005_after_death(pkg):
    dm, _ = read_xpt(xpt_path(pkg, "DM"))
    dead = dm.loc[dm["DTHDTC"] != "", "USUBJID"].iloc[0]
    row = row_of(pkg, "VS", lambda df: df["USUBJID"] == dead)
    rewrite(pkg, "VS", lambda df: set_value(df, row, "VSDTC", "2030-01-01"))
    _, found = run(pkg, "TM0005")
    f = one(found, dataset="VS", variable="VSDTC")
    assert (f.record, f.usubjid) == (row + 1, dead)


def test_tm0006_epoch_differs_from_se(pkg):
    row = row_of(pkg, "LB", lambda df: (df["EPOCH"] == "TREATMENT") & (df["LBDY"] > 20))
    rewrite(pkg, "LB", lambda df: set_value(df, row, "EPOCH", "RUN-IN"))
    _, found = run(pkg, "TM0006")
    f = one(found, dataset="LB", variable="EPOCH")
    assert f.record == row + 1 and f.value == "RUN-IN" and "TREATMENT" in f.message


def test_tm0007_epoch_outside_se(pkg):
    rewrite(
        pkg,
        "CM",
        lambda df: set_value(set_value(df, 0, "CMSTDTC", "2010-01-01"), 0, "EPOCH", "RUN-IN"),
    )
    _, found = run(pkg, "TM0007")
    assert one(found, dataset="CM", variable="EPOCH").record == 1


def test_tm0008_visit_one_to_one(pkg):
    row = row_of(pkg, "LB", lambda df: df["VISITNUM"] == 1)
    rewrite(pkg, "LB", lambda df: set_value(df, row, "VISIT", "SCREENING VISIT"))
    _, found = run(pkg, "TM0008")
    f = one(found, dataset="LB", record=row + 1)
    assert "'SCREENING VISIT' in LB" in f.message and "SV" in f.message
    assert all(f.variable == "VISITNUM" for f in found)


def test_tm0009_visit_not_in_sv(pkg):
    rewrite(pkg, "LB", lambda df: set_value(df, 4, "VISITNUM", 99.0))
    _, found = run(pkg, "TM0009")
    assert one(found, dataset="LB", variable="VISITNUM").record == 5


def test_tm0010_planned_visit_not_in_tv(pkg):
    rewrite(pkg, "TV", lambda df: df[df["VISITNUM"] != 2].reset_index(drop=True))
    sv, _ = read_xpt(xpt_path(pkg, "SV"))
    expected = set(np.flatnonzero(((sv["VISITNUM"] == 2) & (sv["SVPRESP"] == "Y")).to_numpy()) + 1)
    _, found = run(pkg, "TM0010")
    assert {f.record for f in found} == expected and expected


# --------------------------------------------------------------------------- identity
def test_id0001_seq_unique(pkg):
    ae, _ = read_xpt(xpt_path(pkg, "AE"))
    subject = ae["USUBJID"].value_counts().index[0]
    rows = np.flatnonzero((ae["USUBJID"] == subject).to_numpy())[:2]
    rewrite(pkg, "AE", lambda df: set_value(df, rows[1], "AESEQ", df.loc[rows[0], "AESEQ"]))
    _, found = run(pkg, "ID0001")
    assert {f.record for f in found} == {rows[0] + 1, rows[1] + 1}
    assert {f.usubjid for f in found} == {subject} and found[0].variable == "AESEQ"


def test_id0002_subject_not_in_dm(pkg):
    rewrite(pkg, "AE", lambda df: set_value(df, 0, "USUBJID", "0208-16-HMO-99-999"))
    rewrite(pkg, "SUPPEX", lambda df: set_value(df, 1, "USUBJID", "0208-16-HMO-99-998"))
    _, found = run(pkg, "ID0002")
    assert one(found, dataset="AE").usubjid == "0208-16-HMO-99-999"
    assert one(found, dataset="SUPPEX").record == 2


def test_id0003_dm_one_record_per_subject(pkg):
    rewrite(pkg, "DM", lambda df: pd.concat([df, df.iloc[[0]]], ignore_index=True))
    _, found = run(pkg, "ID0003")
    assert {f.record for f in found} == {1, 21}


def test_id0004_rfstdtc_for_treated(pkg):
    rewrite(pkg, "DM", lambda df: set_value(df, 0, "RFSTDTC", ""))
    _, found = run(pkg, "ID0004")
    assert one(found, dataset="DM", variable="RFSTDTC").record == 1


def test_id0005_actarm_vs_ex(pkg):
    ex, _ = read_xpt(xpt_path(pkg, "EX"))

    def change(df):
        df.loc[0, ["ACTARMCD", "ACTARM", "ARMNRS"]] = ["", "", "ASSIGNED, NOT TREATED"]
        return df

    rewrite(pkg, "DM", change)
    rewrite(pkg, "EX", lambda df: df[df["USUBJID"] != ex["USUBJID"].iloc[-1]])
    _, found = run(pkg, "ID0005")
    assert "EX records but" in one(found, dataset="DM", record=1).message
    assert one(found, usubjid=ex["USUBJID"].iloc[-1]).variable == "ACTARMCD"


def test_id0006_arm_in_ta(pkg):
    rewrite(pkg, "DM", lambda df: set_value(df, 2, "ARM", "Placebo"))
    _, found = run(pkg, "ID0006")
    assert one(found, dataset="DM", variable="ARMCD").record == 3


def test_id0007_rfx_dates_vs_ex(pkg):
    rewrite(pkg, "DM", lambda df: set_value(df, 0, "RFXENDTC", "2019-01-01"))
    _, found = run(pkg, "ID0007")
    f = one(found, dataset="DM", variable="RFXENDTC")
    assert f.record == 1 and f.value == "2019-01-01"


def test_id0008_one_studyid(pkg):
    rewrite(pkg, "VS", lambda df: set_value(df, 7, "STUDYID", "OTHER"))
    _, found = run(pkg, "ID0008")
    assert one(found, dataset="VS").record == 8


def test_id0009_death_flag(pkg):
    row = row_of(pkg, "DM", lambda df: df["DTHDTC"] == "")
    rewrite(pkg, "DM", lambda df: set_value(df, row, "DTHDTC", "2017-06-01"))
    _, found = run(pkg, "ID0009")
    assert one(found, dataset="DM", variable="DTHFL").record == row + 1


def test_tm0011_date_after_the_last_end_of_participation(pkg):
    rewrite(
        pkg,
        "AE",
        lambda df: set_value(set_value(df, 0, "AESTDTC", "2099-01-05"), 1, "AEENDTC", "2019"),
    )
    _, found = run(pkg, "TM0011")
    f = one(found, dataset="AE", variable="AESTDTC")
    assert f.record == 1 and f.value == "2099-01-05"
    assert "after the last end of participation 2019-12-09 (DM.RFPENDTC)" in f.message
    assert len(found) == 1  # 2019 may be before 2019-12-09: a partial date is an interval


def test_tm0011_the_data_cutoff_comes_first(pkg):
    def cutoff(df: pd.DataFrame) -> pd.DataFrame:
        row = df.iloc[[0]].assign(TSPARMCD="DCUTDTC", TSPARM="Data Cutoff Date", TSVAL="2017-06")
        return pd.concat([df, row], ignore_index=True)

    rewrite(pkg, "TS", cutoff)
    dm, _ = read_xpt(xpt_path(pkg, "DM"))
    _, found = run(pkg, "TM0011")
    after = dm["RFPENDTC"] > "2017-06-30"
    assert {f.record for f in found if f.dataset == "DM" and f.variable == "RFPENDTC"} == {
        r + 1 for r in np.flatnonzero(after.to_numpy())
    }
    assert all("the data cut-off 2017-06 (TS DCUTDTC)" in f.message for f in found)
    assert not any(f.value.startswith("2017-06") for f in found)


def test_tm0011_skipped_without_a_limit(pkg):
    rewrite(pkg, "DM", lambda df: df.drop(columns=["RFPENDTC"]))
    report, found = run(pkg, "TM0011")
    result = next(r for r in report.checks if r.spec.id == "TM0011")
    assert found == [] and result.status == "skipped" and "DCUTDTC" in result.note


def test_tm0011_adam_numeric_dates(adam_pkg):
    rewrite(adam_pkg, "ADAE", lambda df: set_value(df, 2, "ASTDT", 50801.0))
    _, found = run(adam_pkg, "TM0011")
    f = one(found, dataset="ADAE", variable="ASTDT")
    assert f.record == 3 and f.message.startswith("ASTDT 2099-02-01 is after")


def test_tm0011_and_tm0012_in_an_adam_package_without_sdtm(adam_pkg):
    """ADSL states the data cut-off (DCUTDT) and the birth dates (BRTHDT)."""
    adsl, _ = read_xpt(xpt_path(adam_pkg, "ADSL"))
    subject = adsl["USUBJID"].iloc[0]
    rewrite(adam_pkg, "ADSL", lambda df: df.assign(DCUTDT=21000.0, BRTHDT=-3000.0))  # 2017-06-30
    rewrite(adam_pkg, "ADAE", lambda df: set_value(df, 0, "ASTDT", 21001.0))
    row = row_of(adam_pkg, "ADVS", lambda df: df["USUBJID"] == subject)
    rewrite(adam_pkg, "ADVS", lambda df: set_value(df, row, "ADT", -3001.0))
    shutil.rmtree(adam_pkg / "sdtm")
    _, found = run(adam_pkg, "TM0011")
    f = one(found, dataset="ADAE", record=1)
    assert f.message == "ASTDT 2017-07-01 is after the data cut-off 2017-06-30 (ADSL.DCUTDT)"
    _, found = run(adam_pkg, "TM0012")
    f = one(found, dataset="ADVS", variable="ADT")
    assert f.record == row + 1
    assert f.message == "ADT 1951-10-14 is before the subject's birth 1951-10-15 (ADSL.BRTHDT)"


def test_tm0012_date_before_birth(pkg):
    dm, _ = read_xpt(xpt_path(pkg, "DM"))
    birth = dict(zip(dm["USUBJID"], dm["BRTHDTC"], strict=True))
    ae, _ = read_xpt(xpt_path(pkg, "AE"))
    subject = ae["USUBJID"].iloc[0]
    assert birth[subject] == "1951-01-24"
    rewrite(pkg, "AE", lambda df: set_value(df, 0, "AESTDTC", "1951-01-23T23:59"))
    _, found = run(pkg, "TM0012")
    f = one(found, dataset="AE", variable="AESTDTC")
    assert f.record == 1 and f.usubjid == subject
    assert "before the subject's birth 1951-01-24 (DM.BRTHDTC)" in f.message


def test_tm0012_partial_dates_are_intervals(pkg):
    subject = "0208-16-HMO-01-007"  # born in 1960, day and month unknown
    rewrite(
        pkg,
        "DM",
        lambda df: df.assign(BRTHDTC=df["BRTHDTC"].where(df["USUBJID"] != subject, "1960")),
    )
    row = row_of(pkg, "MH", lambda df: df["USUBJID"] == subject)
    rewrite(pkg, "MH", lambda df: set_value(df, row, "MHSTDTC", "1960-03"))
    assert run(pkg, "TM0012")[1] == []
    rewrite(pkg, "MH", lambda df: set_value(df, row, "MHSTDTC", "1959-12"))
    assert one(run(pkg, "TM0012")[1], dataset="MH").record == row + 1


# --------------------------------------------------------------------------- SUPPQUAL
def test_sp0001_parent_record(pkg):
    rewrite(pkg, "SUPPEX", lambda df: set_value(df, 0, "IDVARVAL", "99"))
    rewrite(pkg, "SUPPMH", lambda df: set_value(df, 2, "IDVAR", "MHFOO"))
    _, found = run(pkg, "SP0001")
    assert "EXSEQ = '99'" in one(found, dataset="SUPPEX").message
    assert "MHFOO is not a variable" in one(found, dataset="SUPPMH").message


def test_sp0001_missing_parent_dataset(pkg):
    xpt_path(pkg, "PR").unlink()
    _, found = run(pkg, "SP0001")
    assert found and all("PR is not in the package" in f.message for f in found)


def test_sp0002_qnam_valid(pkg):
    rewrite(pkg, "SUPPEX", lambda df: set_value(df, 3, "QNAM", "EX WTKG"))
    _, found = run(pkg, "SP0002")
    assert one(found, dataset="SUPPEX", variable="QNAM").record == 4


def test_sp0003_duplicate_supp_record(pkg):
    rewrite(pkg, "SUPPEX", lambda df: pd.concat([df, df.iloc[[0]]], ignore_index=True))
    _, found = run(pkg, "SP0003")
    assert {f.record for f in found} == {1, 57}


def test_sp0004_rdomain_matches_name(pkg):
    rewrite(pkg, "SUPPEX", lambda df: set_value(df, 0, "RDOMAIN", "AE"))
    _, found = run(pkg, "SP0004")
    assert one(found, dataset="SUPPEX", variable="RDOMAIN").record == 1


def test_sp0005_qnam_is_standard_variable(pkg):
    rewrite(pkg, "SUPPEX", lambda df: set_value(df, 0, "QNAM", "EXLOT"))
    _, found = run(pkg, "SP0005")
    assert one(found, dataset="SUPPEX", value="EXLOT").record == 1


# --------------------------------------------------------------------- reconciliation
def _edit_recon(pkg: Path, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    path = pkg / "sdtm" / "reconciliation.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(df).to_csv(path, index=False)


def test_rc0000_unreadable_reconciliation(pkg):
    (pkg / "sdtm" / "reconciliation.csv").write_text("domain,form\nAE,adverse_events\n")
    _, found = run(pkg, "RC0000")
    assert "lacks columns" in found[0].message


def test_rc0001_rows_not_accounted(pkg):
    _edit_recon(pkg, lambda df: set_value(df, 0, "rows_read", "58"))
    _, found = run(pkg, "RC0001")
    f = one(found, dataset="AE")
    assert "58 rows read" in f.message and f.record == 2


def test_rc0002_records_written_vs_dataset(pkg):
    _edit_recon(pkg, lambda df: set_value(df, 1, "records_written", "45"))
    _, found = run(pkg, "RC0002")
    assert "45 records" in one(found, dataset="CM").message


def test_rc0003_exclusions_listed(pkg):
    _, found = run(pkg, "RC0003")
    assert "159 of 160 rows excluded" in one(found, dataset="IE").message


def test_rc0004_exclusion_without_reason(pkg):
    _edit_recon(
        pkg, lambda df: set_value(df, df.index[df["domain"] == "IE"][0], "exclusion_reasons", "")
    )
    _, found = run(pkg, "RC0004")
    assert one(found, dataset="IE")


# ------------------------------------------------------------------------------ ADaM
def _num(values) -> np.ndarray:
    return np.asarray(values, dtype=float)


def _sas_date(series: pd.Series) -> np.ndarray:
    dates = pd.to_datetime(series.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    return ((dates - pd.Timestamp("1960-01-01")).dt.days).to_numpy(dtype=float)


def build_adam(pkg: Path) -> None:
    """A small conformant ADaM package from the demo SDTM: ADSL, ADVS (BDS), ADAE."""
    adam = pkg / "adam"
    adam.mkdir(exist_ok=True)
    dm, _ = read_xpt(xpt_path(pkg, "DM"))
    adsl = pd.DataFrame(
        {
            "STUDYID": dm["STUDYID"],
            "USUBJID": dm["USUBJID"],
            "SUBJID": dm["SUBJID"],
            "SITEID": dm["SITEID"],
            # DM.AGE is null when BRTHDTC is only a year; ADSL.AGE is Req: use whole years
            "AGE": dm["AGE"].fillna(
                pd.to_numeric(dm["RFSTDTC"].str[:4]) - pd.to_numeric(dm["BRTHDTC"].str[:4])
            ),
            "AGEU": "YEARS",
            "SEX": dm["SEX"],
            "RACE": dm["RACE"],
            "ARM": dm["ARM"],
            "TRT01P": dm["ARM"],
            "TRT01A": dm["ACTARM"],
            "SAFFL": np.where(dm["RFXSTDTC"] != "", "Y", "N"),
            "TRTSDT": _sas_date(dm["RFXSTDTC"]),
            "TRTEDT": _sas_date(dm["RFXENDTC"]),
        }
    )
    write_adam(adam / "adsl.xpt", "ADSL", "Subject-Level Analysis Dataset", adsl)
    vs, _ = read_xpt(xpt_path(pkg, "VS"))
    vs = vs[vs["VSSTRESN"].notna() & vs["VISITNUM"].notna()].copy()
    vs["ADT"] = _sas_date(vs["VSDTC"])
    vs = vs.drop_duplicates(["USUBJID", "VSTESTCD", "VISITNUM", "ADT"])
    advs = pd.DataFrame(
        {
            "STUDYID": vs["STUDYID"],
            "USUBJID": vs["USUBJID"],
            "PARAMCD": vs["VSTESTCD"],
            "PARAM": vs["VSTEST"] + " (" + vs["VSSTRESU"] + ")",
            "AVISIT": vs["VISIT"],
            "AVISITN": vs["VISITNUM"],
            "ADT": vs["ADT"],
            "AVAL": vs["VSSTRESN"],
            "ABLFL": np.where(vs["VSLOBXFL"] == "Y", "Y", ""),
        }
    ).reset_index(drop=True)
    base = advs[advs["ABLFL"] == "Y"].set_index(["USUBJID", "PARAMCD"])["AVAL"]
    advs["BASE"] = pd.MultiIndex.from_frame(advs[["USUBJID", "PARAMCD"]]).map(base).to_numpy(float)
    advs["CHG"] = advs["AVAL"] - advs["BASE"]
    advs["PCHG"] = advs["CHG"] / advs["BASE"] * 100
    advs["ANL01FL"] = "Y"
    advs["ASEQ"] = advs.groupby("USUBJID").cumcount().astype(float) + 1
    write_adam(adam / "advs.xpt", "ADVS", "Vital Signs Analysis Dataset", advs)
    ae, _ = read_xpt(xpt_path(pkg, "AE"))
    adae = pd.DataFrame(
        {
            "STUDYID": ae["STUDYID"],
            "USUBJID": ae["USUBJID"],
            "AESEQ": ae["AESEQ"],
            "AETERM": ae["AETERM"],
            "AEDECOD": ae["AEDECOD"],
            "AEBODSYS": ae["AEBODSYS"],
            "AESEV": ae["AESEV"],
            "ASTDT": _sas_date(ae["AESTDTC"]),
            "AENDT": _sas_date(ae["AEENDTC"]),
            "TRTEMFL": np.where(ae["EPOCH"] == "TREATMENT", "Y", ""),
        }
    )
    write_adam(adam / "adae.xpt", "ADAE", "Adverse Events Analysis Dataset", adae)


def write_adam(path: Path, name: str, label: str, df: pd.DataFrame) -> None:
    variables = []
    for col in df.columns:
        kind = "Num" if df[col].dtype.kind in "fi" else "Char"
        fmt = "DATE9." if kind == "Num" and col.endswith("DT") else None
        variables.append(XptVariable(col, col.title(), kind, None, fmt))
        if kind == "Num":
            df[col] = df[col].astype(float)
    write_xpt(df, path, dataset=name, label=label, variables=variables)


@pytest.fixture
def adam_pkg(pkg: Path) -> Path:
    build_adam(pkg)
    return pkg


def test_adam_package_built_from_demo_is_clean(adam_pkg):
    report = validate_package(adam_pkg)
    adam_ids = [r.spec.id for r in report.checks if r.spec.id.startswith("AD")]
    assert len(adam_ids) >= 10
    for result in report.checks:
        if result.spec.id.startswith("AD") or result.spec.id in ("SD0001", "SD0002", "SD0004"):
            assert result.findings == 0, report.by_check(result.spec.id)[:3]
    assert {d.class_ for d in report.datasets if d.standard == "ADaM"} == {"ADSL", "BDS", "OCCDS"}


def test_ad0001_adsl_one_record_per_subject(adam_pkg):
    rewrite(adam_pkg, "ADSL", lambda df: pd.concat([df, df.iloc[[4]]], ignore_index=True))
    _, found = run(adam_pkg, "AD0001")
    assert {f.record for f in found} == {5, 21}


def test_ad0002_bds_key_unique(adam_pkg):
    rewrite(adam_pkg, "ADVS", lambda df: pd.concat([df, df.iloc[[3]]], ignore_index=True))
    _, found = run(adam_pkg, "AD0002")
    assert {f.record for f in found} >= {4} and len(found) == 2
    assert "USUBJID, PARAMCD, AVISITN, ADT" in found[0].message


def test_ad0003_base_is_baseline_aval(adam_pkg):
    advs, _ = read_xpt(xpt_path(adam_pkg, "ADVS"))
    row = int(np.flatnonzero(((advs["ABLFL"] == "") & advs["BASE"].notna()).to_numpy())[0])
    rewrite(adam_pkg, "ADVS", lambda df: set_value(df, row, "BASE", df.loc[row, "BASE"] + 1))
    _, found = run(adam_pkg, "AD0003")
    f = one(found, dataset="ADVS", variable="BASE")
    assert f.record == row + 1 and f.seq == advs.loc[row, "ASEQ"]


def test_ad0004_one_baseline_record(adam_pkg):
    advs, _ = read_xpt(xpt_path(adam_pkg, "ADVS"))
    base = advs.index[advs["ABLFL"] == "Y"][0]
    other = advs.index[
        (advs["USUBJID"] == advs.loc[base, "USUBJID"])
        & (advs["PARAMCD"] == advs.loc[base, "PARAMCD"])
        & (advs["ABLFL"] == "")
    ][0]
    rewrite(adam_pkg, "ADVS", lambda df: set_value(df, other, "ABLFL", "Y"))
    _, found = run(adam_pkg, "AD0004")
    assert {f.record for f in found} == {base + 1, other + 1}


def test_ad0005_change_from_baseline(adam_pkg):
    row = row_of(adam_pkg, "ADVS", lambda df: df["CHG"].notna() & (df["ABLFL"] == ""))
    rewrite(adam_pkg, "ADVS", lambda df: set_value(df, row, "CHG", df.loc[row, "CHG"] + 0.5))
    _, found = run(adam_pkg, "AD0005")
    assert one(found, dataset="ADVS", variable="CHG").record == row + 1


def test_ad0006_percent_change(adam_pkg):
    row = row_of(adam_pkg, "ADVS", lambda df: df["PCHG"].notna() & (df["CHG"] != 0))
    rewrite(adam_pkg, "ADVS", lambda df: set_value(df, row, "PCHG", df.loc[row, "PCHG"] * 2))
    _, found = run(adam_pkg, "AD0006")
    assert one(found, dataset="ADVS", variable="PCHG").record == row + 1


def test_ad0007_flag_values(adam_pkg):
    rewrite(adam_pkg, "ADVS", lambda df: set_value(df, 0, "ANL01FL", "N"))
    rewrite(adam_pkg, "ADSL", lambda df: set_value(df, 1, "SAFFL", "YES"))
    _, found = run(adam_pkg, "AD0007")
    assert "'Y' or null" in one(found, dataset="ADVS", variable="ANL01FL").message.replace(
        "must be Y or null", "'Y' or null"
    )
    assert one(found, dataset="ADSL", variable="SAFFL").record == 2


def test_ad0008_numeric_dates_with_date_format(adam_pkg):
    rewrite(adam_pkg, "ADSL", formats={"TRTSDT": None})
    rewrite(adam_pkg, "ADAE", types_={"ASTDT": "Char"})
    _, found = run(adam_pkg, "AD0008")
    assert "expected a date format" in one(found, dataset="ADSL", variable="TRTSDT").message
    assert one(found, dataset="ADAE", variable="ASTDT").value == "Char"


def test_ad0008_carried_sdtm_and_adsl_variables_keep_their_own_metadata(adam_pkg):
    """VSELTM and VSDTC carried into ADVS are SDTM character variables, not ADaMIG
    ``*TM``/``*DTC`` analysis variables; TRTSDT in ADVS is ADSL's numeric date."""

    def carry(df: pd.DataFrame) -> pd.DataFrame:
        df["VSELTM"] = "PT1H"
        df["VSDTC"] = "2020-01-01"
        df["TRTSDT"] = 21915.0
        return df

    rewrite(adam_pkg, "ADVS", carry)
    _, found = run(adam_pkg, "AD0008")
    assert not [f for f in found if f.variable in ("VSELTM", "VSDTC")], found[:3]
    assert "expected a date format" in one(found, dataset="ADVS", variable="TRTSDT").message
    _, found = run(adam_pkg, "SD0004")
    assert not [f for f in found if f.dataset == "ADVS"], found[:3]


def test_ad0009_subject_in_adsl(adam_pkg):
    rewrite(adam_pkg, "ADAE", lambda df: set_value(df, 2, "USUBJID", "NOBODY"))
    _, found = run(adam_pkg, "AD0009")
    assert one(found, dataset="ADAE").record == 3


def test_ad0010_analysis_value_present(adam_pkg):
    rewrite(adam_pkg, "ADVS", lambda df: df.drop(columns=["AVAL", "BASE", "CHG", "PCHG"]))
    _, found = run(adam_pkg, "AD0010")
    assert one(found, dataset="ADVS")


def test_adam_req_variable_and_type_checks_cover_adam(adam_pkg):
    rewrite(adam_pkg, "ADSL", lambda df: df.drop(columns=["TRT01P"]))
    rewrite(adam_pkg, "ADVS", types_={"AVAL": "Char"})
    _, found = run(adam_pkg, "SD0001")
    assert one(found, dataset="ADSL", variable="TRTxxP")
    _, found = run(adam_pkg, "SD0004")
    assert one(found, dataset="ADVS", variable="AVAL")


def test_paramcd_param_one_to_one(adam_pkg):
    rewrite(adam_pkg, "ADVS", lambda df: set_value(df, 0, "PARAM", "Something else"))
    _, found = run(adam_pkg, "CT0003")
    assert any(f.dataset == "ADVS" and f.variable == "PARAMCD" and f.record == 1 for f in found)


# ---------------------------------------------------------------------------- define
def make_define(pkg: Path, folder: str = "*", target: Path | None = None) -> Path:
    """A minimal Define-XML 2.1 file describing the package (or one folder) as it is."""
    odm = "http://www.cdisc.org/ns/odm/v1.3"
    def_ns = "http://www.cdisc.org/ns/def/v2.1"
    xlink = "http://www.w3.org/1999/xlink"
    root = etree.Element(f"{{{odm}}}ODM", nsmap={None: odm, "def": def_ns, "xlink": xlink})
    study = etree.SubElement(root, f"{{{odm}}}Study", OID="S")
    mdv = etree.SubElement(study, f"{{{odm}}}MetaDataVersion", OID="MDV", Name="MDV")
    mdv.set(f"{{{def_ns}}}DefineVersion", "2.1.0")
    items = []
    for path in sorted(pkg.glob(f"{folder}/*.xpt")):
        _, meta = read_xpt(path)
        group = etree.SubElement(
            mdv, f"{{{odm}}}ItemGroupDef", OID=f"IG.{meta.dataset}", Name=meta.dataset
        )
        desc = etree.SubElement(group, f"{{{odm}}}Description")
        etree.SubElement(desc, f"{{{odm}}}TranslatedText").text = meta.label
        for i, var in enumerate(meta.variables, start=1):
            oid = f"IT.{meta.dataset}.{var.name}"
            ref = etree.SubElement(
                group, f"{{{odm}}}ItemRef", ItemOID=oid, OrderNumber=str(i), Mandatory="No"
            )
            if var.name in ("USUBJID",):
                ref.set("KeySequence", "1")
            item = etree.Element(
                f"{{{odm}}}ItemDef",
                OID=oid,
                Name=var.name,
                DataType="text" if var.type == "Char" else "float",
                Length=str(var.length),
            )
            d = etree.SubElement(item, f"{{{odm}}}Description")
            etree.SubElement(d, f"{{{odm}}}TranslatedText").text = var.label
            items.append(item)
        leaf = etree.SubElement(group, f"{{{def_ns}}}leaf", ID=f"LF.{meta.dataset}")
        leaf.set(f"{{{xlink}}}href", path.name)
    for item in items:
        mdv.append(item)
    target = target or pkg / "define.xml"
    etree.ElementTree(root).write(
        str(target), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return target


def edit_define(path: Path, change: Callable[[etree._Element, dict[str, str]], None]) -> None:
    tree = etree.parse(str(path))
    ns = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
    change(tree.getroot(), ns)
    tree.write(str(path), xml_declaration=True, encoding="UTF-8")


@pytest.fixture
def define_pkg(pkg: Path) -> tuple[Path, Path]:
    return pkg, make_define(pkg)


def test_define_checks_are_silent_on_a_matching_define(define_pkg):
    pkg, define = define_pkg
    report = validate_package(pkg, define=define)
    for result in report.checks:
        # DD0008 is schema validity: the minimal define.xml written here is not complete
        if result.spec.id.startswith("DD") and result.spec.id != "DD0008":
            assert result.findings == 0, report.by_check(result.spec.id)[:3]
            assert result.status in ("passed", "skipped"), result


def test_define_written_by_the_define_module_matches_the_demo(pkg):
    write_define(STUDY, pkg, which=("sdtm",))
    report = validate_package(pkg, define=pkg / "sdtm" / "define.xml")
    for result in report.checks:
        if result.spec.id.startswith("DD"):
            assert result.findings == 0, report.by_check(result.spec.id)[:3]
    # a valid define.xml: the schema check runs (it is not skipped) and passes
    assert next(r for r in report.checks if r.spec.id == "DD0008").status == "passed"


def test_one_define_per_standard(adam_pkg):
    sdtm_define = make_define(adam_pkg, "sdtm", adam_pkg / "sdtm" / "define.xml")
    adam_define = make_define(adam_pkg, "adam", adam_pkg / "adam" / "define.xml")
    report = validate_package(adam_pkg, define=sdtm_define, checks=["DD0001", "DD0003"])
    assert report.count("DD0001") == 0  # ADaM datasets are not the SDTM define's business
    rewrite(adam_pkg, "ADSL", lambda df: df.assign(EXTRAFL="Y"))
    report = validate_package(adam_pkg, define=[sdtm_define, adam_define], checks=["DD0003"])
    assert [(f.dataset, f.variable) for f in report.by_check("DD0003")] == [("ADSL", "EXTRAFL")]
    assert report.define == "define.xml, define.xml"
    with pytest.raises(ValidationInputError, match="described in"):
        validate_package(adam_pkg, define=[sdtm_define, sdtm_define])


def test_dd0000_no_define(pkg):
    report, found = run(pkg, "DD0000")
    assert len(found) == 1 and report.exit_code("warning") == 0
    dd1 = next(r for r in validate_package(pkg, checks=["DD0001"]).checks if r.spec.id == "DD0001")
    assert dd1.status == "skipped" and "no define.xml" in dd1.note


def test_dd0001_dataset_not_in_define(define_pkg):
    pkg, define = define_pkg
    edit_define(
        define,
        lambda r, ns: (
            r.find(".//odm:ItemGroupDef[@Name='CM']", ns)
            .getparent()
            .remove(r.find(".//odm:ItemGroupDef[@Name='CM']", ns))
        ),
    )
    _, found = run(pkg, "DD0001", define=define)
    assert one(found, dataset="CM")


def test_dd0002_define_dataset_not_in_package(define_pkg):
    pkg, define = define_pkg
    xpt_path(pkg, "TI").unlink()
    _, found = run(pkg, "DD0002", define=define)
    assert "ti.xpt" in one(found, dataset="TI").message


def _drop_itemref(root, ns, dataset: str, name: str) -> None:
    ref = root.find(
        f".//odm:ItemGroupDef[@Name='{dataset}']/odm:ItemRef[@ItemOID='IT.{dataset}.{name}']", ns
    )
    ref.getparent().remove(ref)


def _item(root, ns, dataset: str, name: str):
    return root.find(f".//odm:ItemDef[@OID='IT.{dataset}.{name}']", ns)


def test_dd0003_variable_not_in_define(define_pkg):
    pkg, define = define_pkg
    edit_define(define, lambda r, ns: _drop_itemref(r, ns, "AE", "AESEV"))
    _, found = run(pkg, "DD0003", define=define)
    assert one(found, dataset="AE", variable="AESEV")


def test_dd0004_define_variable_not_in_dataset(define_pkg):
    pkg, define = define_pkg
    rewrite(pkg, "AE", lambda df: df.drop(columns=["AESEV"]))
    _, found = run(pkg, "DD0004", define=define)
    assert one(found, dataset="AE", variable="AESEV")


def test_dd0005_label_mismatch(define_pkg):
    pkg, define = define_pkg

    def change(root, ns):
        _item(root, ns, "AE", "AETERM").find("odm:Description/odm:TranslatedText", ns).text = "X"

    edit_define(define, change)
    _, found = run(pkg, "DD0005", define=define)
    assert "'X'" in one(found, dataset="AE", variable="AETERM").message


def test_dd0006_type_mismatch(define_pkg):
    pkg, define = define_pkg
    edit_define(define, lambda r, ns: _item(r, ns, "AE", "AETERM").set("DataType", "integer"))
    _, found = run(pkg, "DD0006", define=define)
    assert one(found, dataset="AE", variable="AETERM").value == "integer"


def test_dd0007_length_mismatch(define_pkg):
    pkg, define = define_pkg
    edit_define(define, lambda r, ns: _item(r, ns, "AE", "AETERM").set("Length", "200"))
    _, found = run(pkg, "DD0007", define=define)
    assert "200 in define.xml" in one(found, dataset="AE", variable="AETERM").message


def test_dd0008_reports_schema_problems(define_pkg):
    pkg, define = define_pkg
    report, found = run(pkg, "DD0008", define=define)
    # the minimal define.xml written here lacks the ODM attributes the schema requires
    assert next(r for r in report.checks if r.spec.id == "DD0008").status == "failed"
    assert any("FileType" in f.message for f in found)
    assert {f.value for f in found} == {"define.xml"}


def test_dd0008_runs_on_a_valid_define_and_reports_a_broken_one(pkg):
    write_define(STUDY, pkg, which=("sdtm",))
    define = pkg / "sdtm" / "define.xml"
    report, found = run(pkg, "DD0008", define=define)
    assert next(r for r in report.checks if r.spec.id == "DD0008").status == "passed"
    assert found == []
    edit_define(define, lambda r, ns: r.find(".//odm:ItemGroupDef", ns).set("Bogus", "x"))
    report, found = run(pkg, "DD0008", define=define)
    assert next(r for r in report.checks if r.spec.id == "DD0008").status == "failed"
    (problem,) = found
    assert problem.message.startswith("line ") and "Bogus" in problem.message
    assert problem.value == "sdtm/define.xml"


def _doctype_define(pkg: Path, secret: Path) -> Path:
    """The demo's SDTM define.xml with a DOCTYPE whose external entity names ``secret``,
    used in the AE dataset label."""
    write_define(STUDY, pkg, which=("sdtm",))
    define = pkg / "sdtm" / "define.xml"
    text = define.read_text(encoding="utf-8")
    prolog_end = text.index("?>") + 2
    text = (
        text[:prolog_end]
        + f'\n<!DOCTYPE ODM [<!ENTITY leak SYSTEM "file://{secret}">]>'
        + text[prolog_end:]
    )
    text = text.replace(
        '<TranslatedText xml:lang="en">Adverse Events</TranslatedText>',
        '<TranslatedText xml:lang="en">&leak;</TranslatedText>',
        1,
    )
    define.write_text(text, encoding="utf-8")
    return define


def test_dd0009_doctype_and_entities_are_reported_never_expanded(pkg, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENT-42")
    define = _doctype_define(pkg, secret)
    report = validate_package(pkg, define=define)
    found = report.by_check("DD0009")
    assert len(found) == 2 and {f.value for f in found} == {"sdtm/define.xml"}
    assert "DOCTYPE" in found[1].message and "leak" in found[1].message
    assert "entity reference &leak;" in found[0].message
    assert report.count("VX0001") == 0
    statuses = {r.spec.id: r.status for r in report.checks if r.spec.id.startswith("DD")}
    assert statuses["DD0008"] == "passed"  # the rest of the document is schema-checked
    assert all(s == "passed" for i, s in statuses.items() if i not in ("DD0000", "DD0009"))
    write_reports(report, tmp_path / "reports")
    for path in (tmp_path / "reports").iterdir():
        assert "SECRET-CONTENT" not in report_text(path), path.name


# ------------------------------------------------------------------------ validator
def test_vx0001_a_crashing_check_is_reported_not_raised(pkg, monkeypatch):
    monkeypatch.setattr(registry_module, "_REGISTRY", dict(registry_module._REGISTRY))

    @check("ZZ9999", ERROR, "test", "always crashes", scope=scope("SDTM", datasets=("DM",)))
    def crash(ctx, ds):
        raise RuntimeError("boom")

    report = validate_package(pkg, checks=["ZZ9999"])
    found = report.by_check("VX0001")
    assert len(found) == 1 and "ZZ9999 crashed: RuntimeError: boom" in found[0].message
    assert found[0].dataset == "DM" and report.exit_code("error") == 1
