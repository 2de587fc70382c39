"""The SDTM mapping engine: sources -> domain records -> derived variables, in
dependency order across domains, then subject elements, visits and trial design."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdisc_mapper import iso8601
from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.raw import CsvDialect, RawForm, RawFrames, open_form
from cdisc_mapper.raw.edc import EDC_FORMATS, EdcExport, EdcSettings
from cdisc_mapper.raw.exports import read_export
from cdisc_mapper.sdtm.codes import ColumnCodes
from cdisc_mapper.sdtm.context import MAX_LISTED, ROW, SRC, OpContext, put_column
from cdisc_mapper.sdtm.registry import OPERATIONS
from cdisc_mapper.sdtm.sources import SourceResult, map_source, require_columns
from cdisc_mapper.sdtm.subject_design import (
    SE_ARM_VARIABLES,
    SE_REFERENCE_DATES,
    build_se,
    build_sv,
    check_se_inputs,
    starts_on_study_days,
    study_day_variables,
)
from cdisc_mapper.sdtm.visits import build_calendar, visit_entries
from cdisc_mapper.spec.sdtm_loader import StudyBundle
from cdisc_mapper.spec.study import StudySpec

Progress = Callable[[str], None]
RawInput = Path | RawFrames
"""Where the raw forms are: the raw folder, or DataFrames given in memory."""

log = logging.getLogger(__name__)


@dataclass
class SdtmRun:
    """The result of mapping: domain frames (working columns included) and counts."""

    domains: dict[str, pd.DataFrame]
    sources: list[tuple[str, SourceResult]] = field(default_factory=list)
    se: pd.DataFrame | None = None
    sv: pd.DataFrame | None = None
    export: EdcExport | None = None
    """The EDC export the forms came from (raw_format redcap or odm)."""


def csv_dialect(study: StudySpec, file: str) -> CsvDialect:
    """How raw file ``file`` (as the spec names it) is written, from study.yaml ``csv:``."""
    delimiter, encoding = study.csv.for_file(file)
    return CsvDialect(delimiter=delimiter, encoding=encoding)


def edc_settings(study: StudySpec) -> EdcSettings | None:
    """How study.yaml ``export:`` says the EDC export is written (None for form files)."""
    spec = study.export
    if spec is None or study.raw_format not in EDC_FORMATS:
        return None
    return EdcSettings(
        records=spec.records,
        dictionary=spec.dictionary,
        events=spec.events,
        column_case=spec.column_case,
        item_columns=spec.item_columns,
        strip_form_prefix=spec.strip_form_prefix,
        odm_tables=spec.tables,
        dialect=csv_dialect(study, spec.records),
    )


def check_csv_files(bundle: StudyBundle, raw: RawInput) -> None:
    """Each file ``csv: files:`` names is in the raw folder (a misspelt name would leave
    the file read as comma separated UTF-8 without a word). Forms given in memory are not
    CSV files: the settings do not apply to them."""
    if isinstance(raw, RawFrames):
        return
    for name in bundle.study.csv.files:
        if not (Path(raw) / name).is_file():
            raise SpecError(
                f"csv: files: names {name!r}, which is not a file of the raw folder {raw}",
                where=bundle.where("study", ("csv", "files", name)),
                hint="give the file's name as the sources name it (e.g. labs.csv)",
            )


def planned_forms(bundle: StudyBundle) -> list[tuple[str, str, str]]:
    """``(file, form, spec line)`` of each raw form file a run reads (not an EDC export),
    in the order :func:`read_forms` reads them: the subject registry's (when it gives the
    sites), then each source's; each file once."""
    study = bundle.study
    subj = study.subjects
    named: list[tuple[str | None, str, str]] = []
    if subj.registry_form and subj.site_column:
        named.append(
            (None, subj.registry_form, bundle.where("study", ("subjects", "registry_form")))
        )
    for code, spec in bundle.domains.items():
        for i, src in enumerate(spec.sources):
            where = bundle.where(code, ("sources", i, "file" if src.file else "form"))
            named.append((src.file, src.form, where))
    out: dict[str, tuple[str, str, str]] = {}
    for file, name, where in named:
        key = file or f"{name}.{study.raw_format}"
        out.setdefault(key, (key, name, where))
    return list(out.values())


