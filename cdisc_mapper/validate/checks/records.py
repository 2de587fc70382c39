"""Records of SDTM datasets (SD011x): sort order and uniqueness by the dataset's keys, and
one baseline flag per subject and test.

The keys are the define.xml KeySequence of the dataset when a define.xml is given, else
the SDTMIG natural keys of ``specs/validate/natural-keys.csv`` (per dataset, else per
observation class; ``--`` stands for the domain prefix; keys the dataset lacks are left
out). The records of a subject must be together, subjects in key order (SD0111); the
full define.xml key order is a note (SD0114). Values sort as SAS sorts them: text by its
bytes, numbers by value, missing first.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_mapper.standards import resolve_specs_dir
from cdisc_mapper.standards.csvio import read_table, split_codes
from cdisc_mapper.validate.checks.results import distinct_codes
from cdisc_mapper.validate.context import Context
from cdisc_mapper.validate.model import ERROR, INFO, WARNING, scope
from cdisc_mapper.validate.package import (
    RELATIONSHIP_DATASETS,
    Dataset,
    equals_text,
    group_keys,
    integer_codes,
    is_char,
)
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
    """Dense ranks of the values in SAS sort order: missing (and blank text) 0, text by
    its bytes without trailing blanks, numbers by value."""
    codes, uniques = distinct_codes(series)
    if is_char(series):
        keys: list = [str(u).rstrip().encode("utf-8") for u in uniques]
    else:
        keys = [float(u) for u in uniques]
    ranked = {key: i for i, key in enumerate(sorted(set(keys) - {b""}), start=1)}
    ranked[b""] = 0  # a blank is missing
    rank = np.array([0] + [ranked[key] for key in keys], dtype=np.int64)
    return rank[codes + 1]


def row_groups(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One integer per record, equal for records with equal values in ``columns``
    (missing values equal), numbered in order of first appearance."""
    groups, _ = pd.factorize(_row_keys(frame, columns))
    return np.asarray(groups)


def _row_keys(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """:func:`~cdisc_mapper.validate.package.group_keys` of ``columns``."""
    return group_keys([_codes(frame[column]) for column in columns], len(frame))


def _codes(series: pd.Series) -> tuple[np.ndarray, int]:
    """Codes of equal values (-1 missing) and how many there are: whole numbers by
    arithmetic, anything else through :func:`distinct_codes`."""
    whole = integer_codes(series) if series.dtype.kind in "fiub" else None
    if whole is not None:
        return whole
    codes, uniques = distinct_codes(series)
    return codes, len(uniques)


def out_of_order(ds: Dataset, keys: tuple[str, ...]) -> np.ndarray:
    """Records that sort before the record above them (mask over the records)."""
    bad = np.zeros(ds.n, dtype=bool)
    if ds.n < 2:
        return bad
    undecided = np.ones(ds.n - 1, dtype=bool)
    later = np.zeros(ds.n - 1, dtype=bool)
    for key in keys:
        if not undecided.any():  # every pair of neighbours is ordered by the keys so far
            break
        codes = sort_codes(ds.df[key])
        above, here = codes[:-1], codes[1:]
        later |= undecided & (here < above)
        undecided &= above == here
    bad[1:] = later
    return bad


def disorder(ctx: Context, ds: Dataset, keys: tuple[str, ...]) -> tuple[int, int]:
    """How many records sort before the record above them by ``keys``, and the first of
    them (0 when none); once per run for each dataset and keys (SD0111 and SD0114 both
    ask for the subject keys)."""
    cache_key = ("out-of-order", ds.name, *keys)
    if cache_key not in ctx.cache:
        bad = out_of_order(ds, keys)
        ctx.cache[cache_key] = (int(bad.sum()), int(np.argmax(bad)) if len(bad) else 0)
    found: tuple[int, int] = ctx.cache[cache_key]
    return found


def report_order(ctx: Context, ds: Dataset, keys: tuple[str, ...], what: str) -> None:
    """One finding at the first record out of ``keys`` order, with the count."""
    count, at = disorder(ctx, ds, keys)
    if not count:
        return
    first = np.zeros(ds.n, dtype=bool)
    first[at] = True
    ctx.flag(
        ds,
        first,
        f"record sorts before the one above it by {what} {', '.join(keys)} "
        f"({count} record{'' if count == 1 else 's'} out of order)",
        variable=keys[-1],
    )


def subject_keys(ctx: Context, ds: Dataset) -> tuple[str, ...]:
    """The keys up to USUBJID: of define.xml when it has them (``STUDYID, RDOMAIN,
    USUBJID`` for SUPP--), else ``STUDYID, USUBJID``; empty without USUBJID."""
    if "USUBJID" not in ds.df.columns or ds.domain in RELATIONSHIP_DATASETS:
        return ()  # RELREC is grouped by relationship (RELID), not by subject
    keys = define_keys(ctx, ds) or ()
    if "USUBJID" in keys:
        return keys[: keys.index("USUBJID") + 1]
    return tuple(k for k in ("STUDYID", "USUBJID") if k in ds.df.columns)


@check(
    "SD0111",
    WARNING,
    "records",
    "Records are not grouped by subject in key order",
    scope=scope("SDTM"),
    explanation="Every SDTMIG key of a subject dataset starts with STUDYID, USUBJID "
    "(STUDYID, RDOMAIN, USUBJID for SUPP--), so the records of a subject are together and "
    "subjects in key order (RELREC, grouped by relationship, is not checked); the part of "
    "the define.xml KeySequence up to USUBJID is used when a define.xml is given. One "
    "finding per dataset, at the first record out of order. Values sort as SAS sorts "
    "them (text by bytes, missing first).",
    reference="SDTMIG v3.4 §3.2.1.1 (keys and sort order); Define-XML v2.1 §5.3.1.2 (KeySequence)",
)
def grouped_by_subject(ctx: Context, ds: Dataset) -> None:
    keys = subject_keys(ctx, ds)
    if keys:
        report_order(ctx, ds, keys, "the subject keys")


@check(
    "SD0114",
    INFO,
    "records",
    "Records are not sorted by all the define.xml keys",
    scope=scope("SDTM"),
    explanation="define.xml KeySequence gives the keys in sort order; records of a "
    "subject sorted otherwise (by visit and date rather than by test, say) are a note, "
    "not an error: neither SDTMIG nor the FDA requires that order within a subject. One "
    "finding per dataset (RELREC, grouped by relationship, is not checked); skipped "
    "without define.xml.",
    reference="Define-XML v2.1 §5.3.1.2 (KeySequence: the order of the keys)",
)
def sorted_by_define_keys(ctx: Context, ds: Dataset) -> None:
    if ctx.define is None:
        ctx.skip("no define.xml given")
    keys = define_keys(ctx, ds)
    if ds.domain in RELATIONSHIP_DATASETS:
        return  # grouped by relationship (RELID), as SD0111 says
    if keys and disorder(ctx, ds, subject_keys(ctx, ds))[0] == 0:
        report_order(ctx, ds, keys, "the define.xml keys")


def first_of_group(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """For each row: whether an earlier row has the same values, and the position of the
    first row with them."""
    keys = _row_keys(frame, columns)
    rows = np.arange(len(keys))
    first_at = np.full(int(keys.max()) + 1 if len(keys) else 0, len(keys), dtype=np.int64)
    np.minimum.at(first_at, keys, rows)
    first = first_at[keys]
    return first != rows, first


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
        rows = np.flatnonzero(equals_text(ds.df[flag], "Y"))
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
