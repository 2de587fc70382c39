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
``period_treatment``, ``record_period``, ``in_periods``,
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
from cdisc_mapper.spec.figures import FiguresSpec

ADAM_FOLDER = "adam"
CONVENTIONS_FILE = "conventions.yaml"
REPORTS_FILE = "reports.yaml"


# --------------------------------------------------------------------------- conventions
class EventSpec(Strict):
    """A dated subject event: the dates of ``domain.variable`` (complete dates only)."""

    domain: str = Field(
        pattern=r"^[A-Z]{2}$", description="SDTM domain holding the event's dates (e.g. EX)"
    )
    variable: str = Field(
        pattern=NAME_PATTERN,
        description="its ISO 8601 date variable (e.g. EXSTDTC); partial dates are not events",
    )
    where: Condition | None = Field(
        default=None,
        description="condition on the domain's variables choosing the event's records; none: all",
    )
    description: str = Field(default="", description="what the event is, for the reader")


class EventRef(Strict):
    """The ``occurrence``-th date (1-based, by date) of an event, or its last one."""

    event: str = Field(description="name of an event in the conventions' `events`")
    occurrence: int | Literal["last"] = Field(
        default=1,
        description="which of the subject's dates of the event, by date: 1 the first, 2 the "
        "second..., or `last`",
    )


class PeriodSpec(Strict):
    """An analysis period (ADaMIG v1.3 section 3.2.7: APxxSDT/APxxEDT, APERIOD)."""

    aperiod: int = Field(ge=1, le=99, description="the period's number, APERIOD (xx in APxxSDT)")
    aperiodc: str = Field(min_length=1, max_length=200, description="the period's text, APERIODC")
    start: EventRef = Field(
        description="the event whose date starts the period; a subject without it did not "
        "have the period"
    )
    end: list[EventRef] = Field(
        min_length=1,
        description="events whose date ends the period, in order of preference: the first "
        "one the subject has ends it",
    )
    closed: bool = Field(
        default=False,
        description="true: a subject who has none of the `end` events did not have the period "
        "(e.g. injection k to injection k+1, with no fallback: a subject without injection "
        "k+1 has no such period); false: the period stays open (APxxEDT null)",
    )
    trtp: str | None = Field(default=None, description="planned treatment (TRTxxP)")
    trta: str | None = Field(
        default=None, description="actual treatment (TRTxxA), for subjects with the period"
    )
    description: str = Field(default="", description="what the period is, for the reader")


class PhaseSpec(Strict):
    """An analysis phase grouping consecutive periods (APHASE, APHASEN, PHwSDT/PHwEDT)."""

    aphasen: int = Field(ge=1, le=9, description="the phase's number, APHASEN (w in PHwSDT)")
    aphase: str = Field(min_length=1, max_length=200, description="the phase's text, APHASE")
    periods: list[int] = Field(
        min_length=1,
        description="APERIOD of the periods it groups; it runs from the earliest start to the "
        "latest end",
    )


