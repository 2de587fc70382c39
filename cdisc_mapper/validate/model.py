"""Findings, checks and the validation report: the data model of ``cdisc_mapper.validate``."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from cdisc_mapper.validate.errors import ValidationInputError


class Severity(enum.IntEnum):
    """How bad a finding is; ordered so that ``ERROR > WARNING > INFO``."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        """Lowercase name used in reports (``"error"``)."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: Severity | str) -> Severity:
        """``"error"``/``"warning"``/``"info"`` (any case) or a :class:`Severity`."""
        if isinstance(value, Severity):
            return value
        try:
            return cls[str(value).strip().upper()]
        except KeyError:
            raise ValidationInputError(
                f"unknown severity {value!r}", hint="use error, warning or info"
            ) from None


ERROR = Severity.ERROR
WARNING = Severity.WARNING
INFO = Severity.INFO

Standard = Literal["SDTM", "ADaM", "any"]


@dataclass(frozen=True)
class Scope:
    """Which datasets a check runs on.

    Attributes:
        standard: ``"SDTM"``, ``"ADaM"`` or ``"any"``.
        classes: observation classes (SDTM ``Findings``...; ADaM ``ADSL``, ``BDS``,
            ``TTE``, ``OCCDS``, ``OTHER``) or ``None`` for all.
        datasets: dataset names or domain codes, or ``None`` for all.
        package: the check looks at the whole package once (``func(ctx)``) instead of
            once per dataset (``func(ctx, dataset)``).
    """

    standard: Standard = "any"
    classes: frozenset[str] | None = None
    datasets: frozenset[str] | None = None
    package: bool = False

    def describe(self) -> str:
        """Short text for reports: ``"SDTM Findings"``, ``"package"``..."""
        if self.package:
            return "package" if self.standard == "any" else f"{self.standard} package"
        parts: list[str] = [] if self.standard == "any" else [self.standard]
        if self.classes:
            parts.append("/".join(sorted(self.classes)))
        if self.datasets:
            parts.append("/".join(sorted(self.datasets)))
        return " ".join(parts) or "all datasets"


def scope(
    standard: Standard = "any",
    *,
    classes: tuple[str, ...] | None = None,
    datasets: tuple[str, ...] | None = None,
    package: bool = False,
) -> Scope:
    """Build a :class:`Scope` from tuples."""
    return Scope(
        standard=standard,
        classes=frozenset(classes) if classes else None,
        datasets=frozenset(datasets) if datasets else None,
        package=package,
    )


@dataclass(frozen=True)
class CheckSpec:
    """One registered check: a stable ID, what it verifies and the function doing it.

    ``explanation`` says why the rule exists and when a finding may be acceptable; it is
    printed beside the findings in every report.
    """

    id: str
    severity: Severity
    category: str
    description: str
    scope: Scope
    func: Callable[..., Any]
    explanation: str = ""
    reference: str = ""


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place.

    ``record`` is the 1-based record (row) number in the dataset file; ``seq`` the record's
    ``--SEQ`` (``ASEQ``) value when the dataset has one. Dataset-level findings leave the
    record fields ``None``; package-level findings may leave ``dataset`` empty.
    """

    check_id: str
    dataset: str = ""
    record: int | None = None
    variable: str = ""
    message: str = ""
    severity: Severity = field(default=Severity.ERROR, compare=False)
    usubjid: str = field(default="", compare=False)
    seq: float | None = field(default=None, compare=False)
    value: str = field(default="", compare=False)

    def sort_key(self) -> tuple[Any, ...]:
        """Deterministic report order: check, dataset, record, variable, message."""
        return (
            self.check_id,
            self.dataset,
            -1 if self.record is None else self.record,
            self.variable,
            self.message,
            self.usubjid,
            self.value,
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON/CSV (severity as its label, seq as int when whole)."""
        seq: float | int | None = self.seq
        if seq is not None and float(seq).is_integer():
            seq = int(seq)
        return {
            "check_id": self.check_id,
            "severity": self.severity.label,
            "dataset": self.dataset,
            "usubjid": self.usubjid,
            "seq": seq,
            "record": self.record,
            "variable": self.variable,
            "value": self.value,
            "message": self.message,
        }


GroupKey = tuple[str, str, str, str, str]
"""What makes findings one cause: check ID, dataset, variable, value, message."""


