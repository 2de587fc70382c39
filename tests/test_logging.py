"""Logging: the library logs through ``logging`` (loggers named after its modules) and
prints nothing; the command line shows the records on stderr (progress by default,
warnings only with -q, details with -v or --debug, given before or after the command)."""

from __future__ import annotations

import logging
import re
import shutil

import pytest
from click.testing import CliRunner

from cdisc_mapper.cli import LIBRARY, main
from tests.conftest import STUDY

ELAPSED = re.compile(r"^\[ *\d+\.\ds\] ")


def _lines(text: str) -> list[str]:
    """Progress lines without their elapsed time."""
    return [ELAPSED.sub("", line) for line in text.splitlines() if ELAPSED.match(line)]


# ------------------------------------------------------------------------------ library


def test_the_sdtm_stage_logs_progress_and_details(demo_raw, caplog, capsys):
    from cdisc_mapper.sdtm.pipeline import build_sdtm

    with caplog.at_level(logging.DEBUG, logger="cdisc_mapper"):
        result = build_sdtm(STUDY, demo_raw)
    records = {(r.name, r.levelname, r.getMessage()) for r in caplog.records}
    assert ("cdisc_mapper.sdtm.engine", "INFO", "DM: reading enrollment") in records
    assert ("cdisc_mapper.sdtm.engine", "INFO", "SE: subject elements") in records
    assert (
        "cdisc_mapper.sdtm.engine",
        "DEBUG",
        "DM: enrollment.csv: 20 rows read, 20 mapped, 0 excluded, 20 records",
    ) in records
    dm = [m for n, lv, m in records if n == "cdisc_mapper.sdtm.pipeline" and m.startswith("DM:")]
    assert dm == [f"DM: 20 records, {len(result.datasets['DM'].frame.columns)} variables"]
    assert all(r.name.startswith("cdisc_mapper.") for r in caplog.records)
    assert capsys.readouterr() == ("", "")  # nothing printed


def test_a_progress_callback_still_gets_the_messages(demo_raw, caplog):
    from cdisc_mapper.sdtm.pipeline import build_sdtm

    said: list[str] = []
    with caplog.at_level(logging.INFO, logger="cdisc_mapper"):
        build_sdtm(STUDY, demo_raw, said.append)
    assert "DM: reading enrollment" in said
    assert not [r for r in caplog.records if r.name == "cdisc_mapper.sdtm.engine"]


@pytest.fixture()
def no_meddra_version(demo_sdtm, tmp_path) -> tuple:
    """A copy of the study whose define.yaml gives no MedDRA version (a define.xml
    warning), and a package holding its SDTM."""
    study = tmp_path / "study"
    shutil.copytree(STUDY, study)
    define_yaml = study / "define.yaml"
    text = define_yaml.read_text(encoding="utf-8")
    text = text.replace('  MedDRA: {version: "26.0"}\n', "")
    define_yaml.write_text(text, encoding="utf-8")
    shutil.copytree(demo_sdtm[0] / "sdtm", tmp_path / "out" / "sdtm")
    return study, tmp_path / "out"


WARNING = (
    "no version of dictionary MedDRA in define.yaml dictionaries: (ExternalCodeList written "
    "without Version)"
)


def test_define_warnings_are_logged_and_issued(no_meddra_version, caplog):
    from cdisc_mapper.define import DefineWarning, write_define

    study, out = no_meddra_version
    with (
        caplog.at_level(logging.INFO, logger="cdisc_mapper"),
        pytest.warns(DefineWarning) as issued,
    ):
        write_define(study, out, which=["sdtm"])
    warned = [(r.name, r.getMessage()) for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == [("cdisc_mapper.define.pipeline", WARNING)]
    assert [str(w.message) for w in issued] == [f"sdtm define.xml: {WARNING}"]


@pytest.mark.filterwarnings("ignore:sdtm define.xml")
def test_the_command_shows_warnings_with_quiet_too(no_meddra_version):
    study, out = no_meddra_version
    for args in (["define"], ["define", "-q"]):
        res = CliRunner().invoke(main, [*args, "--study", str(study), "--out", str(out)])
        assert res.exit_code == 0, res.output
        assert f"warning: {WARNING}" in _lines(res.stderr), args
    assert _lines(res.stderr) == [f"warning: {WARNING}"]  # -q: the warning alone


def test_the_library_has_a_null_handler_and_no_level():
    import cdisc_mapper

    root = logging.getLogger(cdisc_mapper.__name__)
    assert any(isinstance(h, logging.NullHandler) for h in root.handlers)
    assert root.level == logging.NOTSET


# ------------------------------------------------------------------------------ command line


@pytest.fixture(scope="module")
def sdtm_runs(demo_raw, tmp_path_factory) -> dict[str, tuple[int, str]]:
    """(exit code, stderr) of ``sdtm`` with each way of giving the options."""
    out = tmp_path_factory.mktemp("cli-logging")
    base = ["sdtm", "--raw", str(demo_raw), "--out", str(out)]
    runs = {
        "default": base,
        "-q before": ["-q", *base],
        "-q after": [*base, "-q"],
        "-v before": ["-v", *base],
        "-v after": [*base, "--verbose"],
        "--debug after": [*base, "--debug"],
    }
    found = {}
    for name, args in runs.items():
        handlers = list(LIBRARY.handlers)
        res = CliRunner().invoke(main, args)
        assert LIBRARY.handlers == handlers and LIBRARY.level == logging.NOTSET  # detached
        found[name] = (res.exit_code, res.stderr)
    return found


def test_progress_keeps_its_wording_by_default(sdtm_runs):
    code, err = sdtm_runs["default"]
    assert code == 0
    lines = _lines(err)
    assert lines[0] == "AE: reading adverse_events" and "DM: reading enrollment" in lines
    assert "SE: subject elements" in lines
    assert re.fullmatch(r"writing \d+ datasets to .*/sdtm", lines[-1])
    assert not [ln for ln in lines if re.search(r"\d+ records", ln)]  # no details


def test_quiet_silences_progress_before_or_after_the_command(sdtm_runs):
    for name in ("-q before", "-q after"):
        code, err = sdtm_runs[name]
        assert (code, err) == (0, ""), name


def test_verbose_and_debug_add_details_before_or_after_the_command(sdtm_runs):
    default = _lines(sdtm_runs["default"][1])
    for name in ("-v before", "-v after", "--debug after"):
        code, err = sdtm_runs[name]
        lines = _lines(err)
        assert code == 0
        assert [ln for ln in lines if ln in default] == default, name  # all of it, in order
        assert "DM: enrollment.csv: 20 rows read, 20 mapped, 0 excluded, 20 records" in lines
        assert any(re.fullmatch(r"DM: 20 records, \d+ variables", ln) for ln in lines), name


def test_the_handler_marks_warnings_and_errors(capsys):
    from cdisc_mapper.cli.progress import _Progress

    handler = _Progress()
    for level, text in ((logging.WARNING, "odd"), (logging.ERROR, "bad"), (logging.INFO, "step")):
        handler.emit(logging.LogRecord("cdisc_mapper.x", level, __file__, 1, text, None, None))
    assert _lines(capsys.readouterr().err) == ["warning: odd", "error: bad", "step"]
