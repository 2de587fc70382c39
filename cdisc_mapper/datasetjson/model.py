"""Data model of a CDISC Dataset-JSON v1.1 dataset: its columns and its header.

The attributes and their order are those of the Dataset-JSON v1.1 specification
(section 2, "Dataset-JSON Structure") and of its JSON schema (``dataset.schema.json``):
the header (creation time, version, file/study/metadata OIDs, ``metaDataRef``,
``itemGroupOID``, ``records``, ``name``, ``label``) then ``columns`` then ``rows``.

A column holds text when its ``dataType`` is ``string`` (or an ISO 8601 type without a
``targetDataType``) and a number when its ``dataType`` is numeric or it has a
``targetDataType`` (a SAS date kept as ISO 8601 text in the file). That is the bridge
to :class:`cdisc_mapper.xpt.XptVariable` (``Char``/``Num``), both ways.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.xpt import XptMetadata, XptVariable
from cdisc_mapper.xpt.model import NUM_LENGTH


class DatasetJsonError(CdiscMapperError):
    """A Dataset-JSON file cannot be written or read as asked."""


DATASET_JSON_VERSION = "1.1.0"
"""The version written (``datasetJSONVersion``)."""

DataType = Literal[
    "string",
    "integer",
    "decimal",
    "float",
    "double",
    "boolean",
    "datetime",
    "date",
    "time",
    "URI",
]
DATA_TYPES: frozenset[str] = frozenset(get_args(DataType))
NUMERIC_TYPES: frozenset[str] = frozenset({"integer", "decimal", "float", "double", "boolean"})
"""Data types whose values are JSON numbers (``decimal`` may also be text, per 1.1)."""
TEMPORAL_TYPES: frozenset[str] = frozenset({"date", "datetime", "time"})
TARGET_TYPES: frozenset[str] = frozenset({"integer", "decimal"})

Format = Literal["json", "ndjson"]
SUFFIXES: dict[str, Format] = {".json": "json", ".ndjson": "ndjson"}
"""File suffix -> Dataset-JSON form."""


@dataclass(frozen=True)
class Column:
    """One column of a Dataset-JSON dataset (``columns[i]``), in file order.

    Attributes:
        item_oid: the ItemDef OID of define.xml (:func:`cdisc_mapper.oids.item_oid`).
        name, label: the variable's name and label.
        data_type: the Dataset-JSON ``dataType``.
        target_data_type: ``"integer"`` for a SAS date/datetime/time written as ISO 8601
            text (``dataType`` date/datetime/time), ``None`` otherwise.
        length: storage length in bytes of a text column (the XPT length).
        display_format: the SAS format (``DATE9.``, ``8.2``, ``$20.``).
        key_sequence: the position among the dataset's keys (1-based), if a key.
    """

    item_oid: str
    name: str
    label: str
    data_type: DataType
    target_data_type: str | None = None
    length: int | None = None
    display_format: str | None = None
    key_sequence: int | None = None

    @property
    def is_numeric(self) -> bool:
        """Whether the column holds numbers (SAS ``Num``) once read."""
        return self.data_type in NUMERIC_TYPES or self.target_data_type is not None

    def to_json(self) -> dict[str, Any]:
        """The column object, attributes in the specification's order, absent ones left out."""
        out: dict[str, Any] = {
            "itemOID": self.item_oid,
            "name": self.name,
            "label": self.label,
            "dataType": self.data_type,
        }
        optional = (
            ("targetDataType", self.target_data_type),
            ("length", self.length),
            ("displayFormat", self.display_format),
            ("keySequence", self.key_sequence),
        )
        out.update((key, value) for key, value in optional if value is not None)
        return out

    def xpt_variable(self) -> XptVariable:
        """The XPT variable this column is (type from :attr:`is_numeric`; numbers are
        stored in 8 bytes, the XPT default)."""
        if self.is_numeric:
            return XptVariable(self.name, self.label, "Num", NUM_LENGTH, self.display_format)
        return XptVariable(self.name, self.label, "Char", self.length, self.display_format)


@dataclass(frozen=True)
class StudyContext:
    """The study-level header attributes, the same for every dataset of a package.

    ``metadata_ref`` is the define.xml describing the files (relative to them);
    ``created`` and ``db_last_modified`` are ISO 8601 date-times (``2024-01-31T10:00:00``).
    """

    study_oid: str | None = None
    metadata_version_oid: str | None = None
    metadata_ref: str | None = None
    originator: str | None = None
    source_system: tuple[str, str] | None = None
    created: str = "2000-01-01T00:00:00"
    db_last_modified: str | None = None


@dataclass(frozen=True)
class DatasetJsonMetadata:
    """What a Dataset-JSON file says about its dataset, everything but the rows.

    ``records`` is the row count of the file read; the writer counts the rows itself.
    ``extra`` keeps header attributes of a file read that this model does not name, so
    nothing read is dropped.
    """

    name: str
    label: str
    item_group_oid: str
    columns: tuple[Column, ...]
    study: StudyContext = field(default_factory=StudyContext)
    file_oid: str | None = None
    records: int = 0
    version: str = DATASET_JSON_VERSION
    extra: tuple[tuple[str, Any], ...] = ()

    @property
    def names(self) -> list[str]:
        """Column names in file order."""
        return [c.name for c in self.columns]

    def header(self, records: int) -> dict[str, Any]:
        """The top-level object without ``rows``, in the specification's order."""
        study = self.study
        source = (
            {"name": study.source_system[0], "version": study.source_system[1]}
            if study.source_system
            else None
        )
        pairs: tuple[tuple[str, Any], ...] = (
            ("datasetJSONCreationDateTime", study.created),
            ("datasetJSONVersion", self.version),
            ("fileOID", self.file_oid),
            ("dbLastModifiedDateTime", study.db_last_modified),
            ("originator", study.originator),
            ("sourceSystem", source),
            ("studyOID", study.study_oid),
            ("metaDataVersionOID", study.metadata_version_oid),
            ("metaDataRef", study.metadata_ref),
            ("itemGroupOID", self.item_group_oid),
            ("records", records),
            ("name", self.name),
            ("label", self.label),
        )
        out = {key: value for key, value in pairs if value is not None}
        out.update(self.extra)
        out["columns"] = [c.to_json() for c in self.columns]
        return out

    def xpt_metadata(self) -> XptMetadata:
        """The same dataset described as :func:`cdisc_mapper.xpt.read_xpt` describes an
        XPT file (so the rest of the tool reads either alike)."""
        return XptMetadata(
            dataset=self.name,
            label=self.label,
            variables=tuple(c.xpt_variable() for c in self.columns),
            n_records=self.records,
            created=self.created,
            modified=self.created,
        )

    @property
    def created(self) -> datetime | None:
        """``datasetJSONCreationDateTime`` as a time without zone (None if unreadable)."""
        try:
            stamp = datetime.fromisoformat(self.study.created.replace("Z", "+00:00"))
        except ValueError:
            return None
        return stamp.replace(tzinfo=None)
