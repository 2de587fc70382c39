"""Hostile runs: simulate and demo pointed at real exports, an --out another run holds
(or a dead run left locked), a stage that fails half-way through writing, and the
debris of killed runs (stray temporary files, staging folders, a publication cut in
the middle). The previous package always stays as it was."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cdisc_mapper.cli.demo import _check_demo_folder
from cdisc_mapper.publish import HOST, LOCK_FILE, OutputFolderError, is_temporary, private_name
from cdisc_mapper.sdtm.pipeline import run_sdtm
from cdisc_mapper.simulate import simulate
from cdisc_mapper.simulate.writer import foreign_entries
from cdisc_mapper.xpt import XptVariable, write_xpt
from tests.hostile.catalogue import Case, Workspace, run_case

REAL_ENROLLMENT = "PT_ID,ICF_DATE\nREAL-001,2016-01-02\n"
SDTM = ["sdtm", "--study", "{study}", "--raw", "{raw}", "--out", "{out}"]
OLD_PACKAGE = {"dm.xpt": "old dm", "reconciliation.csv": "old", "define.xml": "<old/>"}


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def dead_group() -> str:
    return f"{HOST}-{dead_pid()}-0badc0de"


def put(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def files_of(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


def holds(part: str, expected: dict[str, str | None]):  # type: ignore[no-untyped-def]
    """An ``after`` check: ``out/part`` holds exactly these files (None: any content)."""

    def check(ws: Workspace) -> None:
        found = files_of(ws.out / part)
        assert sorted(found) == sorted(expected), found
        for name, text in expected.items():
            assert text is None or found[name] == text, name

    return check


def no_temporaries(ws: Workspace) -> None:
    left = [str(p) for p in ws.tmp.rglob("*") if is_temporary(p.name) or p.name == LOCK_FILE]
    assert not left, f"left behind: {left}"


def lock(pid: int | None = None, host: str | None = None, text: str | None = None):  # type: ignore[no-untyped-def]
    def prepare(ws: Workspace) -> None:
        ws.out.mkdir(parents=True, exist_ok=True)
        owner = {
            "pid": pid if pid is not None else dead_pid(),
            "host": host or socket.gethostname(),
            "command": "adam",
            "started": "2024-05-01T09:00:00+00:00",
        }
        (ws.out / LOCK_FILE).write_text(text or json.dumps(owner), encoding="utf-8")

    return prepare


def lock_kept(ws: Workspace) -> None:
    assert (ws.out / LOCK_FILE).exists(), "another run's lock is not removed"
    assert not (ws.out / "sdtm").exists(), "nothing written"


def fresh_package(ws: Workspace) -> None:
    assert (ws.out / "sdtm" / "dm.xpt").stat().st_size > 1000
    assert sorted(p.name for p in ws.out.iterdir()) == ["sdtm"]
    no_temporaries(ws)


# ---------------------------------------------------------------------- simulate, demo


def real_export(ws: Workspace) -> None:
    put(ws.out, {"enrollment.csv": REAL_ENROLLMENT, "notes.txt": "site notes"})


def real_export_untouched(ws: Workspace) -> None:
    assert files_of(ws.out) == {"enrollment.csv": REAL_ENROLLMENT, "notes.txt": "site notes"}


def forced_over_real_export(ws: Workspace) -> None:
    assert (ws.out / "enrollment.csv").read_text().startswith("SITE_NO,PT_ID,")
    assert (ws.out / "notes.txt").read_text() == "site notes", "other files are kept"
    assert json.loads((ws.out / "manifest.json").read_text())["subjects"] == 2
    no_temporaries(ws)


def edited_simulation(ws: Workspace) -> None:
    simulate(ws.out, 2)
    with (ws.out / "labs.csv").open("a", encoding="utf-8") as fh:
        fh.write("001,Screening,14/01/2016,,WBC,99,x10^9/l,4.5,11.0,,\n")


def demo_with_real_raw(ws: Workspace) -> None:
    put(ws.out / "raw", {"enrollment.csv": REAL_ENROLLMENT})


def demo_with_notes(ws: Workspace) -> None:
    put(ws.out, {"notes.txt": "keep me"})


def demo_forced(ws: Workspace) -> None:
    names = sorted(p.name for p in ws.out.iterdir())
    assert names == ["adam", "notes.txt", "raw", "reports", "sdtm"], names
    assert (ws.out / "notes.txt").read_text() == "keep me"
    no_temporaries(ws)


# ---------------------------------------------------------------------- failures, debris


def old_package(ws: Workspace) -> None:
    put(ws.out / "sdtm", OLD_PACKAGE)


def old_package_untouched(ws: Workspace) -> None:
    assert sorted(p.name for p in ws.out.iterdir()) == ["sdtm"]
    assert files_of(ws.out / "sdtm") == OLD_PACKAGE
    no_temporaries(ws)


def old_package_and_unwritable_lab_reason(ws: Workspace) -> None:
    """LBREASND with a character XPORT v5 cannot hold: the LB file fails after AE, CM,
    DM... were written."""
    old_package(ws)
    labs = pd.read_csv(ws.raw / "labs.csv", dtype=str, keep_default_na=False)
    labs.loc[labs["NOT_DONE"].ne(""), "ND_REASON"] = "Échantillon perdu"
    assert labs["NOT_DONE"].ne("").any()
    labs.to_csv(ws.raw / "labs.csv", index=False, lineterminator="\n")


def package_with_unknown_adam_dataset(ws: Workspace) -> None:
    """A real SDTM package with its old define.xml, and an ADaM dataset no spec has: the
    SDTM define is built, then the ADaM one fails."""
    run_sdtm(ws.study, ws.raw, ws.out)
    put(ws.out / "sdtm", {"define.xml": "<old/>"})
    (ws.out / "adam").mkdir()
    frame = pd.DataFrame({"STUDYID": ["S1"], "USUBJID": ["S1-001"]})
    variables = [XptVariable("STUDYID", "Study", "Char"), XptVariable("USUBJID", "Subject", "Char")]
    write_xpt(frame, ws.out / "adam" / "adxx.xpt", dataset="ADXX", label="X", variables=variables)


def old_defines_untouched(ws: Workspace) -> None:
    assert (ws.out / "sdtm" / "define.xml").read_text() == "<old/>"
    assert not (ws.out / "sdtm" / "define.html").exists()
    assert not (ws.out / "adam" / "define.xml").exists()
    no_temporaries(ws)


def debris_of_killed_run(ws: Workspace) -> None:
    group = dead_group()
    put(
        ws.out / "sdtm",
        {
            **OLD_PACKAGE,
            "zz.xpt": "a dataset the spec no longer makes",
            ".lb.xpt.tmp": "half a file (earlier versions' name)",
            f".vs.xpt.cdisc-mapper-{group}.tmp": "half a file",
        },
    )
    put(ws.out / private_name("sdtm", group, "new"), {"ae.xpt": "half a package"})
    lock(pid=int(group.split("-")[1]))(ws)


def debris_cleaned(ws: Workspace) -> None:
    assert sorted(p.name for p in ws.out.iterdir()) == ["sdtm"]
    names = sorted(p.name for p in (ws.out / "sdtm").iterdir())
    assert "zz.xpt" not in names, "the stage replaces its whole package"
    assert (ws.out / "sdtm" / "define.xml").read_text() == "<old/>", "not the stage's file"
    assert (ws.out / "sdtm" / "dm.xpt").read_bytes() != b"old dm"
    no_temporaries(ws)


def publication_cut_in_the_middle(ws: Workspace) -> None:
    """Killed between moving the old sdtm/ aside and moving the new one in."""
    group = dead_group()
    ws.out.mkdir()
    put(ws.out / private_name("sdtm", group, "old"), OLD_PACKAGE)
    put(ws.out / private_name("sdtm", group, "new"), {"dm.xpt": "new, never shown"})
    lock(pid=int(group.split("-")[1]))(ws)


CASES = [
    # simulate and demo never replace what they did not write
    Case(
        "simulate-into-a-real-export",
        ["simulate", "--out", "{out}", "--subjects", "2"],
        prepare=real_export,
        message="holds files simulate did not write or that changed since (enrollment.csv, "
        "notes.txt)",
        after=real_export_untouched,
    ),
    Case(
        "simulate-refusal-says-force",
        ["simulate", "--out", "{out}", "--subjects", "2"],
        prepare=real_export,
        message="or pass --force to replace the forms and manifest.json there and keep the rest",
        after=real_export_untouched,
    ),
    Case(
        "simulate-force-replaces-forms-keeps-the-rest",
        ["simulate", "--out", "{out}", "--subjects", "2", "--force"],
        prepare=real_export,
        exit_code=0,
        after=forced_over_real_export,
    ),
    Case(
        "simulate-into-an-edited-simulation",
        ["simulate", "--out", "{out}", "--subjects", "2"],
        prepare=edited_simulation,
        message="(labs.csv)",
    ),
    Case(
        "demo-into-a-folder-with-other-files",
        ["demo", "--out", "{out}", "--subjects", "1"],
        prepare=demo_with_notes,
        message="is not a demo output (notes.txt, raw/ missing or not a simulated export); "
        "demo replaces raw/, sdtm/, adam/ and reports/ there (choose a new or empty folder, "
        "or pass --force",
        after=holds("", {"notes.txt": "keep me"}),
    ),
    Case(
        "demo-over-a-real-raw-export",
        ["demo", "--out", "{out}", "--subjects", "1"],
        prepare=demo_with_real_raw,
        message="(raw/ missing or not a simulated export)",
        after=holds("raw", {"enrollment.csv": REAL_ENROLLMENT}),
    ),
    Case(
        "demo-force-keeps-other-files",
        ["demo", "--out", "{out}", "--subjects", "2", "--force"],
        prepare=demo_with_notes,
        exit_code=0,
        after=demo_forced,
    ),
    # one run per --out
    Case(
        "out-locked-by-a-live-run",
        SDTM,
        prepare=lock(pid=1),
        message=f"the output folder is in use by another run `adam` (pid 1 on "
        f"{socket.gethostname()}, since 2024-05-01T09:00:00+00:00) (wait for it to finish; "
        "if no such run is alive, delete",
        after=lock_kept,
    ),
    Case(
        "out-locked-by-a-dead-run",
        SDTM,
        prepare=lock(),
        exit_code=0,
        message="took over the stale lock of run `adam`",
        after=fresh_package,
    ),
    Case(
        "out-locked-on-another-host",
        SDTM,
        prepare=lock(host="build-server-7"),
        message="on build-server-7",
        after=lock_kept,
    ),
    Case(
        "out-locked-without-a-readable-owner",
        SDTM,
        prepare=lock(text="{half"),
        message="in use by another run (its lock file names no readable owner)",
        after=lock_kept,
    ),
    Case(
        "validate-on-a-locked-package",
        ["validate", "{out}"],
        prepare=lock(pid=1),
        message="in use by another run `adam`",
        after=holds("", {LOCK_FILE: None}),
    ),
    # a stage failing half-way leaves the previous package
    Case(
        "sdtm-fails-while-writing",
        SDTM,
        prepare=old_package_and_unwritable_lab_reason,
        message="sdtm/lb.xpt, column LBREASND",
        never=[".cdisc-mapper-"],
        after=old_package_untouched,
    ),
    Case(
        "define-fails-after-the-sdtm-define",
        ["define", "--study", "{study}", "--out", "{out}"],
        prepare=package_with_unknown_adam_dataset,
        message="no ADaM spec describes dataset ADXX",
        after=old_defines_untouched,
    ),
    # what killed runs leave behind
    Case(
        "stray-temporary-files-of-a-killed-run",
        SDTM,
        prepare=debris_of_killed_run,
        exit_code=0,
        message="took over the stale lock",
        after=debris_cleaned,
    ),
    Case(
        "publication-cut-in-the-middle-is-rolled-back",
        ["sdtm", "--study", "{study}", "--raw", "{tmp}/nowhere", "--out", "{out}"],
        prepare=publication_cut_in_the_middle,
        message="raw file for form",
        after=old_package_untouched,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hostile_run(case: Case, workspace: Workspace) -> None:
    assert run_case(case, workspace) == []


def test_a_demo_output_is_recognised(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    simulate(out / "raw", 2)
    for part in ("sdtm", "adam", "reports"):
        (out / part).mkdir()
    (out / LOCK_FILE).write_text("{}")
    _check_demo_folder(out)  # its own output: no error
    (out / "raw" / "manifest.json").write_text("{}")
    with pytest.raises(OutputFolderError, match="not a demo output"):
        _check_demo_folder(out)


def test_simulate_recognises_its_own_folder(tmp_path: Path) -> None:
    simulate(tmp_path / "raw", 2)
    (tmp_path / "raw" / LOCK_FILE).write_text("{}")
    assert foreign_entries(tmp_path / "raw") == []
    simulate(tmp_path / "raw", 3, seed=5)  # replaces its own output without --force
    manifest = json.loads((tmp_path / "raw" / "manifest.json").read_text())
    assert (manifest["subjects"], manifest["seed"]) == (3, 5)
    (tmp_path / "raw" / "vitals.csv").write_text("edited")
    (tmp_path / "raw" / "extra.csv").write_text("")
    assert foreign_entries(tmp_path / "raw") == ["extra.csv", "vitals.csv"]
