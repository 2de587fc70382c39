"""Bad input gives a clear error naming the file, row, column or spec line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cdisc_mapper.errors import MappingError, RawDataError, SpecError
from cdisc_mapper.sdtm import load_study
from cdisc_mapper.sdtm.pipeline import run_sdtm
from tests.conftest import STUDY


@pytest.fixture()
def raw_copy(demo_raw: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "raw"
    shutil.copytree(demo_raw, dst)
    return dst


@pytest.fixture()
def study_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "study"
    shutil.copytree(STUDY, dst)
    return dst


def edit_csv(path: Path, fn) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    fn(df)
    df.to_csv(path, index=False, lineterminator="\n")


def test_missing_raw_column_names_file_and_column(raw_copy, tmp_path):
    edit_csv(raw_copy / "vitals.csv", lambda df: df.pop("SYS_BP"))
    with pytest.raises(RawDataError) as err:
        run_sdtm(STUDY, raw_copy, tmp_path / "out")
    text = str(err.value)
    assert "vitals.csv" in text and "SYS_BP" in text and "missing column" in text


def test_missing_raw_file(raw_copy, tmp_path):
    (raw_copy / "labs.csv").unlink()
    with pytest.raises(RawDataError, match=r"labs\.csv.*not found"):
        run_sdtm(STUDY, raw_copy, tmp_path / "out")


def test_unknown_ct_term_lists_every_occurrence(raw_copy, tmp_path):
    def bad(df):
        df.loc[[0, 3], "GENDER"] = "Mle"

    edit_csv(raw_copy / "enrollment.csv", bad)
    with pytest.raises(MappingError) as err:
        run_sdtm(STUDY, raw_copy, tmp_path / "out")
    text = str(err.value)
    assert "DM.SEX" in text and "codelist SEX" in text
    assert "enrollment.csv row 2: 'Mle'" in text and "enrollment.csv row 5: 'Mle'" in text
    assert "2 record(s)" in text and "dm.yaml" in text


def test_unparseable_date_names_file_row_and_column(raw_copy, tmp_path):
    def bad(df):
        df.loc[4, "ASSESS_DATE"] = "31/02/2017"

    edit_csv(raw_copy / "alsfrs.csv", bad)
    with pytest.raises(MappingError) as err:
        run_sdtm(STUDY, raw_copy, tmp_path / "out")
    text = str(err.value)
    assert "alsfrs.csv" in text and "ASSESS_DATE" in text
    assert "row 6" in text and "31/02/2017" in text


def test_ae_for_subject_missing_from_dm(raw_copy, tmp_path):
    def bad(df):
        df.loc[0, "PT_ID"] = "999"

    edit_csv(raw_copy / "adverse_events.csv", bad)
    with pytest.raises(MappingError) as err:
        run_sdtm(STUDY, raw_copy, tmp_path / "out")
    text = str(err.value)
    assert "adverse_events.csv row 2" in text and "'999'" in text
    assert "registry form" in text or "missing from DM" in text


def test_records_sharing_keys_name_their_raw_rows_and_the_keys_line(study_copy, raw_copy, tmp_path):
    # the error listed key values only: which raw rows to look at was left to the user
    spec = study_copy / "sdtm" / "cm.yaml"
    keys = "keys: [STUDYID, USUBJID, CMTRT, CMSTDTC, CMSEQ]"
    spec.write_text(spec.read_text().replace(keys, "keys: [STUDYID, USUBJID, CMTRT, CMSTDTC]"))
    meds = raw_copy / "medications.csv"
    lines = meds.read_text().splitlines(keepends=True)
    meds.write_text("".join([*lines, lines[1]]))  # row 2 entered again at the end
    with pytest.raises(MappingError) as err:
        run_sdtm(study_copy, raw_copy, tmp_path / "out")
    message = str(err.value)
    assert message.startswith(f"{spec}:2: CM: 2 records share key values "), message
    assert "medications.csv row 2: STUDYID=" in message
    assert f"medications.csv row {len(lines) + 1}: STUDYID=" in message


def test_spec_naming_a_variable_the_standard_lacks(study_copy, raw_copy, tmp_path):
    spec = study_copy / "sdtm" / "vs.yaml"
    text = spec.read_text()
    spec.write_text(text.replace("      VSORRES: {op: result", "      VSORRESX: {op: result", 1))
    line = next(i for i, t in enumerate(spec.read_text().splitlines(), 1) if "VSORRESX" in t)
    with pytest.raises(SpecError) as err:
        run_sdtm(study_copy, raw_copy, tmp_path / "out")
    msg = str(err.value)
    assert f"vs.yaml:{line}" in msg and "VSORRESX is not a variable of VS" in msg


def test_malformed_spec_file_points_at_the_line(study_copy):
    spec = study_copy / "sdtm" / "lb.yaml"
    lines = spec.read_text().splitlines()
    lines[5] = lines[5] + " ]"
    spec.write_text("\n".join(lines) + "\n")
    with pytest.raises(SpecError) as err:
        load_study(study_copy)
    assert "lb.yaml:6" in str(err.value) and "malformed YAML" in str(err.value)


def test_unknown_operation_and_unknown_argument(study_copy):
    spec = study_copy / "sdtm" / "ae.yaml"
    spec.write_text(
        spec.read_text().replace("{op: column, column: AE_TERM}", "{op: colum, column: AE_TERM}")
    )
    with pytest.raises(SpecError, match=r"ae\.yaml:\d+: AETERM: unknown operation 'colum'"):
        load_study(study_copy)
    spec.write_text(
        spec.read_text().replace("{op: colum, column: AE_TERM}", "{op: column, colunm: AE_TERM}")
    )
    with pytest.raises(SpecError, match=r"ae\.yaml:\d+: .*colunm: unknown key"):
        load_study(study_copy)


def test_unknown_key_in_study_file(study_copy):
    spec = study_copy / "study.yaml"
    spec.write_text(spec.read_text().replace("sponsor: Hadassah", "sponsr: Hadassah"))
    with pytest.raises(SpecError) as err:
        load_study(study_copy)
    assert "study.yaml" in str(err.value) and "sponsr" in str(err.value)


def test_cli_gives_one_line_cause_and_nonzero_exit(raw_copy, tmp_path):
    from click.testing import CliRunner

    from cdisc_mapper.cli import main

    (raw_copy / "labs.csv").unlink()
    res = CliRunner().invoke(main, ["-q", "sdtm", "--raw", str(raw_copy), "--out", str(tmp_path)])
    assert res.exit_code == 1
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "labs.csv" in lines[0]


@pytest.mark.parametrize(
    "cmd",
    [
        [],
        ["simulate"],
        ["sdtm"],
        ["adam"],
        ["define"],
        ["acrf"],
        ["validate"],
        ["demo"],
        ["spec"],
        ["spec", "export"],
        ["spec", "import"],
    ],
)
def test_every_command_has_help(cmd):
    from click.testing import CliRunner

    from cdisc_mapper.cli import main

    res = CliRunner().invoke(main, [*cmd, "--help"])
    assert res.exit_code == 0 and "Usage:" in res.output


def test_validate_command_writes_reports(demo_sdtm, tmp_path):
    from click.testing import CliRunner

    from cdisc_mapper.cli import main

    out, _ = demo_sdtm
    pkg = tmp_path / "pkg"
    shutil.copytree(out / "sdtm", pkg / "sdtm")
    res = CliRunner().invoke(main, ["-q", "validate", str(pkg)])
    assert res.exit_code == 0, res.output
    assert (pkg / "reports" / "validation.json").exists()
    assert "0 errors" in res.output


# --------------------------------------------- --debug and -q/--quiet after the command


def _cli_cases(tmp: Path) -> dict[str, list[str]]:
    """Each command with arguments that stop it at once with a bad-input error."""
    (tmp / "foreign").mkdir()
    (tmp / "foreign" / "notes.txt").write_text("not a demo folder\n")
    (tmp / "empty").mkdir()
    return {
        "simulate": ["simulate", "--out", str(tmp / "foreign"), "--subjects", "1"],
        "sdtm": ["sdtm", "--raw", str(tmp / "none"), "--out", str(tmp / "o1")],
        "adam": ["adam", "--sdtm", str(tmp / "none"), "--out", str(tmp / "o2")],
        "define": ["define", "--out", str(tmp / "empty")],
        "acrf": ["acrf", "--raw", str(tmp / "none"), "--out", str(tmp / "o3")],
        "validate": ["validate", str(tmp / "none")],
        "demo": ["demo", "--out", str(tmp / "foreign"), "--subjects", "1"],
        "spec export": [
            "spec",
            "export",
            "--study",
            str(tmp / "none"),
            "--xlsx",
            str(tmp / "a.xlsx"),
        ],
        "spec import": [
            "spec",
            "import",
            "--xlsx",
            str(tmp / "none.xlsx"),
            "--study",
            str(tmp / "s"),
        ],
        "spec reference": ["spec", "reference", "--out", str(tmp / "none" / "ref.md")],
    }


COMMANDS = [
    "simulate",
    "sdtm",
    "adam",
    "define",
    "acrf",
    "validate",
    "demo",
    "spec export",
    "spec import",
    "spec reference",
]


def _after_command(args: list[str], option: str) -> list[str]:
    """``args`` with ``option`` right after the (sub)command's name."""
    at = 2 if args[0] == "spec" else 1
    return [*args[:at], option, *args[at:]]


