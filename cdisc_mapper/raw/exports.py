"""Reading an EDC export by its format (``raw_format: redcap`` or ``odm`` in study.yaml)."""

from __future__ import annotations

from pathlib import Path

from cdisc_mapper.raw.edc import EdcExport, EdcSettings
from cdisc_mapper.raw.odm import read_odm
from cdisc_mapper.raw.redcap import read_redcap


def read_export(root: Path, raw_format: str, settings: EdcSettings) -> EdcExport:
    """The forms of the ``raw_format`` export (``redcap``, ``odm``) in the raw folder."""
    if raw_format == "redcap":
        return read_redcap(Path(root), settings)
    if raw_format == "odm":
        return read_odm(Path(root), settings)
    raise ValueError(f"not an EDC export format: {raw_format!r}")
