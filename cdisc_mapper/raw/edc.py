"""An EDC export read whole (a REDCap flat export, an ODM 1.3.2 ClinicalData file) as the
per-form tables the mapping engine reads, one :class:`~cdisc_mapper.raw.reader.RawForm`
each, with the export's rows that belong to no form listed (so the reconciliation accounts
for every record) and the parts of the export that are not data counted.

A table's index is where its record is in the export: the line of the flat CSV (REDCap)
or of the ``ItemGroupData`` element (ODM), so an error on a record names the line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import Literal

from cdisc_mapper.errors import Location, RawDataError
from cdisc_mapper.raw.reader import UTF8_COMMA, CsvDialect, RawForm, path_inside

EdcFormat = Literal["redcap", "odm"]
EDC_FORMATS: tuple[str, ...] = ("redcap", "odm")


@dataclass(frozen=True)
class EdcSettings:
    """Where the export's files are (relative to the raw folder) and how its columns are
    named: ``records`` is the flat CSV (REDCap) or the XML file (ODM), ``dictionary`` the
    REDCap data dictionary, ``events`` the REDCap events export; ``column_case``
    ``upper`` upper-cases every column name; ``strip_form_prefix`` names a REDCap field
    ``<instrument>_<name>`` ``<name>`` in its instrument's table; ``item_columns`` names
    an ODM item's column by its ItemOID (``oid``) or its ItemDef Name (``name``);
    ``odm_tables`` makes an ODM form of each ItemGroupOID (``item_group``) or FormOID
    (``form``)."""

    records: str
    dictionary: str | None = None
    events: str | None = None
    column_case: Literal["as_exported", "upper"] = "as_exported"
    item_columns: Literal["oid", "name"] = "oid"
    strip_form_prefix: bool = False
    odm_tables: Literal["item_group", "form"] = "item_group"
    dialect: CsvDialect = UTF8_COMMA


@dataclass(frozen=True)
class Leftover:
    """Records of the export that belong to no form (e.g. a REDCap row without a value in
    any instrument's field), for the reconciliation."""

    label: str
    rows: int
    reason: str


@dataclass
class EdcExport:
    """The forms of one export, by name (and other names that reach the same form: an ODM
    ItemGroupDef's Name as well as its OID)."""

    file: str
    forms: dict[str, RawForm]
    aliases: dict[str, str] = field(default_factory=dict)
    leftovers: list[Leftover] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)
    """What the export holds that is not data (ODM audit records, vendor extensions), counted."""
    undecoded: list[str] = field(default_factory=list)
    """Coded values kept as exported because their code list lacks them, with their line."""

    def key(self, name: str, written: str) -> str | None:
        """The form a spec's source (form ``name``, file ``written``) reads."""
        for candidate in (written, PurePath(written).stem, name):
            found = candidate if candidate in self.forms else self.aliases.get(candidate)
            if found is not None:
                return found
        return None

    def open(self, name: str, written: str, *, where: Location | str | None = None) -> RawForm:
        key = self.key(name, written)
        if key is None:
            known = ", ".join(sorted(self.forms)) or "none"
            raise RawDataError(
                f"form {name!r} is not a form of the export {self.file} (its forms: {known})",
                where=where,
                hint="name a form (REDCap instrument, ODM ItemGroupOID or ItemGroupDef "
                "Name) of the export",
            )
        return replace(self.forms[key], name=name)

    def unused(self, used: Iterable[str]) -> list[RawForm]:
        """The forms no spec read (``used``: the :attr:`RawForm.file` of the forms read)."""
        seen = set(used)
        return [form for key, form in sorted(self.forms.items()) if form.file not in seen]


def form_file(export_file: str, form: str) -> str:
    """How the reconciliation and messages name form ``form`` of the export."""
    return f"{export_file}#{form}"


def export_path(root: Path, written: str, what: str) -> Path:
    """The export's file ``written`` inside the raw folder; an error if it is absent."""
    path = path_inside(root, written)
    if not path.is_file():
        raise RawDataError(
            f"the {what} {written!r} is not a file of the raw folder {root}",
            where=Location(file=str(path)),
            hint="check study.yaml export: and --raw",
        )
    return path


def cased(name: str, settings: EdcSettings) -> str:
    """A column name as the settings have it."""
    return name.upper() if settings.column_case == "upper" else name
