"""Small shared types of the ADaM package (no imports of its other modules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Origin = Literal["Derived", "Assigned", "Predecessor", "Collected", "Protocol"]


def split_source(source: str) -> tuple[str | None, str]:
    """``"DM.AGE"`` -> ``("DM", "AGE")``; ``"AVAL"`` -> ``(None, "AVAL")``."""
    if "." in source:
        dom, var = source.split(".", 1)
        return dom.upper(), var.upper()
    return None, source


def is_adam(name: str | None) -> bool:
    """Whether a dataset name is an ADaM dataset (``AD...``) rather than an SDTM domain."""
    return bool(name) and str(name).startswith("AD")


@dataclass(frozen=True)
class ColumnMeta:
    """define.xml metadata that an operation gives the column it makes."""

    origin: Origin = "Derived"
    source: str | None = None
    method: str | None = None
    type: Literal["Char", "Num"] | None = None
    date: bool = False
    codelist: str | None = None
    value_level: tuple[tuple[str, str, Origin, str | None, str | None], ...] = ()
    """(variable, value, origin, source, method) per parameter when they differ."""


@dataclass
class BuildState:
    """The column metadata and caches collected while one dataset is built."""

    columns: dict[str, ColumnMeta] = field(default_factory=dict)
    cache: dict[Any, Any] = field(default_factory=dict)
