"""A REDCap project's flat records export (raw codes) with its data dictionary, as one
table per instrument.

* The dictionary (the CSV REDCap's "Data Dictionary" page downloads, or the API's
  metadata export) gives each field's instrument, type, choices and validation type. The
  record id field is its first field.
* Every instrument becomes a form: the record id, ``redcap_event_name`` (and
  ``redcap_event_label``, the event's name from the events export when ``events`` is
  given, so a visit can be read from it), ``redcap_repeat_instance`` and
  ``redcap_data_access_group`` (often the site) when the export has them, then the
  instrument's fields in dictionary order (a checkbox field as its ``field___code``
  columns), then ``<instrument>_complete`` (form status).
* A row of the export is a record of an instrument when one of the instrument's fields
  has a value (the record id, the form status and unchecked boxes do not count) and the
  row is not another repeating instrument's; a row with no value in any instrument's
  field is listed for the reconciliation (:class:`~cdisc_mapper.raw.edc.Leftover`), never
  dropped without a word.
* Values decode through the dictionary: a radio, dropdown, yesno or truefalse code
  becomes its label; a checked box its choice's label, an unchecked one empty; the form
  status Incomplete, Unverified or Complete. Text validation types give ISO 8601 dates
  and times (``date_dmy`` ``05-04-2016`` is ``2016-04-05``; REDCap's raw export writes
  every date year first, also accepted) and plain numbers (``number_1dp_comma_decimal``
  ``3,5`` is ``3.5``). A code not among the field's choices, or a value its validation
  type refuses, is an error naming the file, line and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_mapper.errors import Location, RawDataError
from cdisc_mapper.raw.edc import (
    EdcExport,
    EdcSettings,
    Leftover,
    cased,
    export_path,
    form_file,
)
from cdisc_mapper.raw.reader import RawForm, read_form

#: Dictionary columns, by the names of the Data Dictionary CSV and of the API export.
DICTIONARY_COLUMNS = {
    "field": ("Variable / Field Name", "field_name"),
    "form": ("Form Name", "form_name"),
    "type": ("Field Type", "field_type"),
    "choices": ("Choices, Calculations, OR Slider Labels", "select_choices_or_calculations"),
    "validation": (
        "Text Validation Type OR Show Slider Number",
        "text_validation_type_or_show_slider_number",
    ),
}
EVENT_NAME, EVENT_LABEL = "redcap_event_name", "redcap_event_label"
REPEAT_INSTRUMENT, REPEAT_INSTANCE = "redcap_repeat_instrument", "redcap_repeat_instance"
DATA_ACCESS_GROUP = "redcap_data_access_group"
#: Columns of the export that are REDCap's own, not fields.
SYSTEM_COLUMNS = (
    EVENT_NAME,
    REPEAT_INSTRUMENT,
    REPEAT_INSTANCE,
    DATA_ACCESS_GROUP,
    "redcap_survey_identifier",
)
CODED_TYPES = ("radio", "dropdown", "yesno", "truefalse")
FIXED_CHOICES = {
    "yesno": {"1": "Yes", "0": "No"},
    "truefalse": {"1": "True", "0": "False"},
}
FORM_STATUS = {"0": "Incomplete", "1": "Unverified", "2": "Complete"}
NO_FIELD_TYPES = ("descriptive",)


@dataclass(frozen=True)
class Field:
    """A field of the data dictionary and the dictionary line defining it."""

    name: str
    form: str
    type: str
    choices: dict[str, str]
    validation: str
    line: int


# ------------------------------------------------------------------ the dictionary


def parse_choices(text: str) -> dict[str, str]:
    """``"1, Male | 2, Female"`` as ``{"1": "Male", "2": "Female"}`` (a label may hold
    commas; a choice without a comma is its own code)."""
    out: dict[str, str] = {}
    for part in text.split("|"):
        if not part.strip():
            continue
        code, comma, label = part.partition(",")
        out[code.strip()] = label.strip() if comma else code.strip()
    return out


def _dictionary_columns(form: RawForm) -> dict[str, str]:
    found = {}
    for key, names in DICTIONARY_COLUMNS.items():
        name = next((n for n in names if n in form.data.columns), None)
        if name is None:
            form.require([names[0]])
        found[key] = str(name)
    return found


def read_dictionary(path: Path, settings: EdcSettings) -> dict[str, Field]:
    """The fields of the data dictionary at ``path``, in its order."""
    form = read_form("data dictionary", path, settings.dialect)
    cols = _dictionary_columns(form)
    fields: dict[str, Field] = {}
    for line, rec in form.data.iterrows():
        name = rec[cols["field"]]
        where = Location(file=str(path), line=int(str(line)), column=cols["field"])
        if not name or name in fields:
            what = "no field name" if not name else f"field {name!r} defined twice"
            raise RawDataError(f"data dictionary: {what}", where=where)
        ftype = rec[cols["type"]].lower()
        choices = FIXED_CHOICES.get(ftype) or (
            parse_choices(rec[cols["choices"]]) if ftype in (*CODED_TYPES, "checkbox") else {}
        )
        if ftype in (*CODED_TYPES, "checkbox") and not choices:
            raise RawDataError(
                f"data dictionary: {ftype} field {name!r} has no choices",
                where=Location(file=str(path), line=int(str(line)), column=cols["choices"]),
                hint="give its choices as '1, Label | 2, Label'",
            )
        fields[name] = Field(
            name, rec[cols["form"]], ftype, choices, rec[cols["validation"]].lower(), int(str(line))
        )
    if not fields:
        raise RawDataError("data dictionary: no fields", where=Location(file=str(path)))
    return fields


def read_events(path: Path, settings: EdcSettings) -> dict[str, str]:
    """unique_event_name -> event_name of REDCap's events export."""
    form = read_form("events", path, settings.dialect)
    form.require(["unique_event_name", "event_name"])
    return dict(zip(form.data["unique_event_name"], form.data["event_name"], strict=True))