class _Engine:
    def __init__(
        self,
        bundle: StudyBundle,
        terminology: Any,
        raw: RawInput,
        progress: Progress,
        forms: dict[str, RawForm] | None = None,
    ):
        self.bundle = bundle
        self.study = bundle.study
        self.terminology = terminology
        self.raw = raw if isinstance(raw, RawFrames) else Path(raw)
        self.progress = progress
        self.forms: dict[str, RawForm] = forms if forms is not None else {}
        """The forms read so far, by the file the spec names (given: read before; emptied
        once the sources are mapped, so their records are not held while resolving)."""
        self.details = True
        """Whether each source's counts are logged (DEBUG) as it is mapped."""
        self.frames: dict[str, pd.DataFrame] = {}
        self.calendar: pd.DataFrame | None = None
        self.se: pd.DataFrame | None = None
        self.export: EdcExport | None = None
        self.codes = ColumnCodes()
        """Each input column's codes, factorized once (row-local operations)."""
        self._check_csv_files()
        self.sites: dict[str, str] = self._sites()

    def _check_csv_files(self) -> None:
        check_csv_files(self.bundle, self.raw)

    def _sites(self) -> dict[str, str]:
        subj = self.study.subjects
        if not (subj.registry_form and subj.site_column):
            return {}
        where = self.bundle.where("study", ("subjects", "registry_form"))
        form = self.form(subj.registry_form, None, where)
        readers = {
            subj.subject_column: self.bundle.where("study", ("subjects", "subject_column")),
            subj.site_column: self.bundle.where("study", ("subjects", "site_column")),
        }
        require_columns(form, readers)
        data = form.data
        blank = (data[subj.site_column].astype(str).str.strip() == "") & (
            data[subj.subject_column].astype(str).str.strip() != ""
        )
        if blank.any():
            rows = ", ".join(
                f"row {r} (subject {s})"
                for r, s in data.loc[blank, subj.subject_column].head(MAX_LISTED).items()
            )
            raise MappingError(
                f"{form.path.name}: empty {subj.site_column} (the site of every subject "
                f"comes from this registry form) on {int(blank.sum())} row(s): {rows}",
                hint="fill in the site in the export",
            )
        table = data[[subj.subject_column, subj.site_column]].drop_duplicates()
        dup = table[subj.subject_column].duplicated(keep=False)
        if dup.any():
            raise MappingError(
                f"{form.file}: subject(s) with more than one site: "
                f"{sorted(table.loc[dup, subj.subject_column].unique())[:20]}"
            )
        return dict(zip(table[subj.subject_column], table[subj.site_column], strict=True))

    # ------------------------------------------------------------------ helpers
    def _study_where(self, path: tuple[str | int, ...]) -> str:
        """The file and line of study.yaml that sets ``path`` (for operations' errors)."""
        return self.bundle.where("study", path)

    def form(self, name: str, file: str | None, where: str) -> RawForm:
        """The raw form ``file`` (default ``<name>.<raw_format>``) names in the raw folder,
        read once; ``where`` is the spec line naming it (a file outside the raw folder,
        symbolic links followed, is an error there). Given in memory, the frame of that
        file or form name (:class:`~cdisc_mapper.raw.RawFrames`)."""
        settings = edc_settings(self.study)
        key = file or (name if settings else f"{name}.{self.study.raw_format}")
        if key not in self.forms:
            if isinstance(self.raw, RawFrames):
                self.forms[key] = self.raw.open(name, key, where=where)
            elif settings is not None:
                self.forms[key] = self._export(settings).open(name, key, where=where)
            else:
                dialect = csv_dialect(self.study, key)
                self.forms[key] = open_form(name, self.raw, key, where=where, dialect=dialect)
        return self.forms[key]

    def _export(self, settings: EdcSettings) -> EdcExport:
        """The EDC export, read once."""
        if self.export is None:
            self.progress(f"reading the {self.study.raw_format} export {settings.records}")
            self.export = read_export(
                self.raw if isinstance(self.raw, Path) else Path(), self.study.raw_format, settings
            )
            for note in self.export.undecoded:
                log.warning("%s", note)
        return self.export

    def make_ctx(
        self, domain: str, variable: str, *, raw: pd.DataFrame | None, loc: tuple[Any, ...]
    ) -> OpContext:
        doc = self.bundle.documents.get(domain)
        numbers = self.study.numbers
        date_order = None
        if loc[0] == "sources":
            source = self.bundle.domains[domain].sources[loc[1]]
            numbers = source.numbers.over(numbers) if source.numbers is not None else numbers
            date_order = source.date_order
        return OpContext(
            study=self.study,
            terminology=self.terminology,
            domain=domain,
            variable=variable,
            domains=self.frames,
            raw=raw,
            calendar=self.calendar,
            se=self.se,
            spec_where=doc.where(loc) if doc else None,
            extra={"sites": self.sites, "study_where": self._study_where},
            numbers=numbers,
            date_order=date_order,
        )

    # ------------------------------------------------------------------ stages
    def map_sources(self) -> list[tuple[str, SourceResult]]:
        results: list[tuple[str, SourceResult]] = []
        for code, spec in self.bundle.domains.items():
            parts = []
            for i, src in enumerate(spec.sources):
                self.progress(f"{code}: reading {src.file or src.form}")
                where = self.bundle.where(code, ("sources", i, "file" if src.file else "form"))
                form = self.form(src.form, src.file, where)
                res = map_source(self.bundle, spec, i, form, self.make_ctx)
                if self.details:
                    log_source(code, res)
                results.append((code, res))
                parts.append(res.frame)
            if parts:
                frame = pd.concat(parts, ignore_index=True, sort=False)
            else:
                frame = pd.DataFrame({SRC: pd.Series(dtype=object), ROW: pd.Series(dtype=int)})
            self.frames[code] = frame
        return results

    def read_forms(self) -> dict[str, RawForm]:
        """Every raw form the sources name, read as :meth:`map_sources` reads them."""
        for code, spec in self.bundle.domains.items():
            for i, src in enumerate(spec.sources):
                where = self.bundle.where(code, ("sources", i, "file" if src.file else "form"))
                self.form(src.form, src.file, where)
        return self.forms

    def _calendar_entries(self) -> list[pd.DataFrame]:
        entries = []
        for code, spec in self.bundle.domains.items():
            for name, var in spec.variables.items():
                if var.op != "visitnum":
                    continue
                args = self.bundle.op_args[(code, None, name)]
                frame = self.frames[code]
                missing = {args.label, args.date, "USUBJID"} - set(frame.columns)
                if missing:
                    raise SpecError(
                        f"{code}.{name}: visitnum needs source variables {sorted(missing)}",
                        where=self.bundle.where(code, ("variables", name)),
                    )
                entries.append(visit_entries(frame, args.label, args.date))
        return entries

    def resolve(self) -> None:
        """Compute every domain-level variable once its inputs exist."""
        pending: dict[str, list[str]] = {
            code: list(spec.variables) for code, spec in self.bundle.domains.items()
        }
        se_ready = False
        while any(pending.values()):
            progress = False
            for code, names in pending.items():
                for name in list(names):
                    if self._ready(code, name, names, se_ready):
                        self._compute(code, name)
                        names.remove(name)
                        progress = True
            if not se_ready and self._se_possible():
                self.progress("SE: subject elements")
                check_se_inputs(self.frames, self.study, self.bundle.where)
                self.se = build_se(self.frames, self.study, self.terminology)
                se_ready = True
                progress = True
            if not progress:
                waiting = {
                    f"{c}.{n}": sorted(self._missing(c, n, se_ready))
                    for c, ns in pending.items()
                    for n in ns
                }
                first = next((k for k, v in waiting.items() if v), next(iter(waiting)))
                code, name = first.split(".", 1)
                raise SpecError(
                    "cannot order the derivations: these variables wait for inputs that are "
                    f"never produced: {waiting}",
                    where=self.bundle.where(code, ("variables", name)),
                    hint="check variable names in op arguments",
                )
        if not se_ready and self.study.elements:
            check_se_inputs(self.frames, self.study, self.bundle.where)
            self.se = build_se(self.frames, self.study, self.terminology)

    def _se_possible(self) -> bool:
        """Whether SE's inputs exist: each element's start, and the DM reference dates and
        arm the DM spec maps (SE is built without those it does not map)."""
        needs = {("DM", "USUBJID")}
        dm_inputs = (*SE_REFERENCE_DATES, *SE_ARM_VARIABLES)
        needs |= {("DM", v) for v in dm_inputs if self._maps("DM", v)}
        for el in self.study.elements:
            needs.add((el.start.domain, el.start.variable))
        if starts_on_study_days(self.study):  # SE's last end: the latest study day mapped
            needs |= {(c, v) for c in self.bundle.domains for v in self._mapped_days(c)}
        return all(d in self.frames and v in self.frames[d].columns for d, v in needs)

    def _mapped_days(self, code: str) -> list[str]:
        """The study-day variables (--DY, --STDY, --ENDY) the spec of ``code`` maps."""
        spec = self.bundle.domains[code]
        names = {*spec.variables, *(n for s in spec.sources for n in s.variables)}
        return study_day_variables(code, sorted(names))

    def _maps(self, code: str, name: str) -> bool:
        """Whether the spec of domain ``code`` maps variable ``name`` (at any level)."""
        spec = self.bundle.domains.get(code)
        return spec is not None and (
            name in spec.variables or any(name in s.variables for s in spec.sources)
        )

    def _missing(self, code: str, name: str, se_ready: bool) -> set[str]:
        args = self.bundle.op_args[(code, None, name)]
        frame = self.frames[code]
        missing = {v for v in args.inputs() if v not in frame.columns}
        for dom, v in args.lookups():
            if dom == "SE":
                if not se_ready:
                    missing.add("SE")
            elif dom == "*":
                continue
            elif dom not in self.frames:
                missing.add(f"{dom} (domain not in the study's specs)")
            elif v not in self.frames[dom].columns:
                unmapped = "" if self._maps(dom, v) else f" (not mapped by the {dom} spec)"
                missing.add(f"{dom}.{v}{unmapped}")
        return missing

    def _ready(self, code: str, name: str, pending: list[str], se_ready: bool) -> bool:
        if self._missing(code, name, se_ready):
            return False
        op = OPERATIONS.require(self.bundle.domains[code].variables[name].op)
        if op.needs_all:
            others = [n for n in pending if n != name]
            return all(
                OPERATIONS.require(self.bundle.domains[code].variables[n].op).needs_all
                for n in others
            )
        return True

    def _compute(self, code: str, name: str) -> None:
        var = self.bundle.domains[code].variables[name]
        op = OPERATIONS.require(var.op)
        args = self.bundle.op_args[(code, None, name)]
        if ("*", "CALENDAR") in args.lookups() and self.calendar is None:
            self.calendar = build_calendar(self._calendar_entries(), self.study)
        ctx = self.make_ctx(code, name, raw=None, loc=("variables", name))
        frame = self.frames[code]
        inputs = sorted(args.inputs())
        distinct = op.row_local and bool(inputs) and len(frame) > DEDUPE_MIN_ROWS
        if distinct:
            values = compute_distinct(op.fn, frame, inputs, args, ctx, self.codes)
        else:
            values = op.fn(frame, args, ctx)
        # values expanded from distinct ones already hold each text once
        put_column(frame, name, values, shared=distinct)
        self.codes.forget(frame, name)
        self.frames[code] = frame


