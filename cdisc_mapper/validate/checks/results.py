"""Results and units of Findings (SD010x): original and standard units, the character and
numeric standard results, and the result of a baseline record.

Numbers are recognised in text once per distinct value (``9.3``, ``-1``, ``1.5E3``; not
``<5`` or ``POSITIVE``) and compared with a relative tolerance, so that a result written
``9.3`` and stored ``9.299999999999999`` agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from cdisc_mapper.validate.context import Context
from cdisc_mapper.validate.model import ERROR, WARNING, scope
from cdisc_mapper.validate.package import Dataset, blank, equals_text, is_char
from cdisc_mapper.validate.registry import check

FINDINGS = ("Findings", "Findings About")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
#: Relative tolerance of the --STRESC/--STRESN comparison (float noise of a decimal
#: written through binary floating point is about 1e-16).
REL_TOL = 1e-9


def distinct_codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)``: each record's position among the distinct values (-1 for
    missing), categorical columns through their categories."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(), series.cat.categories.to_numpy()
    values = series.astype(object) if is_char(series) else series.astype(float)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(codes), np.asarray(uniques)


def per_value(
    series: pd.Series, func: Callable[[str], Any], missing: Any, dtype: Any
) -> np.ndarray:
    """``func`` of each record's text, computed once per distinct value (``missing`` for
    NaN); categorical columns are mapped through their categories."""
    codes, uniques = distinct_codes(series.astype(object) if not is_char(series) else series)
    table = np.array([func(str(u)) for u in uniques] + [missing], dtype=dtype)
    return table[np.where(codes >= 0, codes, len(uniques))]


def _number(text: str) -> float:
    text = text.strip()
    return float(text) if _NUMBER.match(text) else np.nan


def numbers(series: pd.Series) -> np.ndarray:
    """The number each text value states (NaN for blanks and non-numbers), per distinct
    value; a numeric column is returned as floats."""
    if series.dtype.kind in "fiub":
        return series.to_numpy(dtype=float)
    return per_value(series, _number, np.nan, float)


def _tests_with(ds: Dataset, testcd: str, unit: str) -> np.ndarray:
    """Records whose test (--TESTCD) has a unit on some record of the dataset."""
    column = ds.df[testcd]
    with_unit = pd.unique(column[~blank(ds.df[unit])].to_numpy(dtype=object))
    return column.isin(with_unit).to_numpy(dtype=bool)


@check(
    "SD0101",
    WARNING,
    "results",
    "--ORRES is a number without --ORRESU, but the test has units elsewhere",
    scope=scope("SDTM", classes=FINDINGS),
    explanation="A numeric original result needs its unit when the same test (--TESTCD) "
    "carries a unit on other records of the dataset. Tests without any unit (scores, "
    "ratios) and non-numeric results (POSITIVE, <5) are not flagged.",
    reference="Pinnacle 21 SD0026 (missing --ORRESU when --ORRES is provided); SDTMIG v3.4 §4.5.1",
)
def orres_without_unit(ctx: Context, ds: Dataset) -> None:
    orres, unit, testcd = ds.var("ORRES"), ds.var("ORRESU"), ds.var("TESTCD")
    if orres is None or unit is None or testcd is None:
        return
    bad = ~np.isnan(numbers(ds.df[orres])) & blank(ds.df[unit]) & _tests_with(ds, testcd, unit)
    ctx.flag(
        ds,
        bad,
        f"{orres} is a number but {unit} is null; the test has units on other records",
        variable=unit,
        value=ds.df[orres],
    )


@check(
    "SD0102",
    WARNING,
    "results",
    "--STRESN without --STRESU, but the test has standard units elsewhere",
    scope=scope("SDTM", classes=FINDINGS),
    explanation="A numeric standard result needs its standard unit when the same test "
    "(--TESTCD) carries a standard unit on other records of the dataset; tests without "
    "any unit are not flagged.",
    reference="SDTMIG v3.4 §4.5.1 (--STRESU: the unit of --STRESC and --STRESN); the "
    "counterpart of Pinnacle 21 SD0026 for standard results; related: CORE-000133 (CG0426)",
)
def stresn_without_unit(ctx: Context, ds: Dataset) -> None:
    stresn, unit, testcd = ds.var("STRESN"), ds.var("STRESU"), ds.var("TESTCD")
    if stresn is None or unit is None or testcd is None or not ds.has_numeric(stresn):
        return
    bad = ds.df[stresn].notna().to_numpy() & blank(ds.df[unit]) & _tests_with(ds, testcd, unit)
    ctx.flag(
        ds,
        bad,
        f"{stresn} is set but {unit} is null; the test has units on other records",
        variable=unit,
        value=ds.df[stresn],
    )


@check(
    "SD0103",
    ERROR,
    "results",
    "--STRESC and --STRESN disagree",
    scope=scope("SDTM", classes=FINDINGS),
    explanation="--STRESN is --STRESC in numeric form: a numeric --STRESC has the same "
    "number in --STRESN (compared with a relative tolerance of 1e-9, so 9.3 and "
    "9.299999999999999 agree); a non-numeric --STRESC (NEGATIVE, <5) has no --STRESN.",
    reference="CORE-000542 (FB3102), CORE-000863 (FB3101), CORE-000732 (FB3103); "
    "SDTMIG v3.4 §4.5.1",
)
def stresc_vs_stresn(ctx: Context, ds: Dataset) -> None:
    stresc, stresn = ds.var("STRESC"), ds.var("STRESN")
    if stresc is None or stresn is None or not ds.has_numeric(stresn):
        return
    text = numbers(ds.df[stresc])
    number = ds.df[stresn].to_numpy(dtype=float)
    stated, has_n = ~np.isnan(text), ~np.isnan(number)
    with np.errstate(invalid="ignore"):
        differ = stated & has_n & ~np.isclose(text, number, rtol=REL_TOL, atol=0.0)
    ctx.flag(ds, differ, f"{stresc} and {stresn} are different numbers", variable=stresn)
    ctx.flag(ds, stated & ~has_n, f"{stresc} is a number but {stresn} is null", variable=stresc)
    words = ~stated & ~blank(ds.df[stresc]) & has_n
    ctx.flag(ds, words, f"{stresc} is not a number but {stresn} is set", variable=stresn)


@check(
    "SD0104",
    WARNING,
    "results",
    "Baseline (--LOBXFL/--BLFL = 'Y') record without a result",
    scope=scope("SDTM", classes=FINDINGS),
    explanation="The record flagged as the last observation before exposure (or as "
    "baseline) is the one analyses compare with: it must have a result, --ORRES (unless "
    "the record is derived, --DRVFL = 'Y') and --STRESC.",
    reference="CORE-000083 (CG0553), CORE-000105 (CG0569, FB2602); Pinnacle 21 SD1131, SD0006",
)
def baseline_without_result(ctx: Context, ds: Dataset) -> None:
    flags = [v for v in (ds.var("LOBXFL"), ds.var("BLFL")) if v is not None]
    if not flags:
        return
    baseline = np.zeros(ds.n, dtype=bool)
    for flag in flags:
        baseline |= equals_text(ds.df[flag], "Y")
    named = "/".join(flags)
    problems: list[tuple[str, np.ndarray]] = []
    orres, stresc, drvfl = ds.var("ORRES"), ds.var("STRESC"), ds.var("DRVFL")
    if orres is not None:
        derived = (
            equals_text(ds.df[drvfl], "Y") if drvfl is not None else np.zeros(ds.n, dtype=bool)
        )
        problems.append((orres, ~derived & blank(ds.df[orres])))
    if stresc is not None:
        problems.append((stresc, blank(ds.df[stresc])))
    if not problems:
        return
    missing = np.any([m for _, m in problems], axis=0)

    def message(rows: np.ndarray) -> list[str]:
        out = []
        for r in rows:
            names = [v for v, m in problems if m[r]]
            verb = "is" if len(names) == 1 else "are"
            out.append(f"{named} = 'Y' but {' and '.join(names)} {verb} null")
        return out

    ctx.flag(ds, baseline & missing, message, variable=problems[0][0])
