"""Read one raw form into a frame of stripped strings, strictly.

Every cell is read as text, exactly as the EDC exported it (no type guessing: ``01``
stays ``01`` and ``NA`` stays ``NA``), with leading/trailing blanks removed. The frame's
index is the row number a person sees in the file: the header is row 1, so the first
record is row 2. In a CSV/TXT file that is the line the record starts on, as an editor
numbers lines (a quoted value with line breaks spans several lines); in a workbook, the
sheet's row; SAS7BDAT rows are numbered from 1. A row without any value (a blank line or
row) is not a record; the rows after it keep their numbers.

CSV/TXT files (UTF-8 and comma separated unless the study states another
:class:`CsvDialect`: ``;``, tab or ``|``, a legacy encoding such as windows-1252;
``"`` quotes) are read strictly: every record has
exactly as many fields as the header, a quoted value is closed before the line's next
delimiter (or the end of the line); anything else is an error naming the file and the
line, never a repaired row (no padding of a short row, no column shift). XLSX cells are
read as the text the user sees in Excel (:mod:`cdisc_mapper.raw.excel`): dates as ISO
8601, numbers with their format's decimals.

A spec names a form's file relative to the raw folder; :func:`open_form` opens it only if
it is inside that folder once symbolic links are followed (:func:`path_inside`).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
from openpyxl.utils.exceptions import InvalidFileException

from cdisc_mapper.errors import Location, RawDataError
from cdisc_mapper.raw.excel import sheet_rows
from cdisc_mapper.textops import strip_text
from cdisc_mapper.zipguard import check_workbook


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV/TXT export is written: the field delimiter and the text encoding (a
    Python codec name; UTF-8 may start with a byte order mark)."""

    delimiter: str = ","
    encoding: str = "utf-8"

    def __post_init__(self) -> None:
        if len(self.delimiter) != 1 or self.delimiter in '"\r\n':
            raise ValueError(f"a CSV delimiter is one character, not a quote or line break: "
                             f"{self.delimiter!r}")  # fmt: skip

    @property
    def is_utf8(self) -> bool:
        return codecs.lookup(self.encoding).name == "utf-8"

    @property
    def text_encoding(self) -> str:
        """The codec files are opened with (UTF-8 without its byte order mark)."""
        return "utf-8-sig" if self.is_utf8 else self.encoding


#: What a study that states no ``csv:`` gets.
UTF8_COMMA = CsvDialect()


@dataclass(frozen=True)
class RawForm:
    """A raw form: its file and its records as text (index = row number in the file).

    ``written`` is the file as the spec names it, relative to the raw folder (``file``
    falls back to the file's name)."""

    name: str
    path: Path
    data: pd.DataFrame
    written: str = ""
    system_columns: tuple[str, ...] = ()
    """Columns an EDC export adds to number its records (a repeat instance): not part of
    a record's content, so an exact repeat of a record ignores them."""

    @property
    def file(self) -> str:
        """The file as the spec names it (reconciliation, messages)."""
        return self.written or self.path.name

    def require(self, columns: list[str] | tuple[str, ...] | set[str]) -> None:
        """Raise RawDataError naming the file and every needed column it lacks (and the
        header's names close to them; never the header's other cells, which are data
        when a file has no header)."""
        missing = [c for c in columns if c not in self.data.columns]
        if not missing:
            return
        names = [str(c) for c in self.data.columns]
        by_folded = {n.casefold(): n for n in names}
        close = []
        for col in missing:
            near = difflib.get_close_matches(col.casefold(), list(by_folded), n=2)
            close += [f"{by_folded[m]} (for {col})" for m in near]
        similar = f"; close names in it: {', '.join(close)}" if close else ""
        raise RawDataError(
            f"missing column(s) {', '.join(missing)}: not among the {len(names)} column "
            f"names of the header (row 1){similar}",
            where=Location(file=str(self.path)),
            hint=_delimiter_hint(names) or "fix the export or the spec's column names",
        )


def path_inside(root: Path, written: str, *, where: Location | str | None = None) -> Path:
    """``root / written`` if it is inside ``root`` once symbolic links are followed
    (``Path.resolve``); else a RawDataError at ``where`` (the spec line) naming the path
    as written. Nothing of the file is read."""
    path = Path(root) / written
    if Path(root).resolve() in path.resolve().parents:
        return path
    named = Path(written)
    how = "" if named.is_absolute() or ".." in named.parts else " (through a symbolic link)"
    raise RawDataError(
        f"file {written!r} is outside the raw folder {root}{how}; no file outside it is read",
        where=where,
        hint="copy the file into the raw folder and name it by its path there",
    )