# ------------------------------------------------------------------ columns


def column_fields(header: list[str], fields: dict[str, Field], path: Path) -> dict[str, Field]:
    """The dictionary field of each data column of the export (a checkbox's
    ``field___code`` columns are the checkbox field's); an error on a column the
    dictionary does not define."""
    out: dict[str, Field] = {}
    forms = {f.form for f in fields.values()}
    for col in header:
        if col in SYSTEM_COLUMNS or col in fields:
            if col in fields:
                out[col] = fields[col]
            continue
        base, sep, code = col.rpartition("___")
        if sep and base in fields and fields[base].type == "checkbox":
            if (
                code not in fields[base].choices
                and code.replace("_", "-") not in fields[base].choices
            ):
                raise RawDataError(
                    f"checkbox column {col!r}: {code!r} is not a choice of field {base!r} in "
                    "the data dictionary",
                    where=Location(file=str(path), line=1, column=col),
                )
            out[col] = fields[base]
            continue
        if col.endswith("_complete") and col.removesuffix("_complete") in forms:
            continue
        if col.endswith("_timestamp") and col.removesuffix("_timestamp") in forms:
            continue
        raise RawDataError(
            f"column {col!r} is not a field of the data dictionary",
            where=Location(file=str(path), line=1, column=col),
            hint="export the data dictionary of the same project and version as the records",
        )
    return out


# ------------------------------------------------------------------ values

