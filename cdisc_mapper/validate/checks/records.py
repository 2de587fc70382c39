"""Records of SDTM datasets (SD011x): sort order and uniqueness by the dataset's keys, and
one baseline flag per subject and test.

The keys are the define.xml KeySequence of the dataset when a define.xml is given, else
the SDTMIG natural keys of ``specs/validate/natural-keys.csv`` (per dataset, else per
observation class; ``--`` stands for the domain prefix; keys the dataset lacks are left
out). Without define.xml the sort order is checked on STUDYID and USUBJID only, the part
every SDTMIG key of a subject dataset starts with. Values sort as SAS sorts them: text by
its bytes, numbers by value, missing first.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_mapper.standards import resolve_specs_dir
from cdisc_mapper.standards.csvio import read_table, split_codes
from cdisc_mapper.validate.context import Context
from cdisc_mapper.validate.model import ERROR, WARNING, scope
from cdisc_mapper.validate.package import Dataset, is_char
from cdisc_mapper.validate.registry import check

NATURAL_KEYS = ("validate", "natural-keys.csv")
#: Qualifiers that, with USUBJID and --TESTCD, name one test of a subject (a baseline
#: is chosen per test, position, specimen, location, method and evaluator).
TEST_IDENTITY = ("CAT", "SCAT", "POS", "SPEC", "LOC", "LAT", "DIR", "METHOD", "EVAL", "EVALID")


@lru_cache(maxsize=4)
def natural_keys(specs_dir: Path) -> dict[tuple[str, str], tuple[str, ...]]:
    """``{(scope, name): keys}`` from ``specs/validate/natural-keys.csv``."""
    path = specs_dir.joinpath(*NATURAL_KEYS)
    return {
        (row["scope"], row["name"]): split_codes(row["keys"])
        for _, row in read_table(path, ("scope", "name", "keys", "source"))
    }


def ig_keys(ds: Dataset) -> tuple[str, ...]:
    """The SDTMIG natural keys of ``ds`` that it has (empty when none is known)."""
    table = natural_keys(resolve_specs_dir())
    found = (
        table.get(("dataset", ds.ig_name or ""))
        or table.get(("dataset", ds.domain))
        or table.get(("class", ds.class_))
        or ()
    )
    names = [k.replace("--", ds.prefix, 1) if k.startswith("--") else k for k in found]
    return tuple(k for k in names if k in ds.df.columns)


def define_keys(ctx: Context, ds: Dataset) -> tuple[str, ...] | None:
    """The define.xml KeySequence of ``ds`` that it has, or None without one."""
    if ctx.define is None or ds.standard not in ctx.define.standards:
        return None
    meta = ctx.define.dataset(ds.name)
    if meta is None or not meta.keys:
        return None
    return tuple(k for k in meta.keys if k in ds.df.columns)


def sort_codes(series: pd.Series) -> np.ndarray:
    """Integer ranks of the values in SAS sort order (missing first, text by bytes)."""
    if is_char(series):
        codes, uniques = pd.factorize(series.astype(object).fillna(""), use_na_sentinel=False)
        texts = [str(u) for u in uniques]
        order = sorted(range(len(texts)), key=lambda i: texts[i].rstrip().encode("utf-8"))
    else:
        codes, uniques = pd.factorize(series.astype(float), use_na_sentinel=False)
        values = np.asarray(uniques, dtype=float)
        order = list(np.lexsort((values, ~np.isnan(values))))
    rank = np.empty(len(order), dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(order))
    return rank[codes] if len(codes) else np.zeros(0, dtype=np.int64)


def out_of_order(ds: Dataset, keys: tuple[str, ...]) -> np.ndarray:
    """Records that sort before the record above them (mask over the records)."""
    bad = np.zeros(ds.n, dtype=bool)
    if ds.n < 2:
        return bad
    undecided = np.ones(ds.n - 1, dtype=bool)
    later = np.zeros(ds.n - 1, dtype=bool)
    for key in keys:
        codes = sort_codes(ds.df[key])
        above, here = codes[:-1], codes[1:]
        later |= undecided & (here < above)
        undecided &= above == here
    bad[1:] = later
    return bad


@check(
    "SD0111",
    WARNING,
    "records",
    "Records are not sorted by the dataset's keys",
    scope=scope("SDTM"),
    explanation="Records are submitted in the order of the dataset's keys (define.xml "
    "KeySequence); without a define.xml, subject datasets are checked to be in STUDYID, "
    "USUBJID order. One finding per dataset, at the first record out of order.",
    reference="SDTMIG v3.4 §3.2.1.1 (keys give the sort order); Define-XML v2.1 §5.3.1.2 "
    "(KeySequence)",
)
def sorted_by_keys(ctx: Context, ds: Dataset) -> None:
    keys = define_keys(ctx, ds)
    if keys is None:
        if "USUBJID" not in ds.df.columns or ds.is_supp or ds.domain == "RELREC":
            return
        keys = tuple(k for k in ("STUDYID", "USUBJID") if k in ds.df.columns)
    if not keys:
        return
    bad = out_of_order(ds, keys)
    count = int(bad.sum())
    if not count:
        return
    first = np.zeros(ds.n, dtype=bool)
    first[int(np.argmax(bad))] = True
    ctx.flag(
        ds,
        first,
        f"record sorts before the one above it by {', '.join(keys)} "
        f"({count} record{'' if count == 1 else 's'} out of order)",
        variable=keys[-1],
    )


def first_of_group(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """For each row: whether an earlier row has the same values, and the position of the
    first row with them."""
    groups = frame.groupby(columns, dropna=False, sort=False, observed=True).ngroup().to_numpy()
    _, first_index = np.unique(groups, return_index=True)  # groups are 0..n-1
    first = first_index[groups]
    return first != np.arange(len(groups)), first


@check(
    "SD0112",
    ERROR,
    "records",
    "Records share the values of the dataset's keys",
    scope=scope("SDTM"),
    explanation="The keys of a dataset (define.xml KeySequence, else the SDTMIG natural keys "
    "widened with every identifying qualifier: specs/validate/natural-keys.csv) identify "
    "one record; two records with the same key values are duplicates or need another key "
    "variable.",
    reference="SDTMIG v3.4 §3.2.1.1 (natural keys); Define-XML v2.1 §5.3.1.2 "
    "(KeySequence); Pinnacle 21 SD1117 (duplicate records)",
)
def unique_keys(ctx: Context, ds: Dataset) -> None:
    keys = define_keys(ctx, ds)
    source = "define.xml keys"
    if keys is None:
        keys, source = ig_keys(ds), "SDTMIG natural keys"
    if not keys or ds.n < 2:
        return
    repeat, first = first_of_group(ds.df, list(keys))

    def message(rows: np.ndarray) -> list[str]:
        return [f"same {source} ({', '.join(keys)}) as record {int(first[r]) + 1}" for r in rows]

    ctx.flag(ds, repeat, message, variable=keys[-1])


@check(
    "SD0113",
    ERROR,
    "records",
    "More than one --LOBXFL (or --BLFL) = 'Y' record per subject and test",
    scope=scope("SDTM", classes=("Findings", "Findings About")),
    explanation="The last observation before exposure (--LOBXFL) and the baseline (--BLFL) "
    "are one record per subject and test, a test being --TESTCD with the qualifiers that "
    "identify it when present (--CAT, --SCAT, --POS, --SPEC, --LOC, --LAT, --DIR, "
    "--METHOD, --EVAL, --EVALID).",
    reference="CORE-000915 (FB2604), CORE-000914 (FB2603); SDTMIG v3.4 §4.5.9",
)
def one_baseline_per_test(ctx: Context, ds: Dataset) -> None:
    testcd = ds.var("TESTCD")
    if testcd is None or "USUBJID" not in ds.df.columns:
        return
    identity = ["USUBJID", testcd, *(v for s in TEST_IDENTITY if (v := ds.var(s)))]
    for flag in (ds.var("LOBXFL"), ds.var("BLFL")):
        if flag is None:
            continue
        rows = np.flatnonzero((ds.df[flag].astype(object) == "Y").to_numpy(dtype=bool))
        if rows.size < 2:
            continue
        subset = ds.df.iloc[rows][identity]
        repeat, first = first_of_group(subset, identity)
        mask = np.zeros(ds.n, dtype=bool)
        mask[rows[repeat]] = True
        first_row = np.zeros(ds.n, dtype=np.int64)
        first_row[rows] = rows[first]

        def message(flagged: np.ndarray, f: str = flag, at: np.ndarray = first_row) -> list[str]:
            return [
                f"{f} = 'Y' on another record of this subject and test "
                f"({', '.join(identity)}): record {int(at[r]) + 1}"
                for r in flagged
            ]

        ctx.flag(ds, mask, message, variable=flag)
