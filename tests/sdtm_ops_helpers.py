"""Test helpers for the SDTM mapping operations (``tests/test_sdtm_ops_*.py``).

Each test builds tiny tables, runs one operation through the registry and compares the
result with an expected column, as pharmaverse admiral and sdtm.oak tests do:

* :func:`tribble` writes a small table row by row (admiral's ``tibble::tribble``);
* :func:`raw_form` is a raw form inside a source: the index and ``_ROW`` are the file's
  row numbers (the header is row 1) and ``_SRC`` the file name, as the engine reads it;
* :func:`records` is a domain's records at domain level (RangeIndex, with ``_SRC`` and
  ``_ROW`` of each record);
* :func:`make_ctx` is an :class:`OpContext` over the bundled study (``mappings/als_msc``)
  and the bundled terminology;
* :func:`run_op` validates the arguments with the operation's model and calls it (and
  checks that a ``row_local`` operation reads only its declared inputs);
* :func:`values` turns a result into a plain list (missing values as ``None``) to compare
  with the expected column;
* :func:`operations_of` lists a family module's operations, so that each test file checks
  that it covers every operation of the module it mirrors.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import pandas as pd

from cdisc_mapper.errors import Location
from cdisc_mapper.sdtm import OPERATIONS, StudyBundle, load_study
from cdisc_mapper.sdtm.context import ROW, SRC, OpContext
from cdisc_mapper.spec.study import StudySpec
from cdisc_mapper.standards import load_terminology
from tests.conftest import STUDY

#: Subjects of the bundled study as the enrolment form gives them (site 01).
SUBJ1 = "0208-16-HMO-01-001"
SUBJ2 = "0208-16-HMO-01-002"


@lru_cache(maxsize=1)
def bundle() -> StudyBundle:
    """The bundled study's specs, loaded once."""
    return load_study(STUDY)


def study(**updates: Any) -> StudySpec:
    """The bundled study spec; keyword arguments replace top-level fields (a copy)."""
    base = bundle().study
    return base.model_copy(update=updates) if updates else base


def subjects(**updates: Any) -> StudySpec:
    """The bundled study with some fields of ``subjects:`` replaced."""
    return study(subjects=bundle().study.subjects.model_copy(update=updates))


def terminology() -> Any:
    """The bundled terminology (cached by the loader)."""
    return load_terminology()


def tribble(columns: Sequence[str], *rows: Sequence[Any]) -> pd.DataFrame:
    """A small table given row by row; every row has one value per column. Column types
    are inferred as in the engine's frames: text columns hold objects, a column of numbers
    (``None`` for missing) is float."""
    for row in rows:
        assert len(row) == len(columns), f"row {row!r} has not {len(columns)} values"
    return pd.DataFrame([list(r) for r in rows], columns=list(columns))


def raw_form(file: str, columns: Sequence[str], *rows: Sequence[Any], first: int = 2):
    """Raw rows of ``file`` as a source sees them: text cells, index and ``_ROW`` the
    file's row numbers from ``first`` (row 1 is the header), ``_SRC`` the file name."""
    frame = tribble(columns, *rows)
    frame.index = pd.RangeIndex(first, first + len(frame))
    frame[SRC] = file
    frame[ROW] = frame.index
    return frame


def records(file: str, columns: Sequence[str], *rows: Sequence[Any], first: int = 2):
    """Mapped records at domain level: RangeIndex, each from ``file`` row ``first``..."""
    frame = tribble(columns, *rows)
    frame[SRC] = file
    frame[ROW] = list(range(first, first + len(frame)))
    return frame


def make_ctx(
    domain: str = "DM",
    variable: str = "X",
    *,
    raw: pd.DataFrame | None = None,
    domains: dict[str, pd.DataFrame] | None = None,
    calendar: pd.DataFrame | None = None,
    se: pd.DataFrame | None = None,
    spec: StudySpec | None = None,
    sites: dict[str, str] | None = None,
    where: Location | None = None,
) -> OpContext:
    """An operation's context over the bundled study and terminology; ``where`` is the
    spec line of the variable being mapped."""
    return OpContext(
        study=spec if spec is not None else study(),
        terminology=terminology(),
        domain=domain,
        variable=variable,
        domains=domains or {},
        raw=raw,
        calendar=calendar,
        se=se,
        spec_where=where,
        extra={"sites": sites or {}},
    )


def run_op(
    name: str,
    args: dict[str, Any],
    frame: pd.DataFrame | None = None,
    ctx: OpContext | None = None,
    **ctx_kwargs: Any,
) -> pd.Series:
    """Operation ``name`` on ``frame`` with ``args`` checked by its argument model.

    Without ``frame`` inside a source (``raw=`` given) the frame is the source's records
    so far: none yet, on the raw rows' index.
    """
    op = OPERATIONS.require(name)
    model = op.args_model.model_validate(args)
    if ctx is None:
        ctx = make_ctx(**ctx_kwargs)
    if frame is None:
        frame = pd.DataFrame(index=ctx.raw.index if ctx.raw is not None else pd.RangeIndex(0))
    result = op.fn(frame, model, ctx)
    assert isinstance(result, pd.Series)
    assert len(result) == len(frame), "an operation gives one value per record"
    assert result.index.equals(frame.index), "an operation keeps the records' index"
    if op.row_local and ctx.raw is None and model.inputs():
        check_row_local(op.fn, model, frame, ctx, result)
    return result


def check_row_local(fn: Any, model: Any, frame: pd.DataFrame, ctx: OpContext, result) -> None:
    """A ``row_local`` operation gives each record the same value when it sees only its
    declared inputs, in another order, on a fresh index: the engine computes it so, once
    per distinct combination of inputs (``compute_distinct``)."""
    keep = sorted(model.inputs()) + [c for c in (SRC, ROW) if c in frame.columns]
    alone = frame[keep].iloc[::-1].reset_index(drop=True)
    again = fn(alone, model, ctx)
    assert values(again)[::-1] == values(result), "not row-local on its declared inputs"


def operations_of(family: str) -> set[str]:
    """Names of the operations registered by ``cdisc_mapper/sdtm/ops/<family>.py``."""
    module = f"cdisc_mapper.sdtm.ops.{family}"
    return {name for name in OPERATIONS.names() if OPERATIONS.require(name).fn.__module__ == module}


def values(result: pd.Series) -> list[Any]:
    """The result as a list, missing values (NaN, NA, None) as ``None``."""
    return [None if pd.isna(v) else v for v in result.tolist()]