def _delimiter_hint(names: list[str]) -> str | None:
    """A hint when a one-column header holds another usual delimiter (a file exported
    with ``;`` or tabs, read as comma separated)."""
    if len(names) != 1:
        return None
    for char, spelt in ((";", "';'"), ("\t", "tab"), ("|", "'|'")):
        if char in names[0]:
            return (
                f"the header is one column holding {spelt}: if the file is {spelt} "
                f"separated, say so in study.yaml (csv: {{delimiter: {spelt}}}, or per file "
                "under csv: files:)"
            )
    return None


def open_form(
    name: str,
    root: Path,
    written: str,
    *,
    where: Location | str | None = None,
    dialect: CsvDialect = UTF8_COMMA,
) -> RawForm:
    """Read the form ``written`` names inside the raw folder ``root``
    (:func:`path_inside`); ``where`` is the spec line naming it, ``dialect`` how a CSV/TXT
    file is written."""
    path = path_inside(root, written, where=where)
    return replace(read_form(name, path, dialect), written=written)


#: ``str.strip`` of every cell of an object array (once per cell, in C loops).
_strip_cells = np.frompyfunc(str.strip, 1, 1)

_NO_HEADER = "no header on row 1 (the file is empty or starts with a blank row)"
_FIELD_COUNT_HINT = (
    "every record needs exactly one field per header column: re-export the file (a row "
    "cut short, or a value holding a comma without quotes around it?)"
)


def _is_blank_line(fields: list[str]) -> bool:
    return not fields or (len(fields) == 1 and not fields[0].strip())


def _field_count_error(path: Path, width: int, bad: list[tuple[int, int, int]]) -> RawDataError:
    """The first record of ``bad`` ((first line, last line, fields)) with the others."""
    start, end, count = bad[0]
    span = f" (the record spans lines {start}-{end})" if end > start else ""
    others = ""
    if len(bad) > 1:
        lines = ", ".join(str(b[0]) for b in bad[1:6])
        more = f" and {len(bad) - 6} more" if len(bad) > 6 else ""
        others = f"; also the records on lines {lines}{more}"
    return RawDataError(
        f"{count} fields where the header (line 1) has {width}{span}{others}",
        where=Location(file=str(path), line=start),
        hint=_FIELD_COUNT_HINT,
    )


def _csv_lines(
    path: Path, dialect: CsvDialect = UTF8_COMMA
) -> tuple[list[list[str]], list[int], list[int]]:
    """Every row of a CSV file (``[]`` for a blank line) with its first and last line.

    A file whose rows are one line each (the usual case) is read in one go; otherwise
    row by row, keeping each row's lines: a quoted value with line breaks spans several
    lines, and a malformed row is named by the line it starts on."""
    with path.open(encoding=dialect.text_encoding, newline="") as fh:
        reader = csv.reader(fh, strict=True, delimiter=dialect.delimiter)
        try:
            rows = list(reader)
        except csv.Error:
            pass  # read again below, to name the line
        else:
            if reader.line_num == len(rows):
                lines = list(range(1, len(rows) + 1))
                return rows, lines, lines
    rows, starts, ends = [], [], []
    end = 0
    with path.open(encoding=dialect.text_encoding, newline="") as fh:
        reader = csv.reader(fh, strict=True, delimiter=dialect.delimiter)
        try:
            for fields in reader:
                rows.append(fields)
                starts.append(end + 1)
                end = reader.line_num
                ends.append(end)
        except csv.Error as exc:
            raise RawDataError(
                f"cannot read the record starting on this line: {exc}",
                where=Location(file=str(path), line=end + 1),
                hint=f"a quoted value must end with a quote followed by a {dialect.delimiter!r} "
                "or the end of its line, and quotes inside it are doubled",
            ) from None
    return rows, starts, ends


def _csv_records(
    path: Path, dialect: CsvDialect = UTF8_COMMA
) -> tuple[list[str], list[list[str]], list[int]]:
    """The header, the records and the line each record starts on, read strictly: every
    record has the header's number of fields (blank lines are not records)."""
    rows, starts, ends = _csv_lines(path, dialect)
    if not rows or not any(f.strip() for f in rows[0]):
        raise RawDataError(f"cannot read file: {_NO_HEADER}", where=Location(file=str(path)))
    header, width = rows[0], len(rows[0])
    if set(map(len, rows)) == {width}:
        return header, rows[1:], starts[1:]
    records: list[list[str]] = []
    record_starts: list[int] = []
    bad: list[tuple[int, int, int]] = []
    for fields, start, end in zip(rows[1:], starts[1:], ends[1:], strict=True):
        if _is_blank_line(fields):
            continue
        if len(fields) != width:
            bad.append((start, end, len(fields)))
        else:
            records.append(fields)
            record_starts.append(start)
    if bad:
        raise _field_count_error(path, width, bad)
    return header, records, record_starts


_BOM = "\ufeff".encode()
_NEWLINE, _QUOTE = 10, 34


