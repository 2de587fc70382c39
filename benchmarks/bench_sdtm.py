"""Benchmark (not a test): simulate N subjects, then run `cdisc-mapper sdtm` on them.

Usage: python benchmarks/bench_sdtm.py [--subjects 10000] [--out benchmarks/out/sdtm]
Prints wall time and peak memory (max RSS of the child process) of each step.
Target (issue 2): sdtm on 10,000 subjects under 60 s and 4 GiB on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path


def run(cmd: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak_kib, before) / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/sdtm"))
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    exe = [sys.executable, "-m", "cdisc_mapper.cli", "-q"]
    raw = args.out / "raw"
    wall, peak = run([*exe, "simulate", "--out", str(raw), "--subjects", str(args.subjects)])
    print(f"simulate {args.subjects} subjects: {wall:.1f} s, peak RSS {peak:.2f} GiB")
    wall, peak = run([*exe, "sdtm", "--raw", str(raw), "--out", str(args.out)])
    print(f"sdtm {args.subjects} subjects: {wall:.1f} s, peak RSS {peak:.2f} GiB")
    sizes = sorted((p.stat().st_size, p.name) for p in (args.out / "sdtm").glob("*.xpt"))
    total = sum(size for size, _ in sizes) / 1024**2
    print(
        f"{len(sizes)} datasets, {total:.0f} MiB; largest: "
        + ", ".join(f"{name} {size / 1024**2:.0f} MiB" for size, name in sizes[::-1][:4])
    )


if __name__ == "__main__":
    main()
