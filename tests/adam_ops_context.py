"""A small in-memory study for the unit tests of the ADaM operations (tests/test_adam_ops_*).

Three subjects with their SDTM DM and EX records, study conventions (three periods, two
phases, one set of analysis windows) and an ADSL with their dates:

======= ========== ====================== ========== =============================
subject consent    injections (EXSTDTC)   end        periods
======= ========== ====================== ========== =============================
S1      2020-01-01 2020-02-01, 2020-03-02 2020-06-30 1: 01-01..02-01, 2: 02-01..03-02,
                                                     3: 03-02..06-30
S2      2020-01-10 2020-02-15             2020-05-15 1: 01-10..02-15, 2: 02-15..05-15
S3      2020-01-20 (none)                 2020-02-10 1: 01-20..02-10 (never treated)
======= ========== ====================== ========== =============================

Operations are called through their registries, as the engine calls them, with arguments
validated by their models, as the spec loader validates them. Tables are built with
:func:`tbl` and :func:`col` (numbers as float64, missing ``None``; text as object, null ``""``,
the way SDTM and ADaM frames hold them) and compared with :func:`assert_table`.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS
from cdisc_mapper.adam.sdtm import SdtmInput
from cdisc_mapper.spec.adam import Conventions, ReportsSpec
from cdisc_mapper.spec.adam_loader import AdamSpecs
from cdisc_mapper.spec.operations import ColumnMeta

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "mappings" / "als_msc"
SUBJECTS = ("S1", "S2", "S3")


def day(text: str) -> float:
    """The SAS date number (days since 1960-01-01) of ``YYYY-MM-DD``."""
    return float((np.datetime64(text, "D") - np.datetime64("1960-01-01", "D")).astype(int))


def col(*values: Any) -> pd.Series:
    """A column: float64 when every value is a number or ``None`` (missing), else object."""
    numeric = all(
        v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values
    )
    if numeric and values:
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    return pd.Series(list(values), dtype=object)


def tbl(header: str, *rows: tuple[Any, ...]) -> pd.DataFrame:
    """A table from its column names (space separated) and rows, like admiral's tribble;
    each column as :func:`col` makes it."""
    names = header.split()
    for row in rows:
        assert len(row) == len(names), row
    return pd.DataFrame({name: col(*(row[i] for row in rows)) for i, name in enumerate(names)})


def _text_as_object(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index(drop=True).copy()
    for c in out.columns:
        if pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].astype(object)
    return out


def assert_table(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns, values and column types: float64 numbers (NaN missing), text (``""``
    null; object and pandas' str dtype alike)."""
    assert_frame_equal(_text_as_object(actual), _text_as_object(expected))


# --------------------------------------------------------------------------- the study
def dm() -> pd.DataFrame:
    return tbl(
        "USUBJID RFICDTC RFPENDTC AGE SEX",
        ("S1", "2020-01-01", "2020-06-30", 61.0, "M"),
        ("S2", "2020-01-10", "2020-05-15", 49.0, "F"),
        ("S3", "2020-01-20", "2020-02-10", 55.0, "F"),
    )


def ex() -> pd.DataFrame:
    return tbl(
        "USUBJID EXSEQ EXSTDTC",
        ("S1", 1, "2020-02-01"),
        ("S1", 2, "2020-03-02"),
        ("S2", 1, "2020-02-15"),
    )


def adsl() -> pd.DataFrame:
    """ADSL as built before the other datasets (dates as SAS numbers)."""
    return tbl(
        "USUBJID RFICDT TRTSDT EOSDT SAFFL",
        ("S1", day("2020-01-01"), day("2020-02-01"), day("2020-06-30"), "Y"),
        ("S2", day("2020-01-10"), day("2020-02-15"), day("2020-05-15"), "Y"),
        ("S3", day("2020-01-20"), None, day("2020-02-10"), "N"),
    )


