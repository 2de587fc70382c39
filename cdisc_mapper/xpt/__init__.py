"""SAS transport (XPORT) version 5 files: a deterministic, vectorised writer and checks.

>>> write_xpt(df, "dm.xpt", dataset="DM", label="Demographics", variables=[
...     XptVariable("STUDYID", "Study Identifier", "Char"),
...     XptVariable("AGE", "Age", "Num", format="8."),
... ])  # doctest: +SKIP
>>> df, meta = read_xpt("dm.xpt")  # doctest: +SKIP

See :mod:`cdisc_mapper.xpt.writer` for the file layout and the determinism rules.
"""

from cdisc_mapper.xpt.checks import check_xpt_metadata, metadata_problems
from cdisc_mapper.xpt.model import SasFormat, XptMetadata, XptVariable, XptWarning, parse_format
from cdisc_mapper.xpt.reader import read_xpt
from cdisc_mapper.xpt.writer import write_xpt

__all__ = [
    "SasFormat",
    "XptMetadata",
    "XptVariable",
    "XptWarning",
    "check_xpt_metadata",
    "metadata_problems",
    "parse_format",
    "read_xpt",
    "write_xpt",
]
