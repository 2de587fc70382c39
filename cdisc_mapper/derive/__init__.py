"""Derivation library: small, pure, vectorised SDTM derivations, each citing its IG rule.

Conventions shared by every function (see each docstring for the SDTMIG 3.4 rule):

* Inputs are pandas Series/DataFrames; outputs keep the input index.
* Character outputs use ``""`` for null; numeric outputs use NaN (float) or ``pd.NA``
  (nullable ``Int64``).
* Functions that read raw values take them as a Series indexed by raw row number and
  raise :class:`~cdisc_mapper.errors.DateParseError` or
  :class:`~cdisc_mapper.errors.MappingError` listing the offending rows and values (first
  20, then a count); ``err.rows`` and ``err.values`` hold the full lists, so a caller can
  re-raise with ``where=Location(file=...)``.
* ISO 8601 --DTC values are right-truncated only (``YYYY-MM-DDThh:mm[:ss]``,
  ``YYYY-MM-DD``, ``YYYY-MM``, ``YYYY``); nothing is imputed.
"""

from cdisc_mapper.derive.dates import (
    DEFAULT_UNKNOWN_TOKENS,
    combine_dtc,
    derive_age,
    derive_study_day,
    dtc_to_date,
    dtc_to_datetime,
    is_complete_date,
    parse_partial_date,
    parse_time,
)
from cdisc_mapper.derive.flags import (
    derive_last_obs_before_exposure_flag,
    derive_nrind,
    derive_seq,
)
from cdisc_mapper.derive.numbers import NumberConvention, read_number
from cdisc_mapper.derive.results import derive_standard_result, parse_numeric_result
from cdisc_mapper.derive.timing import derive_epoch, derive_visitnum_unscheduled
from cdisc_mapper.derive.units import conversion_factors, normalise_unit, unit_key

__all__ = [
    "DEFAULT_UNKNOWN_TOKENS",
    "NumberConvention",
    "combine_dtc",
    "conversion_factors",
    "derive_age",
    "derive_epoch",
    "derive_last_obs_before_exposure_flag",
    "derive_nrind",
    "derive_seq",
    "derive_standard_result",
    "derive_study_day",
    "derive_visitnum_unscheduled",
    "dtc_to_date",
    "dtc_to_datetime",
    "is_complete_date",
    "normalise_unit",
    "parse_numeric_result",
    "parse_partial_date",
    "parse_time",
    "read_number",
    "unit_key",
]
