"""Benchmark: cdisc_mapper's XPORT v5 writer against pyreadstat on an LB-like dataset.

Usage::

    python benchmarks/bench_xpt.py                 # 1,000,000 rows
    python benchmarks/bench_xpt.py --rows 200000 --no-verify

Each writer runs in its own child process on the same generated DataFrame (same seed),
so that the peak memory it adds (peak RSS during the write minus RSS before it, via
``/proc/self/clear_refs``) is not polluted by the other. A plain file copy of the
result gives the I/O floor. With ``--verify`` (default) both files are read back and
compared. Output files go to ``benchmarks/out/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cdisc_mapper.xpt import XptVariable, read_xpt, write_xpt  # noqa: E402

# name, label, type, format
LB_VARIABLES = [
    XptVariable("STUDYID", "Study Identifier", "Char"),
    XptVariable("DOMAIN", "Domain Abbreviation", "Char"),
    XptVariable("USUBJID", "Unique Subject Identifier", "Char"),
    XptVariable("LBSEQ", "Sequence Number", "Num", format="8."),
    XptVariable("LBTESTCD", "Lab Test or Examination Short Name", "Char"),
    XptVariable("LBTEST", "Lab Test or Examination Name", "Char"),
    XptVariable("LBCAT", "Category for Lab Test", "Char"),
    XptVariable("LBORRES", "Result or Finding in Original Units", "Char"),
    XptVariable("LBORRESU", "Original Units", "Char"),
    XptVariable("LBORNRLO", "Reference Range Lower Limit in Orig Unit", "Char"),
    XptVariable("LBORNRHI", "Reference Range Upper Limit in Orig Unit", "Char"),
    XptVariable("LBSTRESC", "Character Result/Finding in Std Format", "Char"),
    XptVariable("LBSTRESN", "Numeric Result/Finding in Standard Units", "Num"),
    XptVariable("LBSTRESU", "Standard Units", "Char"),
    XptVariable("LBSTNRLO", "Reference Range Lower Limit-Std Units", "Num"),
    XptVariable("LBSTNRHI", "Reference Range Upper Limit-Std Units", "Num"),
    XptVariable("LBNRIND", "Reference Range Indicator", "Char"),
    XptVariable("LBBLFL", "Baseline Flag", "Char"),
    XptVariable("LBFAST", "Fasting Status", "Char"),
    XptVariable("VISITNUM", "Visit Number", "Num"),
    XptVariable("VISIT", "Visit Name", "Char"),
    XptVariable("EPOCH", "Epoch", "Char"),
    XptVariable("LBDTC", "Date/Time of Specimen Collection", "Char"),
    XptVariable("LBDY", "Study Day of Specimen Collection", "Num"),
    XptVariable("LBDT", "Date of Specimen Collection", "Num", format="DATE9."),
]

TESTS = [
    ("ALT", "Alanine Aminotransferase", "U/L", 7.0, 56.0),
    ("AST", "Aspartate Aminotransferase", "U/L", 10.0, 40.0),
    ("HGB", "Hemoglobin", "g/dL", 12.0, 17.5),
    ("SODIUM", "Sodium", "mmol/L", 135.0, 145.0),
    ("K", "Potassium", "mmol/L", 3.5, 5.1),
    ("CREAT", "Creatinine", "umol/L", 53.0, 115.0),
    ("GLUC", "Glucose", "mmol/L", 3.9, 5.6),
    ("WBC", "Leukocytes", "10^9/L", 4.0, 11.0),
]


def make_lb(rows: int, seed: int = 20240101) -> pd.DataFrame:
    """An LB-like DataFrame: text columns as pandas ``str``, numbers with missing values."""
    rng = np.random.default_rng(seed)
    test = rng.integers(0, len(TESTS), rows)
    testcd, name, unit, lo, hi = (np.array(col, dtype=object) for col in zip(*TESTS, strict=True))
    lo = lo.astype(float)[test]
    hi = hi.astype(float)[test]
    result = np.round(lo + (hi - lo) * rng.normal(0.5, 0.35, rows), 1)
    result[rng.random(rows) < 0.03] = np.nan
    subject = rng.integers(1, 5001, rows)
    visitnum = rng.integers(1, 13, rows).astype(float)
    day = (visitnum * 14 - 13 + rng.integers(-2, 3, rows)).astype(float)
    date = 22645 + day  # SAS date of 2022-01-01 + study day
    dates = pd.to_datetime(date - 3653, unit="D")  # SAS epoch 1960 -> Unix epoch 1970
    text_result = [("" if np.isnan(v) else f"{v:.1f}") for v in result]
    indicator = np.where(result < lo, "LOW", np.where(result > hi, "HIGH", "NORMAL")).astype(object)
    indicator[np.isnan(result)] = None
    frame = {
        "STUDYID": "ALS-2024-001",
        "DOMAIN": "LB",
        "USUBJID": [f"ALS-2024-001-{s:05d}" for s in subject],
        "LBSEQ": np.arange(1, rows + 1, dtype=np.int64),
        "LBTESTCD": testcd[test],
        "LBTEST": name[test],
        "LBCAT": np.where(test < 4, "CHEMISTRY", "HEMATOLOGY").astype(object),
        "LBORRES": text_result,
        "LBORRESU": unit[test],
        "LBORNRLO": [f"{v:g}" for v in lo],
        "LBORNRHI": [f"{v:g}" for v in hi],
        "LBSTRESC": text_result,
        "LBSTRESN": result,
        "LBSTRESU": unit[test],
        "LBSTNRLO": lo,
        "LBSTNRHI": hi,
        "LBNRIND": indicator,
        "LBBLFL": np.where(visitnum == 1, "Y", None).astype(object),
        "LBFAST": np.where(rng.random(rows) < 0.5, "Y", "N").astype(object),
        "VISITNUM": visitnum,
        "VISIT": [f"WEEK {int(v) * 2 - 2}" for v in visitnum],
        "EPOCH": np.where(visitnum == 1, "SCREENING", "TREATMENT").astype(object),
        "LBDTC": [f"{d:%Y-%m-%d}T08:{m:02d}" for d, m in zip(dates, subject % 60, strict=True)],
        "LBDY": day,
        "LBDT": date,
    }
    df = pd.DataFrame(frame)
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].astype("str")
    return df


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _run(writer: str, rows: int, path: str, queue: mp.Queue) -> None:
    """Child process: build the data, then time one write and measure its peak memory."""
    df = make_lb(rows)
    import pyreadstat

    before = _rss_kib("VmRSS")
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM)
    start = time.perf_counter()
    if writer == "cdisc_mapper":
        write_xpt(df, path, dataset="LB", label="Laboratory Test Results", variables=LB_VARIABLES)
    else:
        pyreadstat.write_xport(
            df,
            path,
            file_format_version=5,
            table_name="LB",
            file_label="Laboratory Test Results",
            column_labels={v.name: v.label for v in LB_VARIABLES},
            variable_format={v.name: v.format for v in LB_VARIABLES if v.format},
        )
    seconds = time.perf_counter() - start
    peak = _rss_kib("VmHWM")
    queue.put((seconds, max(peak - before, 0) / 1024))


def measure(writer: str, rows: int, path: Path) -> tuple[float, float]:
    """(seconds, peak extra MiB) of one write in a fresh process."""
    ctx = mp.get_context("fork")
    queue: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(writer, rows, str(path), queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--verify", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    ours, theirs = args.out / "lb_cdisc_mapper.xpt", args.out / "lb_pyreadstat.xpt"

    ours_s, ours_mb = measure("cdisc_mapper", args.rows, ours)
    theirs_s, theirs_mb = measure("pyreadstat", args.rows, theirs)
    start = time.perf_counter()
    shutil.copyfile(ours, args.out / "lb_copy.xpt")
    copy_s = time.perf_counter() - start

    size = ours.stat().st_size / 1e6
    print(f"rows: {args.rows:,}  columns: {len(LB_VARIABLES)}  file: {size:.1f} MB")
    print(f"{'writer':<14}{'seconds':>10}{'peak extra MiB':>16}")
    print(f"{'cdisc_mapper':<14}{ours_s:>10.2f}{ours_mb:>16.0f}")
    print(f"{'pyreadstat':<14}{theirs_s:>10.2f}{theirs_mb:>16.0f}")
    print(f"{'file copy':<14}{copy_s:>10.2f}")
    print(f"speed-up vs pyreadstat: {theirs_s / ours_s:.1f}x")

    if args.verify:
        a, meta_a = read_xpt(ours)
        b, meta_b = read_xpt(theirs)
        a_lengths = {v.name: v.length for v in meta_a.variables}
        b_lengths = {v.name: v.length for v in meta_b.variables}
        same = a.equals(b) and a_lengths == b_lengths
        print(f"read back identical (values, lengths): {same}")
        if not same:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
