"""Reading raw EDC exports (CSV, XLSX, SAS7BDAT) as text, keeping row numbers."""

from cdisc_mapper.raw.reader import RawForm, read_form

__all__ = ["RawForm", "read_form"]
