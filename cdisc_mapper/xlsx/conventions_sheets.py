"""ADaM ``conventions.yaml`` as tables: AnalysisEvents (one row per event, ``event``
column = its name), AnalysisPeriods, AnalysisPhases and AnalysisWindows (one row per
window, ``set`` column = its window set); the other keys (``studyid``, ``month_days``,
``reference_date``, ``comments``) are ``adam.conventions.<key>`` rows of the Study sheet.

Cells follow :mod:`.design_sheets`: plain values, JSON for lists and mappings. The sheets
are declared in :mod:`.layout` (``CONVENTION_TABLES``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.adam import Conventions
from cdisc_mapper.xlsx import layout as L
from cdisc_mapper.xlsx.design_sheets import decode, encode, text_only
from cdisc_mapper.xlsx.sheet import Sheet, cell_str, close_hint, validation_error


def conventions_content(conv: Conventions) -> dict[str, list[dict[str, Any]]]:
    """Rows of the conventions sheets and the ``adam.conventions.*`` Study rows."""
    data = conv.model_dump(by_alias=True, exclude_none=True, mode="json")
    out: dict[str, list[dict[str, Any]]] = {"Study": []}
    for key in L.CONVENTION_STUDY_KEYS:
        if key in data:
            out["Study"].append(
                {"Attribute": L.CONVENTIONS_PREFIX + key, "Value": encode(data[key])}
            )
    for sheet, (field, _model, column, many) in L.CONVENTION_TABLES.items():
        value = data.get(field)
        rows: list[dict[str, Any]] = []
        items: list[tuple[dict[str, Any], dict[str, Any]]]
        if column is None:
            items = [({}, item) for item in value or []]
        elif many:
            items = [
                ({column: name}, item) for name, group in (value or {}).items() for item in group
            ]
        else:
            items = [({column: name}, item) for name, item in (value or {}).items()]
        for head, item in items:
            rows.append({**head, **{k: encode(v) for k, v in item.items()}})
        out[sheet] = rows
    return out


def read_conventions(
    sheets: dict[str, Sheet], study_rows: list[tuple[int, str, str]]
) -> dict[str, Any] | None:
    """conventions.yaml's data (None when the workbook gives none of it); ``study_rows``
    are the ``adam.conventions.*`` rows of the Study sheet (row, attribute, value)."""
    study = sheets["Study"]
    data: dict[str, Any] = {}
    for r, attr, value in study_rows:
        key = attr.removeprefix(L.CONVENTIONS_PREFIX)
        if key not in L.CONVENTION_STUDY_KEYS:
            raise _unknown(study, r, attr)
        data[key] = decode(study, r, "Value", value, text_only(Conventions, key))
    for sheet_name, (field, model, column, many) in L.CONVENTION_TABLES.items():
        sheet = sheets.get(sheet_name)
        if sheet is None or not sheet.rows:
            continue
        data[field] = _read_table(sheet, field, model, column, many)
    if not data:
        return None
    ordered = {k: data[k] for k in Conventions.model_fields if k in data}
    try:
        Conventions.model_validate(ordered)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = ".".join(str(x) for x in err["loc"]) or "(conventions)"
        first = min((r for r, _, _ in study_rows), default=1)
        raise study.error(f"adam conventions: {path}: {err['msg']}", first, "Attribute") from None
    return ordered


def _read_table(
    sheet: Sheet, field: str, model: type[BaseModel], key: str | None, many: bool
) -> Any:
    """One conventions table: a list of entries, or entries (lists of them when ``many``)
    by the name in column ``key``."""
    collected: Any = {} if key else []
    for r, row in sheet.rows:
        item = {
            k: decode(sheet, r, k, v, text_only(model, k))
            for k, v in row.items()
            if v is not None and k != key
        }
        try:
            model.model_validate(item)
        except ValidationError as exc:
            cols = {c: c for c in L.model_columns(model)}
            raise validation_error(sheet, r, exc, cols, name=field) from None
        if key is None:
            collected.append(item)
            continue
        name = cell_str(row, key)
        if name is None:
            raise sheet.error(f"a row without its {key}", r, key)
        if many:
            collected.setdefault(name, []).append(item)
        elif name in collected:
            raise sheet.error(f"{key} {name!r} given twice", r, key)
        else:
            collected[name] = item
    return collected


def _unknown(sheet: Sheet, r: int, attr: str) -> SpecError:
    known = [L.CONVENTIONS_PREFIX + k for k in L.CONVENTION_STUDY_KEYS]
    hint = close_hint(attr, known, "known: " + ", ".join(known))
    return sheet.error(f"unknown attribute {attr!r}", r, "Attribute", hint=hint)
