"""ADaM ``conventions.yaml`` as tables: AnalysisEvents (one row per event, ``event``
column = its name), AnalysisPeriods, AnalysisPhases and AnalysisWindows (one row per
window, ``set`` column = its window set); the other keys (``studyid``, ``month_days``,
``reference_date``, ``comments``) are ``adam.conventions.<key>`` rows of the Study sheet.

Cells follow :mod:`.design_sheets`: plain values, JSON for lists and mappings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from cdisc_mapper.spec.adam import Conventions, EventSpec, PeriodSpec, PhaseSpec, WindowSpec
from cdisc_mapper.xlsx.design_sheets import _decode, _encode, _text_only, columns

if TYPE_CHECKING:
    from cdisc_mapper.errors import SpecError
    from cdisc_mapper.xlsx.importer import _Sheet

EVENTS, PERIODS, PHASES, WINDOWS = (
    "AnalysisEvents", "AnalysisPeriods", "AnalysisPhases", "AnalysisWindows",
)  # fmt: skip
PREFIX = "adam.conventions."

#: sheet -> (Conventions key, row model, key column for a mapping (None: a list),
#: whether each key holds a list of rows)
TABLES: dict[str, tuple[str, type[BaseModel], str | None, bool]] = {
    EVENTS: ("events", EventSpec, "event", False),
    PERIODS: ("periods", PeriodSpec, None, False),
    PHASES: ("phases", PhaseSpec, None, False),
    WINDOWS: ("windows", WindowSpec, "set", True),
}
STUDY_KEYS = tuple(k for k in Conventions.model_fields if k not in {t[0] for t in TABLES.values()})


def headers() -> dict[str, list[str]]:
    return {
        sheet: ([key] if key else []) + columns(model)
        for sheet, (_, model, key, _many) in TABLES.items()
    }


def required_columns() -> dict[str, list[str]]:
    return {
        sheet: ([key] if key else [])
        + [f.alias or n for n, f in model.model_fields.items() if f.is_required()]
        for sheet, (_, model, key, _many) in TABLES.items()
    }


def conventions_content(conv: Conventions) -> dict[str, list[dict[str, Any]]]:
    """Rows of the conventions sheets and the ``adam.conventions.*`` Study rows."""
    data = conv.model_dump(by_alias=True, exclude_none=True, mode="json")
    out: dict[str, list[dict[str, Any]]] = {"Study": []}
    for key in STUDY_KEYS:
        if key in data:
            out["Study"].append({"Attribute": PREFIX + key, "Value": _encode(data[key])})
    for sheet, (field, _model, key, many) in TABLES.items():
        value = data.get(field)
        rows: list[dict[str, Any]] = []
        if key is None:
            items = [({}, item) for item in value or []]
        elif many:
            items = [({key: name}, item) for name, group in (value or {}).items() for item in group]
        else:
            items = [({key: name}, item) for name, item in (value or {}).items()]
        for head, item in items:
            rows.append({**head, **{k: _encode(v) for k, v in item.items()}})
        out[sheet] = rows
    return out


def read_conventions(
    sheets: dict[str, _Sheet], study_rows: list[tuple[int, str, str]]
) -> dict[str, Any] | None:
    """conventions.yaml's data (None when the workbook gives none of it); ``study_rows``
    are the ``adam.conventions.*`` rows of the Study sheet (row, attribute, value)."""
    from cdisc_mapper.xlsx.importer import _str, _validation_error

    study = sheets["Study"]
    data: dict[str, Any] = {}
    for r, attr, value in study_rows:
        key = attr.removeprefix(PREFIX)
        if key not in STUDY_KEYS:
            raise _unknown(study, r, attr)
        data[key] = _decode(study, r, "Value", value, _text_only(Conventions, key))
    for sheet_name, (field, model, key, many) in TABLES.items():
        sheet = sheets.get(sheet_name)
        if sheet is None or not sheet.rows:
            continue
        collected: Any = {} if key else []
        for r, row in sheet.rows:
            item = {
                k: _decode(sheet, r, k, v, _text_only(model, k))
                for k, v in row.items()
                if v is not None and k != key
            }
            try:
                model.model_validate(item)
            except ValidationError as exc:
                cols = {c: c for c in columns(model)}
                raise _validation_error(sheet, r, exc, cols, name=field) from None
            if key is None:
                collected.append(item)
                continue
            name = _str(row, key)
            if name is None:
                raise sheet.error(f"a row without its {key}", r, key)
            if many:
                collected.setdefault(name, []).append(item)
            elif name in collected:
                raise sheet.error(f"{key} {name!r} given twice", r, key)
            else:
                collected[name] = item
        data[field] = collected
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


def _unknown(sheet: _Sheet, r: int, attr: str) -> SpecError:
    import difflib

    known = [PREFIX + k for k in STUDY_KEYS]
    close = difflib.get_close_matches(attr, known, n=1)
    return sheet.error(
        f"unknown attribute {attr!r}",
        r,
        "Attribute",
        hint=f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(known),
    )
