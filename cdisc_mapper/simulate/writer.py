"""Writing the forms (UTF-8 CSV, ``\\n`` line ends, text as typed) and ``manifest.json``."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pandas as pd

from .catalog import FORM_COLUMNS, GENERATOR, GENERATOR_VERSION, STUDY_ID


def write_form(out_dir: Path, name: str, frame: pd.DataFrame) -> dict[str, int | str]:
    """Write one form with the contract's columns; return its manifest entry.

    Every cell is text already; the ``csv`` module quotes only cells that need it
    (``"3,45"``), so values stay exactly as typed.
    """
    columns = list(FORM_COLUMNS[name])
    if list(frame.columns) != columns:
        raise ValueError(f"{name}: columns {list(frame.columns)} differ from {columns}")
    path = out_dir / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(zip(*(frame[c].to_numpy(dtype=object) for c in columns), strict=True))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"rows": len(frame), "sha256": digest}


def write_manifest(
    out_dir: Path, seed: int, n_subjects: int, forms: dict[str, dict[str, int | str]]
) -> dict[str, object]:
    """Write ``manifest.json`` (sorted keys, indent 2, trailing newline) and return it."""
    manifest: dict[str, object] = {
        "study": STUDY_ID,
        "generator": GENERATOR,
        "version": GENERATOR_VERSION,
        "seed": seed,
        "subjects": n_subjects,
        "forms": dict(sorted(forms.items())),
    }
    text = json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    (out_dir / "manifest.json").write_text(text, encoding="utf-8", newline="\n")
    return manifest