def _csv_quick(
    path: Path, dialect: CsvDialect = UTF8_COMMA
) -> tuple[list[str], np.ndarray, np.ndarray] | None:
    """What :func:`_csv_records` reads (blank lines kept as empty records, which
    :func:`read_form` drops), by pandas' C parser: about 8 times faster on a large
    export, and without a Python list per record.

    The C parser repairs what the strict reading refuses (it pads a short record, joins
    ``"ab"c``), so it is only used where it cannot: every line is one record, its fields
    counted by its delimiters; a line with a quote is read by :mod:`csv` (strict) and
    replaces the C parser's record. ``None`` when the file needs :func:`_csv_records`: a
    field count other than the header's on a line that is not blank, a quoted value over
    several lines, quotes the strict reader refuses, a bare CR or a NUL byte, text that is
    not UTF-8 (its error names the byte), another encoding, no header."""
    if not dialect.is_utf8 or not dialect.delimiter.isascii():
        return None
    data = path.read_bytes()
    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    cells = quick_cells(body, dialect.delimiter)
    if cells is None:
        return None
    header = [str(v) for v in cells[0]]
    if not any(v.strip() for v in header):
        return None
    return header, cells[1:], np.arange(2, len(cells) + 1, dtype=np.int64)


@dataclass(frozen=True)
class QuickLines:
    """The lines of a block of a CSV file, checked for :func:`quick_cells`."""

    starts: np.ndarray
    """Line ``i`` is ``body[starts[i]:starts[i + 1]]``."""
    count: int
    width: int
    quoted: dict[int, list[str]]
    """The fields of each line holding a quote, as the strict :mod:`csv` reader reads them."""


def quick_lines(body: bytes, delimiter: str, width: int | None = None) -> QuickLines | None:
    """The lines of ``body`` (whole lines of a UTF-8 CSV file) if :func:`quick_cells`
    may read them: ``width`` fields a line (None: the first line's, the header's) or a
    blank line; ``None`` when they need the strict reader (:func:`_csv_quick` says when)."""
    if not body or b"\x00" in body or body.count(b"\r") != body.count(b"\r\n"):
        return None
    octets = np.frombuffer(body, dtype=np.uint8)
    ends = np.flatnonzero(octets == _NEWLINE)
    n_lines = len(ends) + (0 if body.endswith(b"\n") else 1)
    commas = np.bincount(
        np.searchsorted(ends, np.flatnonzero(octets == ord(delimiter))), minlength=1
    )
    fields = np.ones(n_lines, dtype=np.int64)
    fields[: len(commas)] += commas[:n_lines]
    starts = np.concatenate(([0], ends + 1, [len(body)]))  # line i is starts[i]:starts[i + 1]
    quoted: dict[int, list[str]] = {}
    try:
        for line in np.unique(np.searchsorted(ends, np.flatnonzero(octets == _QUOTE))):
            text = body[starts[line] : starts[line + 1]].decode("utf-8").rstrip("\r\n")
            rows = list(csv.reader([text], strict=True, delimiter=delimiter))
            if len(rows) != 1:
                return None
            quoted[int(line)] = rows[0]
            fields[line] = len(rows[0])
        width = int(fields[0]) if width is None else width
        for line in np.flatnonzero(fields != width):
            text = body[starts[line] : starts[line + 1]].decode("utf-8")
            if fields[line] != 1 or text.strip():
                return None  # not a blank line: _csv_records names it
    except (csv.Error, UnicodeDecodeError):
        return None
    return QuickLines(starts, n_lines, width, quoted)


def quick_cells(body: bytes, delimiter: str, width: int | None = None) -> np.ndarray | None:
    """The cells of each line of ``body`` (whole lines of a UTF-8 CSV file), as
    :func:`_csv_quick` reads them: ``width`` fields a line (None: the first line's, the
    header's), a blank line as a record of empty cells; ``None`` when the lines need the
    strict reader (:func:`quick_lines`)."""
    lines = quick_lines(body, delimiter, width)
    if lines is None:
        return None
    try:
        table = pd.read_csv(
            io.BytesIO(body), header=None, names=range(lines.width), dtype=str,
            na_filter=False, sep=delimiter, skip_blank_lines=False, index_col=False,
            engine="c", encoding="utf-8",
        )  # fmt: skip
    except (UnicodeDecodeError, ValueError):
        return None
    if len(table) != lines.count:
        return None
    cells = table.to_numpy(dtype=object)
    for line, row in lines.quoted.items():
        cells[line] = row
    return cells


