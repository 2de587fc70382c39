"""The study spec (``study.yaml``): identity, how subjects are identified in the raw
forms, the trial design (arms, elements, visits, trial summary, criteria), units, how
numbers are written and the sponsor's comments. The README documents the format with an example.
How the raw files write numbers and CSV text (``numbers:``, ``csv:``) is modelled in
:mod:`cdisc_mapper.spec.text_formats`, whose names are re-exported here.
"""

from __future__ import annotations

import datetime
import re
import string
from typing import Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from cdisc_mapper.condition import Condition
from cdisc_mapper.spec.base import RAW_FOLDER, Strict, relative_path
from cdisc_mapper.spec.text_formats import DEFAULT_NUMBERS as DEFAULT_NUMBERS
from cdisc_mapper.spec.text_formats import CsvSpec as CsvSpec
from cdisc_mapper.spec.text_formats import DecimalMark as DecimalMark
from cdisc_mapper.spec.text_formats import NumberFormat as NumberFormat
from cdisc_mapper.spec.text_formats import ThousandsSeparator as ThousandsSeparator


class ArmSpec(Strict):
    armcd: str = Field(max_length=20, description="ARMCD, the arm's code (TA, DM)")
    arm: str = Field(max_length=200, description="ARM, the arm's name (TA, DM)")
    elements: list[str] = Field(
        description="ETCD of each element, in order (TA; TAETORD is the place): a subject "
        "whose DM.ACTARMCD (else ARMCD) is this arm gets only these elements in SE"
    )
    branch: dict[str, str] = Field(default_factory=dict, description="ETCD -> TABRANCH")
    transition: dict[str, str] = Field(default_factory=dict, description="ETCD -> TATRANS")


class ElementStart(Strict):
    """Where a subject's element starts: a dated variable (or a study day) of a domain."""

    domain: str = Field(description="the domain of the dated variable (e.g. DM, EX)")
    variable: str = Field(description="ISO 8601 date (EXSTDTC) or study day (EXSTDY) it starts at")
    occurrence: int | None = Field(
        default=None, ge=1, description="n-th record by date for the subject (1-based)"
    )
    where: Condition | None = Field(
        default=None,
        description="condition on that domain's records the start is taken from (e.g. "
        "`{variable: EXDOSE, equals: 81}`); none: all of the subject's",
    )


class ElementSpec(Strict):
    etcd: str = Field(max_length=8, description="ETCD, the element's code (TE, TA, SE)")
    element: str = Field(max_length=40, description="ELEMENT, its name")
    epoch: str = Field(description="EPOCH of the element (TA, SE; op epoch gives it)")
    start_rule: str = Field(description="TESTRL: when the element starts")
    end_rule: str = Field(description="TEENRL: when the element ends")
    duration: str | None = Field(default=None, description="ISO 8601 planned duration")
    start: ElementStart = Field(
        description="where a subject's element starts (SE): a dated variable of a domain; it "
        "ends where the next starts, the last at DM.RFPENDTC (study days: the last day on record)"
    )


class VisitSpec(Strict):
    """A planned visit (TV): its number and name, the EDC labels that record it, and its
    planned study day and window."""

    visitnum: float = Field(description="VISITNUM of the visit (unique in the schedule)")
    visit: str = Field(max_length=200, description="VISIT, the visit's name in SDTM")
    raw_labels: list[str] = Field(
        description="labels the EDC uses for this visit (matched after trimming and "
        "collapsing spaces, ignoring case; the visit's own name matches too)"
    )
    visitdy: int | None = Field(
        default=None, description="planned study day (TV.VISITDY; op schedule gives it)"
    )
    start_rule: str = Field(description="TVSTRL: when the visit starts")
    end_rule: str | None = Field(default=None, description="TVENRL: when the visit ends")
    window_before: int | None = Field(
        default=None, ge=0, description="days the visit may be early (op schedule gives it)"
    )
    window_after: int | None = Field(
        default=None, ge=0, description="days the visit may be late (op schedule gives it)"
    )
    arms: list[str] | None = Field(
        default=None, description="ARMCD of the arms with this visit (TV); none: all"
    )


def visit_label_key(label: str) -> str:
    """An EDC visit label as the schedule matches it: trimmed, runs of spaces as one
    space, upper case."""
    return re.sub(r"\s+", " ", label.strip()).upper()


