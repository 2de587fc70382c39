"""The ADaM spec format: pydantic models (``extra="forbid"``) and their loader.

A study's ADaM specs live in ``<study>/adam/``:

* ``conventions.yaml`` (:class:`Conventions`): the study's time unit (days per month),
  analysis reference date, subject events, periods, phases and analysis windows, shared by
  every dataset;
* one file per dataset (:class:`DatasetSpec`), e.g. ``adsl.yaml``, ``adqs.yaml``: its
  label, ADaM structure, keys, the steps that build its records (``records``) and its
  variables in output order, each with the derivation that computes it (``derive``, a name
  in :mod:`cdisc_mapper.adam.ops`), that derivation's arguments and its define.xml
  metadata (origin, method text, comment, codelist; label and type for sponsor variables);
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
``occurrences``, ``progression``. Derivations (``derive:``): ``keep``, ``value``,
``constant``, ``date``, ``count``, ``months``, ``decline_rate``, ``group``, ``recode``,
``flag``, ``exists``, ``period_date``, ``period_treatment``, ``record_period``,
``analysis_day``, ``window``, ``baseline_flag``, ``base``, ``chg``, ``pchg``,
``percent_improvement``, ``criterion``, ``reference_range``, ``nrind``,
``analysis_flag``, ``sequence``, ``treatment_emergent``, ``duration``,
``first_occurrence``; each adapter's argument model in :mod:`cdisc_mapper.adam.ops`
documents its arguments. Conditions (``where``) are :class:`Where` trees, never code.

Every error is a :class:`~cdisc_mapper.errors.SpecError` naming the spec file and line.
Derivation names and their arguments are checked when the specs are loaded, before any data
is read. No spec text is ever evaluated as code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.loader import validate_model
from cdisc_mapper.spec.yamlio import SpecDocument, load_spec_yaml

ADAM_FOLDER = "adam"
CONVENTIONS_FILE = "conventions.yaml"
REPORTS_FILE = "reports.yaml"
NAME_PATTERN = r"^[A-Z][A-Z0-9_]{0,7}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --------------------------------------------------------------------------- conditions
class Where(Strict):
    """A record condition on one variable, or ``all``/``any``/``not`` of conditions.

    Exactly one test applies to ``variable``: ``equals``, ``not_equals``, ``in``,
    ``not_in``, ``present`` (true: non-missing and non-blank), ``ge``, ``gt``, ``le``,
    ``lt`` (numbers). Text tests compare the value with blanks trimmed; a number compared
    with text is compared as its plain decimal text.
    """

    variable: str | None = None
    equals: str | float | None = None
    not_equals: str | float | None = None
    in_: list[str | float] | None = Field(default=None, alias="in")
    not_in: list[str | float] | None = None
    present: bool | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    all: list[Where] | None = None
    any: list[Where] | None = None
    not_: Where | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_test(self) -> Where:
        combos = [x for x in (self.all, self.any, self.not_) if x is not None]
        tests = [
            x
            for x in (
                self.equals,
                self.not_equals,
                self.in_,
                self.not_in,
                self.present,
                self.ge,
                self.gt,
                self.le,
                self.lt,
            )
            if x is not None
        ]
        if combos:
            if tests or self.variable:
                raise ValueError("use either all/any/not or a variable test, not both")
            if len(combos) != 1:
                raise ValueError("give exactly one of all, any, not")
            return self
        if not self.variable:
            raise ValueError("a condition needs 'variable' (or all/any/not)")
        if len(tests) != 1:
            raise ValueError(
                "give exactly one of equals, not_equals, in, not_in, present, ge, gt, le, lt"
            )
        return self

    def variables(self) -> set[str]:
        """Every variable the condition reads."""
        out: set[str] = set()
        for sub in (self.all or []) + (self.any or []):
            out |= sub.variables()
        if self.not_ is not None:
            out |= self.not_.variables()
        if self.variable:
            out.add(self.variable)
        return out


Where.model_rebuild()


# --------------------------------------------------------------------------- conventions
class EventSpec(Strict):
    """A dated subject event: the dates of ``domain.variable`` (complete dates only)."""

    domain: str = Field(pattern=r"^[A-Z]{2}$")
    variable: str = Field(pattern=NAME_PATTERN)
    where: Where | None = None
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
_VARIABLE_META = {"derive", "label", "type", "origin", "method", "comment", "codelist", "format"}


class VariableSpec(Strict):
    """One output variable: its derivation (a registered name) and define.xml metadata.

    ``label`` and ``type`` are for sponsor variables only: a variable ADaMIG (or, for a
    copied SDTM variable, SDTMIG) defines takes its label and type from there.
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


class RecordStep(Strict):
    """A step that makes records (rows): ``op`` names a record builder, the rest are its
    arguments."""

    op: str
    args: dict[str, Any] = Field(default_factory=dict)


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
        import re

        for name in self.variables:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(f"variable name {name!r} is not a valid SAS V5 name")
        for key in self.keys:
            if key not in self.variables:
                raise ValueError(f"key {key} is not among the variables")
        return self


# --------------------------------------------------------------------------- reports
class ReportRow(Strict):
    label: str
    where: Where


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


