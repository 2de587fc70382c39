"""Reading raw EDC exports (CSV, XLSX, SAS7BDAT) as text, keeping row numbers, from
files inside the raw folder only, or from DataFrames given in memory (:mod:`.memory`);
a whole REDCap or ODM export as its forms (:mod:`.exports`: :mod:`.redcap`, :mod:`.odm`)."""

from cdisc_mapper.raw.memory import RawFrames
from cdisc_mapper.raw.reader import (
    UTF8_COMMA,
    CsvDialect,
    RawForm,
    open_form,
    path_inside,
    read_form,
)

__all__ = [
    "UTF8_COMMA",
    "CsvDialect",
    "RawForm",
    "RawFrames",
    "open_form",
    "path_inside",
    "read_form",
]
