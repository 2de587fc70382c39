"""The reference of every operation, generated from the registries and argument models.

``docs/operations.md`` is this text (``cdisc-mapper spec reference`` writes it; a test
keeps the file equal to it), so a new operation or argument is documented the moment it is
registered: its name, what it does (the first paragraph of its function's docstring), and
each argument with its type, default and description (``Field(description=...)``).
Nested argument models (e.g. the items of ``case``) get a table of their own. Spec
entries that are not operations (a domain spec's ``sources:``) are documented the same way
from their models (:class:`ModelSection`).
"""

from __future__ import annotations

import inspect
import math
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from cdisc_mapper.spec.operations import Example, Operation, Registry
from cdisc_mapper.spec.yamlio import dump_yaml, load_yaml


@dataclass(frozen=True)
class Section:
    """One registry of the reference: its title, what its names are for, and a line of
    traits per operation (e.g. the SDTM default origin)."""

    title: str
    intro: str
    registry: Registry[Any]
    traits: typing.Callable[[Any], str] = lambda op: ""


@dataclass(frozen=True)
class ModelSection:
    """A spec entry that is not an operation (e.g. a domain spec's ``sources:``): its
    title, what it is for, and the model whose fields are its keys. ``skip`` names nested
    models documented elsewhere (e.g. a variable's entry, documented as operations)."""

    title: str
    intro: str
    model: type[BaseModel]
    skip: tuple[str, ...] = ()


def summary(op: Operation) -> str:
    """The first paragraph of the operation's docstring, on one line (reST literals as
    markdown code)."""
    doc = inspect.getdoc(op.fn) or ""
    return " ".join(doc.split("\n\n", 1)[0].split()).replace("``", "`")


def type_text(annotation: Any) -> str:
    """An argument's type as a reader of a spec sees it (``text``, ``list of text``...)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(a) if isinstance(a, str) else str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_text(a) for a in args if a is not type(None))
    if origin is list:
        return f"list of {type_text(args[0])}"
    if origin is dict:
        return f"mapping of {type_text(args[0])} to {type_text(args[1])}"
    if origin is typing.Annotated:
        return type_text(args[0])
    names = {str: "text", int: "integer", float: "number", bool: "true/false"}
    if annotation in names:
        return names[annotation]
    if annotation is Any:
        return "any value"
    return getattr(annotation, "__name__", str(annotation))


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    factory = info.default_factory
    value = factory() if factory is not None else info.default  # type: ignore[call-arg]
    if value is None or value is PydanticUndefined:
        return ""
    if isinstance(value, BaseModel):
        return type(value).__name__
    if value == "":
        return '`""`'
    return f"`{_yaml_text(value)}`"


def _yaml_text(value: Any) -> str:
    """A default as a spec author writes it in YAML (``true``, ``[USUBJID, PARAMCD]``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Argument models nested in a field's type (not the condition language)."""
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation] if annotation.__name__ not in ("Condition", "VariableRef") else []
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out += _models_in(arg)
    return out


def fields_table(model: type[BaseModel]) -> list[str]:
    """A markdown table of ``model``'s fields (spec key, type, default, description)."""
    if not model.model_fields:
        return ["No arguments."]
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for name, info in model.model_fields.items():
        key = info.alias or name
        kind = type_text(info.annotation)
        if "Condition" in kind:
            kind = kind.replace("Condition", "condition")
        lines.append(
            f"| `{key}` | {_cell(kind)} | {_cell(_default(info))} | "
            f"{_cell(info.description or '')} |"
        )
    return lines


def nested_tables(model: type[BaseModel], skip: Sequence[str] = ()) -> list[str]:
    """A table for each model nested in ``model``'s fields (and in theirs), each once."""
    lines: list[str] = []
    seen = set(skip)
    todo = [model]
    while todo:
        for info in todo.pop(0).model_fields.values():
            for nested in _models_in(info.annotation):
                if nested.__name__ in seen:
                    continue
                seen.add(nested.__name__)
                todo.append(nested)
                lines += ["", f"Each `{nested.__name__}`:", "", *fields_table(nested)]
    return lines


def model_section_text(section: ModelSection) -> list[str]:
    """A spec entry's keys (and those of its nested entries) as markdown tables."""
    lines = [f"## {section.title}", "", section.intro, "", *fields_table(section.model)]
    return lines + nested_tables(section.model, (section.model.__name__, *section.skip))


def operation_text(op: Operation, traits: str = "") -> list[str]:
    lines = [f"### `{op.name}`", "", summary(op) or "(no description)"]
    if traits:
        lines += ["", traits]
    lines += ["", *fields_table(op.args_model)]
    lines += nested_tables(op.args_model, (op.args_model.__name__,))
    if op.example is not None:
        lines += ["", *example_text(op.example)]
    return lines


def example_name(example: Example) -> str:
    """The variable an example's spec entry defines (its first key)."""
    return str(next(iter(load_yaml(example.spec) or {"": None})))


def _value_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "(null)"
    if value == "":
        return '`""`'
    return _cell(str(value))


def _table(columns: dict[str, list[Any]]) -> list[str]:
    names = list(columns)
    rows = max((len(v) for v in columns.values()), default=0)
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for i in range(rows):
        cells = [_value_text(columns[n][i]) if i < len(columns[n]) else "" for n in names]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def example_text(example: Example) -> list[str]:
    """An example as markdown: its spec entry, what it reads and what it gives."""
    lines = ["Example:", "", "```yaml", example.spec.strip(), "```"]
    if example.study:
        lines += [
            "",
            "with, in study.yaml:",
            "",
            "```yaml",
            *dump_yaml(example.study).splitlines(),
            "```",
        ]
    if example.conventions:
        lines += [
            "",
            "with, in adam/conventions.yaml:",
            "",
            "```yaml",
            *dump_yaml(example.conventions).splitlines(),
            "```",
        ]
    if example.note:
        lines += ["", example.note]
    for domain, columns in example.domains.items():
        lines += ["", f"{domain} has:", "", *_table(columns)]
    shown: dict[str, list[Any]] = {f"{k} (raw)": v for k, v in example.raw.items()}
    shown.update(example.records)
    if example.gives is not None:
        shown[f"→ {example_name(example)}"] = example.gives
    if shown:
        lines += ["", "the earlier steps made:"] if example.makes is not None else []
        lines += ["", *_table(shown)]
    if example.makes is not None:
        lines += ["", "makes:", "", *_table(example.makes)]
    return lines


def operations_markdown(sections: Sequence[Section | ModelSection]) -> str:
    """The whole reference (markdown), one section per registry, operations by name, and
    one per spec entry that is not an operation."""
    lines = [
        "# Operations reference",
        "",
        "Generated from the operation registries and their argument models by",
        "`cdisc-mapper spec reference`; do not edit by hand (a test keeps it current).",
        "Conditions (`when:`, `where:`) use the condition language of",
        "`cdisc_mapper/condition/model.py`.",
    ]
    for section in sections:
        if isinstance(section, ModelSection):
            lines += ["", *model_section_text(section)]
            continue
        lines += ["", f"## {section.title}", "", section.intro]
        for name in section.registry.names():
            op = section.registry.require(name)
            lines += ["", *operation_text(op, section.traits(op))]
    text = "\n".join(lines) + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)
