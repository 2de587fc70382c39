"""The study spec (``study.yaml``): identity, how subjects are identified in the raw
forms, the trial design (arms, elements, visits, trial summary, criteria), units, how
numbers are written and the sponsor's comments. The README documents the format with an example.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from cdisc_mapper.condition import Condition
from cdisc_mapper.spec.base import RAW_FOLDER, Strict, relative_path


class ArmSpec(Strict):
    armcd: str = Field(max_length=20)
    arm: str = Field(max_length=200)
    elements: list[str] = Field(description="ETCD of each element, in order (TA)")
    branch: dict[str, str] = Field(default_factory=dict, description="ETCD -> TABRANCH")
    transition: dict[str, str] = Field(default_factory=dict, description="ETCD -> TATRANS")


class ElementStart(Strict):
    """Where a subject's element starts: a dated variable of another domain."""

    domain: str
    variable: str
    occurrence: int | None = Field(
        default=None, ge=1, description="n-th record by date for the subject (1-based)"
    )
    where: Condition | None = None


class ElementSpec(Strict):
    etcd: str = Field(max_length=8)
    element: str = Field(max_length=40)
    epoch: str
    start_rule: str
    end_rule: str
    duration: str | None = Field(default=None, description="ISO 8601 planned duration")
    start: ElementStart


class VisitSpec(Strict):
    visitnum: float
    visit: str = Field(max_length=200)
    raw_labels: list[str] = Field(description="labels the EDC uses for this visit")
    visitdy: int | None = Field(default=None, description="planned study day (TV.VISITDY)")
    start_rule: str
    end_rule: str | None = None
    window_before: int | None = Field(default=None, ge=0)
    window_after: int | None = Field(default=None, ge=0)
    arms: list[str] | None = None


class UnscheduledSpec(Strict):
    raw_labels: list[str]
    label_prefix: str = "UNSCHEDULED"
    step: float = 0.01


class TrialSummaryParam(Strict):
    tsparmcd: str = Field(max_length=8)
    tsval: str | list[str]
    tsvalnf: str | None = None
    tsvcdref: str | None = None
    tsvcdver: str | None = None
    tsgrpid: str | None = None
    codelist: str | None = Field(
        default=None, description="CDISC codelist of TSVAL; gives TSVALCD and TSVCDREF"
    )


class Criterion(Strict):
    ietestcd: str = Field(max_length=8)
    ietest: str = Field(max_length=200)
    iecat: Literal["INCLUSION", "EXCLUSION"]
    tivers: str = "1"


class UnitConversion(Strict):
    test: str = "*"
    from_: str = Field(alias="from")
    to: str
    factor: float
    offset: float = 0.0
    decimals: int | None = Field(
        default=None, ge=0, le=10, description="round converted results to this many decimals"
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class UnitsSpec(Strict):
    """Standard units per test code, raw spelling synonyms and conversions."""

    standard: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="domain -> {TESTCD: standard unit}"
    )
    synonyms: dict[str, str] = Field(default_factory=dict)
    conversions: list[UnitConversion] = Field(default_factory=list)


DecimalMark = Literal[".", ",", "either"]
ThousandsSeparator = Literal["none", ",", ".", " ", "'"]


class NumberFormat(Strict):
    """How the raw forms write numbers (``numbers:`` in study.yaml, in a source, or as
    arguments of the ``result``, ``number`` and ``stresc`` operations). A setting left out
    is taken from the level above: operation, then source, then study."""

    decimal_mark: DecimalMark | None = Field(
        default=None,
        description="'.', ',' or either (sites type 72.5 and 72,5; then a mark followed by "
        "exactly three digits, as in 1,000, is ambiguous and an error)",
    )
    thousands_separator: ThousandsSeparator | None = Field(
        default=None,
        description="none, ',', '.', ' ' or \"'\": the character that groups thousands "
        "(250,000), or none when numbers are typed without one",
    )

    @model_validator(mode="after")
    def _distinct(self) -> NumberFormat:
        if self.decimal_mark is not None and self.decimal_mark == self.thousands_separator:
            raise ValueError(
                f"{self.decimal_mark!r} cannot be both the decimal mark and the thousands separator"
            )
        return self

    def over(self, base: NumberFormat) -> NumberFormat:
        """These settings, each left out taken from ``base`` (not checked: the user of the
        result checks the two together, where it can name the spec line)."""
        return NumberFormat.model_construct(
            decimal_mark=self.decimal_mark or base.decimal_mark,
            thousands_separator=self.thousands_separator or base.thousands_separator,
        )


#: What a study that states no ``numbers`` gets: sites may type a decimal point or a
#: decimal comma (72,5), nobody groups thousands, and any value that would read
#: differently under another convention (1,000; 250,000; 1.234,5) is an error.
DEFAULT_NUMBERS = NumberFormat(decimal_mark="either", thousands_separator="none")


class SubjectSpec(Strict):
    """How subjects are identified in the raw forms."""

    subject_column: str
    site_column: str | None = None
    registry_form: str | None = Field(
        default=None,
        description="form listing every subject with its site; forms without the site "
        "column take the site from it",
    )
    site: str | None = Field(default=None, description="site id when no column gives it")
    usubjid: str = Field(
        default="{STUDYID}-{SITEID}-{SUBJID}",
        description="template over STUDYID, SITEID, SUBJID",
    )
    date_order: Literal["DMY", "MDY", "YMD"] = "DMY"

    @field_validator("registry_form")
    @classmethod
    def _inside_the_raw_folder(cls, v: str | None) -> str | None:
        return v if v is None else relative_path(v, RAW_FOLDER)


class StudySpec(Strict):
    studyid: str = Field(max_length=20)
    title: str
    sponsor: str
    protocol: str | None = None
    raw_format: Literal["csv", "xlsx", "sas7bdat"] = "csv"
    subjects: SubjectSpec
    arms: list[ArmSpec]
    elements: list[ElementSpec]
    visits: list[VisitSpec]
    unscheduled: UnscheduledSpec | None = None
    trial_summary: list[TrialSummaryParam] = Field(default_factory=list)
    criteria: list[Criterion] = Field(default_factory=list)
    units: UnitsSpec = Field(default_factory=UnitsSpec)
    numbers: NumberFormat = Field(
        default=DEFAULT_NUMBERS,
        description="how the raw forms write numbers (decimal mark, thousands separator)",
    )
    comments: dict[str, str] = Field(
        default_factory=dict, description="sponsor decisions, by id (for define.xml)"
    )

    @model_validator(mode="after")
    def _references(self) -> StudySpec:
        etcds = {e.etcd for e in self.elements}
        for i, arm in enumerate(self.arms):
            for etcd in arm.elements:
                if etcd not in etcds:
                    raise ValueError(f"arms[{i}] names element {etcd!r} not in elements")
        nums = [v.visitnum for v in self.visits]
        if len(nums) != len(set(nums)):
            raise ValueError("visitnum values must be unique")
        return self