@pytest.mark.parametrize("command", COMMANDS)
def test_quiet_after_the_command_silences_progress(command, tmp_path):
    from click.testing import CliRunner

    from cdisc_mapper.cli import main

    args = _cli_cases(tmp_path)[command]
    after = CliRunner().invoke(main, _after_command(args, "-q"))
    before = CliRunner().invoke(main, ["-q", *args])
    assert "No such option" not in after.output and after.exit_code != 2, after.output
    assert (after.exit_code, after.stdout, after.stderr) == (
        before.exit_code,
        before.stdout,
        before.stderr,
    )
    assert not [ln for ln in after.stderr.splitlines() if ln.startswith("[")]


@pytest.mark.parametrize("command", COMMANDS)
def test_debug_after_the_command_shows_the_exception(command, tmp_path):
    from click.testing import CliRunner

    from cdisc_mapper.cli import main
    from cdisc_mapper.errors import CdiscMapperError

    args = _cli_cases(tmp_path)[command]
    res = CliRunner().invoke(main, _after_command(args, "--debug"))
    assert isinstance(res.exception, (CdiscMapperError, OSError)), res.output


def test_quiet_on_the_spec_group_too(tmp_path):
    from click.testing import CliRunner

    from cdisc_mapper.cli import main

    res = CliRunner().invoke(main, ["spec", "-q", "reference"])
    assert res.exit_code == 0 and res.stdout.startswith("# Operations reference")


def test_without_quiet_progress_is_shown(tmp_path):
    from click.testing import CliRunner

    from cdisc_mapper.cli import main

    res = CliRunner().invoke(main, ["validate", str(tmp_path / "none")])
    assert res.exit_code == 1
    assert res.stderr.startswith("[") and "validating" in res.stderr.splitlines()[0]
    quiet = CliRunner().invoke(main, ["validate", str(tmp_path / "none"), "--quiet"])
    assert quiet.stderr.splitlines()[0].startswith("error: ")
