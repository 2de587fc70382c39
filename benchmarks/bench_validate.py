"""Benchmark: validate the simulated 10,000-subject SDTM package.

Usage::

    python benchmarks/bench_validate.py                      # builds /tmp/bench_validate
    python benchmarks/bench_validate.py --package /tmp/big   # an existing package
    python benchmarks/bench_validate.py --subjects 2000 --repeat 3

Builds the package with ``cdisc-mapper simulate`` + ``sdtm`` unless ``--package`` points
at one (``PACKAGE/sdtm/*.xpt``). Each run validates in a fresh child process, so its
wall time includes reading every XPT file, and its peak memory (``ru_maxrss`` of the
child) is the validator's alone. Prints per-phase timings (read, checks, reports), the
slowest checks, and the finding totals. Target: under 60 s for 10,000 subjects.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 60.0


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


def _validate(package: str, queue: mp.Queue) -> None:
    from cdisc_mapper.validate import engine, registered_checks, validate_package, write_reports
    from cdisc_mapper.validate.engine import load_package

    timings: dict[str, float] = {}
    started = time.perf_counter()
    _, datasets = load_package(Path(package))
    timings["read"] = time.perf_counter() - started
    del datasets

    per_check: dict[str, float] = {}
    original = engine._run_check

    def timed(ctx, spec, internal):
        t = time.perf_counter()
        try:
            return original(ctx, spec, internal)
        finally:
            per_check[spec.id] = time.perf_counter() - t

    engine._run_check = timed
    started = time.perf_counter()
    report = validate_package(Path(package))
    timings["validate (read + checks)"] = time.perf_counter() - started
    started = time.perf_counter()
    write_reports(report, Path(package) / "reports")
    timings["reports"] = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(
        {
            "timings": timings,
            "slowest": sorted(per_check.items(), key=lambda kv: -kv[1])[:8],
            "summary": report.summary_line(),
            "records": sum(d.records for d in report.datasets),
            "checks": len(registered_checks()),
            "peak_mb": peak_mb,
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, default=Path("/tmp/bench_validate"))
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    build(args.package, args.subjects)
    context = mp.get_context("spawn")
    worst = 0.0
    for i in range(args.repeat):
        queue: mp.Queue = context.Queue()
        child = context.Process(target=_validate, args=(str(args.package), queue))
        started = time.perf_counter()
        child.start()
        result = queue.get()
        child.join()
        wall = time.perf_counter() - started
        worst = max(worst, result["timings"]["validate (read + checks)"])
        print(f"run {i + 1}: {result['records']:,} records, {result['checks']} checks")
        for name, seconds in result["timings"].items():
            print(f"  {name:<26} {seconds:7.2f} s")
        print(f"  {'wall (child process)':<26} {wall:7.2f} s")
        print(f"  {'peak memory (max RSS)':<26} {result['peak_mb']:7.0f} MB")
        print("  slowest checks: " + ", ".join(f"{k} {v:.2f}s" for k, v in result["slowest"]))
        print(f"  {result['summary']}")
    status = "OK" if worst < TARGET_SECONDS else "TOO SLOW"
    print(f"{status}: validation {worst:.1f} s (target < {TARGET_SECONDS:.0f} s)")
    return 0 if worst < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