#: The named group of ``unscheduled.pattern`` that holds a visit's number.
NUMBER_GROUP = "number"


class UnscheduledSpec(Strict):
    """Visits outside the schedule: which EDC labels record one, and how one is numbered
    and named (SDTMIG 3.4 section 4.4.5 leaves the scheme to the sponsor)."""

    raw_labels: list[str] = Field(
        default_factory=list,
        description="EDC labels of unscheduled visits (matched after trimming and "
        "collapsing spaces, ignoring case), numbered by the visit calendar: the subject's "
        "last scheduled VISITNUM on or before the visit's date + step, + 2 x step...",
    )
    pattern: str | None = Field(
        default=None,
        description="regular expression that an unscheduled visit's whole EDC label "
        "matches (case ignored; spaces trimmed and collapsed), e.g. "
        "'Unscheduled (?P<number>\\d+(\\.\\d+)?)'. Its group named `number`, when it "
        "matched, is the VISITNUM as written (Unscheduled 8.2 -> 8.2); otherwise the "
        "calendar numbers the visit as for raw_labels",
    )
    label_prefix: str = Field(
        default="UNSCHEDULED",
        description="VISIT of an unscheduled visit: this text, a space and its VISITNUM",
    )
    step: float = Field(
        default=0.01,
        gt=0,
        description="calendar numbering step (0.01: 2.01, 2.02 after visit 2); VISIT "
        "writes VISITNUM with the step's decimals (0.1: 8.1; 0.01: 8.10; 0.001: 1.001), "
        "never fewer than the number has",
    )

    @field_validator("pattern")
    @classmethod
    def _a_pattern_with_a_number_group_at_most(cls, v: str | None) -> str | None:
        if v is None:
            return v
        groups = compiled(v, re.IGNORECASE).groupindex
        other = sorted(set(groups) - {NUMBER_GROUP})
        if other:
            raise ValueError(
                f"named group(s) {other} in the pattern: only (?P<{NUMBER_GROUP}>...), "
                "the visit's number, is read"
            )
        return v

    @model_validator(mode="after")
    def _some_label(self) -> UnscheduledSpec:
        if not self.raw_labels and self.pattern is None:
            raise ValueError("give raw_labels, pattern or both: the labels of unscheduled visits")
        return self

    def number_in(self, key: str) -> str | None:
        """How a label (as :func:`visit_label_key` gives it) numbers an unscheduled visit:
        the text of the pattern's ``number`` group when it matched one, ``""`` for the
        calendar's numbering (a raw_labels label, or a pattern match without a number),
        None when the label is not an unscheduled visit's."""
        if self.pattern is not None:
            found = compiled(self.pattern, re.IGNORECASE).fullmatch(key)
            if found:
                return (found.groupdict().get(NUMBER_GROUP) or "").strip()
        return "" if key in {visit_label_key(x) for x in self.raw_labels} else None

    def scheduled_overlap(self, visits: list[VisitSpec]) -> str | None:
        """A scheduled visit's label that this spec also calls unscheduled, if any."""
        for v in visits:
            for label in [v.visit, *v.raw_labels]:
                if self.number_in(visit_label_key(label)) is not None:
                    return f"visit {v.visitnum:g} ({v.visit}) label {label!r}"
        return None


