"""Plain-English text for define.xml from spec objects: operation arguments and method
templates (conditions are described by :func:`cdisc_mapper.condition.describe`). A
reviewer reads these in define.html, so they name variables and raw columns as the spec
does and never show Python."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from cdisc_mapper.condition import Condition
from cdisc_mapper.condition import describe as condition_text
from cdisc_mapper.spec.operations import OpArgs, fill_template, template_fields

_IMPUTES = re.compile(
    r"\b(?:is|are|was|were) imputed (?:as|to|with|by)\b|\bimputed as\b|\bimputation rule\b",
    re.IGNORECASE,
)


def method_type(description: str) -> str:
    """Define-XML MethodDef Type: ``Imputation`` when the text says how a missing value
    is imputed ("a missing day is imputed as the 1st"), else ``Computation``."""
    return "Imputation" if _IMPUTES.search(description) else "Computation"


def value_text(value: Any, *, quote: bool = False) -> str:
    """Any argument value as text; ``quote`` puts data values (not names) in quotes."""
    if value is None:
        return "null"
    if isinstance(value, Condition):
        return condition_text(value)
    if isinstance(value, BaseModel):
        return args_text(value)
    if isinstance(value, dict):
        return "; ".join(
            f"{value_text(k, quote=True)} -> {value_text(v, quote=True)}" for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return ", ".join(value_text(v, quote=quote) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return f"'{value}'" if quote or value == "" else value
    return str(value)


#: Argument names whose values are data values (quoted), not variable or column names.
_DATA_ARGS = frozenset({"value", "values", "default", "synonyms", "template"})


def _case_text(cases: list[Any], default: Any) -> str:
    parts = []
    for case in cases:
        target = (
            case.variable
            if case.variable is not None
            else f"raw {case.column}"
            if case.column is not None
            else value_text(case.value, quote=True)
        )
        parts.append(f"if {condition_text(case.when)} then {target}")
    parts.append(f"otherwise {value_text(default, quote=True)}")
    return "; ".join(parts)


def args_text(args: BaseModel, names: frozenset[str] = frozenset()) -> str:
    """An operation's arguments, e.g. ``dtc: AESTDTC, ref: RFSTDTC``; case lists as
    ``if ... then ...; otherwise ...``; conditions in words. Data values are quoted unless
    they are one of ``names`` (the dataset's variables)."""
    data = {name: getattr(args, name) for name in type(args).model_fields}
    if "cases" in data and isinstance(data["cases"], list):
        return _case_text(data["cases"], data.get("default"))
    parts = []
    for name, info in type(args).model_fields.items():
        value = data[name]
        if value is None or value in ([], {}):
            continue
        if isinstance(value, bool) and value == info.default:
            continue
        if name == "when":
            parts.append(f"when {condition_text(value)}")
        else:
            quote = name in _DATA_ARGS and not (isinstance(value, str) and value in names)
            parts.append(f"{name}: {value_text(value, quote=quote)}")
    return ", ".join(parts)


#: An optional part of a method template: ``[ where {where}]`` is kept (without its
#: brackets) only when every argument it names is given (not None, empty or False).
_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")


def _given(value: Any) -> bool:
    return value is not None and value is not False and value not in ("", [], {}, ())


def resolve_optional(template: str, args: OpArgs) -> str:
    """``template`` with each optional ``[...]`` part kept or dropped by its arguments."""

    def keep(match: re.Match[str]) -> str:
        part = match.group(1)
        return part if all(_given(getattr(args, f)) for f in template_fields(part)) else ""

    return _OPTIONAL.sub(keep, template)


def operation_text(template: str, args: OpArgs, names: frozenset[str]) -> tuple[str, str]:
    """An operation's define.xml text and the detail to add: the method template (its
    optional ``[...]`` parts resolved, :func:`resolve_optional`) filled from its arguments
    (no detail), or, when the template names no argument, the template and the arguments
    listed (:func:`args_text`). A ``{cases}`` field reads ``if ... then ...; otherwise
    ...`` (the ``default`` argument)."""
    resolved = resolve_optional(template, args)

    def render(name: str, value: Any) -> str:
        if name == "cases" and isinstance(value, list):
            return _case_text(value, getattr(args, "default", None))
        if isinstance(value, bool):
            return ""  # a flag named in an optional part: the part's words say it
        return _field_text(name, value, names)

    filled = fill_template(resolved, args, render)
    filled = filled[:1].upper() + filled[1:]
    return filled, "" if template_fields(template) else args_text(args, names)


def _field_text(name: str, value: Any, names: frozenset[str]) -> str:
    quote = name in _DATA_ARGS and not (isinstance(value, str) and value in names)
    return value_text(value, quote=quote)
