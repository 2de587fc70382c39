"""cdisc_mapper: raw clinical-trial records to CDISC SDTM/ADaM, Define-XML 2.1 and validation."""

__version__ = "0.1.0"
