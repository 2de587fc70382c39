"""The operation contract shared by the SDTM mapping and the ADaM derivations.

A spec names an operation for each variable (SDTM ``op:``, ADaM ``derive:``) and for the
steps that make a dataset's records (ADaM ``records: - op:``). Every operation is a small
function registered under that name in a :class:`Registry`, with

* an argument model, a subclass of :class:`OpArgs` (unknown keys are errors), checked
  when the spec is loaded so that a typo points at the spec line before any data is
  read; the model also declares what the operation reads (:meth:`OpArgs.inputs`,
  :meth:`OpArgs.lookups`, :meth:`OpArgs.conventions_used`), so the engines order the
  work and the loaders check that every name exists;
* the define.xml method text, given explicitly when it is registered (a template filled
  from its arguments, see :func:`fill_template`, or a function of the arguments), never
  read from a docstring: editing a docstring cannot change a submission.

Each stage adds the traits its engine needs by subclassing :class:`Operation`
(``cdisc_mapper.sdtm.registry``, ``cdisc_mapper.adam.ops.base``).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from cdisc_mapper.errors import Location, SpecError


class OpArgs(BaseModel):
    """Base of every operation's argument model (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def inputs(self) -> set[str]:
        """Variables of the same dataset that must exist before this operation runs."""
        return set()

    def lookups(self) -> set[tuple[str, str]]:
        """``(dataset, variable)`` pairs read from other datasets; ``dataset`` ``"*"``
        names a resource of the engine (e.g. ``("*", "CALENDAR")``)."""
        return set()

    def parameters_read(self) -> set[str]:
        """PARAMCD values a record step reads from the records of earlier steps (the
        loader checks that an earlier step makes each)."""
        return set()

    def conventions_used(self) -> set[tuple[str, str | int]]:
        """Named parts of the ADaM conventions it uses: ``("period", 1)``,
        ``("phase", 2)``, ``("window", "VISITS")``."""
        return set()


Origin = Literal["Derived", "Assigned", "Predecessor", "Collected", "Protocol"]


@dataclass(frozen=True)
class ColumnMeta:
    """What an operation tells define.xml about the column it makes."""

    origin: Origin = "Derived"
    source: str | None = None
    method: str | None = None
    type: Literal["Char", "Num"] | None = None
    date: bool = False
    codelist: str | None = None
    format: str | None = None
    """SAS display format of a numeric column its type does not imply (``DATETIME20.``,
    ``TIME8.``); ``date`` gives ``DATE9.``."""
    value_level: tuple[tuple[str, str, Origin, str | None, str | None], ...] = ()
    """(variable, value, origin, source, method) per parameter when they differ."""


@dataclass(frozen=True)
class Example:
    """A worked example of an operation, shown in the reference and run by the tests
    (``tests/test_operation_examples.py``), so that it cannot drift from the code.

    Attributes:
        spec: the variable's entry as a spec writes it, e.g.
            ``"AETERM: {op: upper, column: TERM}"``.
        raw: raw columns of the source's form it reads (name -> values).
        records: variables of the records it reads (name -> values).
        domains: other domains it looks up (domain -> name -> values).
        gives: the values it gives, one per record; ``None`` when it cannot run alone.
        note: what else it uses (e.g. a part of study.yaml; examples run against the
            bundled study's study.yaml and terminology).
        study: study.yaml sections it runs with instead of the bundled study's (key ->
            the section as study.yaml writes it, e.g. ``{"subjects": {...}}``).
        conventions: ADaM ``conventions.yaml`` sections it runs with (key -> the section,
            e.g. ``{"windows": {...}}``) instead of those of the test study
            (``tests/adam_ops_context.py``).
        makes: the records an ADaM record builder makes (name -> values), the columns
            shown; ``None`` when it cannot run alone or for any other operation.

    ADaM examples (``tests/test_adam_operation_examples.py``) show numeric dates (``*DT``
    variables) as ISO 8601 text; they run as SAS day numbers.
    """

    spec: str
    raw: dict[str, list[Any]] = field(default_factory=dict)
    records: dict[str, list[Any]] = field(default_factory=dict)
    domains: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    gives: list[Any] | None = None
    note: str = ""
    study: dict[str, Any] = field(default_factory=dict)
    conventions: dict[str, Any] = field(default_factory=dict)
    makes: dict[str, list[Any]] | None = None


@dataclass(frozen=True)
class Operation:
    """A registered operation: its spec name, function, argument model and example."""

    name: str
    fn: Callable[..., Any]
    args_model: type[OpArgs]
    example: Example | None = None


OpT = TypeVar("OpT", bound=Operation)


class Registry(Generic[OpT]):
    """Operations of one kind, by the name a spec uses."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._ops: dict[str, OpT] = {}

    def add(self, op: OpT) -> OpT:
        if op.name in self._ops:
            raise RuntimeError(f"{self.kind} {op.name!r} registered twice")
        self._ops[op.name] = op
        return op

    def get(self, name: str) -> OpT | None:
        return self._ops.get(name)

    def require(self, name: str, where: Location | str | None = None, what: str = "") -> OpT:
        """The operation ``name``, or a SpecError at ``where`` listing the known names."""
        op = self._ops.get(name)
        if op is None:
            raise SpecError(
                f"{what}unknown {self.kind} {name!r}; known: {', '.join(self.names())}",
                where=where,
            )
        return op

    def names(self) -> list[str]:
        """The names, sorted."""
        return sorted(self._ops)

    def __contains__(self, name: object) -> bool:
        return name in self._ops

    def __iter__(self) -> Iterator[OpT]:
        """The operations in the order they were registered."""
        return iter(list(self._ops.values()))

    def __len__(self) -> int:
        return len(self._ops)


def template_fields(template: str) -> list[str]:
    """The ``{argument}`` fields of a method template, in order."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def check_template(template: str, model: type[OpArgs]) -> None:
    """Raise ValueError unless every field of ``template`` is an argument of ``model``
    (plain names only: no attribute access, indexing or format specs)."""
    for _, name, spec, conv in string.Formatter().parse(template):
        if name is None:
            continue
        if spec or conv or name not in model.model_fields:
            raise ValueError(
                f"method template field {{{name}}} is not an argument of {model.__name__}"
            )


def fill_template(template: str, args: OpArgs, render: Callable[[str, Any], str]) -> str:
    """``template`` with each ``{argument}`` replaced by ``render(name, value)``."""
    out = []
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(literal)
        if name:
            out.append(render(name, getattr(args, name)))
    return "".join(out)