CONVENTIONS: dict[str, Any] = {
    "month_days": 30.4375,
    "reference_date": "TRTSDT",
    "events": {
        "CONSENT": {"domain": "DM", "variable": "RFICDTC"},
        "INJECTION": {"domain": "EX", "variable": "EXSTDTC"},
        "END": {"domain": "DM", "variable": "RFPENDTC"},
    },
    "periods": [
        {
            "aperiod": 1,
            "aperiodc": "RUN-IN",
            "start": {"event": "CONSENT"},
            "end": [{"event": "INJECTION", "occurrence": 1}, {"event": "END"}],
            "trtp": "NONE",
            "trta": "NONE",
        },
        {
            "aperiod": 2,
            "aperiodc": "AFTER INJECTION 1",
            "start": {"event": "INJECTION", "occurrence": 1},
            "end": [{"event": "INJECTION", "occurrence": 2}, {"event": "END"}],
            "trtp": "DRUG",
            "trta": "DRUG",
        },
        {
            "aperiod": 3,
            "aperiodc": "AFTER INJECTION 2",
            "start": {"event": "INJECTION", "occurrence": 2},
            "end": [{"event": "END"}],
            "trtp": "DRUG AGAIN",
            "trta": "DRUG AGAIN (ACTUAL)",
        },
    ],
    "phases": [
        {"aphasen": 1, "aphase": "RUN-IN", "periods": [1]},
        {"aphasen": 2, "aphase": "TREATMENT", "periods": [2, 3]},
    ],
    "windows": {
        "visits": [
            {
                "avisitn": -1,
                "avisit": "SCREENING",
                "reference": "RFICDT",
                "target": 1,
                "lo": -30,
                "hi": 30,
            },
            {
                "avisitn": 0,
                "avisit": "BASELINE",
                "reference": "TRTSDT",
                "target": 1,
                "lo": -30,
                "hi": 1,
            },
            {
                "avisitn": 1,
                "avisit": "MONTH 1",
                "reference": "TRTSDT",
                "target": 31,
                "lo": 2,
                "hi": 45,
            },
        ]
    },
}


class MemorySdtm(SdtmInput):
    """SDTM domains held in memory (what :class:`SdtmInput` reads from XPT files)."""

    def __init__(self, domains: Mapping[str, pd.DataFrame]) -> None:
        self.folder = Path("memory")
        self.domains = {name: frame.copy() for name, frame in domains.items()}

    def frame(self, domain: str, variables: Any = ()) -> pd.DataFrame:
        frame = self.domains[domain]
        missing = [v for v in variables if v not in frame.columns]
        assert not missing, f"{domain} has no {missing}"
        return frame


def context(
    dataset: str = "ADSL",
    *,
    sdtm: Mapping[str, pd.DataFrame] | None = None,
    datasets: Mapping[str, pd.DataFrame] | None = None,
    conventions: Mapping[str, Any] | None = None,
) -> BuildContext:
    """A build context for ``dataset``: the study's DM and EX (plus ``sdtm``), its ADSL
    (unless ``datasets`` gives the built ADaM datasets) and conventions."""
    specs = AdamSpecs(
        root=Path("memory"),
        conventions=Conventions.model_validate(dict(conventions or CONVENTIONS)),
        datasets={},
        reports=ReportsSpec(),
        derivations=DERIVATIONS,
        builders=RECORD_BUILDERS,
    )
    domains = {"DM": dm(), "EX": ex(), **(sdtm or {})}
    built = dict(datasets) if datasets is not None else {"ADSL": adsl()}
    return BuildContext(specs=specs, sdtm=MemorySdtm(domains), datasets=built, dataset=dataset)


# --------------------------------------------------------------------------- operations
def derive(name: str, frame: pd.DataFrame, ctx: BuildContext, **args: Any) -> pd.Series:
    """The column the derivation ``name`` makes on ``frame`` with the spec ``args``."""
    op = DERIVATIONS.require(name)
    return op.fn(frame, op.args_model.model_validate(args), ctx)


def meta(name: str, ctx: BuildContext | None, **args: Any) -> ColumnMeta:
    """The derivation's define.xml description for the spec ``args``."""
    op = DERIVATIONS.require(name)
    return op.meta(op.args_model.model_validate(args), ctx)


def build(name: str, frame: pd.DataFrame | None, ctx: BuildContext, **args: Any) -> pd.DataFrame:
    """The records the record builder ``name`` makes (from ``frame``) with ``args``."""
    op = RECORD_BUILDERS.require(name)
    return op.fn(frame, op.args_model.model_validate(args), ctx)


def columns(
    name: str, conventions: Conventions | None = None, **args: Any
) -> dict[str, ColumnMeta]:
    """The record builder's define.xml description of its columns for ``args`` (under the
    test study's conventions unless others are given)."""
    op = RECORD_BUILDERS.require(name)
    conv = conventions or Conventions.model_validate(CONVENTIONS)
    return op.columns(op.args_model.model_validate(args), conv)


def study_with(tmp_path: Path, file: str, old: str, new: str) -> tuple[Path, int]:
    """A copy of the bundled study's ADaM specs with ``old`` replaced by ``new`` (once) in
    ``adam/<file>``, and the 1-based line of the change."""
    dst = tmp_path / "study"
    shutil.copytree(STUDY / "adam", dst / "adam")
    path = dst / "adam" / file
    text = path.read_text()
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1))
    return dst, line


def reported_line(message: str, file: str) -> int:
    """The line of ``file`` an error message points at (``...file.yaml:LINE...``)."""
    return int(message.split(f"{file}:")[1].split(":")[0])
