"""The study design of ``study.yaml`` as tables: one sheet per list (Arms, Elements,
Visits, TrialSummary, Criteria, UnitConversions), one row per entry and one column per
spec key, headed by the key as study.yaml spells it; the two unit mappings as two-column
sheets (StandardUnits, UnitSynonyms); ``unscheduled.<key>`` rows in the Study sheet.

A cell holds a plain value, or JSON for a list or mapping (``raw_labels``, ``start``,
``branch``...). A text that itself begins with ``[``, ``{`` or ``"`` is written as a JSON
string, so that every cell reads back as what was written.
"""

from __future__ import annotations

import json
import types
import typing
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from cdisc_mapper.spec.study import (
    ArmSpec,
    Criterion,
    ElementSpec,
    StudySpec,
    TrialSummaryParam,
    UnitConversion,
    VisitSpec,
)

if TYPE_CHECKING:
    from cdisc_mapper.xlsx.importer import _Sheet

ARMS, ELEMENTS, VISITS = "Arms", "Elements", "Visits"
TRIAL_SUMMARY, CRITERIA = "TrialSummary", "Criteria"
STANDARD_UNITS, UNIT_SYNONYMS, UNIT_CONVERSIONS = "StandardUnits", "UnitSynonyms", "UnitConversions"

#: sheet -> (StudySpec path, model of a row)
TABLES: dict[str, tuple[tuple[str, ...], type[BaseModel]]] = {
    ARMS: (("arms",), ArmSpec),
    ELEMENTS: (("elements",), ElementSpec),
    VISITS: (("visits",), VisitSpec),
    TRIAL_SUMMARY: (("trial_summary",), TrialSummaryParam),
    CRITERIA: (("criteria",), Criterion),
    UNIT_CONVERSIONS: (("units", "conversions"), UnitConversion),
}
#: sheet -> (StudySpec path of a mapping, its columns)
PAIRS: dict[str, tuple[tuple[str, ...], list[str]]] = {
    STANDARD_UNITS: (("units", "standard"), ["domain", "testcd", "unit"]),
    UNIT_SYNONYMS: (("units", "synonyms"), ["synonym", "unit"]),
}
UNSCHEDULED = "unscheduled."


def columns(model: type[BaseModel]) -> list[str]:
    """The spec keys of a model, as study.yaml spells them (aliases, e.g. ``from``)."""
    return [field.alias or name for name, field in model.model_fields.items()]


def headers() -> dict[str, list[str]]:
    out = {sheet: columns(model) for sheet, (_, model) in TABLES.items()}
    out.update({sheet: cols for sheet, (_, cols) in PAIRS.items()})
    return out


def required_columns() -> dict[str, list[str]]:
    """The columns a design sheet must have: the model's required keys."""
    out = {
        sheet: [f.alias or n for n, f in model.model_fields.items() if f.is_required()]
        for sheet, (_, model) in TABLES.items()
    }
    out.update({sheet: cols for sheet, (_, cols) in PAIRS.items()})
    return out


