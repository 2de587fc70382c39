"""Conformance checks of SDTM/ADaM packages and their reports.

>>> report = validate_package(Path("out"))                    # doctest: +SKIP
>>> write_reports(report, Path("out") / "reports")            # doctest: +SKIP
>>> report.exit_code("error")                                 # doctest: +SKIP

Checks live in a registry (``registered_checks()``), each with a stable ID, a severity,
a scope and an explanation; see :mod:`cdisc_mapper.validate.registry` for adding one.
"""

from cdisc_mapper.validate.context import Context
from cdisc_mapper.validate.engine import (
    DEFAULT_LIMIT,
    Package,
    load_package,
    read_package,
    validate_package,
)
from cdisc_mapper.validate.errors import ValidationInputError
from cdisc_mapper.validate.model import (
    ERROR,
    INFO,
    WARNING,
    CheckResult,
    CheckSpec,
    DatasetSummary,
    Finding,
    FindingGroup,
    RowContext,
    Scope,
    Severity,
    ValidationReport,
    scope,
)
from cdisc_mapper.validate.registry import check, get_check, registered_checks
from cdisc_mapper.validate.report import REPORT_FILES, render_html, report_dict, write_reports
from cdisc_mapper.validate.unreadable import Unreadable

__all__ = [
    "DEFAULT_LIMIT",
    "ERROR",
    "INFO",
    "REPORT_FILES",
    "WARNING",
    "CheckResult",
    "CheckSpec",
    "Context",
    "DatasetSummary",
    "Finding",
    "FindingGroup",
    "Package",
    "RowContext",
    "Scope",
    "Severity",
    "Unreadable",
    "ValidationInputError",
    "ValidationReport",
    "check",
    "get_check",
    "load_package",
    "read_package",
    "registered_checks",
    "render_html",
    "report_dict",
    "scope",
    "validate_package",
    "write_reports",
]
