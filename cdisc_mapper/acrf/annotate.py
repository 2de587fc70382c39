"""Which SDTM variables each raw column of each form feeds: the annotations of the aCRF.

Pure: from the study's specs (and, when known, the columns each raw file has) to one
:class:`FormCrf` per raw form, each field (raw column) with its annotations in the usual
aCRF style (SDTM Metadata Submission Guidelines 2.0, section 3.1.1; CDISC aCRF
guidelines): the variable name (``VSDTC``), ``VSORRES when VSTESTCD = SYSBP`` for the
item of a wide form, ``SUPPMH.QNAM = MHONSITE`` for a supplemental qualifier, and
``NOT SUBMITTED`` for a raw column no SDTM variable is made from.

How a column is followed to its variables (the operation contract's names read): a
source variable reads the raw columns its arguments name (``column``, ``time_column``,
conditions, templates; :func:`cdisc_mapper.sdtm.sources.names_read`) and the subject
operations read study.yaml's subject and site columns; a working variable (``_NAME``) is
followed to the variables that read it (:meth:`OpArgs.inputs`), at source and domain
level, until a submitted variable is reached; a melted record's ``_VALUE``, ``_UNIT`` and
item columns are each item's own raw column, annotated with the item's test code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from cdisc_mapper.condition import Condition
from cdisc_mapper.raw.edc import form_file
from cdisc_mapper.sdtm.sources import names_read
from cdisc_mapper.spec.sdtm import MELT_TEST, MELT_UNIT, MELT_VALUE, DomainSpec, SourceSpec
from cdisc_mapper.spec.sdtm_loader import StudyBundle

NOT_SUBMITTED = "NOT SUBMITTED"


@dataclass(frozen=True)
class Annotation:
    """One annotation of a field: the domain it belongs to (a SUPP-- qualifier's parent)
    and its text."""

    domain: str
    text: str
    variable: str = field(default="", compare=False)
    question: str = field(default="", compare=False)


@dataclass(frozen=True)
class FieldCrf:
    """A raw column of a form, as a CRF question with its annotations (none: not
    submitted)."""

    column: str
    question: str
    annotations: tuple[Annotation, ...]

    @property
    def texts(self) -> tuple[str, ...]:
        """The annotation texts, ``NOT SUBMITTED`` for a column no variable is made from."""
        return tuple(a.text for a in self.annotations) or (NOT_SUBMITTED,)


@dataclass(frozen=True)
class FormCrf:
    """A raw form: its name, file, the domains made from it and its fields in order."""

    name: str
    file: str
    domains: tuple[str, ...]
    fields: tuple[FieldCrf, ...]


def form_order(bundle: StudyBundle) -> list[tuple[str, str]]:
    """``(form, file)`` of every raw form the SDTM specs read: the registry form (which
    lists every subject) first, then in the order the domain specs read them."""
    found: dict[str, str] = {}
    for spec in bundle.domains.values():
        for src in spec.sources:
            found.setdefault(src.form, raw_file(bundle, src))
    registry = bundle.study.subjects.registry_form
    first = [registry] if registry in found else []
    return [(form, found[form]) for form in [*first, *(f for f in found if f not in first)]]


def form_file_name(bundle: StudyBundle, form: str, file: str | None = None) -> str:
    """How a raw form is named in define.xml and the aCRF, as in the reconciliation: the
    file the spec gives, the form of the study's EDC export (``records.csv#vitals``), or
    ``<form>.<raw_format>``."""
    if file:
        return file
    if bundle.study.export is not None:
        return form_file(bundle.study.export.records, form)
    return f"{form}.{bundle.study.raw_format}"


def raw_file(bundle: StudyBundle, src: SourceSpec) -> str:
    """The file of a source's form, as the spec names it (:func:`form_file_name`)."""
    return form_file_name(bundle, src.form, src.file)


class _SourceReader:
    """Follows the raw columns of one source of one domain to the variables they feed."""

    def __init__(
        self, bundle: StudyBundle, spec: DomainSpec, index: int, terminology: Any, labels: Any
    ) -> None:
        self.bundle = bundle
        self.spec = spec
        self.index = index
        self.src = spec.sources[index]
        self.terminology = terminology
        self.code = spec.domain
        self.labels = labels

    def _args(self, source: int | None, name: str) -> Any:
        return self.bundle.op_args[(self.code, source, name)]

    def _reads(self, source: int | None, name: str, earlier: frozenset[str]) -> set[str]:
        args = self._args(source, name)
        return set(args.inputs()) | names_read(args, earlier) | self._subject_columns(source, name)

    def _subject_columns(self, source: int | None, name: str) -> set[str]:
        """The study.yaml columns the subject operations read."""
        variables = self.src.variables if source is not None else self.spec.variables
        subjects = self.bundle.study.subjects
        op = variables[name].op
        if op in ("usubjid", "subjid"):
            return {subjects.subject_column}
        if op == "siteid" and subjects.site_column:
            return {subjects.site_column}
        return set()

    def readers(self) -> dict[str, list[str]]:
        """Each name read in this source (raw, melt or working column) -> the source
        variables whose value it gives, in spec order. A name an operation reads only in
        a condition, beside other names it reads, selects which of those gives the value
        (``case``: STATUS picks DEATH_DATE or LAST_VISIT_DATE) and is no source of it; an
        operation reading nothing but its condition (``flag``) takes its value from it."""
        out: dict[str, list[str]] = {}
        earlier: set[str] = set()
        for name in self.src.variables:
            args = self._args(self.index, name)
            reads = self._reads(self.index, name, frozenset(earlier))
            selectors = _condition_names(args) - names_read(
                args, frozenset(earlier), conditions=False
            )
            if reads - selectors:
                reads -= selectors
            for read in sorted(reads):
                out.setdefault(read, []).append(name)
            earlier.add(name)
        return out

    def targets(self, name: str, seen: frozenset[str] = frozenset()) -> list[str]:
        """The submitted variables a source variable ends up in (itself, or for a working
        variable the variables reading it, followed to domain level)."""
        if not name.startswith("_"):
            return [name]
        if name in seen:
            return []
        seen = seen | {name}
        out: list[str] = []
        earlier: set[str] = set()
        for other in self.src.variables:
            if other != name and name in self._reads(self.index, other, frozenset(earlier)):
                out += self.targets(other, seen)
            earlier.add(other)
        for other in self.spec.variables:
            if name in self._args(None, other).inputs():
                out += self._domain_targets(other, seen)
        return list(dict.fromkeys(out))

    def _domain_targets(self, name: str, seen: frozenset[str]) -> list[str]:
        if not name.startswith("_"):
            return [name]
        if name in seen:
            return []
        seen = seen | {name}
        out: list[str] = []
        for other in self.spec.variables:
            if name in self._args(None, other).inputs():
                out += self._domain_targets(other, seen)
        return out

    def note(self, variable: str, when: str = "", question: str = "") -> Annotation:
        """The annotation of a submitted variable: its name, or its QNAM in SUPP-- for a
        supplemental qualifier; the question is the item's test name, the qualifier's
        label or the variable's label."""
        var = self.src.variables.get(variable) or self.spec.variables.get(variable)
        if var is not None and var.supp is not None:
            text, label = f"SUPP{self.code}.QNAM = {variable}", var.supp.label
        else:
            text, label = variable, (self.labels(self.code, variable) if self.labels else "")
        return Annotation(self.code, text + when, variable, question or label or "")

    def test_variable(self) -> str | None:
        return test_variable(self.bundle, self.code, self.index)

    def test_code(self, test: str) -> tuple[str, str]:
        return melt_test(self.bundle, self.terminology, self.code, self.index, test)

    def annotations(self) -> dict[str, list[Annotation]]:
        """Raw column -> its annotations from this source."""
        out: dict[str, list[Annotation]] = {}
        melt = self.src.melt
        testvar = self.test_variable() if melt is not None else None
        for read, variables in self.readers().items():
            targets = [t for v in variables for t in self.targets(v)]
            if melt is not None and (read in (MELT_VALUE, MELT_UNIT) or read in melt.names()):
                for item in melt.items:
                    column = _item_column(item, read)
                    if column is None:
                        continue
                    code, name = self.test_code(item.test)
                    when = f" when {testvar} = {code}" if testvar else ""
                    for target in targets:
                        out.setdefault(column, []).append(self.note(target, when, name))
                continue
            if read.startswith("_"):
                continue
            for target in targets:
                out.setdefault(read, []).append(self.note(target))
        return out


def _condition_names(model: object) -> set[str]:
    """Every name the conditions among an operation's arguments test, at any depth."""
    if isinstance(model, Condition):
        return set(model.variables())
    if isinstance(model, list | tuple):
        return {n for item in model for n in _condition_names(item)}
    if isinstance(model, BaseModel):
        return {
            n for key in type(model).model_fields for n in _condition_names(getattr(model, key))
        }
    return set()


def test_variable(bundle: StudyBundle, code: str, source: int) -> str | None:
    """The variable of a melted source holding the record's test code (reads ``_TEST``)."""
    for name in bundle.domains[code].sources[source].variables:
        if getattr(bundle.op_args[(code, source, name)], "column", None) == MELT_TEST:
            return name
    return None


def melt_test(
    bundle: StudyBundle, terminology: Any, code: str, source: int, test: str
) -> tuple[str, str]:
    """The test code a melted item's ``test`` becomes through the test variable's ``ct``
    operation (its synonyms, then its codelist), and the term's name ("" if none)."""
    name = test_variable(bundle, code, source)
    args = bundle.op_args[(code, source, name)] if name else None
    value = test
    for raw, given in (getattr(args, "synonyms", None) or {}).items():
        if raw.strip().upper() == test.strip().upper():
            value = str(given)
    codelist = getattr(args, "codelist", None)
    found = terminology.find(codelist) if codelist else None
    term = (found.term(value) or found.match(value)) if found is not None else None
    if term is None:
        return value, ""
    return str(term.submission_value), str(term.preferred_term or "")


def _item_column(item: Any, read: str) -> str | None:
    """The raw column of melt item ``item`` a melted record's ``read`` column holds."""
    if read == MELT_VALUE:
        return str(item.value)
    if read == MELT_UNIT:
        return str(item.unit_column) if item.unit_column else None
    column = item.columns.get(read)
    return str(column) if column else None


def annotate(
    bundle: StudyBundle,
    terminology: Any,
    columns: dict[str, list[str]] | None = None,
    labels: Any = None,
) -> list[FormCrf]:
    """Every raw form the specs read (:func:`form_order`) with its fields: the raw
    file's columns in file order when ``columns`` (file -> header) gives them, else the
    columns the specs read, in the order first read. A field's question is its first
    annotation's item name, qualifier label or variable label (``labels(domain,
    variable)``, e.g. the IG label), else the column name."""
    per_form: dict[str, dict[str, list[Annotation]]] = {}
    domains: dict[str, list[str]] = {}
    for code, spec in bundle.domains.items():
        for index, src in enumerate(spec.sources):
            found = _SourceReader(bundle, spec, index, terminology, labels).annotations()
            by_column = per_form.setdefault(src.form, {})
            for column, notes in found.items():
                by_column.setdefault(column, []).extend(notes)
            domains.setdefault(src.form, []).append(code)
    out = []
    for form, file in form_order(bundle):
        found = per_form.get(form, {})
        header = (columns or {}).get(file)
        order = list(header) if header is not None else list(found)
        fields: tuple[FieldCrf, ...] = tuple(
            FieldCrf(
                column=column,
                question=next((a.question for a in found.get(column, []) if a.question), column),
                annotations=_by_text(found.get(column, [])),
            )
            for column in _unique(order)
        )
        out.append(FormCrf(form, file, tuple(dict.fromkeys(domains[form])), fields))
    return out


def _by_text(notes: list[Annotation]) -> tuple[Annotation, ...]:
    """The annotations, each text once (the first domain's: USUBJID on a form several
    domains read is written once)."""
    return tuple(
        {n.text: n for n in reversed(notes)}[t] for t in dict.fromkeys(n.text for n in notes)
    )


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
