"""Benchmark: validate the CDISC pilot package and the simulated 10,000-subject package.

Usage::

    python benchmarks/bench_validate.py                      # pilot + /tmp/bench_validate
    python benchmarks/bench_validate.py --package /tmp/big   # an existing package
    python benchmarks/bench_validate.py --subjects 2000 --repeat 3 --no-pilot

The CDISC pilot (``../shared/reference/cdisc-pilot-msg2``: SDTM and ADaM with their
define.xml files, WINDOWS-1252) is timed when present. The simulated package is built
with ``cdisc-mapper simulate`` + ``sdtm`` unless ``--package`` points at one
(``PACKAGE/sdtm/*.xpt``). Each run validates in a fresh child process, so its wall time
includes reading every XPT file, and its peak memory (``ru_maxrss`` of the child) is the
validator's alone. The machine may be shared: the CPU time of the child (user + system)
is printed beside the wall time. Prints per-phase timings (read: the small files, and the
headers of the large ones, which are read when checked; checks; reports with
validation.xlsx), the slowest checks (each with the reading of the datasets it used
first), and the finding totals. Target: each under 30 s.

``--csv`` instead runs ``cdisc-mapper validate PACKAGE`` once as a child process (as
``bench_chain.py`` does: wall time, CPU time, peak RSS, load average before and after) and
appends its figures to ``benchmarks/results/validate.csv``; ``--subjects`` names the
package's size there. ``--workers N`` is passed to the command (default: its own, the
cores); the peak is that of the process and its worker processes together (their RSS
summed, sampled every 20 ms); the stage is ``validate-wN`` with ``--workers N``. Run it under
``flock /tmp/bench.lock`` on a shared machine::

    python benchmarks/bench_validate.py --package /tmp/big --subjects 10000 --csv
    python benchmarks/bench_validate.py --package /tmp/big --subjects 10000 --csv --workers 2
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_chain import Figure, append_csv, commit, machine, tree_rss  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "validate.csv"

TARGET_SECONDS = 30.0
PILOT = ROOT.parent / "shared" / "reference" / "cdisc-pilot-msg2"
PILOT_ENCODING = "WINDOWS-1252"


def build(package: Path, subjects: int) -> None:
    """Simulate raw data and map it to SDTM into ``package`` (skipped when present)."""
    if (package / "sdtm" / "dm.xpt").is_file():
        return
    started = time.perf_counter()
    run = [sys.executable, "-m", "cdisc_mapper.cli", "-q"]
    subprocess.run(
        [*run, "simulate", "--out", str(package / "raw"), "--subjects", str(subjects)],
        check=True,
    )
    subprocess.run([*run, "sdtm", "--raw", str(package / "raw"), "--out", str(package)], check=True)
    print(f"built {package} in {time.perf_counter() - started:.1f} s")


def _defines(package: Path) -> list[Path]:
    return [
        p for p in (package / "sdtm" / "define.xml", package / "adam" / "define.xml") if p.is_file()
    ]


def _validate(package: str, encoding: str | None, queue: mp.Queue) -> None:
    from cdisc_mapper.validate import engine, registered_checks, validate_package, write_reports
    from cdisc_mapper.validate.engine import read_package

    timings: dict[str, float] = {}
    cpu_started = time.process_time()
    started = time.perf_counter()
    datasets = read_package(Path(package), encoding=encoding).datasets
    timings["read"] = time.perf_counter() - started
    del datasets

    per_check: dict[str, float] = {}
    on_dataset, on_package = engine.run_on, engine._run_package_check

    def timed(original):
        def run(ctx, check, *args):
            t = time.perf_counter()
            try:
                return original(ctx, check, *args)
            finally:
                seconds = time.perf_counter() - t
                per_check[check.spec.id] = per_check.get(check.spec.id, 0.0) + seconds

        return run

    engine.run_on, engine._run_package_check = timed(on_dataset), timed(on_package)
    started = time.perf_counter()
    defines = _defines(Path(package)) or None
    report = validate_package(Path(package), define=defines, encoding=encoding)
    timings["validate (read + checks)"] = time.perf_counter() - started
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:  # the package may be read-only
        write_reports(report, Path(out))
    timings["reports"] = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(
        {
            "timings": timings,
            "slowest": sorted(per_check.items(), key=lambda kv: -kv[1])[:8],
            "summary": report.summary_line(),
            "records": sum(d.records for d in report.datasets),
            "checks": len(registered_checks()),
            "peak_mb": peak_mb,
            "cpu": cpu,
        }
    )


def run(package: Path, encoding: str | None, repeat: int) -> float:
    """Validate ``package`` ``repeat`` times, each in a fresh child; the worst wall time
    of validation + reports."""
    context = mp.get_context("spawn")
    worst = 0.0
    for i in range(repeat):
        queue: mp.Queue = context.Queue()
        child = context.Process(target=_validate, args=(str(package), encoding, queue))
        started = time.perf_counter()
        child.start()
        result = queue.get()
        child.join()
        wall = time.perf_counter() - started
        timings = result["timings"]
        worst = max(worst, timings["validate (read + checks)"] + timings["reports"])
        print(f"{package} run {i + 1}: {result['records']:,} records, {result['checks']} checks")
        for name, seconds in timings.items():
            print(f"  {name:<26} {seconds:7.2f} s")
        print(f"  {'CPU (user + system)':<26} {result['cpu']:7.2f} s")
        print(f"  {'wall (child process)':<26} {wall:7.2f} s")
        print(f"  {'peak memory (max RSS)':<26} {result['peak_mb']:7.0f} MB")
        print("  slowest checks: " + ", ".join(f"{k} {v:.2f}s" for k, v in result["slowest"]))
        print(f"  {result['summary']}")
    return worst


def run_tree(cmd: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS GiB) of a child process and its worker processes: CPU of
    them all, the peak of their RSS summed."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "946684800")}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):  # 1: findings of --fail-on's severity
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {proc.returncode}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, usage.ru_utime + usage.ru_stime, peak / 1024**3


def measure(package: Path, subjects: int, workers: int | None = None) -> Figure:
    """``cdisc-mapper validate package`` as one child process: its figures."""
    cores, memory, python = machine()
    before = os.getloadavg()[0]
    command = [sys.executable, "-m", "cdisc_mapper.cli", "-q", "validate", str(package)]
    if workers is not None:
        command += ["--workers", str(workers)]
    wall, cpu, peak = run_tree([*command, "--fail-on", "error"])
    after = os.getloadavg()[0]
    print(
        f"validate {package}: wall {wall:.1f} s  CPU {cpu:.1f} s  peak {peak:.2f} GiB  "
        f"load {before:.1f}->{after:.1f}"
    )
    return Figure(
        date=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        commit=commit(),
        subjects=subjects,
        stage="validate" if workers is None else f"validate-w{workers}",
        wall_s=round(wall, 1),
        cpu_s=round(cpu, 1),
        peak_rss_gib=round(peak, 2),
        load_before=round(before, 2),
        load_after=round(after, 2),
        cores=cores,
        memory_gib=round(memory, 1),
        python=python,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, default=Path("/tmp/bench_validate"))
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-pilot", action="store_true", help="skip the CDISC pilot")
    parser.add_argument("--csv", type=Path, nargs="?", const=RESULTS, help="append to this CSV")
    parser.add_argument("--workers", type=int, default=None, help="validate --workers (--csv)")
    args = parser.parse_args()
    if args.csv:
        append_csv(args.csv, [measure(args.package, args.subjects, args.workers)])
        return 0
    cases: list[tuple[Path, str | None]] = []
    if PILOT.is_dir() and not args.no_pilot:
        cases.append((PILOT, PILOT_ENCODING))
    build(args.package, args.subjects)
    cases.append((args.package, None))
    failed = 0
    for package, encoding in cases:
        worst = run(package, encoding, args.repeat)
        status = "OK" if worst < TARGET_SECONDS else "TOO SLOW"
        failed += worst >= TARGET_SECONDS
        print(f"{status}: {package.name} {worst:.1f} s (target < {TARGET_SECONDS:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
