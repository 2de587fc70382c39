"""Plain-English text for define.xml from spec objects: conditions, operation arguments,
docstrings. A reviewer reads these in define.html, so they name variables and raw columns
as the spec does and never show Python."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

_IMPUTES = re.compile(
    r"\b(?:is|are|was|were) imputed (?:as|to|with|by)\b|\bimputed as\b|\bimputation rule\b",
    re.IGNORECASE,
)


def method_type(description: str) -> str:
    """Define-XML MethodDef Type: ``Imputation`` when the text says how a missing value
    is imputed ("a missing day is imputed as the 1st"), else ``Computation``."""
    return "Imputation" if _IMPUTES.search(description) else "Computation"


def first_paragraph(doc: str) -> str:
    """The first paragraph of a docstring, on one line, without reST markup."""
    para = doc.strip().split("\n\n", 1)[0]
    return " ".join(para.split()).replace("``", "")


def condition_text(cond: Any) -> str:
    """A spec :class:`~cdisc_mapper.spec.models.Condition` as text."""
    if cond.all:
        return " and ".join(_paren(condition_text(c)) for c in cond.all)
    if cond.any:
        return " or ".join(_paren(condition_text(c)) for c in cond.any)
    if cond.not_ is not None:
        return f"not ({condition_text(cond.not_)})"
    col = cond.column
    if cond.equals is not None:
        text = f"{col} = '{cond.equals}'"
    elif cond.not_equals is not None:
        text = f"{col} is not '{cond.not_equals}'"
    elif cond.in_ is not None:
        text = f"{col} in ({', '.join(repr(v) for v in cond.in_)})"
    elif cond.not_in is not None:
        text = f"{col} not in ({', '.join(repr(v) for v in cond.not_in)})"
    elif cond.empty is not None:
        text = f"{col} is {'empty' if cond.empty else 'not empty'}"
    elif cond.startswith is not None:
        text = f"{col} starts with '{cond.startswith}'"
    else:
        text = f"{col} matches /{cond.matches}/"
    if not cond.case_sensitive:
        text += " (any case)"
    return text


def _paren(text: str) -> str:
    return f"({text})" if " and " in text or " or " in text else text


def _is_condition(value: Any) -> bool:
    return type(value).__name__ == "Condition"


def value_text(value: Any, *, quote: bool = False) -> str:
    """Any argument value as text; ``quote`` puts data values (not names) in quotes."""
    if value is None:
        return "null"
    if _is_condition(value):
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
        if value is None or value == [] or value == {}:
            continue
        if isinstance(value, bool) and value == info.default:
            continue
        if name == "when":
            parts.append(f"when {condition_text(value)}")
        else:
            quote = name in _DATA_ARGS and not (isinstance(value, str) and value in names)
            parts.append(f"{name}: {value_text(value, quote=quote)}")
    return ", ".join(parts)
