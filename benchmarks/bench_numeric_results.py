"""Benchmark: reading raw results as numbers (``derive.results.parse_numeric_result``) on
the numeric columns of a simulated study, against reading each distinct text with
``read_number`` (the path before ``read_numbers``).

Usage::

    python benchmarks/bench_numeric_results.py --raw /work/bench-data/raw10k

Prints, per column and in total, the rows, the distinct texts and the CPU seconds of both
paths (``time.process_time``, so a busy machine does not inflate them).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cdisc_mapper.derive._common import factorize_text  # noqa: E402
from cdisc_mapper.derive.numbers import NumberConvention, read_number  # noqa: E402
from cdisc_mapper.derive.results import parse_numeric_result  # noqa: E402

COLUMNS: dict[str, list[str]] = {
    "labs.csv": ["RESULT", "REF_LOW", "REF_HIGH"],
    "vitals.csv": ["PULSE", "SYS_BP", "DIA_BP", "RESP_RATE", "TEMP", "WEIGHT"],
    "fvc.csv": ["EFFORT", "FVC_L", "FVC_PRED_PCT"],
}


def _cpu(fn: object, *args: object) -> float:
    start = time.process_time()
    fn(*args)  # type: ignore[operator]
    return time.process_time() - start


def _per_value(raw: pd.Series, convention: NumberConvention) -> None:
    _, texts = factorize_text(raw)
    for text in texts:
        read_number(text, convention)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, required=True, help="folder of raw CSV files")
    args = parser.parse_args()
    convention = NumberConvention()
    total_new = total_old = 0.0
    for name, columns in COLUMNS.items():
        frame = pd.read_csv(args.raw / name, dtype=str, keep_default_na=False)
        for column in columns:
            raw = frame[column]
            distinct = raw.nunique()
            new = _cpu(lambda r: parse_numeric_result(r, convention=convention), raw)
            old = _cpu(_per_value, raw, convention)
            total_new, total_old = total_new + new, total_old + old
            print(
                f"{name}:{column}: {len(raw)} rows, {distinct} distinct: "
                f"parse_numeric_result {new:.3f} s, read_number per distinct {old:.3f} s"
            )
    print(
        f"total CPU: parse_numeric_result {total_new:.3f} s; "
        f"read_number per distinct text {total_old:.3f} s"
    )


if __name__ == "__main__":
    main()
