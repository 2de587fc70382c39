"""Benchmark (not a test): the whole chain, stage by stage, on a simulated study.

Usage::

    python benchmarks/bench_chain.py --subjects 1000 10000
    python benchmarks/bench_chain.py --subjects 1000 --stages sdtm,adam --csv out.csv
    python benchmarks/bench_chain.py --subjects 10000 --stages sdtm \
        --raw /work/bench-data/raw10k --sdtm-args "--part-subjects 0" --label serial

For each number of subjects the study is simulated (``simulate``), then ``sdtm``,
``adam``, ``define`` and ``validate`` run one after the other, each as its own
``cdisc-mapper`` child process. Every stage's wall time, CPU time (user + system of the
child and its workers) and peak resident memory (the child's and its workers' summed, sampled)
are appended to a CSV (default ``benchmarks/results/chain.csv``) together with the
machine (cores, memory, Python) and the 1-minute load average before and after the
stage: on a shared machine wall time grows with the load, CPU time much less.
``--raw`` reuses a simulated raw folder (read only) instead of simulating; ``--sdtm-args``
adds options to the sdtm stage (e.g. ``--part-subjects 0`` for the study mapped whole,
``--workers 2``; ``--adam-args`` likewise for adam), recorded with ``--label`` in the
CSV's ``variant`` column.
Outputs go to ``benchmarks/out/chain_<n>/`` (git-ignored); ``SOURCE_DATE_EPOCH`` is
fixed so reruns write identical files.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("simulate", "sdtm", "adam", "define", "validate")
FIELDS = (
    "date",
    "commit",
    "subjects",
    "stage",
    "wall_s",
    "cpu_s",
    "peak_rss_gib",
    "load_before",
    "load_after",
    "cores",
    "memory_gib",
    "python",
    "variant",
)


@dataclass(frozen=True)
class Figure:
    """One stage's figures."""

    date: str
    commit: str
    subjects: int
    stage: str
    wall_s: float
    cpu_s: float
    peak_rss_gib: float
    load_before: float
    load_after: float
    cores: int
    memory_gib: float
    python: str
    variant: str = ""


@dataclass(frozen=True)
class Options:
    """Where the raw data are (None: simulated into the work folder), extra sdtm
    options, and the label of the run."""

    raw: Path | None = None
    sdtm_args: tuple[str, ...] = ()
    label: str = ""
    adam_args: tuple[str, ...] = ()


def stage_command(stage: str, subjects: int, work: Path, options: Options = Options()) -> list[str]:
    """The ``cdisc-mapper`` command line of ``stage``."""
    exe = [sys.executable, "-m", "cdisc_mapper.cli", "-q"]
    raw, out = options.raw or work / "raw", work / "out"
    if stage == "simulate":
        return [*exe, "simulate", "--out", str(raw), "--subjects", str(subjects)]
    if stage == "sdtm":
        return [*exe, "sdtm", "--raw", str(raw), "--out", str(out), *options.sdtm_args]
    if stage == "adam":
        return [*exe, "adam", "--sdtm", str(out / "sdtm"), "--out", str(out), *options.adam_args]
    if stage == "define":
        return [*exe, "define", "--out", str(out), "--raw", str(raw)]
    if stage == "validate":
        return [*exe, "validate", str(out), "--fail-on", "error"]
    raise ValueError(f"unknown stage {stage!r}; choose from {', '.join(STAGES)}")