DEDUPE_MIN_ROWS = 20_000


def log_source(code: str, res: SourceResult) -> None:
    """A source's counts, at DEBUG (``-v``)."""
    log.debug(
        "%s: %s: %d rows read, %d mapped, %d excluded, %d records",
        code, res.file, res.rows_read, res.rows_mapped,
        sum(res.excluded.values()), len(res.frame),
    )  # fmt: skip


def compute_distinct(
    fn: Any,
    frame: pd.DataFrame,
    inputs: list[str],
    args: Any,
    ctx: Any,
    codes_of: ColumnCodes | None = None,
) -> pd.Series | np.ndarray:
    """A row-local operation computed once per distinct combination of its inputs (each
    input's codes from ``codes_of``, which factorizes a column once per frame).

    On an error the operation is rerun on every record, so that the message lists every
    occurrence with its file and row, as it would without this shortcut.
    """
    codes_of = codes_of or ColumnCodes()
    keep = inputs + [c for c in (SRC, ROW) if c in frame.columns and c not in inputs]
    inverse, distinct = codes_of.distinct_rows(frame, inputs, keep)
    try:
        result = fn(distinct, args, ctx)
    except MappingError:
        return fn(frame, args, ctx)
    if isinstance(result.dtype, pd.StringDtype):
        return result.take(inverse)  # Arrow text stays Arrow
    return np.asarray(result.to_numpy())[inverse]


