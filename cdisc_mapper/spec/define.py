"""Optional define.xml facts a study may add in ``<study>/define.yaml``.

The mapping specs already give what define.xml needs for most variables (operation,
origin, ``method:``, ``comment:``, ``codelist:``). What they cannot say lives here, every
key optional::

    originator: Hadassah Medical Organization        # default: study.yaml sponsor
    documents:                                       # def:leaf documents
      acrf: {title: Annotated CRF, href: acrf.pdf, kind: acrf, standards: [sdtm]}
      csdrg: {title: Reviewer's Guide, href: csdrg.pdf, standards: [sdtm]}
    forms:                                           # aCRF pages of a raw form
      enrollment: {pages: "3 4"}
    methods:                                         # named by ``method: M-<ID>`` in a spec
      M-AGE: {description: "...", type: Computation, document: csdrg, pages: "12",
              expression: {context: "SAS 9.4", code: "age = floor(...);"}}
    dictionaries:                                    # external code lists
      MedDRA: {version: "26.0", href: "https://www.meddra.org/"}
    codelists:                                       # codelists written in full
      ELESCCAT: {full: true}
    attach:                                          # study.yaml comments for datasets and
      SE: C-SE                                       # variables no spec file describes
      "*.VISITNUM": C-VISIT
    value_level:                                     # value-level metadata stated, not found
      ADRE.AVAL:                                     # DATASET.VARIABLE
        - where:                                     # two or more conditions: all must hold
            - {variable: PARAMCD, values: [FVC]}     # comparator EQ (default), NE, IN, NOTIN,
            - {variable: DTYPE, values: [MAXIMUM]}   # LT, LE, GT, GE
          label: FVC, best effort of the visit       # (or a condition: {all: [{variable:
                                                     #  PARAMCD, equals: FVC}, ...]})
          origin: Derived                            # Collected Derived Assigned Protocol
          method: "Largest AVAL of the visit's efforts."  # Predecessor (then source: DS.VAR)

The metadata of a variable is found from the specs and the data (e.g. result variables by
test code, AVAL by PARAMCD). A ``value_level:`` entry states it instead: its list replaces
the value-level metadata found for that variable. A ``where`` is a list of Define-XML
range checks (as above) or a condition of the condition language
(:mod:`cdisc_mapper.condition`) that a where clause can say: comparisons of variables with
constants, all of which must hold. Each where condition must name a variable of the
dataset, and each clause must select records.

A ``method:`` that is a single ``M-<ID>`` word names a method of this file; any other
text is the derivation itself. Likewise a ``comment:`` that is a single ``C-<ID>`` word
names a comment of study.yaml ``comments:``. Naming one that is not defined is a
:class:`~cdisc_mapper.errors.SpecError` at the spec line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from cdisc_mapper.condition import Condition, from_range_checks, range_checks
from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.base import Strict, validate_model
from cdisc_mapper.spec.yamlio import SpecDocument, load_spec_yaml

DEFINE_FILE = "define.yaml"
METHOD_ID = re.compile(r"^M-[A-Za-z0-9][A-Za-z0-9_.-]*$")
COMMENT_ID = re.compile(r"^C-[A-Za-z0-9][A-Za-z0-9_.-]*$")
PAGE_NUMBERS = re.compile(r"\s*[1-9][0-9]*(\s+[1-9][0-9]*)*\s*")
Which = Literal["sdtm", "adam"]


class DocumentSpec(Strict):
    title: str
    href: str
    kind: Literal["acrf", "supplemental"] = "supplemental"
    standards: list[Which] = Field(default_factory=lambda: list[Which](["sdtm", "adam"]))


class FormSpec(Strict):
    """The pages of a raw form in the sponsor's annotated CRF (physical page numbers:
    the page's position in the PDF, counting from 1)."""

    pages: str = Field(description='the form\'s aCRF page numbers, blank-separated (e.g. "3 4")')
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="raw column -> its aCRF page numbers, where a field is on some of the "
        "form's pages only (default: the form's pages)",
    )

    @field_validator("pages")
    @classmethod
    def _form_pages(cls, v: str) -> str:
        return page_numbers(v, "pages")

    @field_validator("fields")
    @classmethod
    def _field_pages(cls, v: dict[str, str]) -> dict[str, str]:
        return {column: page_numbers(pages, column) for column, pages in v.items()}