def run_child(cmd: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS GiB) of one child process and its worker processes: the
    CPU of them all (the child waits for its workers), and the peak of their resident
    memory summed, sampled every 50 ms (at least the largest process's ``ru_maxrss``)."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "946684800")}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    # validate exits 1 when it finds errors (still a measured run); any other stage's
    # non-zero exit is a failed run, not a figure
    allowed = (0, 1) if "validate" in cmd else (0,)
    if proc.returncode not in allowed:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, max(peak[0] / 1024**3, usage.ru_maxrss / 1024**2)


def tree_rss(pid: int) -> int:
    """The resident bytes of process ``pid`` and its descendants (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    family, grown = {pid}, True
    while grown:
        more = {child for child, parent in parents.items() if parent in family} - family
        family |= more
        grown = bool(more)
    total = 0
    for member in family:
        try:
            total += int(Path(f"/proc/{member}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total * os.sysconf("SC_PAGE_SIZE")


def machine() -> tuple[int, float, str]:
    """(cores, memory GiB, Python version) of this machine."""
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return os.cpu_count() or 0, pages / 1024**3, platform.python_version()


def commit() -> str:
    """The checked-out commit (short), or ``?`` outside a git work tree."""
    result = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "?"


def bench(
    subjects: int, stages: list[str], work: Path, options: Options = Options()
) -> list[Figure]:
    """Run ``stages`` in order on ``subjects`` simulated subjects."""
    if "simulate" in stages:
        shutil.rmtree(work, ignore_errors=True)
    cores, memory, python = machine()
    figures = []
    for stage in stages:
        before = os.getloadavg()[0]
        wall, cpu, peak = run_child(stage_command(stage, subjects, work, options))
        figure = Figure(
            date=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
            commit=commit(),
            subjects=subjects,
            stage=stage,
            wall_s=round(wall, 1),
            cpu_s=round(cpu, 1),
            peak_rss_gib=round(peak, 2),
            load_before=round(before, 2),
            load_after=round(os.getloadavg()[0], 2),
            cores=cores,
            memory_gib=round(memory, 1),
            python=python,
            variant=options.label,
        )
        print(
            f"{subjects:>7} {stage:<9} wall {wall:7.1f} s  CPU {cpu:7.1f} s  "
            f"peak {peak:5.2f} GiB  load {before:.1f}->{figure.load_after:.1f}",
            flush=True,
        )
        figures.append(figure)
    return figures


def append_csv(path: Path, figures: list[Figure]) -> None:
    """Append ``figures`` to ``path`` (with a header row when new; an older file keeps
    its columns)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    fields = list(FIELDS)
    if not new:
        with path.open(encoding="utf-8") as handle:
            fields = next(csv.reader(handle), fields)
    with path.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        if new:
            writer.writeheader()
        for figure in figures:
            writer.writerow(asdict(figure))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subjects", type=int, nargs="+", default=[1000])
    parser.add_argument(
        "--stages",
        default=",".join(STAGES),
        help="comma-separated stages to run, in chain order (default: all); without "
        "simulate, the raw data and earlier outputs in the work folder are reused",
    )
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--csv", type=Path, default=ROOT / "benchmarks" / "results" / "chain.csv")
    parser.add_argument("--raw", type=Path, default=None, help="reuse this raw folder")
    parser.add_argument("--sdtm-args", default="", help="extra options of the sdtm stage")
    parser.add_argument("--adam-args", default="", help="extra options of the adam stage")
    parser.add_argument("--label", default="", help="the run's variant, in the CSV")
    args = parser.parse_args()
    options = Options(
        args.raw, tuple(args.sdtm_args.split()), args.label, tuple(args.adam_args.split())
    )
    if args.raw is not None and "simulate" in args.stages:
        parser.error("--raw reuses simulated data: leave simulate out of --stages")
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        parser.error(f"unknown stages {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    for subjects in args.subjects:
        figures = bench(subjects, stages, args.work / f"chain_{subjects}", options)
        append_csv(args.csv, figures)
        chain = [f for f in figures if f.stage != "simulate"]
        print(
            f"{subjects:>7} chain     wall {sum(f.wall_s for f in chain):7.1f} s  "
            f"CPU {sum(f.cpu_s for f in chain):7.1f} s  "
            f"peak {max((f.peak_rss_gib for f in chain), default=0):5.2f} GiB",
            flush=True,
        )
    print(f"figures appended to {args.csv}")


if __name__ == "__main__":
    main()
