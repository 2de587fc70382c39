"""The spec format: pydantic models, a public interface (``extra="forbid"`` everywhere).

A study folder holds ``study.yaml`` (:class:`StudySpec`) and one file per SDTM domain
under ``sdtm/`` (:class:`DomainSpec`). The README documents the format with an example.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- conditions
class Condition(Strict):
    """A row condition on raw or mapped columns; no expression is ever evaluated as code.

    Exactly one test among ``equals``, ``not_equals``, ``in_``, ``not_in``, ``empty``,
    ``startswith``, ``matches`` applies to ``column``; or one of ``all``/``any``/``not_``
    combines other conditions.
    """

    column: str | None = None
    equals: str | None = None
    not_equals: str | None = None
    in_: list[str] | None = Field(default=None, alias="in")
    not_in: list[str] | None = None
    empty: bool | None = None
    startswith: str | None = None
    matches: str | None = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")
    case_sensitive: bool = True

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        combos = [x for x in (self.all, self.any, self.not_) if x is not None]
        tests = [
            x
            for x in (
                self.equals,
                self.not_equals,
                self.in_,
                self.not_in,
                self.empty,
                self.startswith,
                self.matches,
            )
            if x is not None
        ]
        if combos and (tests or self.column):
            raise ValueError("use either all/any/not or a column test, not both")
        if not combos:
            if not self.column:
                raise ValueError("a condition needs 'column' (or all/any/not)")
            if len(tests) != 1:
                raise ValueError(
                    "give exactly one of equals, not_equals, in, not_in, empty, startswith, matches"
                )
        elif len(combos) != 1:
            raise ValueError("give exactly one of all, any, not")
        return self


# --------------------------------------------------------------------------- study
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


# --------------------------------------------------------------------------- domains
class VariableSpec(Strict):
    """One target variable: a mapping operation and its define.xml metadata.

    ``op`` names an operation in the registry (``cdisc_mapper.sdtm.ops``); the other
    keys are that operation's arguments, checked by the operation's own model.
    """

    op: str
    args: dict[str, Any] = Field(default_factory=dict)
    origin: Literal["Collected", "Derived", "Assigned", "Protocol", "Predecessor"] | None = None
    method: str | None = Field(default=None, description="derivation text for define.xml")
    comment: str | None = None
    codelist: str | None = None
    supp: SuppSpec | None = None


class SuppSpec(Strict):
    """Declares a non-standard variable, written to SUPP-- (QNAM = the variable name)."""

    label: str = Field(max_length=40)
    qorig: Literal["CRF", "Derived", "Assigned", "Protocol", "eDT"] = "CRF"
    qeval: str = ""
    idvar: str | None = Field(default=None, description="default: the domain's --SEQ")


class MeltItem(Strict):
    test: str
    value: str
    unit: str | None = None
    unit_column: str | None = None

    @model_validator(mode="after")
    def _one_unit(self) -> MeltItem:
        if self.unit is not None and self.unit_column is not None:
            raise ValueError("give unit or unit_column, not both")
        return self


class MeltSpec(Strict):
    """Turn one wide form row into one record per item (test)."""

    items: list[MeltItem]
    keep_empty_when: Condition | None = Field(
        default=None, description="keep an empty item (e.g. not done) when this holds"
    )


class ExclusionSpec(Strict):
    where: Condition
    reason: str


class SourceSpec(Strict):
    form: str
    file: str | None = Field(default=None, description="default: <form>.csv")
    required_columns: list[str] = Field(default_factory=list)
    drop_duplicates: bool = Field(
        default=False, description="exclude exact repeats of a row (duplicate form entry)"
    )
    exclude: list[ExclusionSpec] = Field(default_factory=list)
    melt: MeltSpec | None = None
    variables: dict[str, VariableSpec] = Field(default_factory=dict)


class DomainSpec(Strict):
    domain: str = Field(pattern=r"^[A-Z]{2}$")
    label: str | None = Field(default=None, max_length=40)
    keys: list[str]
    sources: list[SourceSpec] = Field(default_factory=list)
    variables: dict[str, VariableSpec] = Field(default_factory=dict)
    comment: str | None = None

    @field_validator("keys")
    @classmethod
    def _keys_nonempty(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("keys must list the domain's key variables")
        return v


VariableSpec.model_rebuild()
