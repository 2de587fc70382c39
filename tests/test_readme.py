"""The docs stay true: the operations reference is what the registries generate, and CI
runs exactly the README's test command."""

from __future__ import annotations

import inspect
import re
import shutil
import typing
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import BaseModel

from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS
from cdisc_mapper.cli import reference_text
from cdisc_mapper.condition.model import Condition, VariableRef
from cdisc_mapper.sdtm import OPERATIONS, load_study
from cdisc_mapper.sdtm.engine import run_mapping
from cdisc_mapper.spec.adam import Conventions, DatasetSpec, ReportsSpec
from cdisc_mapper.spec.sdtm import SourceSpec, SuppSpec
from cdisc_mapper.spec.sdtm import VariableSpec as SdtmVariableSpec
from cdisc_mapper.spec.study import StudySpec
from cdisc_mapper.standards import load_terminology
from tests.conftest import REPO, STUDY


def test_the_operations_reference_is_current():
    """docs/operations.md is regenerated with `cdisc-mapper spec reference --out ...`."""
    text = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    assert text == reference_text(), (
        "docs/operations.md is stale: run cdisc-mapper spec reference --out docs/operations.md"
    )


def test_the_reference_lists_every_operation_with_each_argument():
    text = reference_text()
    for registry in (OPERATIONS, DERIVATIONS, RECORD_BUILDERS):
        for op in registry:
            assert f"### `{op.name}`" in text
            for name, info in op.args_model.model_fields.items():
                assert f"| `{info.alias or name}` |" in text, (op.name, name)


def _argument_models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """``model`` and the argument models nested in its fields' types (items of lists,
    values of mappings, unions...), not the condition language's own models."""
    found: list[type[BaseModel]] = []

    def walk(annotation: Any) -> None:
        if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
            if annotation not in (Condition, VariableRef) and annotation not in found:
                found.append(annotation)
                for info in annotation.model_fields.values():
                    walk(info.annotation)
            return
        for arg in typing.get_args(annotation):
            walk(arg)

    walk(model)
    return found


def test_every_argument_of_every_operation_is_described():
    """Each argument a spec author can write has a Field(description=...), so that the
    reference says what it is (nested models included, e.g. the items of ``case``)."""
    missing = []
    for registry in (OPERATIONS, DERIVATIONS, RECORD_BUILDERS):
        for op in registry:
            for model in _argument_models(op.args_model):
                for name, info in model.model_fields.items():
                    if not (info.description or "").strip():
                        missing.append(f"{op.name}: {model.__name__}.{name}")
    assert not missing, "arguments without a description: " + ", ".join(missing)


@pytest.mark.parametrize(
    ("title", "model"),
    [
        ("## SDTM sources (`sources:`)", SourceSpec),
        ("## The study (`study.yaml`)", StudySpec),
        ("## ADaM dataset specs (`adam/<dataset>.yaml`)", DatasetSpec),
        ("## ADaM conventions (`adam/conventions.yaml`)", Conventions),
        ("## ADaM reports (`adam/reports.yaml`, optional)", ReportsSpec),
    ],
)
def test_the_reference_documents_every_key_of_the_spec_files(
    title: str, model: type[BaseModel]
) -> None:
    """A domain spec's `sources:` entries (file, exclusions, melt with its items' columns
    and not-done records, per-form numbers and date order) and study.yaml's keys (subject
    pattern, arms and elements, visits, unscheduled visits, units) are in the reference,
    and so are an ADaM dataset spec's keys (records, variables and their define.xml
    metadata), conventions.yaml's (events, periods, phases, windows) and reports.yaml's,
    each described, so that a study's spec can be written from the docs alone."""
    text = reference_text()
    assert title in text
    missing = []
    for nested in _argument_models(model):
        if nested in (SdtmVariableSpec, SuppSpec):
            continue  # an SDTM variable's entry: the operations
        for name, info in nested.model_fields.items():
            assert f"| `{info.alias or name}` |" in text, (nested.__name__, name)
            if not (info.description or "").strip():
                missing.append(f"{nested.__name__}.{name}")
    assert not missing, "spec keys without a description: " + ", ".join(missing)


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    command = 'python -m pip install -q -e ".[test]" && scripts/check'
    assert command in readme
    assert command in ci.splitlines()


