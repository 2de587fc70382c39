"""Writing the forms (UTF-8 CSV, ``\\n`` line ends, text as typed) and ``manifest.json``,
and recognising a folder simulate wrote (so that it never replaces a real export)."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pandas as pd

from cdisc_mapper.publish import OutputFolderError, folder_entries

from .catalog import FORM_COLUMNS, GENERATOR, GENERATOR_VERSION, STUDY_ID

MANIFEST = "manifest.json"
OUTPUT_FILES = (*FORM_COLUMNS, MANIFEST)
"""The names simulate writes (and owns) in its folder."""


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


def export_entries(
    out_dir: Path, files: dict[str, str], rows: int
) -> dict[str, dict[str, int | str]]:
    """Write an EDC export's files (name -> text); return their manifest entries (``rows``:
    the records of every form in the export)."""
    entries: dict[str, dict[str, int | str]] = {}
    for name, text in files.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8", newline="")
        entries[name] = {"rows": rows, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    return entries


def write_manifest(
    out_dir: Path,
    seed: int,
    n_subjects: int,
    forms: dict[str, dict[str, int | str]],
    effect: str = "paper",
) -> dict[str, object]:
    """Write ``manifest.json`` (sorted keys, indent 2, trailing newline) and return it."""
    manifest: dict[str, object] = {
        "study": STUDY_ID,
        "generator": GENERATOR,
        "version": GENERATOR_VERSION,
        "seed": seed,
        "subjects": n_subjects,
        "effect": effect,
        "forms": dict(sorted(forms.items())),
    }
    text = json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    (out_dir / MANIFEST).write_text(text, encoding="utf-8", newline="\n")
    return manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest_forms(folder: Path) -> dict[str, object]:
    """The forms of ``folder/manifest.json`` when simulate wrote it, else nothing."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("generator") != GENERATOR:
        return {}
    forms = data.get("forms")
    return forms if isinstance(forms, dict) else {}


def foreign_entries(folder: Path) -> list[str]:
    """The entries of ``folder`` simulate did not write: all but its manifest.json and
    the forms that manifest lists, unchanged since (same SHA-256)."""
    names = folder_entries(folder)
    forms = _manifest_forms(Path(folder))
    if not forms:
        return names
    foreign = []
    for name in names:
        path = Path(folder) / name
        if name == MANIFEST:
            continue
        entry = forms.get(name)
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        plain = path.is_file() and not path.is_symlink()
        if digest is None or not plain or digest != _sha256(path):
            foreign.append(name)
    return foreign


def check_replaceable(folder: Path, force: bool = False) -> None:
    """Refuse a non-empty ``folder`` that simulate did not write, unless ``force``.

    Raises:
        OutputFolderError: names the folder and its first files simulate did not write.
    """
    if force:
        return
    foreign = foreign_entries(folder)
    if foreign:
        more = len(foreign) - 3
        shown = ", ".join(foreign[:3]) + (f" and {more} more" if more > 0 else "")
        raise OutputFolderError(
            f"the folder is not empty and holds files simulate did not write or that "
            f"changed since ({shown}); simulate would replace its form files there",
            where=str(folder),
            hint="choose a new or empty folder, or pass --force to replace the forms and "
            "manifest.json there and keep the rest",
        )