@dataclass(frozen=True)
class FindingGroup:
    """Findings of one cause: one check on one dataset, with the same variable, value and
    message, on one or more records (``findings``, in record order).

    A check reports every record it flags; the reports show each cause once, with how
    many records have it and which (the JSON lists them all, the HTML page the first few
    with their rows). Severity totals and the exit code count records, as before.
    """

    findings: tuple[Finding, ...]

    @property
    def first(self) -> Finding:
        """The group's first finding (lowest record number)."""
        return self.findings[0]

    @property
    def key(self) -> GroupKey:
        """Check ID, dataset, variable, value and message."""
        return group_key(self.first)

    @property
    def count(self) -> int:
        """How many findings (records) the group holds."""
        return len(self.findings)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON: the cause, ``count``, the first record's place (``record``,
        ``usubjid``, ``seq``) and every record (``records``: record, usubjid, seq)."""
        first = self.first.as_dict()
        first["count"] = self.count
        first["records"] = [
            {k: d[k] for k in ("record", "usubjid", "seq")}
            for d in (f.as_dict() for f in self.findings)
        ]
        return first


def group_key(finding: Finding) -> GroupKey:
    """The cause of a finding: what a :class:`FindingGroup` has in common."""
    return (finding.check_id, finding.dataset, finding.variable, finding.value, finding.message)


def group_findings(findings: list[Finding]) -> list[FindingGroup]:
    """Findings of one cause as one group each, groups in report order (check, dataset,
    first record, variable, message), findings of a group in their given order."""
    grouped: dict[GroupKey, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(group_key(finding), []).append(finding)
    groups = [FindingGroup(tuple(members)) for members in grouped.values()]
    groups.sort(key=lambda g: g.first.sort_key())
    return groups


@dataclass(frozen=True)
class RowContext:
    """A flagged record shown among its neighbours: what the HTML report embeds.

    ``rows`` are (record number, values) for the record and the records of the same
    subject next to it; ``columns`` the dataset's key variables and the flagged ones.
    """

    dataset: str
    record: int
    columns: tuple[str, ...]
    flagged: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]


@dataclass(frozen=True)
class DatasetSummary:
    """What was read: one row of the report's dataset table."""

    name: str
    file: str
    standard: str
    domain: str
    class_: str
    label: str
    records: int
    variables: int
    metadata: str


@dataclass(frozen=True)
class CheckResult:
    """A check's outcome in one run: how many findings, or why it was skipped."""

    spec: CheckSpec
    findings: int
    suppressed: int = 0
    status: Literal["passed", "failed", "skipped", "not applicable"] = "passed"
    note: str = ""
    by_dataset: dict[str, int] = field(default_factory=dict)
    """Findings per dataset name (``""``: package-level), suppressed ones included."""


@dataclass
class ValidationReport:
    """The result of :func:`cdisc_mapper.validate.validate_package`.

    ``findings`` are sorted deterministically. When a check flags more records in one
    dataset than the run's limit, only the first are kept and the rest are counted in
    ``CheckResult.suppressed`` (the totals below include them).
    """

    package: str
    datasets: list[DatasetSummary]
    findings: list[Finding]
    checks: list[CheckResult]
    reconciliation: list[dict[str, Any]] | None = None
    define: str | None = None
    standards: dict[str, str] = field(default_factory=dict)
    contexts: dict[tuple[str, int], RowContext] = field(default_factory=dict)
    """Row context of the first records of each group, by (dataset, record)."""

    @cached_property
    def groups(self) -> list[FindingGroup]:
        """The kept findings grouped by cause (:func:`group_findings`)."""
        return group_findings(self.findings)

    def totals(self) -> dict[str, int]:
        """Finding counts per severity label, including suppressed ones."""
        counts: Counter[str] = Counter()
        for result in self.checks:
            counts[result.spec.severity.label] += result.findings
        return {s.label: counts.get(s.label, 0) for s in sorted(Severity, reverse=True)}

    def count(self, check_id: str) -> int:
        """How many findings a check produced (including suppressed ones)."""
        return sum(r.findings for r in self.checks if r.spec.id == check_id)

    def by_check(self, check_id: str) -> list[Finding]:
        """The kept findings of one check."""
        return [f for f in self.findings if f.check_id == check_id]

    def exit_code(self, fail_on: Severity | str = "error") -> int:
        """1 when a finding at or above ``fail_on`` exists, else 0."""
        threshold = Severity.parse(fail_on)
        worst = max((r.spec.severity for r in self.checks if r.findings), default=None)
        return 1 if worst is not None and worst >= threshold else 0

    def summary_line(self) -> str:
        """One line for the command line: counts and the worst checks."""
        totals = self.totals()
        records = sum(d.records for d in self.datasets)
        text = (
            f"validated {len(self.datasets)} datasets ({records} records): "
            f"{totals['error']} errors, {totals['warning']} warnings, {totals['info']} notes"
        )
        failing = [r for r in self.checks if r.findings and r.spec.severity >= WARNING]
        failing.sort(key=lambda r: (-r.spec.severity, -r.findings, r.spec.id))
        if failing:
            text += "; top: " + ", ".join(f"{r.spec.id} x{r.findings}" for r in failing[:3])
        return text