def _sheet_records(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """The header, the records (padded to one width) and their row numbers."""
    try:
        rows = sheet_rows(path)
    except (zipfile.BadZipFile, KeyError, InvalidFileException) as exc:
        raise RawDataError(
            f"cannot read file: not an Excel workbook ({exc})", where=Location(file=str(path))
        ) from None
    if not rows:
        return [], [], []
    if not any(v.strip() for v in rows[0]):
        raise RawDataError(f"cannot read file: {_NO_HEADER}", where=Location(file=str(path)))
    width = max(len(r) for r in rows)
    padded = [r + [""] * (width - len(r)) for r in rows]
    return padded[0], padded[1:], list(range(2, len(rows) + 1))


def text_table(
    path: Path,
    header: list[str],
    records: list[list[str]] | np.ndarray,
    starts: list[int] | np.ndarray,
) -> pd.DataFrame:
    """Records under their stripped column names (blank ones named ``Unnamed: <position>``
    as in pandas), on their row numbers; an error on a repeated name."""
    names = [v.strip() or f"Unnamed: {i}" for i, v in enumerate(header)]
    dupes = sorted({n for n in names if names.count(n) > 1}, key=names.index)
    if dupes:
        raise RawDataError(f"duplicate column names {dupes}", where=Location(file=str(path)))
    if not names:
        return pd.DataFrame(index=pd.RangeIndex(2, 2))
    index = pd.Index(starts, dtype="int64")
    cells = _strip_cells(np.asarray(records, dtype=object).reshape(len(records), len(names)))
    return pd.DataFrame(cells, index=index, columns=pd.Index(names), dtype=object)


def _sas_frame(path: Path) -> pd.DataFrame:
    try:
        frame, _ = pyreadstat.read_sas7bdat(str(path))
    except pyreadstat.ReadstatError as exc:
        raise RawDataError(
            f"cannot read file: not a readable SAS7BDAT file ({exc})",
            where=Location(file=str(path)),
        ) from None
    return text_frame(frame, path)


def text_frame(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A typed frame (a SAS7BDAT file's, or one given in memory) as the text a raw form
    holds: missing values empty, whole numbers without a decimal point, every other value
    as ``str`` gives it, stripped; rows numbered from 1. ``path`` names it in errors (a
    repeated column name)."""
    frame = frame.astype(object).where(frame.notna(), "")
    frame = frame.map(_sas_text)
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    names = pd.Index([str(col).strip() for col in frame.columns])
    dupes = names[names.duplicated()].unique().tolist()
    if dupes:
        raise RawDataError(f"duplicate column names {dupes}", where=Location(file=str(path)))
    return pd.DataFrame(
        {n: strip_text(frame[c]) for n, c in zip(names, frame.columns, strict=True)}
    )


def _read_frame(path: Path, dialect: CsvDialect) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt"}:
        return text_table(path, *(_csv_quick(path, dialect) or _csv_records(path, dialect)))
    if suffix in {".xlsx", ".xlsm"}:
        check_workbook(path, RawDataError)  # before openpyxl unpacks anything
        return text_table(path, *_sheet_records(path))
    if suffix == ".sas7bdat":
        return _sas_frame(path)
    raise RawDataError(
        f"unsupported raw file type {suffix!r}",
        where=Location(file=str(path)),
        hint="export the form as CSV, XLSX or SAS7BDAT",
    )


def read_form(name: str, path: Path, dialect: CsvDialect = UTF8_COMMA) -> RawForm:
    """Read a raw form file (.csv, .txt, .xlsx, .xlsm, .sas7bdat) as text; ``dialect``
    is how a CSV/TXT file is written."""
    path = Path(path)
    if not path.exists():
        raise RawDataError(
            f"raw file for form {name!r} not found",
            where=Location(file=str(path)),
            hint="check --raw and the spec's form/file names",
        )
    try:
        data = _read_frame(path, dialect)
    except UnicodeDecodeError:
        name_ = "UTF-8" if dialect.is_utf8 else dialect.encoding
        raise RawDataError(
            f"not {name_} text at byte {_decode_error_offset(path, dialect)}",
            where=Location(file=str(path)),
            hint="re-export as UTF-8, or state the file's encoding in study.yaml "
            "(csv: {encoding: windows-1252}, or per file under csv: files:)",
        ) from None
    except (ValueError, OSError) as exc:
        raise RawDataError(f"cannot read file: {exc}", where=Location(file=str(path))) from None
    return RawForm(name=name, path=path, data=records_only(data))


def records_only(data: pd.DataFrame) -> pd.DataFrame:
    """``data`` without its rows that have no value (blank lines or rows: not records)."""
    has_value = np.asarray(data.to_numpy(dtype=object).astype(bool).any(axis=1), dtype=bool)
    return data if has_value.all() else data.loc[has_value]


def _decode_error_offset(path: Path, dialect: CsvDialect) -> int:
    """Offset in the file of the first byte the encoding cannot decode (pandas and the
    csv module decode in chunks, so their error's offset is within a chunk)."""
    try:
        path.read_bytes().decode(dialect.text_encoding)
    except UnicodeDecodeError as exc:
        return exc.start
    return 0


def _sas_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)
