"""SDTM define metadata from the mapping specs and the written SDTM datasets.

Where each variable comes from is read from its spec entries (one per source form and
one at domain level):

* Collected: the aCRF pages of the raw columns read (def:DocumentRef with
  def:PDFPageRef: the generated aCRF's, or define.yaml ``forms:`` for a sponsor's own),
  and ``<file> <column>`` from the operation's raw ``column`` (and ``time_column``) as
  the origin's description; items of a melted form name their own column.
* Assigned: the value (``constant``, ``studyid``, ``domain``, a unit given as a value,
  the test code of a melted item), else the operation's description.
* Derived: a MethodDef with the spec's ``method:`` text or, when the spec gives none, the
  operation's method template (given when it was registered) filled from its arguments,
  or followed by them; internal ``_XXX`` variables an argument names are explained after
  it.
* Protocol: trial design datasets, built from study.yaml (define.xml says "Protocol",
  never the file).

An explicit ``origin:`` in the spec wins over the operation's default. A variable filled
by several sources gets one origin (Collected before Derived before Assigned before
Protocol) whose text names each form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd

from cdisc_mapper.acrf.annotate import form_file_name, melt_test, raw_file
from cdisc_mapper.define import describe_common as describe
from cdisc_mapper.define import vlm
from cdisc_mapper.define.assemble import as_text
from cdisc_mapper.define.codelists import coded_dictionary
from cdisc_mapper.define.info import (
    CodelistRef,
    CommentInfo,
    DatasetInfo,
    MethodInfo,
    VarInfo,
)
from cdisc_mapper.define.model import DocRef, Origin
from cdisc_mapper.define.refs import codelist_ref, comment_ref, require_method
from cdisc_mapper.sdtm.finalize import DESIGN_KEYS, SUPP_KEYS
from cdisc_mapper.sdtm.ops.timeline import TIMELINE_COMMENT_OID, timeline_comment
from cdisc_mapper.sdtm.registry import OPERATIONS
from cdisc_mapper.sdtm.sources import MELT_TEST, MELT_UNIT
from cdisc_mapper.sdtm.subject_design import (
    SUBJECT_DESIGN_METHODS,
    study_day_variables,
    sv_method,
)
from cdisc_mapper.sdtm.trial_design import TRIAL_DESIGN_METHODS
from cdisc_mapper.spec.define import METHOD_ID, DefineExtras, FormSpec
from cdisc_mapper.spec.sdtm import SourceSpec, VariableSpec
from cdisc_mapper.spec.sdtm_loader import StudyBundle
from cdisc_mapper.xpt import XptMetadata

ORIGIN_ORDER = ("Collected", "Derived", "Assigned", "Protocol", "Predecessor")
#: Datasets built from study.yaml (trial design) and from the other domains (SE, SV):
#: what define.xml says of how.
BUILT_DATASETS = {**TRIAL_DESIGN_METHODS, **SUBJECT_DESIGN_METHODS}
#: Define-XML def:Class names of SDTMIG observation classes.
SDTM_CLASSES = {
    "Special-Purpose": "SPECIAL PURPOSE",
    "Trial Design": "TRIAL DESIGN",
    "Relationship": "RELATIONSHIP",
}
CLASS_ORDER = (
    "TRIAL DESIGN",
    "SPECIAL PURPOSE",
    "INTERVENTIONS",
    "EVENTS",
    "FINDINGS",
    "FINDINGS ABOUT",
    "RELATIONSHIP",
)


class _Common(TypedDict):
    """What every part of a variable's origin carries."""

    form: str | None
    codelist: CodelistRef | None
    comment: CommentInfo | None


@dataclass(frozen=True)
class _Part:
    """One spec entry's contribution to a variable's origin."""

    form: str | None
    type: str
    text: str
    method: MethodInfo | None = None
    document: DocRef | None = None
    codelist: CodelistRef | None = None
    comment: CommentInfo | None = None


def sdtm_class(class_: str) -> str:
    return SDTM_CLASSES.get(class_, class_.upper().replace("-", " "))