# --------------------------------------------------------------------------- bundle
@dataclass
class AdamSpecs:
    """A study's ADaM specs with the documents they came from (for error locations)."""

    root: Path
    conventions: Conventions
    datasets: dict[str, DatasetSpec]
    reports: ReportsSpec
    documents: dict[str, SpecDocument] = field(default_factory=dict)
    op_args: dict[tuple[str, str], Any] = field(default_factory=dict)
    record_args: dict[tuple[str, int], Any] = field(default_factory=dict)

    def where(self, dataset: str, loc: tuple[str | int, ...]) -> str:
        doc = self.documents.get(dataset)
        return str(doc.where(loc)) if doc is not None else dataset

    def args(self, dataset: str, variable: str) -> Any:
        return self.op_args[(dataset, variable)]


def _check_conventions(conv: Conventions, doc: SpecDocument) -> None:
    """Cross-references of conventions.yaml, reported at the line that names them."""
    numbers = [p.aperiod for p in conv.periods]
    if len(numbers) != len(set(numbers)) or numbers != sorted(numbers):
        raise SpecError(
            "periods: aperiod values must be unique and in increasing order",
            where=doc.where(("periods",)),
        )
    for i, p in enumerate(conv.periods):
        refs: list[tuple[tuple[str | int, ...], EventRef]] = [(("start",), p.start)]
        refs += [(("end", j), e) for j, e in enumerate(p.end)]
        for loc, ref in refs:
            if ref.event not in conv.events:
                path = ("periods", i, *loc)
                raise SpecError(
                    f"period {p.aperiod} names event {ref.event!r}; "
                    f"known: {', '.join(conv.events)}",
                    where=doc.where(path),
                )
    seen: set[int] = set()
    for i, ph in enumerate(conv.phases):
        for n in ph.periods:
            if n not in numbers:
                raise SpecError(
                    f"phase {ph.aphase} names period {n}, not in periods",
                    where=doc.where(("phases", i)),
                )
            if n in seen:
                raise SpecError(f"period {n} is in two phases", where=doc.where(("phases", i)))
            seen.add(n)
    for name, windows in conv.windows.items():
        nums = [w.avisitn for w in windows]
        if len(nums) != len(set(nums)):
            raise SpecError(
                f"windows {name}: avisitn values must be unique", where=doc.where(("windows", name))
            )


def _split_meta(body: Any, meta_keys: set[str]) -> Any:
    if not isinstance(body, dict):
        return body
    meta = {k: v for k, v in body.items() if k in meta_keys}
    args = {k: v for k, v in body.items() if k not in meta_keys}
    return {**meta, "args": args}


def _normalise_dataset(data: Any) -> Any:
    """``{VAR: {derive: x, arg: y, label: ...}}`` -> VariableSpec input (args nested)."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    variables = data.get("variables")
    if isinstance(variables, dict):
        data["variables"] = {
            name: ({} if body is None else _split_meta(body, _VARIABLE_META))
            for name, body in variables.items()
        }
    records = data.get("records")
    if isinstance(records, list):
        data["records"] = [_split_meta(r, {"op"}) for r in records]
    return data


def load_adam_specs(study_dir: Path) -> AdamSpecs:
    """Load and check the ADaM specs of a study folder (``<study_dir>/adam/*.yaml``).

    Checks every file against its model, every derivation name and its arguments against
    the registry (:mod:`cdisc_mapper.adam.ops`), and the names each derivation refers to
    (variables computed before it, periods, windows). Raises :class:`SpecError` at the
    spec line.
    """
    from cdisc_mapper.adam import ops  # registry; imported here to avoid a cycle

    root = Path(study_dir)
    folder = root / ADAM_FOLDER
    if not folder.is_dir():
        raise SpecError(
            "ADaM spec folder not found", where=str(folder), hint="expected <study>/adam/"
        )
    conv_doc = load_spec_yaml(folder / CONVENTIONS_FILE)
    conventions = validate_model(Conventions, conv_doc.data, conv_doc)
    _check_conventions(conventions, conv_doc)
    documents = {"conventions": conv_doc}
    reports = ReportsSpec()
    if (folder / REPORTS_FILE).is_file():
        rep_doc = load_spec_yaml(folder / REPORTS_FILE)
        reports = validate_model(ReportsSpec, rep_doc.data, rep_doc)
        documents["reports"] = rep_doc
    specs = AdamSpecs(
        root=root, conventions=conventions, datasets={}, reports=reports, documents=documents
    )
    files = sorted(
        p for p in folder.glob("*.yaml") if p.name not in {CONVENTIONS_FILE, REPORTS_FILE}
    )
    if not files:
        raise SpecError(
            "no ADaM dataset specs found (expected adam/<dataset>.yaml)", where=str(folder)
        )
    for path in files:
        doc = load_spec_yaml(path)
        ds = validate_model(DatasetSpec, _normalise_dataset(doc.data), doc)
        if ds.dataset.lower() != path.stem.lower():
            raise SpecError(
                f"file declares dataset {ds.dataset} but is named {path.name}",
                where=doc.where(("dataset",)),
                hint=f"name it {ds.dataset.lower()}.yaml",
            )
        specs.datasets[ds.dataset] = ds
        specs.documents[ds.dataset] = doc
    if "ADSL" not in specs.datasets:
        raise SpecError("no adsl.yaml: every ADaM study needs ADSL", where=str(folder))
    for name, ds in specs.datasets.items():
        ops.check_dataset_spec(specs, name, ds, specs.documents[name])
    ops.check_reports(specs)
    return specs
