"""Benchmark: ADaM (ADSL and ADVS with derived parameters and visit averages) of the
pilot-like study in tests/data/pilot_study on about 30,000 VS records.

Usage::

    python benchmarks/bench_advs.py                  # 30,000 VS records (1,820 subjects)
    python benchmarks/bench_advs.py --copies 100     # 400 subjects

The raw forms of tests/data/pilot_raw (4 subjects) are copied ``--copies`` times, each copy
under new subject numbers (site 701 subject 1901 becomes 701-00011901 in copy 1), then
mapped to SDTM with tests/data/pilot_study (in a child process, so its memory does not
count), into ``benchmarks/out/advs_<copies>/`` (git-ignored), reused by later runs. ADaM
then runs in a fresh child process (``spawn``), which reports its wall time, CPU time and
peak resident memory. Target (issue 13): a few seconds for 30,000 VS records (admiral's
ad_advs.R template takes about 30 s for the same records on this machine).
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

import pyreadstat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STUDY = ROOT / "tests" / "data" / "pilot_study"
RAW = ROOT / "tests" / "data" / "pilot_raw"
TARGET_SECONDS = 5.0


def scale_raw(copies: int, out: Path) -> None:
    """Every raw form of tests/data/pilot_raw, its rows repeated ``copies`` times, copy k's
    subjects numbered ``<site>-<k:04d><subject>``."""
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(RAW.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        header, body = rows[0], rows[1:]
        at = header.index("PATNUM")
        with (out / path.name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            for k in range(1, copies + 1):
                for row in body:
                    site, subject = row[at].split("-")
                    writer.writerow([*row[:at], f"{site}-{k:04d}{subject}", *row[at + 1 :]])


def _make_sdtm(copies: int, work: Path, queue: mp.Queue) -> None:
    try:
        from cdisc_mapper.sdtm.pipeline import run_sdtm

        scale_raw(copies, work / "raw")
        run_sdtm(STUDY, work / "raw", work)
        queue.put(None)
    except Exception as exc:  # reported by the parent
        queue.put(f"{type(exc).__name__}: {exc}")


def _run_adam(sdtm: Path, out: Path, queue: mp.Queue) -> None:
    from cdisc_mapper.adam import run_adam

    start = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    result = run_adam(STUDY, sdtm, out)
    wall = time.perf_counter() - start
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    queue.put(
        {
            "wall_s": wall,
            "user_s": cpu.ru_utime - cpu0.ru_utime,
            "peak_rss_gib": cpu.ru_maxrss / 1024**2,
            "rows": {n: len(d.frame) for n, d in result.datasets.items()},
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=455, help="copies of the 4 subjects")
    args = parser.parse_args()
    work = ROOT / "benchmarks" / "out" / f"advs_{args.copies}"
    sdtm = work / "sdtm"
    ctx = mp.get_context("spawn")
    if not (sdtm / "vs.xpt").is_file():
        print(f"mapping {4 * args.copies} subjects to SDTM in {work} ...", flush=True)
        q: mp.Queue = ctx.Queue()
        p = ctx.Process(target=_make_sdtm, args=(args.copies, work, q))
        p.start()
        err = q.get()
        p.join()
        if err is not None:
            print(f"SDTM stage failed: {err}", file=sys.stderr)
            return 2
    q = ctx.Queue()
    p = ctx.Process(target=_run_adam, args=(sdtm, work / "out", q))
    p.start()
    figures = q.get()
    p.join()
    if p.exitcode != 0:
        print("ADaM run failed", file=sys.stderr)
        return 1
    vs, _ = pyreadstat.read_xport(str(sdtm / "vs.xpt"), usecols=["USUBJID"])
    print(f"ADaM of {len(vs):,} SDTM VS records ({4 * args.copies} subjects)")
    for name, n in figures["rows"].items():
        print(f"  {name:<8} {n:>9,} records")
    print(f"  wall time: {figures['wall_s']:.2f} s (target < {TARGET_SECONDS:.0f} s)")
    print(f"  CPU time:  {figures['user_s']:.2f} s user")
    print(f"  peak RSS:  {figures['peak_rss_gib']:.2f} GiB")
    return 0 if figures["wall_s"] < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
