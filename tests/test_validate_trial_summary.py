"""Trial Summary completeness (cdisc_mapper.validate.checks.trial_summary, SD0121): the
FDA-required TS parameters of an interventional study, from specs/validate data."""

from __future__ import annotations

import pandas as pd

from cdisc_mapper.standards import load_terminology, resolve_specs_dir
from cdisc_mapper.validate.checks.trial_summary import required_parameters
from tests.test_validate_checks import pkg, rewrite, run  # noqa: F401  (pkg is a fixture)

#: What the bundled study's TS lacks of the FDA list (worked out from its ts.xpt: it has
#: ADDON = Y but no CURTRT, and none of the others).
DEMO_MISSING = [
    "ACTSUB",
    "ADAPT",
    "CURTRT",
    "DCUTDESC",
    "DCUTDTC",
    "FCNTRY",
    "HLTSUBJI",
    "REGID",
    "TDIGRP",
]


def add_parameters(df: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """TS with one record per code, TSVALNF = NA (a null flavor counts as stated)."""
    extra = pd.DataFrame(
        {
            "STUDYID": df["STUDYID"].iloc[0],
            "DOMAIN": "TS",
            "TSSEQ": 1.0,
            "TSPARMCD": codes,
            "TSPARM": codes,
            "TSVALNF": "NA",
        }
    )
    return pd.concat([df, extra], ignore_index=True).fillna({"TSVAL": ""})


def test_sd0121_reports_each_missing_parameter_of_the_demo(pkg):  # noqa: F811
    _, found = run(pkg, "SD0121")
    assert [f.value for f in found] == DEMO_MISSING
    curtrt = next(f for f in found if f.value == "CURTRT")
    assert curtrt.message == (
        "TS has no TSPARMCD CURTRT (Current Therapy or Treatment) (ADDON = Y) with TSVAL or TSVALNF"
    )
    assert {(f.dataset, f.variable, f.record) for f in found} == {("TS", "TSPARMCD", None)}


def test_sd0121_clean_when_every_parameter_is_stated(pkg):  # noqa: F811
    rewrite(pkg, "TS", lambda df: add_parameters(df, DEMO_MISSING))
    report, found = run(pkg, "SD0121")
    assert found == [] and report.checks[0].status == "passed"


def test_sd0121_seeded_missing_title(pkg):  # noqa: F811
    def seed(df: pd.DataFrame) -> pd.DataFrame:
        return add_parameters(df[df["TSPARMCD"] != "TITLE"], DEMO_MISSING)

    rewrite(pkg, "TS", seed)
    _, found = run(pkg, "SD0121")
    assert [(f.value, f.message) for f in found] == [
        ("TITLE", "TS has no TSPARMCD TITLE (Trial Title) with TSVAL or TSVALNF")
    ]


def test_sd0121_conditional_parameter_follows_its_condition(pkg):  # noqa: F811
    def seed(df: pd.DataFrame) -> pd.DataFrame:
        df = add_parameters(df, [c for c in DEMO_MISSING if c != "CURTRT"])
        df.loc[df["TSPARMCD"] == "ADDON", "TSVAL"] = "N"
        return df

    rewrite(pkg, "TS", seed)
    _, found = run(pkg, "SD0121")
    assert found == []  # not an add-on study: CURTRT is not required


def test_sd0121_not_for_an_observational_study(pkg):  # noqa: F811
    def seed(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[df["TSPARMCD"] == "STYPE", "TSVAL"] = "OBSERVATIONAL"
        return df

    rewrite(pkg, "TS", seed)
    _, found = run(pkg, "SD0121")
    assert found == []


def test_fda_ts_list_uses_cdisc_parameter_codes_and_names():
    codes = load_terminology().get("C66738")  # TSPARMCD
    names = load_terminology().get("C67152")  # TSPARM
    required = required_parameters(resolve_specs_dir())
    assert len(required) == len({r.code for r in required}) == 36
    for parameter in required:
        term = codes.term(parameter.code)
        assert term is not None, parameter.code
        name = names.term(parameter.name)  # TSPARM, the same NCI concept
        assert name is not None and name.code == term.code, parameter.name
        assert parameter.source.startswith("FDA Study Data Technical Conformance Guide")
