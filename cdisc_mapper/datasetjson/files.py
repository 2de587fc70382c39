"""Dataset files of any format the tool writes: XPT, Dataset-JSON (``.json``) and
Dataset-JSON NDJSON (``.ndjson``), read and written through one door.

Formats are kept in a fixed order of preference, ``xpt``, ``json``, ``ndjson``; the
*primary* format of a run is the first of that order it writes, whatever order the user
gave. Define-XML 2.1 gives each ItemGroupDef one ``def:leaf``, so one define.xml cannot
name two files of a dataset: ``define.xml`` names the primary format's files and each
other format gets its own complete ``define-<format>.xml`` naming its files (the
same OIDs, so every file's ``itemOID`` matches either). A Dataset-JSON file's
``metaDataRef`` is the define that names it (:func:`define_file`). With the default
(XPT only) nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from importlib import metadata
from pathlib import Path

import pandas as pd

from cdisc_mapper.datasetjson.convert import columns_for
from cdisc_mapper.datasetjson.model import DatasetJsonError, DatasetJsonMetadata, StudyContext
from cdisc_mapper.datasetjson.reader import read_dataset_json
from cdisc_mapper.datasetjson.writer import creation_stamp, write_dataset_json
from cdisc_mapper.oids import item_group_oid, metadata_version_oid, oid_part, study_oid
from cdisc_mapper.xpt import XptMetadata, XptVariable, read_xpt, write_xpt
from cdisc_mapper.xpt.reader import TextMode

FORMATS = ("xpt", "json", "ndjson")
"""The dataset formats, in order of preference."""
SUFFIX = {"xpt": ".xpt", "json": ".json", "ndjson": ".ndjson"}
DEFINE_FILE = "define.xml"
TOOL = "cdisc_mapper"


def parse_formats(values: Iterable[str]) -> tuple[str, ...]:
    """The formats asked for (``"xpt,json"``, repeated values), in preference order.

    Raises:
        DatasetJsonError: an unknown format, or none at all.
    """
    asked = [p.strip().lower() for v in values for p in str(v).split(",") if p.strip()]
    unknown = sorted(set(asked) - set(FORMATS))
    if unknown or not asked:
        raise DatasetJsonError(
            f"unknown dataset format(s) {', '.join(unknown)}" if unknown else "no format given",
            where="--format",
            hint=f"use one or more of {', '.join(FORMATS)}, e.g. --format xpt,json",
        )
    return tuple(f for f in FORMATS if f in asked)


def define_file(fmt: str, formats: Sequence[str]) -> str:
    """The define.xml naming ``fmt``'s files: ``define.xml`` for the primary format (the
    first of ``formats`` in preference order), ``define-<fmt>.xml`` for the others."""
    primary = next(f for f in FORMATS if f in formats)
    return DEFINE_FILE if fmt == primary else f"define-{fmt}.xml"


def format_of(path: Path) -> str | None:
    """The format of a file by its suffix, None for other files."""
    return next((f for f, s in SUFFIX.items() if path.suffix.lower() == s), None)


def formats_in(folder: Path) -> tuple[str, ...]:
    """The dataset formats of the files of ``folder``, in preference order."""
    if not folder.is_dir():
        return ()
    found = {format_of(p) for p in folder.iterdir() if p.is_file()}
    return tuple(f for f in FORMATS if f in found)


def dataset_files(folder: Path, fmt: str | None = None) -> list[Path]:
    """The dataset files of ``folder`` in one format, by name: ``fmt``, or when None the
    preferred format present (so a folder holding XPT and Dataset-JSON reads as XPT)."""
    chosen = fmt or next(iter(formats_in(folder)), None)
    if chosen is None or not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and format_of(p) == chosen)


def read_dataset(
    path: str | Path, *, encoding: str | None = None, text: TextMode = "object"
) -> tuple[pd.DataFrame, XptMetadata]:
    """Read an XPT or Dataset-JSON file as :func:`cdisc_mapper.xpt.read_xpt` reads XPT:
    the same frame (``text`` as there) and metadata, whatever the format."""
    path = Path(path)
    if format_of(path) == "xpt":
        return read_xpt(path, encoding=encoding, text=text)
    frame, meta = read_dataset_json(path)
    if text != "object":
        for column in meta.columns:
            if not column.is_numeric:
                values = frame[column.name]
                frame[column.name] = (
                    pd.Categorical(values, categories=pd.Index(pd.unique(values), dtype=object))
                    if text == "category"
                    else values.astype("str")
                )
    return frame, meta.xpt_metadata()


def tool_version() -> str:
    """The installed version of the tool (``sourceSystem.version``)."""
    try:
        return metadata.version("cdisc-mapper")
    except metadata.PackageNotFoundError:
        return "0"


def study_context(
    studyid: str, ig: tuple[str, str], originator: str | None, metadata_ref: str
) -> StudyContext:
    """The header attributes of a study's files: OIDs as define.xml makes them for the
    IG ``(name, version)``, ``metaDataRef``, the creation time (:func:`creation_stamp`,
    also the database stamp: the data are made in the same run) and this tool as the
    source system."""
    stamp = creation_stamp()
    return StudyContext(
        study_oid=study_oid(studyid),
        metadata_version_oid=metadata_version_oid(studyid, *ig),
        metadata_ref=metadata_ref,
        originator=originator or TOOL,
        source_system=(TOOL, tool_version()),
        created=stamp,
        db_last_modified=stamp,
    )


def dataset_metadata(
    frame: pd.DataFrame,
    dataset: str,
    label: str,
    variables: Sequence[XptVariable],
    *,
    study: StudyContext | None = None,
    keys: Sequence[str] = (),
) -> DatasetJsonMetadata:
    """The Dataset-JSON metadata of ``frame`` from its XPT metadata (see
    :mod:`cdisc_mapper.datasetjson.convert` for the rules)."""
    study = study or StudyContext(created=creation_stamp())
    prefix = study.study_oid or "DSJ"
    return DatasetJsonMetadata(
        name=dataset,
        label=label,
        item_group_oid=item_group_oid(dataset),
        columns=columns_for(frame, dataset, variables, keys),
        study=study,
        file_oid=f"{prefix}.{oid_part(dataset)}",
    )


def write_dataset(
    frame: pd.DataFrame,
    folder: Path,
    *,
    dataset: str,
    label: str,
    variables: Sequence[XptVariable],
    formats: Sequence[str] = ("xpt",),
    study: StudyContext | None = None,
    keys: Sequence[str] = (),
) -> list[Path]:
    """Write one dataset as ``folder/<dataset>.<suffix>`` in each of ``formats``; the
    Dataset-JSON files' ``metaDataRef`` names the define that will name them
    (:func:`define_file`). Returns the files written.

    Raises:
        XptError, DatasetJsonError: as :func:`cdisc_mapper.xpt.write_xpt` and
            :func:`write_dataset_json`.
    """
    files = []
    for fmt in parse_formats(formats):
        path = Path(folder) / f"{dataset.lower()}{SUFFIX[fmt]}"
        if fmt == "xpt":
            write_xpt(frame, path, dataset=dataset, label=label, variables=variables)
        else:
            base = study or StudyContext(created=creation_stamp())
            context = replace(base, metadata_ref=define_file(fmt, formats))
            meta = dataset_metadata(frame, dataset, label, variables, study=context, keys=keys)
            write_dataset_json(frame, meta, path)
        files.append(path)
    return files
