"""The registry of SDTM mapping operations (the ``op:`` names of a domain spec).

Each operation is a small function ``fn(frame, args, ctx) -> pd.Series`` registered under
the name a spec uses, following the shared operation contract
(:mod:`cdisc_mapper.spec.operations`): an argument model checked when the spec is loaded,
what it reads (``inputs()``: variables of the same domain that must be computed first;
``lookups()``: ``(domain, variable)`` pairs of other domains, or the resources
``("*", "CALENDAR")``, the subjects' visit calendar, and ``("SE", "*")``), and the
define.xml method text, given here as a template over its arguments. The SDTM traits:

* ``origin``: the define.xml origin when the spec states none;
* ``raw``: it reads raw columns, so it is allowed only inside a source;
* ``needs_all``: it runs after every other variable of its domain (e.g. --SEQ, which
  sorts on the final values);
* ``row_local``: each record's value depends only on that record's ``inputs()``, so the
  engine may compute it once per distinct combination of inputs.

The engine runs the operations in dependency order, so a spec never states stages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from cdisc_mapper.spec.operations import Example, OpArgs, Operation, Registry, check_template

OpFunc = Callable[[pd.DataFrame, Any, Any], pd.Series]
SdtmOrigin = Literal["Collected", "Derived", "Assigned", "Protocol"]


@dataclass(frozen=True)
class MappingOperation(Operation):
    """An SDTM mapping operation with its define.xml method template and traits."""

    method: str = ""
    origin: SdtmOrigin = "Derived"
    raw: bool = False
    needs_all: bool = False
    row_local: bool = False


OPERATIONS: Registry[MappingOperation] = Registry("operation")


def register(
    name: str,
    args: type[OpArgs],
    *,
    method: str,
    origin: SdtmOrigin = "Derived",
    raw: bool = False,
    needs_all: bool = False,
    row_local: bool = False,
    example: Example | None = None,
) -> Callable[[OpFunc], OpFunc]:
    """Register ``fn`` as mapping operation ``name`` (see the module docstring).

    ``method`` is the define.xml description of what it does: a sentence a reviewer reads,
    in which ``{argument}`` is replaced by that argument's value (only the model's fields)
    and an optional part ``[ where {where}]`` is kept only when the arguments it names are
    given (a flag argument named there adds no text: the part's words say it). When it
    names no argument, define.xml lists the arguments after it. ``example`` is its worked
    example (:class:`~cdisc_mapper.spec.operations.Example`), shown in the reference and
    run by the tests.
    """
    check_template(method, args)

    def deco(fn: OpFunc) -> OpFunc:
        OPERATIONS.add(
            MappingOperation(
                name=name,
                fn=fn,
                args_model=args,
                method=method,
                origin=origin,
                raw=raw,
                needs_all=needs_all,
                row_local=row_local,
                example=example,
            )
        )
        return fn

    return deco
