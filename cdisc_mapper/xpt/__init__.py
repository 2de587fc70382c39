"""SAS transport (XPORT) version 5 files: a deterministic, vectorised writer, checks and
the one reader (vectorised for plain v5 files, pyreadstat for the rest).

>>> write_xpt(df, "dm.xpt", dataset="DM", label="Demographics", variables=[
...     XptVariable("STUDYID", "Study Identifier", "Char"),
...     XptVariable("AGE", "Age", "Num", format="8."),
... ])  # doctest: +SKIP
>>> df, meta = read_xpt("dm.xpt")  # doctest: +SKIP

See :mod:`cdisc_mapper.xpt.writer` for the file layout and the determinism rules, and
:mod:`cdisc_mapper.xpt.reader` for reading.
"""

from cdisc_mapper.xpt.append import XptAppender, char_lengths, longest, sized
from cdisc_mapper.xpt.checks import check_xpt_metadata, metadata_problems
from cdisc_mapper.xpt.model import SasFormat, XptMetadata, XptVariable, XptWarning, parse_format
from cdisc_mapper.xpt.reader import XptTruncatedError, read_xpt, read_xpt_chunks, read_xpt_names
from cdisc_mapper.xpt.writer import stored_variables, write_xpt

__all__ = [
    "SasFormat",
    "XptAppender",
    "XptMetadata",
    "XptTruncatedError",
    "XptVariable",
    "XptWarning",
    "char_lengths",
    "check_xpt_metadata",
    "longest",
    "metadata_problems",
    "parse_format",
    "read_xpt",
    "read_xpt_chunks",
    "read_xpt_names",
    "sized",
    "stored_variables",
    "write_xpt",
]