def page_numbers(text: str, what: str) -> str:
    """``text`` as def:PDFPageRef PageRefs: whole numbers from 1, one blank between."""
    if not PAGE_NUMBERS.fullmatch(text):
        raise ValueError(
            f"{what}: {text!r} is not page numbers (whole numbers from 1, blank-separated, "
            'e.g. "3 4")'
        )
    return " ".join(text.split())


class ExpressionSpec(Strict):
    """A method's machine-readable form (def:MethodDef/FormalExpression)."""

    context: str = Field(min_length=1, description="language and version, e.g. SAS 9.4")
    code: str = Field(min_length=1)


class MethodSpec(Strict):
    description: str
    name: str | None = None
    type: Literal["Computation", "Imputation"] = "Computation"
    document: str | None = Field(default=None, description="id of a documents: entry")
    pages: str | None = None
    expression: ExpressionSpec | None = None


class DictionarySpec(Strict):
    version: str
    href: str | None = None


class CodelistOption(Strict):
    full: bool = False


Comparator = Literal["EQ", "NE", "IN", "NOTIN", "LT", "LE", "GT", "GE"]
ORIGIN_TYPES = ("Collected", "Derived", "Assigned", "Protocol", "Predecessor")
VALUE_LEVEL_KEY = re.compile(r"^[A-Z][A-Z0-9]{1,7}\.[A-Z][A-Z0-9_]{0,7}$")


class RangeCheckSpec(Strict):
    """One condition of a where clause in the Define-XML form (a RangeCheck)."""

    variable: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,7}$")
    comparator: Comparator = "EQ"
    values: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_value(self) -> RangeCheckSpec:
        if self.comparator not in ("IN", "NOTIN") and len(self.values) != 1:
            raise ValueError(f"{self.comparator} takes one value; use IN or NOTIN for several")
        return self


def _where_form(value: Any) -> str:
    return "<range checks>" if isinstance(value, list) else "<condition>"


#: A ``where:``: a list of range checks (the Define-XML form) or a condition.
WhereForm = Annotated[
    Annotated[list[RangeCheckSpec], Tag("<range checks>")]
    | Annotated[Condition, Tag("<condition>")],
    Discriminator(_where_form),
]


class ValueLevelSpec(Strict):
    """Metadata of a variable on the records its where clause selects."""

    where: WhereForm
    label: str | None = Field(default=None, min_length=1)
    origin: Literal["Collected", "Derived", "Assigned", "Protocol", "Predecessor"] | None = None
    source: str | None = Field(
        default=None, description="Predecessor: DATASET.VARIABLE; Collected: the CRF item"
    )
    method: str | None = Field(default=None, description="derivation text or M-<ID>")
    comment: str | None = Field(default=None, description="comment text or C-<ID>")
    codelist: str | None = None

    @model_validator(mode="after")
    def _where_clause(self) -> ValueLevelSpec:
        """Only what a def:WhereClauseDef can say, kept as one canonical condition (so
        that the two forms of the same clause compare equal)."""
        where = self.where
        if isinstance(where, list):
            if not where:
                raise ValueError("where: give at least one condition")
            checks: tuple[tuple[str, str, tuple[str, ...]], ...] = tuple(
                (c.variable, c.comparator, tuple(c.values)) for c in where
            )
        else:
            found = range_checks(where)
            if found is None:
                raise ValueError(
                    "where: a where clause ANDs comparisons of variables with constants "
                    "(equals, not_equals, lt, le, gt, ge, in, not_in); this condition is not one"
                )
            checks = found
        object.__setattr__(self, "where", from_range_checks(checks))
        return self

    @property
    def condition(self) -> Condition:
        """The where clause as a condition (its canonical form)."""
        assert isinstance(self.where, Condition)
        return self.where


