"""Errors of the validator: bad input that stops a validation run."""

from __future__ import annotations

from cdisc_mapper.errors import CdiscMapperError


class ValidationInputError(CdiscMapperError):
    """The package cannot be validated: missing folder, no or unreadable XPT files, a
    missing or malformed define.xml, or a bad option."""