class WindowSpec(Strict):
    """An analysis window: days ``lo``..``hi`` relative to an ADSL date (that date is day
    1, the day before is day -1; no day 0), with a target day."""

    avisitn: float = Field(description="the window's AVISITN")
    avisit: str = Field(min_length=1, max_length=200, description="the window's AVISIT")
    reference: str = Field(
        pattern=NAME_PATTERN, description="ADSL date variable of day 1 (e.g. TRTSDT)"
    )
    target: int = Field(description="the target day (AWTARGET), within lo..hi")
    lo: int = Field(description="first day of the window (AWLO; negative: before day 1)")
    hi: int = Field(description="last day of the window (AWHI), included")

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

    studyid: str | None = Field(
        default=None,
        description="the study's STUDYID, for the reader (the datasets take STUDYID from SDTM)",
    )
    month_days: float = Field(
        gt=0,
        description="days per month for every month conversion (e.g. 30.4375 = 365.25 / 12)",
    )
    reference_date: str = Field(
        default="TRTSDT",
        pattern=NAME_PATTERN,
        description="ADSL date of analysis day 1 (ADY) and the default baseline cut-off",
    )
    events: dict[str, EventSpec] = Field(
        description="named subject events (e.g. CONSENT, INJECTION, END) whose dates bound "
        "the periods"
    )
    periods: list[PeriodSpec] = Field(
        min_length=1, description="the analysis periods (ADaMIG v1.3 section 3.2.7)"
    )
    phases: list[PhaseSpec] = Field(
        default_factory=list, description="analysis phases grouping consecutive periods"
    )
    windows: dict[str, list[WindowSpec]] = Field(
        default_factory=dict,
        description="named lists of analysis windows (`derive: window, windows: NAME`); a "
        "record takes the first window listed whose days hold it",
    )
    comments: dict[str, str] = Field(
        default_factory=dict,
        description="named notes on sponsor decisions (e.g. C-ADAM-MONTH), for the reader",
    )
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
    error (see :func:`cdisc_mapper.spec.adam_labels.adamig_variable`).
    """

    derive: str = Field(
        default="keep",
        description='the derivation (see "ADaM derivations"); `{}` keeps the column the '
        "record steps made",
    )
    args: dict[str, Any] = Field(
        default_factory=dict,
        description="not a key: the derivation's arguments are written beside `derive` in "
        "the same entry (e.g. `{derive: base, value: AVALC}`)",
    )
    label: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="define.xml label; required for a sponsor variable and where ADaMIG's "
        "label is a placeholder (e.g. {Date}); none: ADaMIG's or the source's",
    )
    type: Literal["Char", "Num"] | None = Field(
        default=None,
        description="the type, for a sponsor variable; against ADaMIG's type it is an error; "
        "none: from ADaMIG, the source or the derivation",
    )
    # the order of spec/sdtm.py and spec/define.py: typing caches `Literal[...] | None` by
    # equality (any order), so the reference shows whichever was evaluated first
    origin: Literal["Collected", "Derived", "Assigned", "Protocol", "Predecessor"] | None = Field(
        default=None, description="define.xml origin; none: the derivation's"
    )
    method: str | None = Field(
        default=None,
        description="derivation text for define.xml; none: the text the derivation generates "
        "from its arguments",
    )
    comment: str | None = Field(default=None, description="define.xml comment on the variable")
    codelist: str | None = Field(
        default=None, description="define.xml codelist of the variable (e.g. NY, AGEGR1)"
    )
    format: str | None = Field(
        default=None,
        description="SAS display format (e.g. DATE9.); none: from the source or the type "
        "(DATE9. for numeric dates)",
    )
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

    op: str = Field(description='the record builder (see "ADaM record builders")')
    after: list[str] = Field(
        default_factory=list,
        description="variables (a name or a list) derived before this step runs, e.g. "
        "ANL01FL for a last-value record; none: the step runs before any variable",
    )
    args: dict[str, Any] = Field(
        default_factory=dict,
        description="not a key: the builder's arguments are written beside `op` in the same step",
    )

    @field_validator("after", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class DatasetSpec(Strict):
    """An ADaM dataset's spec (``adam/<dataset>.yaml``)."""

    dataset: str = Field(pattern=r"^AD[A-Z0-9]{1,6}$", description="the dataset's name (e.g. ADVS)")
    label: str = Field(min_length=1, max_length=40, description="the dataset's label")
    structure: Literal["ADSL", "BDS", "OCCDS"] = Field(
        description="its ADaM structure: one record per subject (ADSL), per subject, "
        "parameter and time point (BDS) or per event (OCCDS)"
    )
    class_: str | None = Field(
        default=None,
        alias="class",
        description="define.xml class; none: from the structure (SUBJECT LEVEL ANALYSIS "
        "DATASET, BASIC DATA STRUCTURE, OCCURRENCE DATA STRUCTURE)",
    )
    keys: list[str] = Field(
        min_length=1,
        description="variables that identify a record and sort the dataset; two records with "
        "the same keys are an error",
    )
    records: list[RecordStep] = Field(
        min_length=1,
        description="the steps that make the records, in order: the first starts the dataset, "
        "later ones add records",
    )
    variables: dict[str, VariableSpec] = Field(
        min_length=1,
        description="the variables in output order, each with its derivation; the engine "
        "orders the work by what each reads",
    )
    comment: str | None = Field(default=None, description="define.xml comment on the dataset")

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
    """One row of a summary: its label and the records it summarises."""

    label: str = Field(description="the row's label in the report")
    where: Condition = Field(description="condition choosing the dataset's records of the row")