def compiled(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A spec's regular expression, compiled; ValueError naming the problem if it is not
    one."""
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None


class TrialSummaryParam(Strict):
    tsparmcd: str = Field(max_length=8, description="TSPARMCD, the parameter's code")
    tsval: str | list[str] | None = Field(
        default=None, description="TSVAL; a list gives one record per value"
    )
    derive: Literal["actual_subjects", "last_participation"] | None = Field(
        default=None,
        description=(
            "TSVAL computed from the mapped data instead of given: `actual_subjects` is the "
            "number of subjects in DM apart from screen failures (ARMCD SCRNFAIL), for "
            "ACTSUB; `last_participation` the latest date of DM.RFPENDTC (the last "
            "subject's end of participation), for DCUTDTC of a completed study whose "
            "database was locked after its last visit. Give `tsval`, `derive` or, for a "
            "null TSVAL, `tsvalnf`"
        ),
    )
    tsvalnf: str | None = Field(default=None, description="TSVALNF, why TSVAL is null")
    tsvcdref: str | None = Field(default=None, description="TSVCDREF (e.g. ISO 8601)")
    tsvcdver: str | None = Field(default=None, description="TSVCDVER")
    tsgrpid: str | None = Field(default=None, description="TSGRPID")
    codelist: str | None = Field(
        default=None, description="CDISC codelist of TSVAL; gives TSVALCD and TSVCDREF"
    )

    @model_validator(mode="after")
    def _one_value_source(self) -> TrialSummaryParam:
        if self.derive is not None and (self.tsval is not None or self.tsvalnf):
            raise ValueError(f"{self.tsparmcd}: derive computes TSVAL; give no tsval or tsvalnf")
        if self.derive is None and self.tsval is None and not self.tsvalnf:
            raise ValueError(
                f"{self.tsparmcd}: give tsval, derive, or tsvalnf (the null flavor saying why "
                "TSVAL is null)"
            )
        return self


class Criterion(Strict):
    ietestcd: str = Field(max_length=8, description="IETESTCD, the criterion's code")
    ietest: str = Field(max_length=200, description="IETEST, its text")
    iecat: Literal["INCLUSION", "EXCLUSION"] = Field(description="IECAT")
    tivers: str = Field(default="1", description="TIVERS, the protocol version")


class UnitConversion(Strict):
    test: str = Field(
        default="*", description="test code (--TESTCD) it applies to; `*`: every test"
    )
    from_: str = Field(alias="from", description="unit converted from (--ORRESU)")
    to: str = Field(description="unit converted to (--STRESU)")
    factor: float = Field(description="result in `to` = result in `from` x factor + offset")
    offset: float = Field(default=0.0, description="added after the factor")
    decimals: int | None = Field(
        default=None, ge=0, le=10, description="round converted results to this many decimals"
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class UnitsSpec(Strict):
    """Standard units per test code, raw spelling synonyms and conversions."""

    standard: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="domain -> {TESTCD: standard unit}"
    )
    synonyms: dict[str, str] = Field(
        default_factory=dict,
        description="raw spelling -> CDISC UNIT submission value (case and spaces ignored)",
    )
    conversions: list[UnitConversion] = Field(
        default_factory=list, description="how op stresc converts results to --STRESU"
    )


#: Fields of the ``usubjid`` template every study has.
USUBJID_FIELDS = ("STUDYID", "SITEID", "SUBJID")


class SubjectSpec(Strict):
    """How subjects are identified in the raw forms."""

    subject_column: str = Field(
        description="raw column holding the subject on every form; its value is SUBJID "
        "(or, with subject_pattern, the value the pattern takes apart)"
    )
    subject_pattern: str | None = Field(
        default=None,
        description="regular expression the whole subject value matches, with named "
        "groups (?P<NAME>...): group SITEID gives SITEID (over site_column and the "
        "registry form), group SUBJID gives SUBJID (over the whole value), and every "
        "group is a field of the usubjid template; e.g. '(?P<SITEID>\\d+)-(?P<SUBJID>\\d+)' "
        "reads 701-1015 as site 701, subject 1015. A value that does not match is an error "
        "naming the file, row and value",
    )
    site_column: str | None = Field(
        default=None, description="raw column holding the site (SITEID), where a form has it"
    )
    registry_form: str | None = Field(
        default=None,
        description="form listing every subject with its site; forms without the site "
        "column take the site from it",
    )
    site: str | None = Field(default=None, description="site id when no column gives it")
    usubjid: str = Field(
        default="{STUDYID}-{SITEID}-{SUBJID}",
        description="USUBJID template: text in which {STUDYID} (studyid), {SITEID} (the "
        "record's site), {SUBJID} (the subject) and {NAME} for each named group of "
        "subject_pattern are replaced by their values, e.g. '01-{SITEID}-{SUBJID}'. Plain "
        "names only (no format such as {SUBJID:04}); {{ and }} write a brace. Default "
        "{STUDYID}-{SITEID}-{SUBJID}",
    )
    date_order: Literal["DMY", "MDY", "YMD"] = Field(
        default="DMY",
        description="order of day, month and year in numeric dates (05/04/2016), for "
        "every form without its own `date_order`",
    )

    @field_validator("registry_form")
    @classmethod
    def _inside_the_raw_folder(cls, v: str | None) -> str | None:
        return v if v is None else relative_path(v, RAW_FOLDER)

    @field_validator("subject_pattern")
    @classmethod
    def _groups_are_fields(cls, v: str | None) -> str | None:
        if v is not None and "STUDYID" in compiled(v).groupindex:
            raise ValueError("a group named STUDYID: STUDYID is the study's, from studyid")
        return v

    @field_validator("site")
    @classmethod
    def _one_site_source(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None and "SITEID" in pattern_groups(info.data.get("subject_pattern")):
            raise ValueError(
                "site is given and subject_pattern has a SITEID group: give one of them"
            )
        return v

    @field_validator("usubjid")
    @classmethod
    def _template_fields(cls, v: str, info: ValidationInfo) -> str:
        known = [*USUBJID_FIELDS, *pattern_groups(info.data.get("subject_pattern"))]
        try:
            parts = list(string.Formatter().parse(v))
        except ValueError as exc:
            raise ValueError(f"{exc} (write {{{{ or }}}} for a brace)") from None
        for _, name, spec, conv in parts:
            if name is not None and (spec or conv or name not in known):
                raise ValueError(
                    f"template field {{{name}{'!' + conv if conv else ''}"
                    f"{':' + spec if spec else ''}}} is not one of "
                    f"{', '.join('{' + k + '}' for k in known)}"
                )
        return v

    def groups(self) -> list[str]:
        """The named groups of subject_pattern (none without one)."""
        return pattern_groups(self.subject_pattern)


def pattern_groups(pattern: str | None) -> list[str]:
    """The named groups of a (valid) subject_pattern; none for None."""
    return list(re.compile(pattern).groupindex) if pattern else []


class ExportSpec(Strict):
    """``export:`` in study.yaml: the files of a REDCap or ODM export (relative to the raw
    folder) and how its columns are named."""

    records: str = Field(
        description="the REDCap flat records export (CSV, raw codes) or the ODM XML file"
    )
    dictionary: str | None = Field(
        default=None, description="REDCap: the data dictionary CSV (required for redcap)"
    )
    events: str | None = Field(
        default=None,
        description="REDCap: the events export CSV (unique_event_name, event_name); gives "
        "each row's event name in column redcap_event_label, and an unknown event is an error",
    )
    column_case: Literal["as_exported", "upper"] = Field(
        default="as_exported",
        description="upper: every column name upper-cased (REDCap field names are lower case)",
    )
    strip_form_prefix: bool = Field(
        default=False,
        description="REDCap: a field named <instrument>_<name> is column <name> in its "
        "instrument's table (field names are unique in a project, so often prefixed)",
    )
    item_columns: Literal["oid", "name"] = Field(
        default="oid",
        description="ODM: name an item's column by its ItemOID or by its ItemDef Name",
    )
    tables: Literal["item_group", "form"] = Field(
        default="item_group",
        description="ODM: a form per ItemGroupOID (one row per ItemGroupData), or per FormOID "
        "(one row per FormData, the items of all its item groups; an item group repeating "
        "inside a FormData is then an error)",
    )

    @field_validator("records", "dictionary", "events")
    @classmethod
    def _inside(cls, v: str | None) -> str | None:
        return v if v is None else relative_path(v, RAW_FOLDER)


# --- Relative-day data and study codelist terms (issue 18) ---------------------------


class TimelineSpec(Strict):
    """``timeline:``: how the raw forms write time when they hold no calendar dates but
    day offsets from an event of each subject (pooled registries such as PRO-ACT give
    every time as days from trial onset: ``ALSFRS_Delta``, ``Death_Days``)."""

    kind: Literal["relative_days"] = Field(
        description="relative_days: times are whole-day offsets from the `day0` event"
    )
    day0: str = Field(
        min_length=1,
        description="the event offset 0 is, in words (e.g. 'Trial onset: first dose'); "
        "define.xml states it with every study day and date made from an offset",
    )
    offsets: Literal["elapsed", "study_day"] = Field(
        default="elapsed",
        description="how the offsets count: elapsed (days since the day0 event, 0 on its "
        "day, as PRO-ACT's deltas: offset 0 is study day 1 and offset -1 day -1, SDTMIG "
        "3.4 section 4.4.4's no day 0) or study_day (offsets are study days already: 1 "
        "is the day0 event, no 0)",
    )
    anchor: str | None = Field(
        default=None,
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="pseudo calendar date (YYYY-MM-DD) of the day0 event: --DTC is "
        "anchor + offset days, declared in define.xml (on TS, DM, every date) as pseudo dates "
        "(TS has no parameter for it); none: no dates at all, only study days",
    )

    @field_validator("anchor")
    @classmethod
    def _a_calendar_date(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                datetime.date.fromisoformat(v)
            except ValueError:
                raise ValueError(f"anchor {v!r} is not a date of the calendar") from None
        return v


class CodelistTerms(Strict):
    """Terms a study adds to a sponsor codelist or an extensible CDISC one
    (``codelists:`` in study.yaml), e.g. original ALSFRS items or extra ALSONSET values."""

    terms: dict[str, str] = Field(
        min_length=1,
        description="submission value -> decode (its text in define.xml); on a CDISC list "
        "each is an extended value (def:ExtendedValue=Yes)",
    )


class StudySpec(Strict):
    studyid: str = Field(max_length=20, description="STUDYID of every dataset")
    title: str = Field(description="the study's title (define.xml)")
    sponsor: str = Field(description="the sponsor's name (define.xml)")
    protocol: str | None = Field(default=None, description="protocol name (define.xml)")
    raw_format: Literal["csv", "xlsx", "sas7bdat", "redcap", "odm"] = Field(
        default="csv",
        description="file type of the raw forms: a form reads <form>.<raw_format>; or an "
        "EDC export holding every form (redcap, odm: see export)",
    )
    export: ExportSpec | None = Field(
        default=None,
        validate_default=True,
        description="the files of the EDC export (raw_format redcap or odm)",
    )

    @field_validator("export")
    @classmethod
    def _export_for_edc_formats(
        cls, v: ExportSpec | None, info: ValidationInfo
    ) -> ExportSpec | None:
        fmt = info.data.get("raw_format")
        if fmt in ("redcap", "odm") and v is None:
            raise ValueError(f"raw_format {fmt} reads one export: give export: {{records: FILE}}")
        if fmt not in ("redcap", "odm") and v is not None:
            raise ValueError(f"export: is for raw_format redcap or odm, not {fmt}")
        if fmt == "redcap" and v is not None and v.dictionary is None:
            raise ValueError("a REDCap export needs its data dictionary: export: dictionary: FILE")
        if fmt == "odm" and v is not None and (v.dictionary or v.events):
            raise ValueError("an ODM export carries its own metadata: no dictionary or events")
        return v

    subjects: SubjectSpec = Field(description="how the raw forms identify subjects and sites")
    arms: list[ArmSpec] = Field(description="the arms and their elements (TA)")
    elements: list[ElementSpec] = Field(description="the elements (TE) and their starts (SE)")
    visits: list[VisitSpec] = Field(description="the planned visits (TV)")
    unscheduled: UnscheduledSpec | None = Field(
        default=None, description="how unscheduled visits are labelled, numbered and named"
    )
    trial_summary: list[TrialSummaryParam] = Field(
        default_factory=list, description="TS parameters"
    )
    criteria: list[Criterion] = Field(
        default_factory=list, description="inclusion and exclusion criteria (TI; IE's IETEST)"
    )
    units: UnitsSpec = Field(
        default_factory=UnitsSpec, description="standard units, unit synonyms, conversions"
    )
    numbers: NumberFormat = Field(
        default=DEFAULT_NUMBERS,
        description="how the raw forms write numbers (decimal mark, thousands separator)",
    )
    csv: CsvSpec = Field(
        default_factory=CsvSpec,
        description="how the raw CSV/TXT files are written (delimiter, encoding), also per file",
    )
    comments: dict[str, str] = Field(
        default_factory=dict, description="sponsor decisions, by id (for define.xml)"
    )
    timeline: TimelineSpec | None = Field(
        default=None,
        description="relative-day data: times as day offsets from an event (op "
        "relative_day, relative_date); none: the raw forms hold calendar dates",
    )
    codelists: dict[str, CodelistTerms] = Field(
        default_factory=dict,
        description="codelist (short name or NCI code) -> terms the study adds to it: a "
        "sponsor list, or an extensible CDISC one",
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

    @field_validator("unscheduled")
    @classmethod
    def _not_a_scheduled_label(
        cls, v: UnscheduledSpec | None, info: ValidationInfo
    ) -> UnscheduledSpec | None:
        overlap = v.scheduled_overlap(info.data.get("visits", [])) if v is not None else None
        if overlap:
            raise ValueError(
                f"{overlap} is also an unscheduled visit's label (raw_labels or pattern); "
                "a label records one kind of visit"
            )
        return v
