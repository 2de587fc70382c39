"""Benchmark: define.xml (SDTM and ADaM) for a large package.

Usage::

    python benchmarks/bench_define.py --package /tmp/big       # PACKAGE/sdtm, PACKAGE/adam
    python benchmarks/bench_define.py --package /tmp/big --profile 25

The package is one ``cdisc-mapper sdtm`` + ``adam`` wrote (make one with
``python benchmarks/bench_sdtm.py --subjects 10000 --out /tmp/big`` and
``python benchmarks/bench_adam.py --sdtm /tmp/big/sdtm --work /tmp/big``, then put
``sdtm/`` and ``adam/`` side by side). ``cdisc-mapper define`` rewrites only its own files
there (define.xml, define.html, define2-1.xsl, acrf.pdf). It runs in a fresh child process
(``spawn``), which reports its wall time, CPU time (user + system) and peak resident memory
(``ru_maxrss`` of that process, or of its largest worker with ``--workers N``, whose CPU
time is counted too); ``--profile N`` prints the N costliest functions
(cProfile, cumulative) instead of timing. ``--csv`` appends the figures (with the load
average before and after, as ``bench_chain.py`` records them) to
``benchmarks/results/define.csv``; ``--subjects`` names the package's size there. Target
(issue 19): under 5 s CPU and 0.5 GiB for 10,000 subjects. Run it under
``flock /tmp/bench.lock`` on a shared machine.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import multiprocessing as mp
import os
import pstats
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_chain import Figure, append_csv, commit, machine  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "define.csv"
TARGET_SECONDS = 5.0
TARGET_GIB = 0.5


def _define(package: str, raw: str | None, workers: int = 1) -> None:
    from cdisc_mapper.define import write_define

    write_define(
        ROOT / "mappings" / "als_msc",
        Path(package),
        progress=lambda _: None,
        raw_dir=Path(raw) if raw else None,
        workers=workers,
    )


def _timed(package: str, raw: str | None, workers: int, queue: mp.Queue) -> None:
    """Wall, CPU (this process and its workers) and peak RSS (the largest process)."""
    cpu = time.process_time()
    started = time.perf_counter()
    _define(package, raw, workers)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    workers_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers_cpu = workers_usage.ru_utime + workers_usage.ru_stime
    queue.put(
        {
            "wall_s": round(wall, 2),
            "cpu_s": round(time.process_time() - cpu + workers_cpu, 2),
            "workers_cpu_s": round(workers_cpu, 2),
            "peak_gib": round(max(usage.ru_maxrss, workers_usage.ru_maxrss) / 2**20, 3),
        }
    )


def _profiled(package: str, raw: str | None, top: int, queue: mp.Queue) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(_define, package, raw)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    queue.put({"profile": out.getvalue()})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, required=True)
    parser.add_argument("--raw", type=Path, help="raw folder, for the generated aCRF")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--csv", type=Path, nargs="?", const=RESULTS, help="append to this CSV")
    parser.add_argument("--subjects", type=int, default=0, help="subjects in the package")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (CPU and peak count them)"
    )
    args = parser.parse_args()
    raw = str(args.raw) if args.raw else None
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    if args.profile:
        target, call = _profiled, (str(args.package), raw, args.profile, queue)
    else:
        target, call = _timed, (str(args.package), raw, args.workers, queue)
    load_before = os.getloadavg()[0]
    child = ctx.Process(target=target, args=call)
    child.start()
    result = queue.get()
    child.join()
    load_after = os.getloadavg()[0]
    if args.profile:
        print(result["profile"])
        return 0
    met = result["cpu_s"] < TARGET_SECONDS and result["peak_gib"] < TARGET_GIB
    print(f"define.xml for {args.package}")
    print(f"  wall time:  {result['wall_s']:.1f} s")
    print(f"  CPU time:   {result['cpu_s']:.1f} s   (target < {TARGET_SECONDS:.0f} s)")
    print(f"  of which workers ({args.workers}): {result['workers_cpu_s']:.1f} s")
    print(f"  peak RSS:   {result['peak_gib']:.2f} GiB (target < {TARGET_GIB} GiB)")
    print(f"  targets met: {'yes' if met else 'NO'}")
    print(f"  load average: {load_before:.1f} -> {load_after:.1f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if args.csv:
        append_csv(args.csv, [_figure(result, args.subjects, load_before, load_after)])
    return 0


def _figure(result: dict, subjects: int, load_before: float, load_after: float) -> Figure:
    cores, memory, python = machine()
    return Figure(
        date=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        commit=commit(),
        subjects=subjects,
        stage="define",
        wall_s=result["wall_s"],
        cpu_s=result["cpu_s"],
        peak_rss_gib=result["peak_gib"],
        load_before=round(load_before, 2),
        load_after=round(load_after, 2),
        cores=cores,
        memory_gib=round(memory, 1),
        python=python,
    )


if __name__ == "__main__":
    raise SystemExit(main())
