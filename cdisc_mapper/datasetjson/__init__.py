"""CDISC Dataset-JSON v1.1: a streaming writer and a reader for ``.json`` and
``.ndjson``, beside SAS XPORT (:mod:`cdisc_mapper.xpt`), and one door to dataset files of
any format (:mod:`.files`).

>>> frame, meta = read_dataset_json("dm.ndjson")  # doctest: +SKIP
>>> write_dataset_json(frame, meta, "dm.json")  # doctest: +SKIP
>>> meta = dataset_metadata(frame, "DM", "Demographics", xpt_meta.variables)  # doctest: +SKIP

The compressed form (``.dsjc``) is not written: it is not part of the Dataset-JSON v1.1
specification of December 2024 (it came later as a separate, young proposal with few
implementations), and NDJSON compresses well with any general tool.
"""

from cdisc_mapper.datasetjson.files import (
    FORMATS,
    SUFFIX,
    dataset_files,
    dataset_metadata,
    define_file,
    format_of,
    formats_in,
    parse_formats,
    read_dataset,
    study_context,
    write_dataset,
)
from cdisc_mapper.datasetjson.model import (
    DATASET_JSON_VERSION,
    SUFFIXES,
    Column,
    DatasetJsonError,
    DatasetJsonMetadata,
    StudyContext,
)
from cdisc_mapper.datasetjson.reader import read_dataset_json
from cdisc_mapper.datasetjson.writer import (
    DatasetJsonAppender,
    creation_stamp,
    write_dataset_json,
)

__all__ = [
    "DATASET_JSON_VERSION",
    "FORMATS",
    "SUFFIX",
    "SUFFIXES",
    "Column",
    "DatasetJsonAppender",
    "DatasetJsonError",
    "DatasetJsonMetadata",
    "StudyContext",
    "creation_stamp",
    "dataset_files",
    "dataset_metadata",
    "define_file",
    "format_of",
    "formats_in",
    "parse_formats",
    "read_dataset",
    "read_dataset_json",
    "study_context",
    "write_dataset",
    "write_dataset_json",
]