def check_one_record_per_subject(frames: dict[str, pd.DataFrame]) -> None:
    """DM holds one record per subject (SDTMIG 3.4 section 5.2). A subject on two rows of
    the enrolment form(s) is an error naming the file and rows of each."""
    dm = frames.get("DM")
    if dm is None or "USUBJID" not in dm.columns:
        return
    dup = dm["USUBJID"].duplicated(keep=False)
    if not dup.any():
        return
    problems = []
    for usubjid, recs in dm.loc[dup].groupby("USUBJID", sort=False):
        places = [f"{rec.get(SRC, '?')} row {rec.get(ROW, '?')}" for _, rec in recs.iterrows()]
        problems.append(f"{usubjid}: {' and '.join(places)}")
    shown = "; ".join(problems[:MAX_LISTED])
    more = f"; and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    raise MappingError(
        f"DM: {len(problems)} subject(s) with more than one enrolment record: {shown}{more}",
        hint="DM has one record per subject: remove the repeated row from the export; an "
        "exact repeat can be excluded (and counted) with drop_duplicates: true on the DM "
        "source",
    )


def check_subjects_in_dm(frames: dict[str, pd.DataFrame]) -> None:
    """Every record's subject must be in DM (SDTMIG 3.4 section 5.2: DM holds every
    subject). An orphan record is an error listing each one."""
    if "DM" not in frames:
        return
    known = set(frames["DM"]["USUBJID"].astype(str))
    problems = []
    for code, frame in frames.items():
        if code == "DM" or "USUBJID" not in frame.columns:
            continue
        bad = ~frame["USUBJID"].astype(str).isin(known)
        for _, rec in frame.loc[bad].head(20).iterrows():
            problems.append(
                f"{code} from {rec.get(SRC, '?')} row {rec.get(ROW, '?')}: {rec['USUBJID']}"
            )
        if bad.sum() > 20:
            problems.append(f"... {int(bad.sum()) - 20} more in {code}")
    if problems:
        raise MappingError(
            "records for subjects missing from DM (no enrolment record): " + "; ".join(problems),
            hint="add the subject to the enrolment form or remove the records",
        )