class SdtmDescriber:
    """Turns the study's specs into :class:`DatasetInfo` for each written dataset."""

    def __init__(
        self,
        bundle: StudyBundle,
        extras: DefineExtras,
        terminology: Any,
        standard: Any,
        acrf_leaf: str | None,
    ) -> None:
        self.bundle = bundle
        self.extras = extras
        self.terminology = terminology
        self.standard = standard
        self.acrf_leaf = acrf_leaf
        self.crf_forms: dict[str, FormSpec] = extras.spec.forms
        """The aCRF pages of each raw form and field (generated or the sponsor's)."""

    # ------------------------------------------------------------------ spec checks
    def check_references(self) -> None:
        """Every named method, comment and code list exists (SpecError at its line)."""
        for code, spec in sorted(self.bundle.domains.items()):
            for loc, source, name, var in vlm.entries(spec):
                self._method(code, loc, name, var)
                self._comment(code, loc, var)
                self._codelist(code, loc, source, name, var)

    def _method(self, code: str, loc: tuple, name: str, var: VariableSpec) -> MethodInfo | None:
        if var.method is None:
            return None
        text = var.method.strip()
        if not METHOD_ID.match(text):
            return MethodInfo(description=text)
        where = self.bundle.where(code, (*loc, "method"))
        return require_method(self.extras, text, where, f"{name}: ")

    def _doc(self, doc_id: str | None, pages: str | None) -> DocRef | None:
        return DocRef(f"LF.{doc_id}", pages) if doc_id else None

    def _comment_text(self, value: str, where: str, what: str) -> CommentInfo:
        return comment_ref(
            value, self.bundle.study.comments, where, what=f"{what}: ",
            source="study.yaml comments",
            hint="add it to study.yaml comments:, or write the comment as text",
        )  # fmt: skip

    def _timeline(self) -> CommentInfo | None:
        """The comment on the study's relative-day data (study.yaml ``timeline``), if any."""
        timeline = self.bundle.study.timeline
        if timeline is None:
            return None
        return CommentInfo(text=timeline_comment(timeline), oid=TIMELINE_COMMENT_OID)

    def _comment(self, code: str, loc: tuple, var: VariableSpec) -> CommentInfo | None:
        if var.comment is None:
            return None
        return self._comment_text(var.comment, self.bundle.where(code, (*loc, "comment")), loc[-1])

    def _codelist(
        self, code: str, loc: tuple, source: int | None, name: str, var: VariableSpec
    ) -> CodelistRef | None:
        args = self.bundle.op_args.get((code, source, name))
        key, wanted = "codelist", var.codelist
        if var.op == "ct_decode" and args is not None:
            key, wanted = "target", args.target
        elif wanted is None and args is not None:
            wanted = getattr(args, "codelist", None)
        if not wanted:
            return None
        where = self.bundle.where(code, (*loc, key))
        return codelist_ref(self.terminology, wanted, where, what=f"{name}: ")

    # ------------------------------------------------------------------ parts
    def raw_file(self, src: SourceSpec) -> str:
        return raw_file(self.bundle, src)

    def crf_doc(self, src: SourceSpec | None, columns: list[str] | None = None) -> DocRef | None:
        """The aCRF pages of raw ``columns`` of a source's form (the form's pages for
        columns the aCRF gives no page of)."""
        if src is None or self.acrf_leaf is None:
            return None
        return DocRef(self.acrf_leaf, crf_pages(self.crf_forms.get(src.form), columns or []))

    def part(self, code: str, source: int | None, name: str, depth: int = 0) -> _Part:
        spec = self.bundle.domains[code]
        src = spec.sources[source] if source is not None else None
        var = (src.variables if src is not None else spec.variables)[name]
        loc = ("sources", source, "variables", name) if src is not None else ("variables", name)
        op = OPERATIONS.require(var.op)
        args = self.bundle.op_args[(code, source, name)]
        kind = var.origin or op.origin
        form = src.form if src is not None else None
        column = getattr(args, "column", None)
        codelist = self._codelist(code, loc, source, name, var)
        comment = self._comment(code, loc, var)
        common: _Common = {"form": form, "codelist": codelist, "comment": comment}
        if var.op == "unit" and getattr(args, "value", None):
            return _Part(type="Assigned", text=f"Assigned: {args.value}", **common)
        melted = src is not None and src.melt is not None and source is not None
        if melted and source is not None and column in (MELT_TEST, MELT_UNIT):
            return self._melt_part(code, source, name, column, kind, common)
        if kind == "Derived" or (kind == "Predecessor" and var.method):
            method = self._method(code, loc, name, var) or MethodInfo(
                self.derivation(code, source, name, var, args, depth)
            )
            return _Part(type=kind, text=method.description, method=method, **common)
        if kind == "Collected":
            text, read = self._collected(src, args, var)
            return _Part(type=kind, text=text, document=self.crf_doc(src, read), **common)
        if kind == "Assigned":
            value = self._assigned_value(code, var, args)
            return _Part(type=kind, text=f"Assigned: {value}", **common)
        text, detail = describe.operation_text(op.method, args, self._names(code))
        return _Part(type=kind, text=f"{text} ({detail})" if detail else text, **common)

    def _names(self, code: str) -> frozenset[str]:
        spec = self.bundle.domains[code]
        return frozenset(n for _, _, n, _ in vlm.entries(spec))

    def _collected(
        self, src: SourceSpec | None, args: Any, var: VariableSpec
    ) -> tuple[str, list[str]]:
        """The description of a Collected origin and the raw columns it names."""
        if src is None:
            variable = getattr(args, "variable", None)
            return (f"Collected, from {variable}" if variable else "Collected"), []
        file = self.raw_file(src)
        named = [getattr(args, k, None) for k in ("column", "time_column")]
        columns: list[str] = [c for c in named if c]
        if src.melt is not None:  # a melted record's column: the items' raw columns
            columns = [raw for c in columns for raw in src.melt.raw_columns(c)]
        subjects = self.bundle.study.subjects
        if var.op == "subjid":
            columns = [subjects.subject_column]
        elif var.op == "siteid":
            if subjects.site_column is None:
                return file, []
            columns = [subjects.site_column]
            if subjects.registry_form:
                file = form_file_name(self.bundle, subjects.registry_form)
        variable = getattr(args, "variable", None)
        if not columns and variable:
            return f"{file}, from {variable}", []
        return f"{file} {', '.join(columns)}".rstrip(), columns

    def _assigned_value(self, code: str, var: VariableSpec, args: Any) -> str:
        if var.op == "studyid":
            return self.bundle.study.studyid
        if var.op == "domain":
            return code
        value = getattr(args, "value", None)
        if value is not None and len(type(args).model_fields) == 1:
            return describe.value_text(value)
        op = OPERATIONS.require(var.op)
        text, detail = describe.operation_text(op.method, args, self._names(code))
        return f"{text} ({detail})" if detail else text

    def derivation(
        self, code: str, source: int | None, name: str, var: VariableSpec, args: Any, depth: int
    ) -> str:
        """Default derivation text: the operation's method template filled from its
        arguments (or followed by them), with internal variables explained."""
        op = OPERATIONS.require(var.op)
        text, detail = describe.operation_text(op.method, args, self._names(code))
        if detail:
            text = f"{text} ({detail})."
        if depth == 0:
            notes = []
            for internal in sorted(_internal_names(detail or text)):
                notes.extend(self._internal_note(code, source, internal))
            if notes:
                text += " Where " + "; ".join(notes) + "."
        return text

    def _internal_note(self, code: str, source: int | None, internal: str) -> list[str]:
        spec = self.bundle.domains[code]
        out = []
        sources = [source] if source is not None else range(len(spec.sources))
        for i in sources:
            if internal in spec.sources[i].variables:
                part = self.part(code, i, internal, depth=1)
                out.append(f"{internal} ({spec.sources[i].form}) = {part.text.rstrip('.')}")
        if internal in spec.variables and source is None:
            part = self.part(code, None, internal, depth=1)
            out.append(f"{internal} = {part.text.rstrip('.')}")
        return out

    def _melt_part(
        self, code: str, source: int, name: str, column: str, kind: str, common: _Common
    ) -> _Part:
        src = self.bundle.domains[code].sources[source]
        assert src.melt is not None
        file = self.raw_file(src)
        items = src.melt.items
        if column == MELT_TEST:
            pairs = ", ".join(f"{i.value} -> {self.test_code(code, source, i.test)}" for i in items)
            text = f"Assigned per CRF item of {file}: {pairs}"
            return _Part(type="Assigned", text=text, **common)
        collected = [i.unit_column for i in items if i.unit_column]
        fixed = "; ".join(
            f"{self.test_code(code, source, i.test)} {i.unit}" for i in items if i.unit
        )
        if collected:
            text = f"{file} {', '.join(dict.fromkeys(collected))}"
            if fixed:
                text += f"; assigned for the other items: {fixed}"
            document = self.crf_doc(src, list(dict.fromkeys(collected)))
            return _Part(type="Collected", text=text, document=document, **common)
        return _Part(type="Assigned", text=f"Assigned per CRF item: {fixed}", **common)

    def test_code(self, code: str, source: int, test: str) -> str:
        """The test code a melted item's test becomes (through the TESTCD operation)."""
        return melt_test(self.bundle, self.terminology, code, source, test)[0]

    # ------------------------------------------------------------------ variables
    def merge(self, parts: list[_Part]) -> tuple[Origin | None, MethodInfo | None]:
        if not parts:
            return None, None
        kind = min((p.type for p in parts), key=ORIGIN_ORDER.index)
        texts = list(dict.fromkeys(p.text for p in parts))
        if len(parts) == 1 or len(texts) == 1:
            text = texts[0]
        else:
            text = "; ".join(f"{p.form or 'all records'}: {p.text}" for p in parts if p.text)
        methods = [p.method for p in parts if p.method is not None]
        method = None
        if kind == "Derived":
            method = methods[0] if len(parts) == 1 and methods else MethodInfo(text)
        source = {"Collected": "Investigator", "Predecessor": None}.get(kind, "Sponsor")
        document = _joined([p.document for p in parts if p.document is not None])
        shown = "" if kind == "Derived" else text
        return Origin(type=kind, source=source, text=shown, document=document), method

    def spec_variable(self, code: str, name: str, ig: Any) -> VarInfo:
        spec = self.bundle.domains[code]
        parts = [self.part(code, src, n) for _, src, n, _ in vlm.entries(spec) if n == name]
        origin, method = self.merge(parts)
        lists = {vlm.list_key(p.codelist) for p in parts if p.codelist is not None}
        codelist = None
        if len(lists) == 1:  # sources with different lists: value-level metadata has them
            codelist = next(p.codelist for p in parts if p.codelist is not None)
        comment = next((p.comment for p in parts if p.comment is not None), None)
        return self._finish(code, name, ig, origin, method, codelist, comment)

    def _finish(
        self,
        code: str,
        name: str,
        ig: Any,
        origin: Origin | None,
        method: MethodInfo | None,
        codelist: CodelistRef | None,
        comment: CommentInfo | None,
    ) -> VarInfo:
        if codelist is None and ig is not None:
            for nci in ig.codelist_codes:
                found = self.terminology.find(nci)
                if found is not None:
                    single = len(ig.codelist_codes) == 1
                    codelist = CodelistRef(codelist=found, explicit=False, extend=single)
                    break
        described = ig.described_value_domain if ig is not None else ""
        dictionary = coded_dictionary(name, self.extras, described)
        if codelist is None and dictionary is not None:
            codelist = CodelistRef(dictionary=dictionary)
        attached = self.extras.attached(code, name)
        if comment is None and attached:
            comment = self._comment_text(attached, self.extras.where(("attach",)), name)
        if comment is None and (name.endswith("DTC") or study_day_variables(code, [name])):
            comment = self._timeline()
        return VarInfo(
            name=name,
            origin=origin,
            method=method,
            comment=comment,
            codelist=codelist,
            role=(ig.role or None) if ig is not None else None,
            mandatory=ig is not None and ig.core == "Req",
            non_standard=ig is None,
            iso8601=ig is not None and "ISO 8601" in ig.described_value_domain,
        )

    def built_variable(self, code: str, name: str, ig: Any) -> VarInfo:
        """A variable of a dataset built from study.yaml or from the other domains."""
        study = self.bundle.study
        doc = BUILT_DATASETS.get(code, "")
        method = None
        if name == "STUDYID":
            origin = Origin("Assigned", "Sponsor", f"Assigned: {study.studyid}")
        elif name == "DOMAIN":
            origin = Origin("Assigned", "Sponsor", f"Assigned: {code}")
        elif code in ("SE", "SV"):
            origin = Origin("Derived", "Sponsor")
            doc = sv_method(study) if code == "SV" else doc
            method = MethodInfo(description=doc, oid=f"MT.{code}", name=f"Algorithm for {code}")
        else:
            origin = Origin("Protocol", "Sponsor", f"Protocol: {doc}")
        return self._finish(code, name, ig, origin, method, None, None)

    # ------------------------------------------------------------------ datasets
    def dataset(self, path: Path, frame: pd.DataFrame, meta: XptMetadata) -> DatasetInfo:
        name = (meta.dataset or path.stem).upper()
        ig_ds = self.standard.dataset(name)
        is_supp = name.startswith("SUPP") and name != "SUPPQUAL"
        parent = name[4:] if is_supp else None
        spec = self.bundle.domains.get(name)
        variables: dict[str, VarInfo] = {}
        for xvar in meta.variables:
            ig = self.standard.variable_allowed(name, xvar.name)
            if is_supp:
                variables[xvar.name] = self.supp_variable(name, xvar.name, ig, frame)
            elif spec is not None and any(n == xvar.name for _, _, n, _ in vlm.entries(spec)):
                variables[xvar.name] = self.spec_variable(name, xvar.name, ig)
            elif spec is None and name in BUILT_DATASETS:
                variables[xvar.name] = self.built_variable(name, xvar.name, ig)
            else:
                variables[xvar.name] = self._finish(
                    name, xvar.name, ig, _unmapped_origin(frame[xvar.name]), None, None, None
                )
        if spec is not None and not is_supp:
            labels = {v.name: v.label for v in meta.variables}
            vlm.findings_levels(self, name, spec, frame, variables, labels)
            vlm.source_levels(self, name, spec, frame, variables, labels)
        keys = (
            SUPP_KEYS
            if is_supp
            else list(spec.keys)
            if spec is not None
            else DESIGN_KEYS.get(name, [])
        )
        comment = None
        if spec is not None and spec.comment:
            comment = self._comment_text(spec.comment, self.bundle.where(name, ("comment",)), name)
        elif self.extras.attached(name):
            comment = self._comment_text(
                self.extras.attached(name) or "", self.extras.where(("attach", name)), name
            )
        if comment is None and name in ("DM", "TS"):
            comment = self._timeline()
        class_ = sdtm_class(ig_ds.class_)
        one_per_subject = ig_ds.structure.lower().startswith("one record per subject")
        has_subject = "USUBJID" in frame.columns
        return DatasetInfo(
            name=name,
            path=path,
            frame=frame,
            meta=meta,
            domain=parent or name,
            structure=ig_ds.structure,
            class_=class_,
            purpose="Tabulation",
            keys=keys,
            variables=variables,
            repeating=has_subject and not one_per_subject,
            reference_data=not has_subject,
            comment=comment,
            domain_description=self.standard.dataset(parent).label if parent else None,
        )

    # ------------------------------------------------------------------ SUPP--
    def supp_variable(self, name: str, var: str, ig: Any, frame: pd.DataFrame) -> VarInfo:
        parent = name[4:]
        if var in ("STUDYID", "USUBJID"):
            origin = Origin("Predecessor", None, f"{parent}.{var}")
        elif var == "IDVARVAL":
            origin = Origin("Predecessor", None, f"{parent}.IDVAR of the parent record")
        elif var == "RDOMAIN":
            origin = Origin("Assigned", "Sponsor", f"Assigned: {parent}")
        elif var == "QVAL":
            return self._qval(name, ig, frame)
        else:
            origin = Origin("Assigned", "Sponsor", "Assigned in the spec's supp: declaration")
        return self._finish(name, var, ig, origin, None, None, None)

    def _qval(self, name: str, ig: Any, frame: pd.DataFrame) -> VarInfo:
        levels, kinds = vlm.qval_levels(self, name, frame)
        origin = None
        if len(kinds) == 1 and "Derived" not in kinds and "" not in kinds:
            kind = kinds.pop()
            origin = Origin(kind, None, "See the value-level metadata (by QNAM)", _pages_of(levels))
        info = self._finish(name, "QVAL", ig, origin, None, None, None)
        info.value_levels = levels
        return info