def test_the_check_script_runs_lint_format_types_and_tests():
    script = (REPO / "scripts" / "check").read_text()
    steps = [
        " ".join(line.split()[2:4]) for line in script.splitlines() if line.startswith("python -m")
    ]
    assert steps == ["ruff check", "ruff format", "mypy", "pytest -q"]
    assert "ruff format --check" in script


# ---------------------------------------------------------------- the README's examples

BUNDLED_STUDY_HEAD = 'studyid: "0208-16-HMO"'


def readme_yaml_blocks() -> list[str]:
    """The text of every ```yaml block of README.md, in order."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^```yaml\n(.*?)^```$", readme, flags=re.MULTILINE | re.DOTALL)


def readme_example_files() -> dict[str, str]:
    """The README's example spec files: the yaml blocks whose first line names the file
    (``# sdtm/vs.yaml``, ``# study.yaml (the parts that differ...)``), by that path."""
    found: dict[str, str] = {}
    for block in readme_yaml_blocks():
        head = re.match(r"# ((?:sdtm/)?[a-z]+\.yaml)\b", block)
        if head:
            assert head.group(1) not in found, f"two README examples of {head.group(1)}"
            found[head.group(1)] = block
    return found


def test_the_bundled_study_examples_load(tmp_path: Path) -> None:
    """The README's study.yaml and abridged sdtm/vs.yaml, put in place of the bundled
    study's, load through the spec loader."""
    blocks = readme_yaml_blocks()
    study_yaml = next(b for b in blocks if b.startswith(BUNDLED_STUDY_HEAD))
    vs_yaml = next(b for b in blocks if b.startswith("domain: VS"))
    study = tmp_path / "study"
    shutil.copytree(STUDY, study)
    (study / "sdtm" / "vs.yaml").write_text(vs_yaml, encoding="utf-8")
    assert "VSLOBXFL" in load_study(study).domains["VS"].variables
    (study / "study.yaml").write_text(study_yaml, encoding="utf-8")
    assert load_study(study).study.studyid == "0208-16-HMO"


#: What the README examples leave to the bundled study's study.yaml.
EXAMPLE_STUDY_BASE = """\
studyid: XYZ-301
title: The README's example study
sponsor: Example Sponsor
arms: []
elements: []
visits: []
"""

EXAMPLE_EX_YAML = """\
domain: EX
keys: [STUDYID, USUBJID, EXSTDTC]
sources:
  - form: ex
    variables:
      STUDYID: {op: studyid}
      DOMAIN: {op: domain}
      USUBJID: {op: usubjid}
      EXTRT: {op: column, column: DRUG}
      EXSTDTC: {op: date, column: START}
variables:
  EXSEQ: {op: seq}
"""

EXAMPLE_RAW = {
    "dm.csv": """\
PATNUM,IT.SEX,PLANNED_ARM
701-1015,Female,Placebo
701-1023,Male,Xan High
""",
    "ex.csv": """\
PATNUM,DRUG,START
701-1015,PLACEBO,01/02/2014
701-1023,XANOMELINE,12/30/2013
""",
    "ae.csv": """\
PATNUM,IT.AETERM,AEDECOD,IT.AESEV,IT.AEREL,IT.AESTDAT
701-1015,Application Site Rash,APPLICATION  SITE RASH,Mild Adverse Event,Possibly Related,01/2014
701-1015,Dizziness,DIZZINESS,moderate,Not Related,12/28/2013
701-1023,Headache,HEADACHE,Grade 1,Remote,20140102
""",
    "vs.csv": """\
PATNUM,INSTANCE,VTLD,TMPTC,SYS_BP,SYS_BP_ND,SYS_BP_REASND,DIA_BP,DIA_BP_ND,DIA_BP_REASND,TEMP,TEMP_LOC
701-1015,Baseline,02/01/2014,After Lying Down For 5 Minutes,130,,,,Yes,Cuff broken,98.6,Oral Cavity
701-1015,Baseline,02/01/2014,After Lying Down For 5 Minutes,130,,,,Yes,Cuff broken,98.6,Oral Cavity
701-1015,Unscheduled 3.1,05/01/2014,,128,,,80,,,,
701-1015,UNSCHEDULED,09/01/2014,,125,,,78,,,97.9,Oral Cavity
701-1015,Week 2,16/01/2014,,,,,,,,,
""",
}


def example_study(tmp_path: Path) -> tuple[Path, Path]:
    """The study the README's layout examples make, with raw forms that exercise them."""
    files = readme_example_files()
    assert sorted(files) == ["sdtm/ae.yaml", "sdtm/dm.yaml", "sdtm/vs.yaml", "study.yaml"]
    study, raw = tmp_path / "study", tmp_path / "raw"
    (study / "sdtm").mkdir(parents=True)
    raw.mkdir()
    base = EXAMPLE_STUDY_BASE.splitlines()
    parts = files.pop("study.yaml")
    kept = [line for line in base if line.split(":")[0] not in parts]
    (study / "study.yaml").write_text("\n".join(kept) + "\n" + parts, encoding="utf-8")
    for name, text in files.items():
        (study / name).write_text(text, encoding="utf-8")
    (study / "sdtm" / "ex.yaml").write_text(EXAMPLE_EX_YAML, encoding="utf-8")
    for name, text in EXAMPLE_RAW.items():
        (raw / name).write_text(text, encoding="utf-8")
    return study, raw


def rows(frame: pd.DataFrame, columns: list[str]) -> list[list[Any]]:
    """The values of ``columns``, row by row, a missing number as None."""
    return [[None if pd.isna(v) else v for v in row] for row in frame[columns].values.tolist()]


def test_the_layout_examples_map_as_the_readme_says(tmp_path: Path) -> None:
    """The README's layout examples (subjects, visits, a wide form, dates, text, a DM
    value in a flag) give what its comments say."""
    study, raw = example_study(tmp_path)
    domains = run_mapping(load_study(study), load_terminology(), raw).domains
    dm = domains["DM"].sort_values("USUBJID")
    assert rows(dm, ["USUBJID", "SUBJID", "SITEID", "SEX", "ARM", "RFXSTDTC"]) == [
        ["01-701-1015", "1015", "701", "F", "Placebo", "2014-01-02"],
        ["01-701-1023", "1023", "701", "M", "Xanomeline High Dose", "2013-12-30"],
    ]
    ae = domains["AE"].sort_values(["USUBJID", "AESEQ"])
    columns = ["USUBJID", "AETERM", "AEDECOD", "AESEV", "AEREL", "AESTDTC", "AETRTEM", "AESEQ"]
    assert rows(ae, columns) == [
        ["01-701-1015", "APPLICATION SITE RASH", "APPLICATION SITE RASH", "MILD",
         "POSSIBLY RELATED", "2014-01", "Y", 1.0],
        ["01-701-1015", "DIZZINESS", "DIZZINESS", "MODERATE", "NOT RELATED", "2013-12-28",
         "", 2.0],
        ["01-701-1023", "HEADACHE", "HEADACHE", "MILD", "REMOTE", "2014-01-02", "Y", 1.0],
    ]  # fmt: skip
    vs = domains["VS"].sort_values("VSSEQ")
    columns = ["VSTESTCD", "VSORRES", "VSORRESU", "VSSTAT", "VSREASND", "VSLOC", "VSELTM",
               "VSDTC", "VISITNUM", "VISIT", "VISITDY", "VSSTRESC", "VSSEQ"]  # fmt: skip
    assert rows(vs, columns) == [
        ["DIABP", "", "", "NOT DONE", "Cuff broken", "", "PT5M", "2014-01-02", 3.0,
         "BASELINE", 1.0, "", 1.0],
        ["DIABP", "80", "mmHg", "", "", "", "", "2014-01-05", 3.1, "UNSCHEDULED 3.1", None,
         "80", 2.0],
        ["DIABP", "78", "mmHg", "", "", "", "", "2014-01-09", 3.2, "UNSCHEDULED 3.2", None,
         "78", 3.0],
        ["SYSBP", "130", "mmHg", "", "", "", "PT5M", "2014-01-02", 3.0, "BASELINE", 1.0,
         "130", 4.0],
        ["SYSBP", "128", "mmHg", "", "", "", "", "2014-01-05", 3.1, "UNSCHEDULED 3.1", None,
         "128", 5.0],
        ["SYSBP", "125", "mmHg", "", "", "", "", "2014-01-09", 3.2, "UNSCHEDULED 3.2", None,
         "125", 6.0],
        ["TEMP", "98.6", "F", "", "", "ORAL CAVITY", "PT5M", "2014-01-02", 3.0, "BASELINE",
         1.0, "37", 7.0],
        ["TEMP", "97.9", "F", "", "", "ORAL CAVITY", "", "2014-01-09", 3.2, "UNSCHEDULED 3.2",
         None, "36.61", 8.0],
    ]  # fmt: skip
