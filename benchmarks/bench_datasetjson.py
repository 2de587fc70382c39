"""Benchmark (not a test): write a package's datasets as Dataset-JSON (NDJSON and JSON)
beside the XPT writer, and read them back.

Usage::

    python benchmarks/bench_sdtm.py --subjects 10000 --out /tmp/dsj-bench
    python benchmarks/bench_adam.py --sdtm /tmp/dsj-bench/sdtm --work /tmp/dsj-bench-adam
    python benchmarks/bench_datasetjson.py /tmp/dsj-bench/sdtm /tmp/dsj-bench-adam/out/adam

Every ``.xpt`` of the folders is read once (not timed), then written by each writer into
``--out`` (default: a temporary folder) and the Dataset-JSON files read back; the times
are summed over the package. Target (issue 17): the 10,000-subject package (about 700 MB
of XPT) written as NDJSON in well under a minute.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 60.0


def main() -> int:
    from cdisc_mapper.datasetjson import dataset_metadata, read_dataset_json, write_dataset_json
    from cdisc_mapper.xpt import read_xpt, write_xpt

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", type=Path, nargs="+", help="folders of .xpt files")
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--no-read", action="store_true", help="skip reading the files back")
    args = parser.parse_args()
    files = sorted(p for folder in args.folders for p in folder.glob("*.xpt"))
    if not files:
        print("no .xpt files in " + ", ".join(map(str, args.folders)), file=sys.stderr)
        return 2
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-dsj-"))
    out.mkdir(parents=True, exist_ok=True)
    seconds = {"xpt": 0.0, "ndjson": 0.0, "json": 0.0, "read ndjson": 0.0, "read json": 0.0}
    sizes = {"xpt": 0, "ndjson": 0, "json": 0}
    records = 0
    for path in files:
        frame, meta = read_xpt(path)
        records += len(frame)
        target = out / path.parent.name
        target.mkdir(exist_ok=True)
        start = time.perf_counter()
        write_xpt(frame, target / path.name, dataset=meta.dataset, label=meta.label,
                  variables=meta.variables)  # fmt: skip
        seconds["xpt"] += time.perf_counter() - start
        sizes["xpt"] += (target / path.name).stat().st_size
        for form in ("ndjson", "json"):
            dsj = target / f"{path.stem}.{form}"
            start = time.perf_counter()
            dmeta = dataset_metadata(frame, meta.dataset, meta.label, meta.variables)
            write_dataset_json(frame, dmeta, dsj)
            seconds[form] += time.perf_counter() - start
            sizes[form] += dsj.stat().st_size
            if not args.no_read:
                start = time.perf_counter()
                read_dataset_json(dsj)
                seconds[f"read {form}"] += time.perf_counter() - start
        print(f"  {path.parent.name}/{path.name:<14} {len(frame):>10,} records", flush=True)
    print(f"\n{len(files)} datasets, {records:,} records from {', '.join(map(str, args.folders))}")
    for form in ("xpt", "ndjson", "json"):
        print(f"  write {form:<7} {seconds[form]:7.1f} s  {sizes[form] / 1e6:8.0f} MB")
    if not args.no_read:
        for form in ("ndjson", "json"):
            print(f"  read  {form:<7} {seconds['read ' + form]:7.1f} s")
    ok = seconds["ndjson"] < TARGET_SECONDS
    print(f"  NDJSON under {TARGET_SECONDS:.0f} s: {'yes' if ok else 'NO'}")
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