def _pages_of(levels: list[Any]) -> DocRef | None:
    """One reference to every aCRF page the value levels cite (QVAL: every QNAM's)."""
    return _joined([lv.origin.document for lv in levels if lv.origin and lv.origin.document])


def _joined(docs: list[DocRef]) -> DocRef | None:
    """One reference to every page of ``docs`` (references to the aCRF, the one leaf
    Collected origins cite)."""
    if not docs:
        return None
    pages = {int(n) for doc in docs for n in (doc.pages or "").split()}
    return DocRef(docs[0].leaf_id, " ".join(str(n) for n in sorted(pages)) or None)


def crf_pages(form: FormSpec | None, columns: list[str]) -> str | None:
    """The aCRF pages of raw ``columns`` of a form: those its fields give, else the
    form's; None for a form without pages."""
    if form is None:
        return None
    found = {int(n) for c in columns for n in form.fields.get(c, "").split()}
    if not found:
        return form.pages
    return " ".join(str(n) for n in sorted(found))


def _unmapped_origin(values: pd.Series) -> Origin | None:
    """A variable no spec maps (an Expected variable kept empty): Not Available."""
    if bool((as_text(values) == "").all()):
        return Origin("Not Available", None, "Not collected in this study")
    return None


def _internal_names(text: str) -> set[str]:
    return set(re.findall(r"(?<![A-Za-z0-9])_[A-Z][A-Z0-9_]*", text))


def dataset_order(info: DatasetInfo) -> tuple[int, str]:
    """Trial design, special purpose, interventions, events, findings, relationship."""
    rank = CLASS_ORDER.index(info.class_) if info.class_ in CLASS_ORDER else len(CLASS_ORDER)
    return rank, info.name
