"""Excel workbooks saved byte-identically: the same content gives the same file.

openpyxl stamps the current time twice: in ``docProps/core.xml`` (``dcterms:modified``,
whatever the workbook's properties say) and on every zip entry. :func:`save_workbook`
writes the document properties and every zip entry with one given time instead (the spec
workbook uses a fixed time; the validation report ``SOURCE_DATE_EPOCH`` when it is set),
and :func:`text_cell` keeps a text that looks like a formula (``=HYPERLINK(...)``) or
holds characters XML 1.0 cannot carry a text, visibly.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet

#: The time a workbook carries when no other is given (the spec workbook's, since 0.1).
FIXED_TIME = dt.datetime(2000, 1, 1)

_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def save_workbook(wb: Workbook, path: Path, when: dt.datetime = FIXED_TIME) -> Path:
    """Save ``wb`` to ``path`` with ``when`` as its created/modified time and as the time of
    every zip entry (entries deflated, in openpyxl's order), so that the same workbook
    gives a byte-identical file."""
    wb.properties.created = when
    wb.properties.modified = when
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_zip_time(when))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl sets 'modified' to now
                data = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", data)
            out.writestr(fixed, data)
    return path


def _zip_time(when: dt.datetime) -> tuple[int, int, int, int, int, int]:
    """Zip entry times start in 1980: an earlier time is written as 1980-01-01."""
    when = max(when, dt.datetime(1980, 1, 1))
    return (when.year, when.month, when.day, when.hour, when.minute, when.second)


def text_cell(ws: Worksheet, row: int, col: int, value: Any) -> None:
    """Write ``value`` into a cell; a text is always a text cell (one starting with ``=``
    is not a formula), and the control characters XML 1.0 cannot hold are written as
    ``\\xNN`` (openpyxl refuses them)."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