def _encode(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if isinstance(value, str) and value[:1] in ("[", "{", '"'):
        return json.dumps(value, ensure_ascii=False)
    return value


def _get(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def design_content(study: StudySpec) -> dict[str, list[dict[str, Any]]]:
    """Rows of the design sheets, and the ``unscheduled.*`` rows of the Study sheet."""
    data = study.model_dump(by_alias=True, exclude_none=True, mode="json")
    out: dict[str, list[dict[str, Any]]] = {}
    for sheet, (path, _model) in TABLES.items():
        out[sheet] = [{k: _encode(v) for k, v in item.items()} for item in _get(data, path) or []]
    standard = _get(data, PAIRS[STANDARD_UNITS][0]) or {}
    out[STANDARD_UNITS] = [
        {"domain": domain, "testcd": testcd, "unit": unit}
        for domain, units in standard.items()
        for testcd, unit in units.items()
    ]
    synonyms = _get(data, PAIRS[UNIT_SYNONYMS][0]) or {}
    out[UNIT_SYNONYMS] = [{"synonym": k, "unit": v} for k, v in synonyms.items()]
    out["Study"] = [
        {"Attribute": f"{UNSCHEDULED}{k}", "Value": _encode(v)}
        for k, v in (data.get("unscheduled") or {}).items()
    ]
    return out


def _text_only(model: type[BaseModel], key: str) -> bool:
    """Whether the field of spec key ``key`` takes text only (a number typed in Excel is
    then read as its text)."""
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            kinds = _kinds(field.annotation)
            return str in kinds and not kinds & {int, float, bool}
    return False


def _kinds(annotation: Any) -> set[Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_kinds(a) for a in typing.get_args(annotation)))
    if origin is typing.Literal:
        return {type(a) for a in typing.get_args(annotation)}
    return {origin or annotation}


def _decode(sheet: _Sheet, r: int, column: str, value: Any, text_only: bool) -> Any:
    from cdisc_mapper.xlsx.importer import _parse, _text

    if isinstance(value, str) and value[:1] in ("[", "{", '"'):
        return _parse(sheet, r, column, value, "json")
    if text_only and not isinstance(value, str):
        return _text(value)
    return value


def read_design(
    sheets: dict[str, _Sheet], unscheduled: list[tuple[int, str, Any]]
) -> dict[str, Any]:
    """The study.yaml keys of the design sheets (and of the ``unscheduled.*`` Study rows,
    given as (row, attribute, value)). Errors name sheet, row and column."""
    from cdisc_mapper.xlsx.importer import _str, _validation_error

    data: dict[str, Any] = {}

    def put(path: tuple[str, ...], value: Any) -> None:
        target = data
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value

    for sheet_name, (path, model) in TABLES.items():
        sheet = sheets.get(sheet_name)
        if sheet is None:
            continue
        items = []
        for r, row in sheet.rows:
            item = {
                k: _decode(sheet, r, k, v, _text_only(model, k))
                for k, v in row.items()
                if v is not None
            }
            try:
                model.model_validate(item)
            except ValidationError as exc:
                cols = {c: c for c in columns(model)}
                cols.update({name: f.alias for name, f in model.model_fields.items() if f.alias})
                name = f"{path[-1]}[{len(items)}]"
                raise _validation_error(sheet, r, exc, cols, name=name) from None
            items.append(item)
        if items:
            put(path, items)
    standard: dict[str, dict[str, str]] = {}
    sheet = sheets.get(STANDARD_UNITS)
    for r, row in sheet.rows if sheet is not None else []:
        domain, testcd, unit = (_str(row, c) for c in ("domain", "testcd", "unit"))
        for value, column in ((domain, "domain"), (testcd, "testcd"), (unit, "unit")):
            if value is None:
                raise sheet.error(f"{column} is missing", r, column)
        if testcd in standard.get(domain, {}):
            raise sheet.error(f"{domain} {testcd} given twice", r, "testcd")
        standard.setdefault(domain, {})[testcd] = unit
    if standard:
        put(PAIRS[STANDARD_UNITS][0], standard)
    synonyms: dict[str, str] = {}
    sheet = sheets.get(UNIT_SYNONYMS)
    for r, row in sheet.rows if sheet is not None else []:
        synonym, unit = _str(row, "synonym"), _str(row, "unit")
        if synonym is None or unit is None:
            raise sheet.error(
                "a synonym needs both columns", r, "synonym" if not synonym else "unit"
            )
        if synonym in synonyms:
            raise sheet.error(f"synonym {synonym!r} given twice", r, "synonym")
        synonyms[synonym] = unit
    if synonyms:
        put(PAIRS[UNIT_SYNONYMS][0], synonyms)
    if unscheduled:
        study = sheets["Study"]
        data["unscheduled"] = {
            attr.removeprefix(UNSCHEDULED): _decode(study, r, "Value", value, False)
            for r, attr, value in unscheduled
        }
    return data
