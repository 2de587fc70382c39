"""ISO 8601 dates, times, durations and intervals of SDTM/ADaM values (--DTC, --DUR).

The one place that reads ISO 8601 values; everything that parses a --DTC value (the
SDTM derivations, ADaM numeric dates and imputation, the validator) goes through it.
Raw EDC text (day-first dates, month names, ``UNK``) is not ISO 8601 and is read by
:mod:`cdisc_mapper.derive.dates`.

Rules (SDTMIG 3.4 section 4.4, which requires the ISO 8601 extended format):

* Section 4.4.1: dates ``YYYY-MM-DD``, times ``hh:mm:ss`` (24-hour clock), joined by
  ``T``: ``2016-08-04T13:45:30``; fractions of a second and a time zone are allowed.
* Section 4.4.2, precision: "Missing components are represented by right truncation or a
  hyphen": ``2016-08`` (day unknown), ``2016`` (month and day unknown); ``2003---15``
  (month unknown), ``--12-15`` (year unknown), ``2003-12-15T-:15`` (hour unknown). "If the
  date and time values are completely missing, the SDTM date field should be null".
* Section 4.4.3: durations ``PnYnMnDTnHnMnS`` / ``PnW`` and intervals ``start/end``.
* Section 4.4.4: study day from "the date portion" of two dates, with no day 0.

Functions are vectorised over a pandas Series and work once per distinct value
(:class:`Parsed`); results are numpy arrays with one element per row:

* :func:`problems` / :func:`duration_problems`: ``""`` or why a value is not ISO 8601;
* :func:`precision`: length of the right-truncated part (:data:`YEAR` .. :data:`SECOND`);
* :func:`bounds`: first and last instant a value stands for (SAS datetimes);
* :func:`to_sas_date`: complete dates as SAS date numbers; :func:`study_day`;
* :func:`compare`: order of two values at their common precision;
* :func:`parse`: the components, for callers that need several of these;
* :func:`read_once`: within it, a column of Arrow text is read once, however often it
  is parsed.

Dates are SAS numbers: days (or seconds) since 1960-01-01, as the XPT files store them.
"""

from cdisc_mapper.iso8601._text import Components, Duration, parse_duration
from cdisc_mapper.iso8601.calendar import (
    SAS_EPOCH,
    SECONDS_PER_DAY,
    days_in_month,
    from_sas_date,
    is_leap_year,
    sas_date,
)
from cdisc_mapper.iso8601.parsed import Parsed, distinct, read_once
from cdisc_mapper.iso8601.values import (
    DAY,
    HOUR,
    MINUTE,
    MONTH,
    SECOND,
    YEAR,
    bounds,
    compare,
    duration_problems,
    parse,
    precision,
    problems,
    study_day,
    to_sas_date,
)

__all__ = [
    "DAY",
    "HOUR",
    "MINUTE",
    "MONTH",
    "SAS_EPOCH",
    "SECOND",
    "SECONDS_PER_DAY",
    "YEAR",
    "Components",
    "Duration",
    "Parsed",
    "bounds",
    "compare",
    "days_in_month",
    "distinct",
    "duration_problems",
    "from_sas_date",
    "is_leap_year",
    "parse",
    "parse_duration",
    "precision",
    "problems",
    "read_once",
    "sas_date",
    "study_day",
    "to_sas_date",
]
