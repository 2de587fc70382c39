"""The ADaM spec format: pydantic models (``extra="forbid"``) and their loader.

A study's ADaM specs live in ``<study>/adam/``:

* ``conventions.yaml`` (:class:`Conventions`): the study's time unit (days per month),
  analysis reference date, subject events, periods, phases and analysis windows, shared by
  every dataset;
* one file per dataset (:class:`DatasetSpec`), e.g. ``adsl.yaml``, ``adqs.yaml``: its
  label, ADaM structure, keys, the steps that build its records (``records``) and its
  variables in output order, each with the derivation that computes it (``derive``, a
  name in the ADaM registry, :mod:`cdisc_mapper.adam.ops`), that derivation's arguments and
  its define.xml metadata (origin, method text, comment, codelist; label and type for
  sponsor variables);
* ``reports.yaml`` (:class:`ReportsSpec`, optional): summary reports drawn from the datasets.

A variable entry, for example::

    ABLFL: {derive: baseline_flag, order_by: [SRCSEQ]}
    CHG:
      derive: chg
      where: {variable: ADY, ge: 2}          # post-baseline records only
    NUMINJ:
      derive: count
      source: EX.EXSTDTC
      label: Number of MSC Injections          # sponsor variable: label required
      method: "Number of EX records."          # optional: overrides the generated text

``{}`` keeps a column the record steps made (e.g. ``AVAL`` from ``--STRESN``). Record
builders (``records: - op:``): ``subjects``, ``findings``, ``scores``, ``best_record``,
``summary_record``, ``locf_record``, ``occurrences``, ``progression``; a step with
``after: VAR`` runs once VAR is derived (see :class:`RecordStep`). Derivations
(``derive:``): ``keep``, ``value``,
``constant``, ``date``, ``count``, ``months``, ``decline_rate``, ``group``, ``recode``,
``flag``, ``exists``, ``coalesce``, ``latest_date``, ``earliest_date``, ``period_date``,
``period_treatment``, ``record_period``,
``analysis_day``, ``window``, ``baseline_flag``, ``base``, ``chg``, ``pchg``,
``percent_improvement``, ``criterion``, ``reference_range``, ``nrind``,
``analysis_flag``, ``sequence``, ``treatment_emergent``, ``duration``,
``first_occurrence``; each one's argument model documents its arguments (see the
generated reference, ``docs/operations.md``). Conditions (``where``, ``when``) are
:class:`~cdisc_mapper.condition.Condition` trees, never code.

A variable whose name starts with ``_`` (``_TRTEDT``) or that says ``keep: false`` is a
working variable: derived and usable by the later derivations of its dataset, never
written (XPT, define.xml), and needing no label. ``conventions.yaml``'s ``missing_keys``
(``first``, SAS's order and the default; or ``last``, R's) places missing key values in
the sort of every dataset.

Every error is a :class:`~cdisc_mapper.errors.SpecError` naming the spec file and line.
Derivation names and their arguments are checked when the specs are loaded, before any data
is read. No spec text is ever evaluated as code.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from cdisc_mapper.condition import Condition
from cdisc_mapper.spec.base import NAME_PATTERN, Strict

ADAM_FOLDER = "adam"
CONVENTIONS_FILE = "conventions.yaml"
REPORTS_FILE = "reports.yaml"


# --------------------------------------------------------------------------- conventions
class EventSpec(Strict):
    """A dated subject event: the dates of ``domain.variable`` (complete dates only)."""

    domain: str = Field(pattern=r"^[A-Z]{2}$")
    variable: str = Field(pattern=NAME_PATTERN)
    where: Condition | None = None
    description: str = ""


class EventRef(Strict):
    """The ``occurrence``-th date (1-based, by date) of an event, or its last one."""

    event: str
    occurrence: int | Literal["last"] = 1


class PeriodSpec(Strict):
    """An analysis period (ADaMIG v1.3 section 3.2.7: APxxSDT/APxxEDT, APERIOD)."""

    aperiod: int = Field(ge=1, le=99)
    aperiodc: str = Field(min_length=1, max_length=200)
    start: EventRef
    end: list[EventRef] = Field(min_length=1, description="the first one available ends it")
    trtp: str | None = Field(default=None, description="planned treatment (TRTxxP)")
    trta: str | None = Field(
        default=None, description="actual treatment (TRTxxA), for subjects with the period"
    )
    description: str = ""


class PhaseSpec(Strict):
    """An analysis phase grouping consecutive periods (APHASE, APHASEN, PHwSDT/PHwEDT)."""

    aphasen: int = Field(ge=1, le=9)
    aphase: str = Field(min_length=1, max_length=200)
    periods: list[int] = Field(min_length=1)


class WindowSpec(Strict):
    """An analysis window: days ``lo``..``hi`` relative to an ADSL date (that date is day
    1, the day before is day -1; no day 0), with a target day."""

    avisitn: float
    avisit: str = Field(min_length=1, max_length=200)
    reference: str = Field(pattern=NAME_PATTERN, description="ADSL date variable (day 1)")
    target: int
    lo: int
    hi: int

    @model_validator(mode="after")
    def _range(self) -> WindowSpec:
        if self.lo > self.hi:
            raise ValueError(f"window {self.avisit}: lo {self.lo} is after hi {self.hi}")
        if not self.lo <= self.target <= self.hi:
            raise ValueError(f"window {self.avisit}: target {self.target} is outside lo..hi")
        if 0 in (self.lo, self.hi, self.target):
            raise ValueError(f"window {self.avisit}: there is no day 0 (day 1 is the reference)")
        return self


class Conventions(Strict):
    """The study-wide ADaM conventions (``conventions.yaml``)."""

    studyid: str | None = None
    month_days: float = Field(gt=0, description="days per month for every month conversion")
    reference_date: str = Field(
        default="TRTSDT", pattern=NAME_PATTERN, description="ADSL date of analysis day 1 (ADY)"
    )
    events: dict[str, EventSpec]
    periods: list[PeriodSpec] = Field(min_length=1)
    phases: list[PhaseSpec] = Field(default_factory=list)
    windows: dict[str, list[WindowSpec]] = Field(default_factory=dict)
    comments: dict[str, str] = Field(default_factory=dict)
    missing_keys: Literal["first", "last"] = Field(
        default="first",
        description="where records with a missing key value sort in every dataset: `first` "
        "(SAS: missing is lower than any value) or `last` (R, admiral's arrange)",
    )

    def period(self, aperiod: int) -> PeriodSpec:
        for p in self.periods:
            if p.aperiod == aperiod:
                return p
        raise KeyError(aperiod)

    def phase_of(self, aperiod: int) -> PhaseSpec | None:
        for ph in self.phases:
            if aperiod in ph.periods:
                return ph
        return None


# --------------------------------------------------------------------------- datasets
class VariableSpec(Strict):
    """One output variable: its derivation (a registered name) and define.xml metadata.

    A variable ADaMIG defines by name takes its label and type from there; one carried
    from SDTM or another ADaM dataset under its own name keeps its source's. ``label``
    names a sponsor variable, and replaces the label of a carried variable or of one named
    by an ADaMIG rule (``TRTxxP``, ``*DT``), where it is required when the rule's label is
    a placeholder such as ``{Date}``. ``type`` states a type; against ADaMIG's, it is an
    error (see :func:`cdisc_mapper.spec.adam_loader.adamig_variable`).
    """

    derive: str = "keep"
    args: dict[str, Any] = Field(default_factory=dict)
    label: str | None = Field(default=None, min_length=1, max_length=40)
    type: Literal["Char", "Num"] | None = None
    origin: Literal["Derived", "Assigned", "Predecessor", "Collected", "Protocol"] | None = None
    method: str | None = Field(default=None, description="derivation text for define.xml")
    comment: str | None = None
    codelist: str | None = None
    format: str | None = None
    keep: bool = Field(
        default=True,
        description="false: a working variable, derived and usable by later derivations of "
        "this dataset but not written (XPT, define.xml); so is any name starting with `_`",
    )

    def working(self, name: str) -> bool:
        """Whether the variable ``name`` (this entry) is a working variable, never written."""
        return not self.keep or name.startswith("_")


#: A working variable's name: a leading underscore (never a SAS V5 output name).
WORKING_PATTERN = r"^_[A-Z][A-Z0-9_]{0,30}$"


class RecordStep(Strict):
    """A step that makes records (rows): ``op`` names a record builder, the rest are its
    arguments.

    ``after`` (a variable name or a list) makes a step that adds records run once those
    variables, the variables its own arguments read, and every variable they use, are
    derived on the records made so far (e.g. a last-value record chosen by ANL01FL); the
    dataset's other variables are then derived on all records, old and new (as admiral
    re-derives BASE, CHG, ASEQ after adding DTYPE records). On the added records, the
    variables derived before the step hold what the step gives them (its ``by``, ``set``
    or copied columns) and are blank otherwise.
    """

    op: str
    after: list[str] = Field(default_factory=list)
    args: dict[str, Any] = Field(default_factory=dict)

    @field_validator("after", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class DatasetSpec(Strict):
    dataset: str = Field(pattern=r"^AD[A-Z0-9]{1,6}$")
    label: str = Field(min_length=1, max_length=40)
    structure: Literal["ADSL", "BDS", "OCCDS"]
    class_: str | None = Field(default=None, alias="class")
    keys: list[str] = Field(min_length=1)
    records: list[RecordStep] = Field(min_length=1)
    variables: dict[str, VariableSpec] = Field(min_length=1)
    comment: str | None = None

    @model_validator(mode="after")
    def _names(self) -> DatasetSpec:
        for name in self.variables:
            if not re.match(NAME_PATTERN, name) and not re.match(WORKING_PATTERN, name):
                raise ValueError(
                    f"variable name {name!r} is not a valid SAS V5 name (nor a working "
                    "variable's: _ then capital letters, digits, _)"
                )
        for key in self.keys:
            if key not in self.variables:
                raise ValueError(f"key {key} is not among the variables")
            if self.variables[key].working(key):
                raise ValueError(f"key {key} is a working variable (not written); keys are")
        return self

    def written(self) -> list[str]:
        """The variables written (in spec order): all but the working variables."""
        return [n for n, v in self.variables.items() if not v.working(n)]


# --------------------------------------------------------------------------- reports
class ReportRow(Strict):
    label: str
    where: Condition


class ProgressionSummarySpec(Strict):
    """A responder summary of a progression dataset: per parameter and analysis row,
    responders n/N, mean percent improvement and a Wilcoxon signed-rank test of AVAL
    against BASE."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    dataset: str = Field(pattern=r"^AD[A-Z0-9]{1,6}$")
    population: str = Field(pattern=NAME_PATTERN, description="subject flag, e.g. EFFFL")
    parameters: list[str] = Field(min_length=1)
    rows: list[ReportRow] = Field(min_length=1)
    responder_flag: str = Field(pattern=NAME_PATTERN)
    responder_label: str
    extra_flags: dict[str, str] = Field(
        default_factory=dict, description="more criterion flags -> column heading"
    )
    improvement: str = Field(pattern=NAME_PATTERN)
    decimals: int = Field(default=1, ge=0, le=6)
    p_decimals: int = Field(default=4, ge=1, le=10)
    notes: list[str] = Field(default_factory=list)


class ReportsSpec(Strict):
    progression_summaries: list[ProgressionSummarySpec] = Field(default_factory=list)
