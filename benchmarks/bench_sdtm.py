"""Benchmark (not a test): simulate N subjects, then run `cdisc-mapper sdtm` on them, with
each number of worker processes asked for.

Usage: python benchmarks/bench_sdtm.py [--subjects 10000] [--workers 1,2]
                                       [--out benchmarks/out/sdtm]
Prints, per step: wall time, CPU time (the command and its worker processes) and peak
memory: of the largest single process (max RSS), and of the command and its workers
together (their summed RSS, sampled every 0.1 s with psutil when it is installed). The
outputs of every worker count are compared byte for byte.
Target (issue 2): sdtm on 10,000 subjects under 60 s and 4 GiB on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

try:
    import psutil
except ImportError:  # the summed memory is then not measured
    psutil = None


def _tree_rss(pid: int) -> int:
    """Bytes resident in process ``pid`` and its descendants (0 once it is gone)."""
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def run(cmd: list[str]) -> tuple[float, float, float, float]:
    """Wall s, CPU s, max RSS of one process GiB, peak summed RSS GiB (NaN unmeasured)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    peak = [0]
    if psutil is not None:

        def sample() -> None:
            while child.poll() is None:
                peak[0] = max(peak[0], _tree_rss(child.pid))
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
    if child.wait() != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summed = peak[0] / 1024**3 if psutil is not None else float("nan")
    return wall, cpu, after.ru_maxrss / 1024**2, summed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/sdtm"))
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    exe = [sys.executable, "-m", "cdisc_mapper.cli", "-q"]
    raw = args.out / "raw"
    wall, cpu, _, _ = run([*exe, "simulate", "--out", str(raw), "--subjects", str(args.subjects)])
    print(f"simulate {args.subjects} subjects: {wall:.1f} s wall, {cpu:.1f} s CPU")
    outs = []
    for workers in [int(w) for w in args.workers.split(",")]:
        out = args.out / f"workers-{workers}"
        cmd = [*exe, "sdtm", "--raw", str(raw), "--out", str(out), "--workers", str(workers)]
        wall, cpu, one, summed = run(cmd)
        print(
            f"sdtm {args.subjects} subjects, --workers {workers}: {wall:.1f} s wall, "
            f"{cpu:.1f} s CPU, peak RSS {one:.2f} GiB (largest process), "
            f"{summed:.2f} GiB (all processes)"
        )
        outs.append(out / "sdtm")
    for other in outs[1:]:
        first = outs[0]
        differ = [
            p.name for p in first.iterdir() if p.read_bytes() != (other / p.name).read_bytes()
        ]
        print(f"{other.parent.name} vs {first.parent.name}: {differ or 'identical'}")
    sizes = sorted((p.stat().st_size, p.name) for p in outs[0].glob("*.xpt"))
    total = sum(size for size, _ in sizes) / 1024**2
    print(
        f"{len(sizes)} datasets, {total:.0f} MiB; largest: "
        + ", ".join(f"{name} {size / 1024**2:.0f} MiB" for size, name in sizes[::-1][:4])
    )


if __name__ == "__main__":
    main()
