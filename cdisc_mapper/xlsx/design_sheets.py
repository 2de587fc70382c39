"""The study design of ``study.yaml`` as tables: one sheet per list (Arms, Elements,
Visits, TrialSummary, Criteria, UnitConversions), one row per entry and one column per
spec key, headed by the key as study.yaml spells it; the two unit mappings as two-column
sheets (StandardUnits, UnitSynonyms); ``unscheduled.<key>`` rows in the Study sheet.

A cell holds a plain value, or JSON for a list or mapping (``raw_labels``, ``start``,
``branch``...). A text that itself begins with ``[``, ``{`` or ``"`` is written as a JSON
string, so that every cell reads back as what was written.

The sheets are declared in :mod:`.layout` (``DESIGN_TABLES``, ``DESIGN_PAIRS``).
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from cdisc_mapper.spec.study import StudySpec
from cdisc_mapper.xlsx import layout as L
from cdisc_mapper.xlsx.sheet import Sheet, cell_str, cell_text, parse_cell, validation_error

#: study.yaml's ``unscheduled`` Study rows: (row, attribute, value).
StudyRows = list[tuple[int, str, Any]]


def encode(value: Any) -> Any:
    """A spec value as a cell: a list or mapping as JSON, a text that would read as JSON
    as a JSON string, anything else as is."""
    if value is None:
        return None
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if isinstance(value, str) and value[:1] in ("[", "{", '"'):
        return json.dumps(value, ensure_ascii=False)
    return value


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def design_content(study: StudySpec) -> dict[str, list[dict[str, Any]]]:
    """Rows of the design sheets, and the ``unscheduled.*`` rows of the Study sheet."""
    data = study.model_dump(by_alias=True, exclude_none=True, mode="json")
    out: dict[str, list[dict[str, Any]]] = {}
    for sheet, (path, _model) in L.DESIGN_TABLES.items():
        out[sheet] = [{k: encode(v) for k, v in item.items()} for item in _get(data, path) or []]
    standard = _get(data, L.DESIGN_PAIRS[L.STANDARD_UNITS][0]) or {}
    out[L.STANDARD_UNITS] = [
        {"domain": domain, "testcd": testcd, "unit": unit}
        for domain, units in standard.items()
        for testcd, unit in units.items()
    ]
    synonyms = _get(data, L.DESIGN_PAIRS[L.UNIT_SYNONYMS][0]) or {}
    out[L.UNIT_SYNONYMS] = [{"synonym": k, "unit": v} for k, v in synonyms.items()]
    out["Study"] = [
        {"Attribute": f"{L.UNSCHEDULED}{k}", "Value": encode(v)}
        for k, v in (data.get("unscheduled") or {}).items()
    ]
    return out


def text_only(model: type[BaseModel], key: str) -> bool:
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


def decode(sheet: Sheet, r: int, column: str, value: Any, text_only: bool) -> Any:
    """A cell written by :func:`encode` as the spec value (``text_only``: a number as its
    text)."""
    if isinstance(value, str) and value[:1] in ("[", "{", '"'):
        return parse_cell(sheet, r, column, value, "json")
    if text_only and not isinstance(value, str):
        return cell_text(value)
    return value


def read_design(sheets: dict[str, Sheet], unscheduled: StudyRows) -> dict[str, Any]:
    """The study.yaml keys of the design sheets (and of the ``unscheduled.*`` Study rows,
    given as (row, attribute, value)). Errors name sheet, row and column."""
    data: dict[str, Any] = {}
    for sheet_name, (path, model) in L.DESIGN_TABLES.items():
        sheet = sheets.get(sheet_name)
        if sheet is not None and (items := _read_table(sheet, path, model)):
            _put(data, path, items)
    sheet = sheets.get(L.STANDARD_UNITS)
    if sheet is not None and (standard := _read_standard_units(sheet)):
        _put(data, L.DESIGN_PAIRS[L.STANDARD_UNITS][0], standard)
    sheet = sheets.get(L.UNIT_SYNONYMS)
    if sheet is not None and (synonyms := _read_unit_synonyms(sheet)):
        _put(data, L.DESIGN_PAIRS[L.UNIT_SYNONYMS][0], synonyms)
    if unscheduled:
        study = sheets["Study"]
        data["unscheduled"] = {
            attr.removeprefix(L.UNSCHEDULED): decode(study, r, "Value", value, False)
            for r, attr, value in unscheduled
        }
    return data


def _put(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    target = data
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value


def _read_table(
    sheet: Sheet, path: tuple[str, ...], model: type[BaseModel]
) -> list[dict[str, Any]]:
    """The entries of a design table, each checked against the row model."""
    items: list[dict[str, Any]] = []
    for r, row in sheet.rows:
        item = {
            k: decode(sheet, r, k, v, text_only(model, k)) for k, v in row.items() if v is not None
        }
        try:
            model.model_validate(item)
        except ValidationError as exc:
            cols = {c: c for c in L.model_columns(model)}
            cols.update({name: f.alias for name, f in model.model_fields.items() if f.alias})
            name = f"{path[-1]}[{len(items)}]"
            raise validation_error(sheet, r, exc, cols, name=name) from None
        items.append(item)
    return items


def _read_standard_units(sheet: Sheet) -> dict[str, dict[str, str]]:
    """StandardUnits: domain -> test code -> standard unit."""
    standard: dict[str, dict[str, str]] = {}
    for r, row in sheet.rows:
        domain, testcd, unit = (cell_str(row, c) for c in ("domain", "testcd", "unit"))
        for value, column in ((domain, "domain"), (testcd, "testcd"), (unit, "unit")):
            if value is None:
                raise sheet.error(f"{column} is missing", r, column)
        assert domain is not None and testcd is not None and unit is not None
        if testcd in standard.get(domain, {}):
            raise sheet.error(f"{domain} {testcd} given twice", r, "testcd")
        standard.setdefault(domain, {})[testcd] = unit
    return standard


def _read_unit_synonyms(sheet: Sheet) -> dict[str, str]:
    """UnitSynonyms: synonym -> unit."""
    synonyms: dict[str, str] = {}
    for r, row in sheet.rows:
        synonym, unit = cell_str(row, "synonym"), cell_str(row, "unit")
        if synonym is None or unit is None:
            raise sheet.error(
                "a synonym needs both columns", r, "synonym" if not synonym else "unit"
            )
        if synonym in synonyms:
            raise sheet.error(f"synonym {synonym!r} given twice", r, "synonym")
        synonyms[synonym] = unit
    return synonyms