class DefineSpec(Strict):
    originator: str | None = None
    documents: dict[str, DocumentSpec] = Field(default_factory=dict)
    forms: dict[str, FormSpec] = Field(default_factory=dict)
    methods: dict[str, MethodSpec] = Field(default_factory=dict)
    dictionaries: dict[str, DictionarySpec] = Field(default_factory=dict)
    codelists: dict[str, CodelistOption] = Field(default_factory=dict)
    attach: dict[str, str] = Field(default_factory=dict)
    value_level: dict[str, list[ValueLevelSpec]] = Field(default_factory=dict)


@dataclass
class DefineExtras:
    """The parsed define.yaml (or an empty one) and its document, for error lines."""

    spec: DefineSpec
    document: SpecDocument | None = None

    def where(self, loc: tuple[str | int, ...]) -> str:
        return str(self.document.where(loc)) if self.document else DEFINE_FILE

    def full_codelist(self, short_name: str) -> bool:
        option = self.spec.codelists.get(short_name)
        return bool(option and option.full)

    def dictionary(self, name: str) -> DictionarySpec | None:
        for key, value in self.spec.dictionaries.items():
            if key.casefold() == name.casefold():
                return value
        return None

    def attached(self, dataset: str, variable: str | None = None) -> str | None:
        """The comment id attached to a dataset (``SE``) or variable (``SE.SESTDTC`` or
        ``*.SESTDTC``)."""
        if variable is None:
            return self.spec.attach.get(dataset)
        return self.spec.attach.get(f"{dataset}.{variable}") or self.spec.attach.get(
            f"*.{variable}"
        )


def load_define_extras(study_dir: Path) -> DefineExtras:
    """Read ``define.yaml`` of a study folder when present (SpecError at its line)."""
    path = Path(study_dir) / DEFINE_FILE
    if not path.is_file():
        return DefineExtras(DefineSpec())
    doc = load_spec_yaml(path)
    spec = validate_model(DefineSpec, doc.data, doc)
    extras = DefineExtras(spec, doc)
    _check_references(extras)
    return extras


def _check_references(extras: DefineExtras) -> None:
    spec = extras.spec
    for mid, method in spec.methods.items():
        if not METHOD_ID.match(mid):
            raise SpecError(
                f"method id {mid!r} must look like M-<NAME>",
                where=extras.where(("methods", mid)),
            )
        if method.document and method.document not in spec.documents:
            raise SpecError(
                f"method {mid} names document {method.document!r}, not in documents:",
                where=extras.where(("methods", mid, "document")),
            )
    for key, levels in spec.value_level.items():
        if not VALUE_LEVEL_KEY.match(key):
            raise SpecError(
                f"value_level: {key!r} must name DATASET.VARIABLE (e.g. ADRE.AVAL)",
                where=extras.where(("value_level", key)),
            )
        for i, level in enumerate(levels):
            variables = [c[0] for c in range_checks(level.condition) or ()]
            if len(set(variables)) != len(variables):
                raise SpecError(
                    f"value_level: {key} entry {i + 1} tests a variable twice in its where clause",
                    where=extras.where(("value_level", key, i, "where")),
                    hint="give one condition per variable (IN for several values)",
                )
            named = (level.method or "").strip()
            if METHOD_ID.match(named) and named not in spec.methods:
                known = ", ".join(sorted(spec.methods)) or "none"
                raise SpecError(
                    f"value_level: {key} entry {i + 1}: method {named} is not defined "
                    f"(methods: {known})",
                    where=extras.where(("value_level", key, i, "method")),
                )
            if level.origin == "Predecessor" and not level.source:
                raise SpecError(
                    f"value_level: {key} entry {i + 1}: a Predecessor origin needs "
                    "source: DATASET.VARIABLE",
                    where=extras.where(("value_level", key, i, "origin")),
                )
    for key, cid in spec.attach.items():
        if not COMMENT_ID.match(cid):
            raise SpecError(
                f"attach: {key} must name a comment id C-<NAME>, not {cid!r}",
                where=extras.where(("attach", key)),
            )