class WilcoxonSpec(Strict):
    """How the Wilcoxon signed-rank test of AVAL against BASE is computed (the method used
    is stated in every row of the report)."""

    method: Literal["auto", "exact", "normal"] = Field(
        default="auto",
        description="null distribution of the statistic: `exact` (the exact distribution; "
        "the normal approximation when a difference is zero or two are tied in magnitude, "
        "where the exact one does not hold), `normal` (normal approximation), `auto` "
        "(exact up to 50 pairs, otherwise normal)",
    )
    correction: bool = Field(
        default=False,
        description="continuity correction of the normal approximation (true: 0.5 towards "
        "the mean); no effect on the exact distribution",
    )
    zero_method: Literal["wilcox", "pratt", "zsplit"] = Field(
        default="wilcox",
        description="zero differences: `wilcox` drops them, `pratt` ranks them then drops "
        "them, `zsplit` splits their ranks between the signs (scipy.stats.wilcoxon's)",
    )


class HodgesLehmannSpec(Strict):
    """The Hodges-Lehmann estimate of the paired difference AVAL - BASE and its interval."""

    confidence: float = Field(
        default=0.95, gt=0.5, lt=1.0, description="confidence level of the interval"
    )
    ci_method: Literal["exact", "normal"] = Field(
        default="exact",
        description="critical value of the interval [W(k+1), W(M-k)] of the sorted Walsh "
        "averages: `exact` from the signed-rank null distribution (coverage at least the "
        "level; the exact coverage is reported), `normal` from its normal approximation "
        "(for very large cohorts)",
    )
    exact_max_n: int = Field(
        default=1000,
        ge=1,
        le=5000,
        description="most pairs for the exact critical value (its distribution costs "
        "n^3/2 operations); above, the normal approximation is used and the report says so",
    )


class ClinicalChangeSpec(Strict):
    """Subjects whose score improved by a number of points after a reference date (e.g.
    +1 to +4 ALSFRS-R points after the first injection), counted in the population."""

    label: str = Field(description="the row's label in the report")
    dataset: str = Field(
        pattern=r"^AD[A-Z0-9]{1,6}$", description="the BDS dataset of the scores (e.g. ADQS)"
    )
    paramcd: str = Field(description="PARAMCD of the score (e.g. ALSRTOT)")
    where: Condition | None = Field(
        default=None, description="condition choosing the score records (default: all)"
    )
    date: str = Field(default="ADT", pattern=NAME_PATTERN, description="the records' date")
    reference: str = Field(
        pattern=NAME_PATTERN,
        description="ADSL date variable the change is measured around (e.g. TRTSDT)",
    )
    before: Literal["last_on_or_before", "last_before"] = Field(
        default="last_on_or_before",
        description="the score before: the last dated on or before the reference "
        "(an assessment on the injection day is pre-dose), or strictly before it",
    )
    after: Literal["first_after", "max_after"] = Field(
        default="first_after",
        description="the score after: the first dated after the reference, or the highest "
        "of all dated after it",
    )
    low: float = Field(description="smallest change (after - before) counted, included")
    high: float = Field(description="largest change counted, included")

    @model_validator(mode="after")
    def _range(self) -> ClinicalChangeSpec:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")
        return self


