"""Hostile-input catalogue, ADaM metadata: SDTM variables carried into a BDS dataset whose
names look like ADaMIG suffix rules (VSELTM, VSDY), sponsor variables named like a rule,
values that do not fit their type, label overrides, and the demo's files free of ADaMIG
placeholder labels ({Date}).

The adam cases run on the SDTM of the catalogue's 5-subject raw export, mapped once and
copied into each case's ``out/sdtm``; ``prepare`` edits the study's ADaM specs and, for
time points, adds VSTPT and VSELTM (text durations) to ``out/sdtm/vs.xpt``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_mapper.sdtm.pipeline import run_sdtm
from cdisc_mapper.xpt import XptMetadata, XptVariable, read_xpt, write_xpt
from tests.conftest import STUDY
from tests.hostile.catalogue import Case, Workspace, run_case

ADAM = ["adam", "--study", "{study}", "--sdtm", "{out}/sdtm", "--out", "{out}"]
ADVS_KEEP = "keep: [VISITNUM, VISIT]"
#: The line of a variable entry added at the end of advs.yaml / adsl.yaml.
ADVS_END = (STUDY / "adam" / "advs.yaml").read_text().count("\n") + 1
ADSL_END = (STUDY / "adam" / "adsl.yaml").read_text().count("\n") + 1
ELTM_LABEL = "Planned Elapsed Time from Time Point Ref"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


# --------------------------------------------------------------------------- damage
def spec(file: str = "advs.yaml", add: str = "", keep: str = "") -> Callable[[Workspace], None]:
    """Add the variable entries ``add`` at the end of adam/``file``; ``keep`` adds VS
    variables to the ADVS findings step."""

    def edit(ws: Workspace) -> None:
        path = ws.study / "adam" / file
        text = path.read_text()
        if keep:
            text = text.replace(ADVS_KEEP, f"keep: [VISITNUM, VISIT, {keep}]")
        path.write_text(text + add)

    return edit


def timepoints(ws: Workspace, visit_length: int | None = None) -> None:
    """SDTM VS gets VSTPT and VSELTM (ISO 8601 durations: text); ``visit_length``
    declares VISIT that long."""
    path = ws.out / "sdtm" / "vs.xpt"
    frame, meta = read_xpt(path)
    even = frame["VSSEQ"] % 2 == 0
    frame["VSTPT"] = np.where(even, "5 MIN POST DOSE", "PREDOSE")
    frame["VSELTM"] = np.where(even, "PT5M", "-PT15M")
    variables = [
        XptVariable(v.name, v.label, v.type, visit_length) if v.name == "VISIT" else v
        for v in meta.variables
    ]
    variables += [
        XptVariable("VSTPT", "Planned Time Point Name", "Char"),
        XptVariable("VSELTM", ELTM_LABEL, "Char"),
    ]
    write_xpt(frame, path, dataset="VS", label=meta.label, variables=variables)


def both(*steps: Callable[[Workspace], None]) -> Callable[[Workspace], None]:
    def run(ws: Workspace) -> None:
        for step in steps:
            step(ws)

    return run


# --------------------------------------------------------------------------- after
def advs(ws: Workspace) -> tuple[pd.DataFrame, dict[str, XptVariable]]:
    frame, meta = read_xpt(ws.out / "adam" / "advs.xpt")
    return frame, {v.name: v for v in meta.variables}


def timepoints_kept(ws: Workspace) -> None:
    frame, meta = advs(ws)
    assert (meta["VSELTM"].type, meta["VSELTM"].label) == ("Char", ELTM_LABEL)
    assert (meta["VSTPT"].type, meta["VSTPT"].label) == ("Char", "Planned Time Point Name")
    assert set(frame["VSELTM"]) == {"PT5M", "-PT15M"}
    assert set(frame["VSTPT"]) == {"5 MIN POST DOSE", "PREDOSE"}
    assert meta["VSDY"].label == "Study Day of Vital Signs"


def nothing_written(ws: Workspace) -> None:
    assert not (ws.out / "adam").exists()


def label_is(variable: str, label: str, vtype: str) -> Callable[[Workspace], None]:
    def check(ws: Workspace) -> None:
        _, meta = advs(ws)
        assert (meta[variable].label, meta[variable].type) == (label, vtype)

    return check


def adsl_dates_labelled(ws: Workspace) -> None:
    _, meta = advs(ws)
    assert (meta["TRTSDT"].label, meta["TRTSDT"].format) == (
        "Date of First Exposure to Treatment",
        "DATE9.",
    )
    assert meta["TRTEDT"].label == "Date of Last Exposure to Treatment"


def visit_length_kept(ws: Workspace) -> None:
    _, meta = advs(ws)
    assert (meta["VISIT"].length, meta["VISIT"].label) == (40, "Visit Name")


def no_placeholder_labels(ws: Workspace) -> None:
    files = sorted((ws.tmp / "demo").rglob("*.xpt"))
    assert len(files) > 20
    for path in files:
        meta: XptMetadata = read_xpt(path)[1]
        for v in meta.variables:
            assert not PLACEHOLDER.search(v.label), (path.name, v.name, v.label)
    assert "{" not in (ws.tmp / "demo" / "adam" / "define.xml").read_text()


# --------------------------------------------------------------------------- cases
SEXN_AS_NUMBER = "  SEXN: {derive: value, source: DM.SEX, label: Sex (N), type: Num}\n"
CASES = [
    Case(
        "adam-bds-keeps-vseltm-vstpt",
        ADAM,
        prepare=both(
            timepoints,
            spec(add="  VSTPT: {}\n  VSELTM: {}\n  VSDY: {}\n", keep="VSTPT, VSELTM, VSDY"),
        ),
        exit_code=0,
        after=timepoints_kept,
    ),
    Case(
        "adam-rule-named-sponsor-variable-without-label",
        ADAM,
        prepare=spec(add="  DTHADY: {derive: analysis_day, date: ADT}\n"),
        message=f"advs.yaml:{ADVS_END}: DTHADY: ADaMIG BDS names it by the rule *ADY, which "
        "gives no label of its own (only a pattern: <Relative Day>); give it a 'label' (at most "
        "40 characters), e.g.  label: DTH Relative Day",
        after=nothing_written,
    ),
    Case(
        "adam-numeric-rule-over-text-data",
        ADAM,
        prepare=both(
            timepoints,
            spec(
                add="  ELTM: {derive: keep, column: VSELTM, label: Elapsed Time}\n", keep="VSELTM"
            ),
        ),
        message=f"advs.yaml:{ADVS_END}: ADVS.ELTM is Num (ADaMIG BDS rule *TM) but",
        never=("nan",),
        after=nothing_written,
    ),
    Case(
        "adam-sponsor-numeric-type-over-text-data",
        ADAM,
        prepare=spec("adsl.yaml", add=SEXN_AS_NUMBER),
        message=f"adsl.yaml:{ADSL_END}: ADSL.SEXN is Num (the spec's 'type') but 5 record(s) "
        "hold text, e.g. record 1",
        after=nothing_written,
    ),
    Case(
        "adam-numbers-in-a-text-variable",
        ADAM,
        prepare=spec(add="  VISITC: {derive: keep, column: VISITNUM, label: Visit, type: Char}\n"),
        message=f"advs.yaml:{ADVS_END}: ADVS.VISITC is Char (the spec's 'type') but",
        after=nothing_written,
    ),
    Case(
        "adam-type-against-an-adamig-rule",
        ADAM,
        prepare=spec(add="  VISDT: {derive: keep, column: VISIT, label: Visit Date, type: Char}\n"),
        message="VISDT: ADaMIG type (rule *DT) is Num, not Char",
        after=nothing_written,
    ),
    Case(
        "adam-spec-label-overrides-a-rule-label",
        ADAM,
        prepare=spec(
            add="  DTHADY: {derive: analysis_day, date: ADT, label: Relative Day of Death}\n"
        ),
        exit_code=0,
        after=label_is("DTHADY", "Relative Day of Death", "Num"),
    ),
    Case(
        "adam-spec-label-overrides-a-carried-label",
        ADAM,
        prepare=both(timepoints, spec(add="  VSELTM: {label: Time from Dose}\n", keep="VSELTM")),
        exit_code=0,
        after=label_is("VSELTM", "Time from Dose", "Char"),
    ),
    Case(
        "adam-adsl-dates-in-bds-keep-adsl-labels",
        ADAM,
        prepare=spec(
            add="  TRTSDT: {derive: value, source: ADSL.TRTSDT}\n"
            "  TRTEDT: {derive: value, source: ADSL.TRTEDT}\n"
        ),
        exit_code=0,
        after=adsl_dates_labelled,
    ),
    Case(
        "adam-carried-variable-keeps-sdtm-length",
        ADAM,
        prepare=lambda ws: timepoints(ws, visit_length=40),
        exit_code=0,
        after=visit_length_kept,
    ),
    Case(
        "demo-writes-no-placeholder-label",
        ["demo", "--out", "{tmp}/demo", "--subjects", "5"],
        exit_code=0,
        after=no_placeholder_labels,
    ),
]


@pytest.fixture(scope="module")
def hostile_sdtm(hostile_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SDTM of the catalogue's raw export, mapped once."""
    out = tmp_path_factory.mktemp("hostile_adam")
    run_sdtm(STUDY, hostile_raw, out)
    return out / "sdtm"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hostile_adam(case: Case, workspace: Workspace, hostile_sdtm: Path) -> None:
    shutil.copytree(hostile_sdtm, workspace.out / "sdtm")
    assert run_case(case, workspace) == []