def run_mapping(
    bundle: StudyBundle, terminology: Any, raw: RawInput, progress: Progress | None = None
) -> SdtmRun:
    """Map a study's raw forms (the raw folder, or :class:`~cdisc_mapper.raw.RawFrames`)
    to SDTM domain frames (not yet finalised or written); progress goes to ``progress``,
    else to this module's logger (INFO)."""
    return _map(_Engine(bundle, terminology, raw, progress or log.info))


def read_forms(bundle: StudyBundle, terminology: Any, raw: RawInput) -> dict[str, RawForm]:
    """The raw forms a run reads (the subject registry's and every source's), by the file
    the spec names, read and checked as :func:`run_mapping` reads them."""
    return _Engine(bundle, terminology, raw, lambda _: None).read_forms()


def map_forms(
    bundle: StudyBundle, terminology: Any, forms: dict[str, RawForm], progress: Progress
) -> SdtmRun:
    """:func:`run_mapping` over forms read before (:func:`read_forms`, or a part of their
    records), taken out of ``forms`` once their sources are mapped; each source's counts
    are not logged (the caller logs the totals)."""
    engine = _Engine(bundle, terminology, RawFrames({}), progress, forms)
    engine.details = False
    return _map(engine)


def _map(engine: _Engine) -> SdtmRun:
    bundle, terminology = engine.bundle, engine.terminology
    sources = engine.map_sources()
    engine.forms.clear()  # the records are in the domains' frames now
    check_one_record_per_subject(engine.frames)
    check_subjects_in_dm(engine.frames)
    with iso8601.read_once():  # a --DTC read for --DY, EPOCH, SV, ... is parsed once
        engine.resolve()
        sv = build_sv(engine.frames, bundle, engine.se, terminology)
    return SdtmRun(
        domains=engine.frames, sources=sources, se=engine.se, sv=sv, export=engine.export
    )
