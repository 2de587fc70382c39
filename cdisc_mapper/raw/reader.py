"""Read one raw form into a frame of stripped strings.

Every cell is read as text, exactly as the EDC exported it (no type guessing: ``01``
stays ``01`` and ``NA`` stays ``NA``), with leading/trailing blanks removed. The frame's
index is the row number a person sees in the file: the header is row 1, so the first
record is row 2 (for CSV and XLSX); SAS7BDAT rows are numbered from 1. A row without any
value (a blank line or row) is not a record; the rows after it keep their numbers.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from cdisc_mapper.errors import Location, RawDataError
from cdisc_mapper.textops import strip_text
from cdisc_mapper.zipguard import check_workbook


@dataclass(frozen=True)
class RawForm:
    """A raw form: its file and its records as text (index = row number in the file)."""

    name: str
    path: Path
    data: pd.DataFrame

    def require(self, columns: list[str] | tuple[str, ...] | set[str]) -> None:
        """Raise RawDataError naming the file and every needed column it lacks."""
        missing = [c for c in columns if c not in self.data.columns]
        if missing:
            raise RawDataError(
                f"missing column(s) {', '.join(missing)}; the file has "
                f"{', '.join(map(str, self.data.columns))}",
                where=Location(file=str(self.path)),
                hint="fix the export or the spec's column names",
            )


def _strip(frame: pd.DataFrame) -> pd.DataFrame:
    out = {str(col).strip(): strip_text(frame[col]) for col in frame.columns}
    return pd.DataFrame(out, index=frame.index)


_NO_HEADER = "no header on row 1 (the file is empty or starts with a blank row)"


def _with_header(frame: pd.DataFrame) -> pd.DataFrame:
    """Row 1 of a sheet read without header as the column names, the rest as records on
    their row numbers (2, 3...). Blank names become ``Unnamed: <position>`` as in pandas."""
    if frame.empty:
        return pd.DataFrame(index=pd.RangeIndex(2, 2))
    if not any(str(v).strip() for v in frame.iloc[0]):
        raise ValueError(_NO_HEADER)
    names = [str(v) if str(v).strip() else f"Unnamed: {i}" for i, v in enumerate(frame.iloc[0])]
    body = frame.iloc[1:].set_axis(names, axis=1)
    body.index = pd.RangeIndex(2, len(frame) + 1)
    return body


def read_form(name: str, path: Path) -> RawForm:
    """Read a raw form file (.csv, .xlsx, .sas7bdat) as text."""
    path = Path(path)
    if not path.exists():
        raise RawDataError(
            f"raw file for form {name!r} not found",
            where=Location(file=str(path)),
            hint="check --raw and the spec's form/file names",
        )
    suffix = path.suffix.lower()
    try:
        if suffix in {".csv", ".txt"}:
            frame = pd.read_csv(
                path,
                header=None,  # row 1 is promoted below: no renaming of repeated names
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                encoding="utf-8",
                skipinitialspace=False,
                skip_blank_lines=False,  # blank lines count in the row numbers
            )
            frame = _with_header(frame)
        elif suffix in {".xlsx", ".xlsm"}:
            check_workbook(path, RawDataError)  # before openpyxl unpacks anything
            try:
                frame = pd.read_excel(
                    path, header=None, dtype=str, keep_default_na=False, engine="openpyxl"
                )
            except (zipfile.BadZipFile, KeyError) as exc:  # not a workbook (zip) inside
                raise RawDataError(
                    f"cannot read file: not an Excel workbook ({exc})",
                    where=Location(file=str(path)),
                ) from None
            frame = _with_header(frame)
        elif suffix == ".sas7bdat":
            try:
                frame, _ = pyreadstat.read_sas7bdat(str(path))
            except pyreadstat.ReadstatError as exc:
                raise RawDataError(
                    f"cannot read file: not a readable SAS7BDAT file ({exc})",
                    where=Location(file=str(path)),
                ) from None
            frame = frame.astype(object).where(frame.notna(), "")
            frame = frame.map(_sas_text)
            frame.index = pd.RangeIndex(1, len(frame) + 1)
        else:
            raise RawDataError(
                f"unsupported raw file type {suffix!r}",
                where=Location(file=str(path)),
                hint="export the form as CSV, XLSX or SAS7BDAT",
            )
    except RawDataError:
        raise
    except UnicodeDecodeError:
        raise RawDataError(
            f"not UTF-8 text at byte {_utf8_error_offset(path)}",
            where=Location(file=str(path)),
            hint="re-export as UTF-8",
        ) from None
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        why = _NO_HEADER if isinstance(exc, pd.errors.EmptyDataError) else exc
        raise RawDataError(f"cannot read file: {why}", where=Location(file=str(path))) from None
    names = pd.Index([str(col).strip() for col in frame.columns])
    dupes = names[names.duplicated()].unique().tolist()
    if dupes:
        raise RawDataError(f"duplicate column names {dupes}", where=Location(file=str(path)))
    data = _strip(frame)
    has_value = np.zeros(len(data), dtype=bool)
    for col in data.columns:
        has_value |= (data[col] != "").to_numpy(dtype=bool)
    return RawForm(name=name, path=path, data=data if has_value.all() else data[has_value])


def _utf8_error_offset(path: Path) -> int:
    """Offset in the file of the first byte that is not UTF-8 (pandas decodes in chunks, so
    its error's offset is within a chunk)."""
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return 0


def _sas_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)