class ProgressionSummarySpec(Strict):
    """A responder summary of a progression dataset: per parameter and analysis row,
    responders n/N, mean percent improvement (all and responders), median and IQR, a
    Wilcoxon signed-rank test of AVAL against BASE and the Hodges-Lehmann estimate of
    AVAL - BASE with its interval; optionally a count of clinical improvement and figures.
    Written as ``<name>.csv`` (full precision), ``.md`` and ``.html`` (rounded)."""

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$", description="file name of the report (lower case)"
    )
    title: str = Field(description="the report's title")
    dataset: str = Field(
        pattern=r"^AD[A-Z0-9]{1,6}$", description="the progression dataset summarised (BDS)"
    )
    population: str = Field(pattern=NAME_PATTERN, description="subject flag, e.g. EFFFL")
    parameters: list[str] = Field(min_length=1, description="PARAMCD values, one table each")
    rows: list[ReportRow] = Field(min_length=1, description="the rows of each table")
    responder_flag: str = Field(
        pattern=NAME_PATTERN, description="Y/N flag of a responder (e.g. CRIT1FL)"
    )
    responder_label: str = Field(description="what a responder is, in words")
    extra_flags: dict[str, str] = Field(
        default_factory=dict, description="more criterion flags -> column heading"
    )
    improvement: str = Field(
        pattern=NAME_PATTERN, description="numeric variable of the percent improvement"
    )
    reason_variable: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description="variable giving why the improvement is missing (e.g. PCTIREAS): each "
        "row then lists, apart from N, the subjects without an improvement by reason "
        "(`REASON: n (USUBJID, ...)`); none: not listed",
    )
    wilcoxon: WilcoxonSpec = Field(
        default_factory=WilcoxonSpec, description="the signed-rank test's method"
    )
    hodges_lehmann: HodgesLehmannSpec = Field(
        default_factory=HodgesLehmannSpec,
        description="the Hodges-Lehmann estimate of AVAL - BASE and its interval",
    )
    quantile_method: Literal[
        "linear",
        "lower",
        "higher",
        "midpoint",
        "nearest",
        "hazen",
        "weibull",
        "median_unbiased",
        "normal_unbiased",
        "inverted_cdf",
        "averaged_inverted_cdf",
        "closest_observation",
        "interpolated_inverted_cdf",
    ] = Field(
        default="linear",
        description="how the median and quartiles of the improvement are computed "
        "(numpy.quantile's methods; `linear` is Hyndman-Fan type 7, R's default)",
    )
    clinical_change: ClinicalChangeSpec | None = Field(
        default=None, description="a count of subjects improving by a number of points"
    )
    figures: FiguresSpec | None = Field(
        default=None, description="figures of the HTML report (default: tables only)"
    )
    decimals: int = Field(
        default=1, ge=0, le=6, description="decimals of means and percents in the MD/HTML"
    )
    p_decimals: int = Field(
        default=4, ge=1, le=10, description="decimals of p-values in the MD/HTML"
    )
    notes: list[str] = Field(default_factory=list, description="footnotes under the tables")
    analysis_reason: str = Field(
        default="SPECIFIED IN SAP",
        min_length=1,
        description="why the analysis is done, as the ADaM define.xml's Analysis Results "
        "Metadata says it (ARM 1.0 AnalysisReason: SPECIFIED IN PROTOCOL, SPECIFIED IN SAP, "
        "DATA DRIVEN, REQUESTED BY REGULATORY AGENCY, or the sponsor's own text)",
    )
    analysis_purpose: str = Field(
        default="EXPLORATORY OUTCOME MEASURE",
        min_length=1,
        description="the analysis's role (ARM 1.0 AnalysisPurpose: PRIMARY OUTCOME MEASURE, "
        "SECONDARY OUTCOME MEASURE, EXPLORATORY OUTCOME MEASURE, or the sponsor's own text)",
    )


class ReportsSpec(Strict):
    """The summary reports drawn from the ADaM datasets (``adam/reports.yaml``)."""

    progression_summaries: list[ProgressionSummarySpec] = Field(
        default_factory=list, description="responder summaries of progression datasets"
    )
