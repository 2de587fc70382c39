"""``SOURCE_DATE_EPOCH``: the one date the outputs carry, read and checked here only.

The reproducible-builds convention (reproducible-builds.org/specs/source-date-epoch):
when the variable is set, it is the creation time to write instead of the clock, as
whole seconds since 1970-01-01 00:00:00 UTC. The XPT headers and define.xml take their
stamps from :func:`source_date`; the command line checks it before any command runs,
because libraries the stages import (numpy's f2py, loaded by scipy) read the variable
too and fail with an internal error on a value that is not an integer.

A value that is set must be ASCII digits (blanks around them allowed) giving a time no
later than 9999-12-31T23:59:59; anything else, an empty value included, is a
:class:`SourceDateError` naming the variable and what it must be.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from cdisc_mapper.errors import CdiscMapperError

#: The environment variable.
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"
#: The latest time it may give: 9999-12-31T23:59:59 UTC (ISO 8601's four-digit years).
LATEST_SECONDS = 253_402_300_799

_DIGITS = re.compile(r"[0-9]+")
_WHAT = (
    "a whole number of seconds since 1970-01-01 00:00:00 UTC, from 0 to "
    f"{LATEST_SECONDS} (year 9999)"
)


class SourceDateError(CdiscMapperError):
    """``SOURCE_DATE_EPOCH`` is set to something that is not a time stamp."""


def source_date(environ: Mapping[str, str] | None = None) -> datetime | None:
    """The time ``SOURCE_DATE_EPOCH`` gives (UTC, without time zone), None when unset.

    Raises:
        SourceDateError: the variable is set but is not a whole number of seconds from 0
            to :data:`LATEST_SECONDS`.
    """
    env = os.environ if environ is None else environ
    raw = env.get(SOURCE_DATE_EPOCH)
    if raw is None:
        return None
    text = raw.strip()
    if not _DIGITS.fullmatch(text) or int(text) > LATEST_SECONDS:
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise SourceDateError(
            f"{SOURCE_DATE_EPOCH}={shown!r} must be {_WHAT}",
            where=f"environment variable {SOURCE_DATE_EPOCH}",
            hint="set it to e.g. the last commit's time (`git log -1 --format=%ct`) or unset it",
        )
    return datetime.fromtimestamp(int(text), tz=UTC).replace(tzinfo=None)
