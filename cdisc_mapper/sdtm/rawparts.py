"""The raw forms of a study cut into parts of its subjects, without reading a form whole.

Each CSV form file is read twice by blocks (:mod:`cdisc_mapper.raw.chunks`): first for
each line's subject (the parts are then cut from the records per subject of every
form: :func:`~cdisc_mapper.parts.balanced_starts`), then to write each part's lines, as
they are in the file, into a private working folder with their line numbers. A part's
forms are read from there (:meth:`RawParts.load`, in the process that maps the part),
as :func:`~cdisc_mapper.raw.reader.read_form` reads the whole file: the same text and
row numbers. So the study's records are never in memory at once: the parent holds a
block of a file and a code per line; a part's process, that part's records.

A form the block reader does not read (a workbook, a SAS7BDAT file, another encoding, a
quoted value over several lines, a line it cannot read) is read whole
(:func:`~cdisc_mapper.raw.reader.open_form`, which names any error as the serial run
does) and its parts' records pickled. Forms given in memory are cut the same way.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_mapper.parts import balanced_starts, part_numbers
from cdisc_mapper.raw import RawForm, RawFrames, open_form, path_inside
from cdisc_mapper.raw.chunks import FormLines, Subjects, parse_lines, route_lines, scan_subjects
from cdisc_mapper.sdtm.engine import RawInput, csv_dialect, planned_forms
from cdisc_mapper.spec.sdtm_loader import StudyBundle

Forms = dict[str, RawForm]


@dataclass(frozen=True)
class PartFiles:
    """Where one form's records of each part are: its lines (``.csv``, and their line
    numbers, ``.lines``) or its records pickled (``.pkl``)."""

    key: str
    """The file as the spec names it."""
    form: RawForm
    """The form with no records (its name, path, columns)."""
    lines: bool
    delimiter: str = ","
    header: tuple[str, ...] = ()

    @staticmethod
    def file(folder: Path, part: int, index: int, suffix: str) -> Path:
        """Part ``part``'s file of the ``index``-th form (``suffix``: ``.csv``,
        ``.lines`` or ``.pkl``)."""
        return folder / f"raw-{part:05d}-{index:03d}{suffix}"


@dataclass
class RawParts:
    """The forms of each part, on disk in ``folder``, in the order the run reads them."""

    folder: Path
    parts: int
    forms: list[PartFiles] = field(default_factory=list)

    def load(self, part: int) -> Forms:
        """Part ``part``'s forms, with the records of its subjects in file order."""
        out: Forms = {}
        for index, files in enumerate(self.forms):
            if files.lines:
                body = _read(files.file(self.folder, part, index, ".csv"))
                numbers = np.frombuffer(
                    _read(files.file(self.folder, part, index, ".lines")), dtype=np.int64
                )
                data = parse_lines(
                    files.form.path, list(files.header), body, numbers, files.delimiter
                )
            else:
                pickled = files.file(self.folder, part, index, ".pkl")
                data = pd.read_pickle(pickled) if pickled.exists() else files.form.data
            out[files.key] = replace(files.form, data=data)
        return out


