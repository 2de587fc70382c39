"""Trial Summary completeness (SD0121): the TS parameters the FDA requires of an
interventional study, listed in ``specs/validate/fda-ts-parameters.csv`` (data, not code:
each row names the parameter, an optional condition ``PARM=VALUE`` on another parameter,
and its source).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from cdisc_mapper.standards import resolve_specs_dir
from cdisc_mapper.standards.csvio import read_table
from cdisc_mapper.validate.checks.consistency import upper
from cdisc_mapper.validate.context import Context
from cdisc_mapper.validate.model import WARNING, scope
from cdisc_mapper.validate.package import Dataset, blank
from cdisc_mapper.validate.registry import check

FDA_TS_PARAMETERS = ("validate", "fda-ts-parameters.csv")


@dataclass(frozen=True)
class Required:
    """One required TS parameter; ``when`` is ``(TSPARMCD, TSVAL)`` it depends on."""

    code: str
    name: str
    when: tuple[str, str] | None
    source: str


@lru_cache(maxsize=4)
def required_parameters(specs_dir: Path) -> tuple[Required, ...]:
    """The rows of ``specs/validate/fda-ts-parameters.csv``."""
    path = specs_dir.joinpath(*FDA_TS_PARAMETERS)
    out = []
    for _, row in read_table(path, ("tsparmcd", "tsparm", "condition", "source")):
        parm, _, value = row["condition"].partition("=")
        when = (parm.strip().upper(), value.strip().upper()) if row["condition"] else None
        out.append(Required(row["tsparmcd"], row["tsparm"], when, row["source"]))
    return tuple(out)


def stated(ts: Dataset) -> dict[str, set[str]]:
    """``{TSPARMCD: its TSVAL values (upper case)}`` for every parameter with a value or a
    null flavor (TSVALNF) on some record."""
    values = upper(ts.df["TSVAL"])
    given = ~blank(ts.df["TSVAL"])
    if "TSVALNF" in ts.df.columns:
        given |= ~blank(ts.df["TSVALNF"])
    codes = upper(ts.df["TSPARMCD"])
    out: dict[str, set[str]] = {}
    for row in np.flatnonzero(given):
        out.setdefault(str(codes.iloc[row]), set()).add(str(values.iloc[row]))
    return out


def interventional(ctx: Context, parameters: dict[str, set[str]]) -> bool:
    """STYPE is INTERVENTIONAL, or (without STYPE) the package has exposure (EX) records."""
    if "STYPE" in parameters:
        return "INTERVENTIONAL" in parameters["STYPE"]
    return any(ex.n for ex in ctx.domain("EX"))


@check(
    "SD0121",
    WARNING,
    "trial design",
    "A TS parameter the FDA requires of an interventional study is missing",
    scope=scope("SDTM", datasets=("TS",)),
    explanation="The FDA Study Data Technical Conformance Guide lists the Trial Summary "
    "parameters every interventional study submits (with TSVAL, or TSVALNF when not "
    "applicable), some only under a condition (CURTRT when ADDON = Y, RANDQT when RANDOM "
    "= Y). The list is specs/validate/fda-ts-parameters.csv. The study is interventional "
    "when STYPE = INTERVENTIONAL, or without STYPE when it has EX records.",
    reference="FDA Study Data Technical Conformance Guide (Trial Summary); CORE-000741 "
    "(FB1111); SDTMIG v3.4 §7.6.1 (TS)",
)
def fda_ts_parameters(ctx: Context, ds: Dataset) -> None:
    if ds.name != "TS" or not ds.has("TSPARMCD", "TSVAL"):
        return
    parameters = stated(ds)
    if not interventional(ctx, parameters):
        return
    for need in required_parameters(resolve_specs_dir()):
        if need.code in parameters:
            continue
        if need.when is not None and need.when[1] not in parameters.get(need.when[0], set()):
            continue
        because = f" ({need.when[0]} = {need.when[1]})" if need.when else ""
        ctx.note(
            f"TS has no TSPARMCD {need.code} ({need.name}){because} with TSVAL or TSVALNF",
            dataset=ds.name,
            variable="TSPARMCD",
            value=need.code,
        )
