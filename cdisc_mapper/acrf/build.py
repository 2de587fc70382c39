"""The study's annotated CRF: specs (and the raw files' columns) -> layout -> acrf.pdf.

The raw folder is optional: with it, every column of every raw file is a field (those no
SDTM variable is made from are ``NOT SUBMITTED``); without it, the fields are the
columns the specs read. Only the header row of a CSV/TXT file is read.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdisc_mapper.acrf.annotate import FormCrf, annotate, form_order
from cdisc_mapper.acrf.layout import Layout, lay_out
from cdisc_mapper.acrf.render import render_pdf
from cdisc_mapper.errors import RawDataError
from cdisc_mapper.publish import Target, owning, staged
from cdisc_mapper.raw import open_form, path_inside
from cdisc_mapper.raw.exports import read_export
from cdisc_mapper.sdtm import load_study
from cdisc_mapper.sdtm.engine import csv_dialect, edc_settings
from cdisc_mapper.spec.sdtm_loader import StudyBundle
from cdisc_mapper.standards import load_sdtmig, load_terminology

ACRF_FILE = "acrf.pdf"
ACRF_TITLE = "Annotated CRF"


@dataclass(frozen=True)
class Acrf:
    """A generated aCRF: its forms, pages and domain names."""

    forms: list[FormCrf]
    layout: Layout
    labels: dict[str, str]

    def pdf(self) -> bytes:
        return render_pdf(self.layout, self.labels)


def raw_columns(bundle: StudyBundle, raw_dir: Path) -> dict[str, list[str]]:
    """The columns of each raw file the specs read (file as the spec names it -> its
    header), read from ``raw_dir``; a missing file is a RawDataError naming it. From an
    EDC export (raw_format redcap, odm), the columns of each form the specs read."""
    out: dict[str, list[str]] = {}
    settings = edc_settings(bundle.study)
    if settings is not None:
        export = read_export(Path(raw_dir), bundle.study.raw_format, settings)
        for form, file in form_order(bundle):
            out[file] = [str(c) for c in export.open(form, form).data.columns]
        return out
    for form, file in form_order(bundle):
        path = path_inside(Path(raw_dir), file)
        if not path.is_file():
            raise RawDataError(
                f"raw form {form}: file {file} not found",
                where=str(path),
                hint="give the raw folder the SDTM stage read (--raw)",
            )
        dialect = csv_dialect(bundle.study, file)
        if path.suffix.lower() in (".csv", ".txt"):
            with path.open(encoding=dialect.text_encoding, newline="") as handle:
                header = next(csv.reader(handle, delimiter=dialect.delimiter), [])
            out[file] = [h.strip() for h in header if h.strip()]
        else:
            out[file] = [str(c) for c in open_form(form, Path(raw_dir), file).data.columns]
    return out


def domain_labels(bundle: StudyBundle, standard: Any) -> dict[str, str]:
    """Each domain's label: the spec's, else SDTMIG's."""
    out = {}
    for code, spec in bundle.domains.items():
        label = spec.label
        if label is None and standard.has_dataset(code):
            label = standard.dataset(code).label
        out[code] = label or code
    return out


def build_acrf(bundle: StudyBundle, raw_dir: Path | None = None) -> Acrf:
    """The aCRF of a loaded study (the raw folder's headers when ``raw_dir`` is given)."""
    standard = load_sdtmig()

    def labels(domain: str, variable: str) -> str | None:
        meta = standard.variable_allowed(domain, variable) if standard.has_dataset(domain) else None
        return meta.label if meta is not None else None

    columns = raw_columns(bundle, raw_dir) if raw_dir is not None else None
    forms = annotate(bundle, load_terminology(), columns, labels)
    title = f"Study {bundle.study.studyid}: {ACRF_TITLE}"
    return Acrf(forms, lay_out(forms, title), domain_labels(bundle, standard))


def write_acrf(study_dir: Path, out_dir: Path, raw_dir: Path | None = None) -> Path:
    """Write ``out_dir/acrf.pdf`` for the study of ``study_dir``; return its path."""
    acrf = build_acrf(load_study(Path(study_dir)), raw_dir)
    data = acrf.pdf()
    with staged(Target(Path(out_dir), owning(names=[ACRF_FILE]))) as (stage,):
        (stage.path / ACRF_FILE).write_bytes(data)
    return Path(out_dir) / ACRF_FILE
