"""Benchmark: ADaM (every dataset of mappings/als_msc/adam and the progression summary) on a
large simulated study.

Usage::

    python benchmarks/bench_adam.py                      # 10,000 subjects
    python benchmarks/bench_adam.py --subjects 2000
    python benchmarks/bench_adam.py --sdtm /tmp/big/sdtm # reuse an SDTM folder

Without ``--sdtm`` the study is simulated and mapped to SDTM first (in a child process, so
that its memory does not count), into ``benchmarks/out/adam_<n>/`` (git-ignored), reused
by later runs. ADaM then runs in a fresh child process (``spawn``), which reports its wall
time, CPU time and peak resident memory (``ru_maxrss`` of that process). Targets: under
60 s and under 4 GiB for 10,000 subjects.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STUDY = ROOT / "mappings" / "als_msc"
TARGET_SECONDS = 60.0
TARGET_GIB = 4.0


def _make_sdtm(subjects: int, work: Path, seed: int | None, queue: mp.Queue) -> None:
    try:
        from cdisc_mapper.sdtm.pipeline import run_sdtm
        from cdisc_mapper.simulate import simulate

        kwargs = {} if seed is None else {"seed": seed}
        simulate(work / "raw", subjects, **kwargs)
        run_sdtm(STUDY, work / "raw", work)
        queue.put(None)
    except Exception as exc:  # reported by the parent
        queue.put(f"{type(exc).__name__}: {exc}")


def _run_adam(sdtm: Path, out: Path, queue: mp.Queue) -> None:
    from cdisc_mapper.adam import run_adam

    steps: list[tuple[float, str]] = []
    start = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    result = run_adam(
        STUDY, sdtm, out, progress=lambda m: steps.append((time.perf_counter() - start, m))
    )
    wall = time.perf_counter() - start
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    queue.put(
        {
            "wall_s": wall,
            "user_s": cpu.ru_utime - cpu0.ru_utime,
            "sys_s": cpu.ru_stime - cpu0.ru_stime,
            "peak_rss_gib": cpu.ru_maxrss / 1024**2,  # KiB on Linux
            "steps": steps,
            "rows": {n: len(d.frame) for n, d in result.datasets.items()},
            "columns": {n: len(d.variables) for n, d in result.datasets.items()},
            "files_mb": sum(p.stat().st_size for p in result.files) / 1e6,
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--sdtm", type=Path, default=None, help="existing SDTM folder (skip simulation)"
    )
    parser.add_argument("--work", type=Path, default=None, help="default: benchmarks/out/adam_<n>")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    work = args.work or ROOT / "benchmarks" / "out" / f"adam_{args.subjects}"
    sdtm = args.sdtm
    if sdtm is None:
        sdtm = work / "sdtm"
        if not (sdtm / "qs.xpt").is_file():
            print(
                f"simulating {args.subjects} subjects and mapping them to SDTM in {work} ...",
                flush=True,
            )
            t0 = time.perf_counter()
            q: mp.Queue = mp.get_context("spawn").Queue()
            p = mp.get_context("spawn").Process(
                target=_make_sdtm, args=(args.subjects, work, args.seed, q)
            )
            p.start()
            err = q.get()
            p.join()
            if err is not None:
                print(f"SDTM stage failed: {err}", file=sys.stderr)
                print("pass --sdtm with an SDTM folder built another way", file=sys.stderr)
                return 2
            print(f"  SDTM ready in {time.perf_counter() - t0:.1f} s", flush=True)
    out = work / "out"
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_run_adam, args=(sdtm, out, q))
    p.start()
    figures = q.get()
    p.join()
    if p.exitcode != 0:
        print("ADaM run failed", file=sys.stderr)
        return 1

    print(f"\nADaM from {sdtm} -> {out / 'adam'}")
    for t, msg in figures["steps"]:
        print(f"  [{t:6.1f} s] {msg}")
    print("\n  dataset    records  variables")
    for name, n in figures["rows"].items():
        print(f"  {name:<8} {n:>9,}  {figures['columns'][name]:>9}")
    print(f"\n  files written:   {figures['files_mb']:.0f} MB")
    print(f"  wall time:       {figures['wall_s']:.1f} s   (target < {TARGET_SECONDS:.0f} s)")
    print(f"  CPU time:        {figures['user_s']:.1f} s user + {figures['sys_s']:.1f} s system")
    print(f"  peak RSS:        {figures['peak_rss_gib']:.2f} GiB (target < {TARGET_GIB:.0f} GiB)")
    ok = figures["wall_s"] < TARGET_SECONDS and figures["peak_rss_gib"] < TARGET_GIB
    print(f"  targets met:     {'yes' if ok else 'NO'}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
