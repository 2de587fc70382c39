"""The registry of mapping operations.

Each operation is a small function ``fn(frame, args, ctx) -> pd.Series`` registered
under the name a spec uses in ``op:``, with a pydantic model for its arguments (checked
when the spec is loaded, so a typo points at the spec line before any data is read) and
a declaration of what it needs:

* ``inputs(args)``: variables of the same domain that must be computed first;
* ``external(args)``: ``(domain, variable)`` pairs of other domains, or the special
  resources ``("*", "CALENDAR")`` (the subjects' visit calendar) and ``("SE", "*")``;
* ``raw``: True when it reads raw columns (allowed only inside a source).

The engine runs the operations in dependency order, so a spec never states stages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict

OpFunc = Callable[[pd.DataFrame, Any, Any], pd.Series]


class OpArgs(BaseModel):
    """Base of every operation's argument model (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def inputs(self) -> set[str]:
        """Same-domain variables this operation reads."""
        return set()

    def external(self) -> set[tuple[str, str]]:
        """Other domains' variables (or resources) this operation reads."""
        return set()


@dataclass(frozen=True)
class Operation:
    name: str
    fn: OpFunc
    args_model: type[OpArgs]
    origin: Literal["Collected", "Derived", "Assigned", "Protocol"]
    raw: bool
    needs_all: bool
    row_local: bool = False
    doc: str = field(default="")


REGISTRY: dict[str, Operation] = {}


def register(
    name: str,
    args: type[OpArgs],
    *,
    origin: Literal["Collected", "Derived", "Assigned", "Protocol"] = "Derived",
    raw: bool = False,
    needs_all: bool = False,
    row_local: bool = False,
) -> Callable[[OpFunc], OpFunc]:
    """Register ``fn`` as mapping operation ``name``.

    ``needs_all``: the operation runs after every other variable of its domain (e.g.
    --SEQ, which sorts on the final values). ``row_local``: each record's value depends
    only on that record's ``inputs()``, so the engine may compute it once per distinct
    combination of inputs (large studies repeat the same few values millions of times).
    """

    def deco(fn: OpFunc) -> OpFunc:
        if name in REGISTRY:
            raise RuntimeError(f"operation {name!r} registered twice")
        REGISTRY[name] = Operation(
            name=name,
            fn=fn,
            args_model=args,
            origin=origin,
            raw=raw,
            needs_all=needs_all,
            row_local=row_local,
            doc=(fn.__doc__ or "").strip(),
        )
        return fn

    return deco


def operation(name: str) -> Operation | None:
    return REGISTRY.get(name)


def names() -> Iterable[str]:
    return sorted(REGISTRY)
