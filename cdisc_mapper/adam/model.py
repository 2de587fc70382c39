"""What :func:`cdisc_mapper.adam.run_adam` returns: datasets with define.xml metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd


@dataclass(frozen=True)
class ValueLevel:
    """Metadata of a variable's values on the records where ``where`` holds (e.g.
    ``{"PARAMCD": "ALSRTOT"}``): define.xml value-level metadata."""

    where: dict[str, str]
    origin: str
    source: str | None = None
    method: str | None = None


@dataclass(frozen=True)
class AdamVariable:
    """One variable of an ADaM dataset, as define.xml describes it.

    ``label``/``type``/``codelist`` come from ADaMIG v1.3 (or SDTMIG 3.4 for a copied SDTM
    variable, or the spec for a sponsor variable); ``format`` is ``DATE9.`` for dates;
    ``origin`` is define.xml's (Derived, Assigned, Predecessor...); ``method`` the derivation
    text; ``source`` what it comes from (e.g. ``QS.QSSTRESN``, ``ADSL.TRTSDT``).
    """

    name: str
    label: str
    type: Literal["Char", "Num"] | None
    """None only in metadata built from the specs alone, when only the data can tell."""
    length: int | None = None
    format: str | None = None
    origin: str = "Derived"
    method: str | None = None
    source: str | None = None
    comment: str | None = None
    codelist: str | None = None
    core: str | None = None
    standard: str = "sponsor"
    """``ADaMIG 1.3``, ``SDTMIG 3.4`` (copied SDTM variable) or ``sponsor``."""
    value_level: tuple[ValueLevel, ...] = ()


@dataclass
class AdamDataset:
    """A finished ADaM dataset: its records and metadata."""

    name: str
    label: str
    structure: str
    class_: str
    keys: list[str]
    frame: pd.DataFrame
    variables: list[AdamVariable]
    comment: str | None = None
    spec_file: str | None = None

    def variable(self, name: str) -> AdamVariable:
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(name)


@dataclass
class AdamResult:
    """Datasets (ADSL first, then by name), report tables, files written, and the specs."""

    datasets: dict[str, AdamDataset]
    files: list[Path] = field(default_factory=list)
    reports: dict[str, pd.DataFrame] = field(default_factory=dict)
    specs: Any = None
    """The :class:`~cdisc_mapper.adam.spec.AdamSpecs` the datasets were built from."""