_DATE_FORMS = {
    "ymd": re.compile(r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"),
    "dmy": re.compile(r"(?P<d>\d{2})[-/](?P<m>\d{2})[-/](?P<y>\d{4})"),
    "mdy": re.compile(r"(?P<m>\d{2})[-/](?P<d>\d{2})[-/](?P<y>\d{4})"),
}
_CLOCK = {
    "datetime": re.compile(r"(?P<c>\d{2}:\d{2})"),
    "datetime_seconds": re.compile(r"(?P<c>\d{2}:\d{2}:\d{2})"),
}
_NUMBER = {
    "integer": re.compile(r"[-+]?\d+"),
    "number": re.compile(r"[-+]?(\d+\.?\d*|\.\d+)"),
    "number_1dp": re.compile(r"[-+]?\d+\.\d"),
    "number_2dp": re.compile(r"[-+]?\d+\.\d{2}"),
    "number_3dp": re.compile(r"[-+]?\d+\.\d{3}"),
    "number_4dp": re.compile(r"[-+]?\d+\.\d{4}"),
}
_TIME = re.compile(r"\d{2}:\d{2}(:\d{2})?")


def _iso_date(text: str, order: str) -> str | None:
    for form in ("ymd", order):  # REDCap's raw export writes dates year first
        found = _DATE_FORMS[form].fullmatch(text)
        if found:
            y, m, d = found["y"], found["m"], found["d"]
            if 1 <= int(m) <= 12 and 1 <= int(d) <= _days_in(int(y), int(m)):
                return f"{y}-{m}-{d}"
            return None
    return None


def _days_in(year: int, month: int) -> int:
    if month == 2:
        return 29 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 28
    return 30 if month in (4, 6, 9, 11) else 31


def validated(text: str, validation: str) -> str | None:
    """``text`` as its validation type gives it (ISO 8601 date or time, plain number), or
    None when the type refuses it; other types keep the text."""
    if validation.startswith(("date_", "datetime_")):
        kind, _, order = validation.rpartition("_")
        date, _, clock = text.partition(" ")
        iso = _iso_date(date, order)
        if kind == "date":
            return iso if not clock else None
        pattern = _CLOCK.get(kind)
        if iso is None or pattern is None or not pattern.fullmatch(clock):
            return None
        return f"{iso}T{clock}"
    if validation in ("time", "time_mm_ss"):
        return text if _TIME.fullmatch(text) or validation == "time_mm_ss" else None
    if validation.endswith("_comma_decimal"):
        plain = validation.removesuffix("_comma_decimal")
        return validated(text.replace(",", "."), plain) if "." not in text else None
    pattern = _NUMBER.get(validation)
    if pattern is not None:
        return text.lstrip("+") if pattern.fullmatch(text) else None
    return text


VALIDATION_HINT = {
    "date": "a date as YYYY-MM-DD (or in the field's validation order)",
    "datetime": "a date and time as YYYY-MM-DD HH:MM",
    "number": "a number with a decimal point",
    "integer": "a whole number",
}


def _decode_column(values: pd.Series, field: Field, column: str, path: Path) -> pd.Series:
    """A column's values decoded through the dictionary; an error on the first value it
    refuses."""
    distinct = pd.unique(values[values != ""])
    mapping: dict[str, str] = {"": ""}
    checkbox = field.type == "checkbox"
    for value in distinct:
        text = str(value)
        if checkbox:
            code = column.rpartition("___")[2]
            label = field.choices.get(code, field.choices.get(code.replace("_", "-")))
            out = {"1": label, "0": ""}.get(text)
        elif field.type in CODED_TYPES:
            out = field.choices.get(text)
        else:
            out = validated(text, field.validation)
        if out is None:
            line = int(values.index[np.flatnonzero(values.to_numpy() == text)[0]])
            raise RawDataError(
                _refusal(text, field, checkbox),
                where=Location(file=str(path), line=line, column=column),
                hint=_refusal_hint(field, checkbox),
            )
        mapping[text] = out
    return values.map(mapping)


def _refusal(text: str, field: Field, checkbox: bool) -> str:
    if checkbox:
        return f"checkbox value {text!r} is neither 1 (checked) nor 0"
    if field.type in CODED_TYPES:
        return f"{text!r} is not a code of {field.type} field {field.name!r}"
    return f"{text!r} is not a valid {field.validation} value of field {field.name!r}"


def _refusal_hint(field: Field, checkbox: bool) -> str:
    if checkbox or field.type in CODED_TYPES:
        codes = ", ".join(f"{k} = {v}" for k, v in field.choices.items())
        return f"the data dictionary (line {field.line}) gives {codes}"
    kind = field.validation.split("_")[0]
    wanted = VALIDATION_HINT.get(kind, f"a value of type {field.validation}")
    return f"the data dictionary (line {field.line}) asks for {wanted}"


# ------------------------------------------------------------------ the export


def read_redcap(root: Path, settings: EdcSettings) -> EdcExport:
    """The instruments of the REDCap export the settings name, inside the raw folder."""
    if settings.dictionary is None:
        raise RawDataError(
            "a REDCap export needs its data dictionary", hint="give export: dictionary:"
        )
    path = export_path(root, settings.records, "REDCap records export")
    fields = read_dictionary(export_path(root, settings.dictionary, "data dictionary"), settings)
    events = (
        read_events(export_path(root, settings.events, "events export"), settings)
        if settings.events
        else None
    )
    data = read_form("records", path, settings.dialect).data
    record_id = next(iter(fields))
    header = [str(c) for c in data.columns]
    if not header or header[0] != record_id:
        raise RawDataError(
            f"the first column is {header[0] if header else 'missing'!r}, not the record id "
            f"field {record_id!r} (the data dictionary's first field)",
            where=Location(file=str(path), line=1),
        )
    by_column = column_fields(header, fields, path)
    labels = _event_labels(data, events, path, settings)
    decoded = pd.DataFrame(
        {col: _decode_column(data[col], by_column[col], col, path) if col in by_column
         else data[col] for col in header}, index=data.index,
    )  # fmt: skip
    for col in header:
        if col.endswith("_complete") and col not in by_column:
            decoded[col] = _decode_status(data[col], col, path)
    return _split(decoded, labels, fields, by_column, record_id, (path, settings))


def _decode_status(values: pd.Series, column: str, path: Path) -> pd.Series:
    bad = ~values.isin(["", *FORM_STATUS])
    if bad.any():
        line = int(values.index[np.flatnonzero(bad.to_numpy())[0]])
        raise RawDataError(
            f"form status {values[line]!r} is not 0, 1 or 2",
            where=Location(file=str(path), line=line, column=column),
        )
    return values.map({"": "", **FORM_STATUS})


def _event_labels(
    data: pd.DataFrame, events: dict[str, str] | None, path: Path, settings: EdcSettings
) -> pd.Series | None:
    """Each row's event name from the events export (None without one); an error on an
    event the export does not define."""
    if events is None or EVENT_NAME not in data.columns:
        return None
    bad = ~data[EVENT_NAME].isin(list(events))
    if bad.any():
        line = int(data.index[np.flatnonzero(bad.to_numpy())[0]])
        raise RawDataError(
            f"event {data.at[line, EVENT_NAME]!r} is not an event of the events export "
            f"{settings.events}",
            where=Location(file=str(path), line=line, column=EVENT_NAME),
            hint="export the events of the same project (unique_event_name)",
        )
    return data[EVENT_NAME].map(events)


def _own_name(column: str, instrument: str, settings: EdcSettings) -> str:
    """A field's column in its instrument's table (``strip_form_prefix``: without the
    ``<instrument>_`` its name starts with)."""
    prefix = f"{instrument}_"
    if (
        settings.strip_form_prefix
        and column.startswith(prefix)
        and column != f"{instrument}_complete"
    ):
        return column[len(prefix) :]
    return column


def _split(
    data: pd.DataFrame,
    labels: pd.Series | None,
    fields: dict[str, Field],
    by_column: dict[str, Field],
    record_id: str,
    where: tuple[Path, EdcSettings],
) -> EdcExport:
    """One table per instrument, and the rows that are no instrument's."""
    path, settings = where
    instruments = list(dict.fromkeys(f.form for f in fields.values()))
    repeat = data[REPEAT_INSTRUMENT] if REPEAT_INSTRUMENT in data.columns else None
    forms: dict[str, RawForm] = {}
    claimed = np.zeros(len(data), dtype=bool)
    for name in instruments:
        values = [c for c, f in by_column.items() if f.form == name and c != record_id]
        keep = np.zeros(len(data), dtype=bool)
        if values:
            keep = np.asarray(data[values].to_numpy(dtype=object).astype(bool).any(axis=1))
        if repeat is not None:
            keep &= np.asarray(repeat.isin(["", name]).to_numpy(), dtype=bool)
        claimed |= keep
        shared = (EVENT_NAME, REPEAT_INSTANCE, DATA_ACCESS_GROUP)
        columns = [record_id, *[c for c in shared if c in data.columns]]
        status = f"{name}_complete"
        wanted = [*columns, *values, *([status] if status in data.columns else [])]
        table = pd.DataFrame(data.loc[keep, wanted])
        if labels is not None:
            table.insert(columns.index(EVENT_NAME) + 1, EVENT_LABEL, labels.loc[keep])
        table.columns = pd.Index(
            [cased(_own_name(str(c), name, settings), settings) for c in table.columns]
        )
        forms[name] = RawForm(
            name=name,
            path=path,
            data=table,
            written=form_file(settings.records, name),
            system_columns=tuple(cased(c, settings) for c in (REPEAT_INSTANCE,)),
        )
    empty = int((~claimed).sum())
    leftovers = (
        [Leftover("(no instrument)", empty, "export row with no value in any instrument's field")]
        if empty
        else []
    )
    return EdcExport(file=settings.records, forms=forms, leftovers=leftovers)
