"""Benchmark: read every ``.xpt`` of a package with :func:`cdisc_mapper.xpt.read_xpt`.

Usage::

    cdisc-mapper demo --subjects 1000 --out /tmp/big/demo-output
    python benchmarks/bench_read.py /tmp/big/demo-output
    python benchmarks/bench_read.py /tmp/big/demo-output --repeat 5 --no-pyreadstat

Times one pass over every ``FOLDER/*/*.xpt`` (best of ``--repeat``) for each way the
project reads: ``text="str"`` (ADaM reading SDTM), ``text="category"`` (the validator),
``text="object"`` (the default: define.xml, tests), the header-only
:func:`~cdisc_mapper.xpt.read_xpt_names`, and the pyreadstat engine that ``read_xpt``
falls back to (one pass: it is slow), so that the two paths can be compared.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cdisc_mapper.xpt import read_xpt, read_xpt_names  # noqa: E402
from cdisc_mapper.xpt.reader import read_readstat  # noqa: E402


def best_of(files: list[Path], read: Callable[[Path], object], repeat: int) -> float:
    """Seconds of the fastest of ``repeat`` passes over ``files``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for path in files:
            read(path)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a package: FOLDER/sdtm, FOLDER/adam")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--encoding", default=None)
    parser.add_argument("--pyreadstat", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    files = sorted(args.folder.glob("*/*.xpt"))
    if not files:
        print(f"no .xpt files under {args.folder}/*/", file=sys.stderr)
        return 2
    size = sum(p.stat().st_size for p in files) / 1e6
    records = sum(read_xpt(p, encoding=args.encoding, columns=[])[1].n_records for p in files)
    print(f"{len(files)} files, {size:.0f} MB, {records:,} records")
    enc = args.encoding
    runs: list[tuple[str, Callable[[Path], object], int]] = [
        ('read_xpt(text="str")', lambda p: read_xpt(p, encoding=enc, text="str"), args.repeat),
        (
            'read_xpt(text="category")',
            lambda p: read_xpt(p, encoding=enc, text="category"),
            args.repeat,
        ),
        ('read_xpt(text="object")', lambda p: read_xpt(p, encoding=enc), args.repeat),
        ("read_xpt_names", lambda p: read_xpt_names(p, encoding=enc), args.repeat),
    ]
    if args.pyreadstat:
        runs.append(
            (
                "pyreadstat engine (fallback)",
                lambda p: read_readstat(p, encoding=enc, columns=None, text="object"),
                1,
            )
        )
    for name, read, repeat in runs:
        print(f"  {name:<30} {best_of(files, read, repeat):7.2f} s  (best of {repeat})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