def _read(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


@dataclass(frozen=True)
class WholeForm:
    """A form read whole, with the subject code of each record."""

    form: RawForm
    subjects: np.ndarray


@dataclass
class Scanned:
    """Each form the run reads (file as the spec names it, form name) read for its
    subjects: its lines' subject codes, or the whole form with its records' codes."""

    subjects: Subjects
    forms: list[tuple[str, str, FormLines | WholeForm]]

    def counts(self) -> pd.Series:
        """Records per subject identifier (sorted; blank identifiers not counted)."""
        total = np.zeros(len(self.subjects.codes), dtype=np.int64)
        for _, _, form in self.forms:
            total += np.bincount(form.subjects, minlength=len(total))
        counts = pd.Series(total, index=pd.Index(self.subjects.values(), dtype=object))
        return counts[(counts.index != "") & (counts > 0)].sort_index()


def scan_forms(bundle: StudyBundle, raw: RawInput) -> Scanned | None:
    """Every form the run reads, each line's subject coded (CSV forms) or the form read
    whole; None when a form lacks the subject column (the study is then mapped whole)."""
    column = bundle.study.subjects.subject_column
    subjects = Subjects()
    forms: list[tuple[str, str, FormLines | WholeForm]] = []
    for key, name, where in planned_forms(bundle):
        if isinstance(raw, RawFrames):
            whole = raw.open(name, key, where=where)
        else:
            path = path_inside(raw, key, where=where)
            dialect = csv_dialect(bundle.study, key)
            lines = scan_subjects(path, column, subjects, dialect)
            if lines is not None:
                forms.append((key, name, lines))
                continue
            whole = open_form(name, raw, key, where=where, dialect=dialect)
        if column not in whole.data.columns:
            return None
        codes = subjects.code(whole.data[column].to_numpy(dtype=object))
        forms.append((key, name, WholeForm(whole, codes)))
    return Scanned(subjects, forms)


def subject_starts(scanned: Scanned, workers: int, part_subjects: int | None) -> list[str]:
    """The first subject of each part after the first: ``workers`` parts, or more so that
    none has over ``part_subjects`` subjects, balanced by records
    (:func:`part_total`)."""
    counts = scanned.counts()
    return balanced_starts(counts, part_total(len(counts), workers, part_subjects))


def part_total(subjects: int, workers: int, part_subjects: int | None) -> int:
    """How many parts for ``subjects`` subjects: ``workers``, or more so that none has
    over ``part_subjects`` subjects, then a multiple of ``workers`` (the workers finish
    together: 5 parts on 2 workers leave one idle while the last part is mapped; 6
    smaller ones do not)."""
    parts = workers
    if part_subjects:
        parts = max(workers, -(-subjects // part_subjects))
    if workers > 1:
        parts = -(-parts // workers) * workers
    return parts


def cut_forms(bundle: StudyBundle, scanned: Scanned, starts: list[str], folder: Path) -> RawParts:
    """Each part's records of every form of ``scanned`` written into ``folder``."""
    part_of = part_numbers(pd.Series(scanned.subjects.values(), dtype=object), starts)
    parts = RawParts(Path(folder), len(starts) + 1)
    for index, (key, name, form) in enumerate(scanned.forms):
        if isinstance(form, FormLines):
            delimiter = csv_dialect(bundle.study, key).delimiter
            parts.forms.append(_cut_lines(key, name, form, delimiter, part_of, parts, index))
        else:
            parts.forms.append(_cut_whole(key, form, part_of, parts, index))
    return parts


def _cut_lines(
    key: str, name: str, form: FormLines, delimiter: str, part_of: np.ndarray,
    parts: RawParts, index: int,
) -> PartFiles:  # fmt: skip
    names = [v.strip() or f"Unnamed: {i}" for i, v in enumerate(form.header)]
    empty = pd.DataFrame({n: pd.Series(dtype=object) for n in names})
    shown = RawForm(name=name, path=form.path, data=empty, written=key)
    files = PartFiles(key, shown, True, delimiter, tuple(form.header))
    for part, body, numbers in route_lines(form, part_of):
        _append(files.file(parts.folder, part, index, ".csv"), body)
        _append(files.file(parts.folder, part, index, ".lines"), numbers.tobytes())
    return files


def _cut_whole(
    key: str, whole: WholeForm, part_of: np.ndarray, parts: RawParts, index: int
) -> PartFiles:
    form = whole.form
    of_record = part_of[whole.subjects]
    files = PartFiles(key, replace(form, data=form.data.iloc[:0]), False)
    for part in range(parts.parts):
        piece = form.data.loc[of_record == part]
        if len(piece):
            with files.file(parts.folder, part, index, ".pkl").open("wb") as handle:
                pickle.dump(piece, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return files
