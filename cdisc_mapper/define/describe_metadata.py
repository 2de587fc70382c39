"""define.xml from a define-generator workbook's metadata (:mod:`.metadata`) and the XPT
datasets it describes, for studies whose datasets were made by another tool.

The workbook says what the mapping specs say for our own studies: each dataset's class,
structure, keys and comment; each variable's origin, source, aCRF pages, method,
predecessor, role, comment and code list; value-level metadata with its where clauses.
:class:`MetadataDescriber` turns that into :mod:`.info` records and the shared assembler
(:func:`~cdisc_mapper.define.build.assemble`) does the rest the same way as for our own
datasets (``HasNoData``, and only where clauses that select records), except that each
variable's and value-level item's label, data type, length, significant digits, display
format and Mandatory are the workbook's where it gives them (:mod:`.stated_item`: a
difference from the data is a warning naming both values). A split dataset (LBCH holding
DOMAIN LB) has the domain of its records and the domain's description.

Code lists are the workbook's, written as it gives them: every term in its order, its
decode and NCI code, the list's NCI code, and ``def:ExtendedValue="Yes"`` for a term
without an NCI code in a list that has one. The assembler builds code lists from the
loaded CT, so each workbook list is handed to it as a sponsor list with all its terms (so
that every variable keeps its reference) and replaced by the workbook's own afterwards
(:func:`_workbook_codelists`). A value in the data that the list lacks is a warning.
Dictionaries (MedDRA...) are external code lists with the workbook's name and version,
one per Dictionaries row (``CL.<ID>``): MedDRA 8.0 and 26.0 stay two lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from cdisc_mapper.condition import Records
from cdisc_mapper.define import datatypes
from cdisc_mapper.define.assemble import as_text
from cdisc_mapper.define.build import DefineInputError, assemble, new_model, read_datasets
from cdisc_mapper.define.codelists import DICTIONARY_HOMES
from cdisc_mapper.define.info import (
    CodelistRef,
    CommentInfo,
    DatasetInfo,
    MethodInfo,
    ValueLevelInfo,
    VarInfo,
)
from cdisc_mapper.define.metadata_standards import (
    codelist_short_name,
    ct_standard,
    dataset_kind,
    define_extras,
    ig_standard,
)
from cdisc_mapper.define.model import (
    CodeListDef,
    Comment,
    DefineModel,
    DocRef,
    Origin,
    Term,
    oid_part,
)
from cdisc_mapper.define.pipeline import write_each
from cdisc_mapper.define.stated_item import StatedItem
from cdisc_mapper.define.where import clause_mask
from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.define import (
    DefineExtras,
    Which,
)
from cdisc_mapper.spec.metadata import (
    CodelistMeta,
    DefineMetadata,
    ValueLevelMeta,
    VariableMeta,
    check_metadata,
)
from cdisc_mapper.standards import Codelist, load_sdtmig
from cdisc_mapper.standards import Term as CtTerm
from cdisc_mapper.xpt import XptMetadata, XptVariable

#: Origin Source when the workbook gives none (as the spec-driven builders do).
DEFAULT_SOURCES = {
    "Collected": "Investigator",
    "Derived": "Sponsor",
    "Assigned": "Sponsor",
    "Protocol": "Sponsor",
}


def stated(v: VariableMeta | ValueLevelMeta) -> StatedItem:
    """What the workbook states of a variable's or value-level item's attributes
    (define.xml says it; a difference from the data is a warning)."""
    return StatedItem(
        label=v.label,
        data_type=v.data_type,
        length=v.length,
        significant_digits=v.significant_digits,
        display_format=v.format,
        mandatory=v.mandatory,
    )


def _oid(prefix: str, given: str) -> str:
    """An OID from a workbook ID: kept when it already has the prefix (``MT.AGE``)."""
    given = given.strip()
    return oid_part(given) if given.startswith(f"{prefix}.") else f"{prefix}.{oid_part(given)}"


class MetadataDescriber:
    """Turns the workbook's metadata into :class:`DatasetInfo` for each written dataset."""

    def __init__(
        self, meta: DefineMetadata, which: Which, extras: DefineExtras, acrf_leaf: str | None
    ) -> None:
        self.meta = meta
        self.which = which
        self.acrf_leaf = acrf_leaf
        self.notes: list[str] = []
        self.documents = {d for d, spec in extras.spec.documents.items() if which in spec.standards}
        self._lists: dict[str, object] = {}
        self._told: set[str] = set()
        self.codelist_oids: dict[str, str] = {}  # OID -> workbook codelist ID
        taken: dict[str, str] = {}  # OID -> the codelist or dictionary ID that has it
        for cl_id, short in [(c, codelist_short_name(c)) for c in meta.codelists] + [
            (d, d.upper()) for d in meta.dictionaries
        ]:
            oid = f"CL.{oid_part(short)}"
            if oid in taken:
                raise SpecError(
                    f"codelists {taken[oid]!r} and {cl_id!r} would both be {oid}",
                    where=f"metadata codelists.{cl_id}",
                    hint="give the codelists and dictionaries IDs that differ in more than "
                    "a CL. prefix or case",
                )
            taken[oid] = cl_id
            if cl_id in meta.codelists:
                self.codelist_oids[oid] = cl_id

    def note(self, text: str) -> None:
        if text not in self._told:
            self._told.add(text)
            self.notes.append(text)

    # ------------------------------------------------------------------ references
    def doc(self, doc_id: str | None, pages: str | None, what: str) -> DocRef | None:
        if doc_id is None:
            return None
        if doc_id not in self.documents:
            self.note(
                f"{what}: document {doc_id} is not for the {self.which} define.xml; "
                "its reference is left out"
            )
            return None
        return DocRef(f"LF.{oid_part(doc_id)}", pages)

    def method(self, method_id: str) -> MethodInfo:
        m = self.meta.methods[method_id]
        expression = None
        if m.expression_code and m.expression_context:
            expression = (m.expression_context, m.expression_code)
        elif m.expression_code or m.expression_context:
            self.note(
                f"method {method_id}: an Expression Code needs its Expression Context (and "
                "the other way round); the expression is left out"
            )
        return MethodInfo(
            expression=expression,
            description=m.description,
            oid=_oid("MT", method_id),
            name=m.name or method_id,
            type=m.type,
            document=self.doc(m.document, m.pages, f"method {method_id}"),
        )

    def comment(self, comment_id: str | None) -> CommentInfo | None:
        if comment_id is None:
            return None
        c = self.meta.comments[comment_id]
        return CommentInfo(
            text=c.description,
            oid=_oid("COM", comment_id),
            document=self.doc(c.document, c.pages, f"comment {comment_id}"),
        )

    def codelist(self, list_id: str | None) -> CodelistRef | None:
        if list_id is None:
            return None
        if list_id in self.meta.dictionaries:
            # by the workbook's ID: two versions of one dictionary are two lists
            return CodelistRef(dictionary=list_id)
        if list_id not in self._lists:
            cl = self.meta.codelists[list_id]
            if not cl.terms:
                self.note(f"codelist {list_id} has no terms; it is not written")
            self._lists[list_id] = Codelist(
                code=None,
                name=cl.name,
                short_name=codelist_short_name(list_id),
                extensible=False,
                source="sponsor",
                version="",
                terms=tuple(CtTerm(None, t.term, preferred_term=t.decode or "") for t in cl.terms),
                data_type=cl.data_type or "text",
            )
        return CodelistRef(codelist=self._lists[list_id], where=f"codelist {list_id}")

    def check_terms(self, what: str, list_id: str | None, values: pd.Series) -> None:
        """Warn about data values a workbook code list lacks (each distinct value once)."""
        cl = self.meta.codelists.get(list_id) if list_id else None
        if cl is None or not cl.terms:
            return
        terms = {t.term for t in cl.terms}
        distinct = pd.unique(values)
        extra = sorted(
            v for v in distinct if v != "" and not datatypes.is_term(v, terms, numeric=True)
        )
        if extra:
            shown = ", ".join(repr(v) for v in extra[:5]) + (" ..." if len(extra) > 5 else "")
            self.note(f"{what}: value(s) {shown} in the data are not terms of codelist {list_id}")

    def check_no_data(self, what: str, stated: bool | None, empty: bool) -> None:
        """Warn where the workbook's Has No Data is not what the data show (define.xml's
        def:HasNoData says what the data have: it is a fact about them)."""
        if stated is not None and stated != empty:
            said, found = ("Yes", "No") if stated else ("No", "Yes")
            self.note(
                f"{what}: Has No Data {said} in the workbook, {found} in the data "
                "(define.xml has the data's)"
            )

    def origin(self, v: VariableMeta | ValueLevelMeta, what: str) -> Origin | None:
        if v.origin is None:
            return None
        text = ""
        if v.origin == "Predecessor":
            text = v.predecessor or ""
            if not text:
                self.note(f"{what}: origin Predecessor without a Predecessor")
        document = None
        if v.pages:
            if v.origin != "Collected":
                self.note(
                    f"{what}: Pages are aCRF pages of Collected variables; ignored "
                    f"for origin {v.origin}"
                )
            elif self.acrf_leaf is None:
                self.note(
                    f"{what}: Pages given, but no annotated CRF in the Documents sheet "
                    f"for the {self.which} define.xml; left out"
                )
            else:
                document = DocRef(self.acrf_leaf, v.pages)
        source = v.source or DEFAULT_SOURCES.get(v.origin)
        return Origin(type=v.origin, source=source, text=text, document=document)

    def _method_of(
        self, v: VariableMeta | ValueLevelMeta, origin: Origin | None, what: str
    ) -> MethodInfo | None:
        derived = origin is not None and origin.type == "Derived"
        if v.method is None:
            if derived and isinstance(v, VariableMeta):
                self.note(f"{what}: origin Derived without a Method")
            return None
        if origin is not None and not derived:
            self.note(
                f"{what}: method {v.method} is linked to Derived variables only; "
                f"origin is {origin.type}"
            )
        return self.method(v.method)

    # ------------------------------------------------------------------ variables
    def variable(self, ds_name: str, xvar: XptVariable, v: VariableMeta | None) -> VarInfo:
        what = f"{ds_name}.{xvar.name}"
        if v is None:
            self.note(f"{what} is in the data but not in the Variables sheet")
            return VarInfo(xvar.name, origin=None)
        origin = self.origin(v, what)
        return VarInfo(
            name=xvar.name,
            origin=origin,
            method=self._method_of(v, origin, what),
            comment=self.comment(v.comment),
            codelist=self.codelist(v.codelist),
            role=v.role,
            mandatory=bool(v.mandatory),
            iso8601=xvar.type == "Char" and (v.data_type or "") in datatypes.ISO_TYPES,
            stated=stated(v),
        )

    def value_levels(
        self, ds_name: str, frame: pd.DataFrame, variables: dict[str, VarInfo]
    ) -> None:
        texts: dict[str, pd.Series] = {}
        records = Records(frame)

        def text(column: str) -> pd.Series:
            if column not in texts:
                texts[column] = as_text(frame[column])
            return texts[column]

        for vl in self.meta.value_levels:
            if vl.dataset != ds_name or vl.variable not in variables:
                continue
            what = f"{ds_name}.{vl.variable} [{vl.where}]"
            conditions = self.meta.clause(vl.where, ds_name)
            absent = [c.variable for c in conditions if c.variable not in frame.columns]
            if absent:
                self.note(f"{what}: {', '.join(absent)} is not in the data; value level left out")
                continue
            mask = clause_mask(records, [(c.variable, c.comparator, c.values) for c in conditions])
            if not mask.any():
                self.note(f"{what}: the where clause selects no record; value level left out")
                continue
            self.check_terms(what, vl.codelist, text(vl.variable)[mask])
            origin = self.origin(vl, what)
            variables[vl.variable].value_levels.append(
                ValueLevelInfo(
                    where=tuple((c.variable, c.comparator, tuple(c.values)) for c in conditions),
                    origin=origin,
                    method=self._method_of(vl, origin or variables[vl.variable].origin, what),
                    codelist=self.codelist(vl.codelist),
                    label=vl.label,
                    comment=self.comment(vl.comment),
                    stated=stated(vl),
                )
            )

    # ------------------------------------------------------------------ datasets
    def dataset(self, name: str, path: Path, frame: pd.DataFrame, meta: XptMetadata) -> DatasetInfo:
        ds = self.meta.datasets[name]
        if ds.label is not None and ds.label != meta.label:
            self.note(
                f"{name}: label {ds.label!r} in the workbook, {meta.label!r} in the data "
                "(define.xml has the data's)"
            )
        variables: dict[str, VarInfo] = {}
        self.check_no_data(name, ds.has_no_data, len(frame) == 0)
        for xvar in meta.variables:
            v = ds.variables.get(xvar.name)
            variables[xvar.name] = self.variable(name, xvar, v)
            if v is not None:
                values = as_text(frame[xvar.name])
                self.check_terms(f"{name}.{xvar.name}", v.codelist, values)
                empty = len(frame) > 0 and bool((values == "").all())
                self.check_no_data(f"{name}.{xvar.name}", v.has_no_data, empty)
        absent = [v for v in ds.variables if v not in variables]
        if absent:
            self.note(f"{name}: {', '.join(absent)} in the Variables sheet but not in the data")
        given = [v for v in ds.variables if v in variables]
        if given != [v for v in variables if v in ds.variables]:
            self.note(
                f"{name}: the Variables sheet orders the variables differently from the "
                "data (define.xml has the data's order)"
            )
        self.value_levels(name, frame, variables)
        has_subject = "USUBJID" in frame.columns
        one_per_subject = ds.structure.casefold().startswith("one record per subject")
        domain = None if self.which == "adam" else sdtm_domain(name, frame)
        return DatasetInfo(
            name=name,
            path=path,
            frame=frame,
            meta=meta,
            domain=domain,
            structure=ds.structure,
            class_=ds.class_,
            subclass=ds.subclass,
            purpose="Analysis" if self.which == "adam" else "Tabulation",
            keys=list(ds.keys),
            variables=variables,
            repeating=ds.repeating
            if ds.repeating is not None
            else has_subject and not one_per_subject,
            reference_data=(
                ds.reference_data if ds.reference_data is not None else not has_subject
            ),
            comment=self.comment(ds.comment),
            domain_description=self.domain_description(name, domain),
        )

    def domain_description(self, name: str, domain: str | None) -> str | None:
        """The description of the domain a SUPP-- or split dataset belongs to (Define-XML
        2.1 section 5.3.4: Alias Context="DomainDescription"): the workbook's label of the
        domain, else the IG's; None for a dataset that is its domain."""
        if domain is None or domain == name:
            return None
        parent = self.meta.datasets.get(domain)
        if parent is not None and parent.label:
            return parent.label
        ig = load_sdtmig()
        return ig.dataset(domain).label if ig.has_dataset(domain) else None


def sdtm_domain(name: str, frame: pd.DataFrame) -> str:
    """The domain of SDTM dataset ``name``: the one DOMAIN value of its records (a split
    dataset, SDTMIG 3.4 section 4.1.7, e.g. LBCH holding DOMAIN LB), else the parent of a
    SUPP-- dataset, else the name itself."""
    if "DOMAIN" in frame.columns:
        values = [v for v in pd.unique(as_text(frame["DOMAIN"])) if v != ""]
        if len(values) == 1:
            return str(values[0]).upper()
    if name.startswith("SUPP") and len(name) > 4:
        return name[4:]
    return name


# ---------------------------------------------------------------------------- code lists


def _workbook_codelist(
    oid: str,
    cl_id: str,
    cl: CodelistMeta,
    built: CodeListDef,
    model: DefineModel,
    describer: MetadataDescriber,
    notes: list[str],
) -> CodeListDef:
    standard = ct_standard(cl.terminology)
    if cl.nci_code and standard is None and cl.terminology:
        notes.append(
            f"codelist {cl_id}: Terminology {cl.terminology!r} names no CT package (give "
            "one, e.g. 'SDTM CT 2024-03-29'); written without def:StandardOID"
        )
    if standard is not None and all(s.oid != standard.oid for s in model.standards):
        model.standards.append(standard)
    comment = describer.comment(cl.comment)
    comment_oid = comment.oid if comment is not None else None
    if comment is not None and comment.oid and comment.oid not in model.comments:
        model.comments[comment.oid] = Comment(comment.oid, comment.text, comment.document)
    return CodeListDef(
        oid=oid,
        name=cl.name,
        data_type=cl.data_type or built.data_type,
        terms=[
            Term(
                value=t.term,
                decode=t.decode,
                nci_code=t.nci_code,
                extended=bool(cl.nci_code) and not t.nci_code,
            )
            for t in cl.terms
        ],
        nci_code=cl.nci_code,
        standard_oid=standard.oid if standard is not None else None,
        non_standard=not cl.nci_code,
        comment_oid=comment_oid,
    )


def _workbook_codelists(
    model: DefineModel, meta: DefineMetadata, describer: MetadataDescriber
) -> list[str]:
    """Replace the assembled code lists by the workbook's; name and version the
    dictionaries as the workbook does. Returns warnings."""
    notes: list[str] = []
    untold: list[str] = []  # CDISC lists without a Terminology (the older layout has none)
    for oid, built in list(model.codelists.items()):
        cl_id = describer.codelist_oids.get(oid)
        if cl_id is not None:
            cl = meta.codelists[cl_id]
            untold += [cl_id] if cl.nci_code and not cl.terminology else []
            model.codelists[oid] = _workbook_codelist(
                oid, cl_id, cl, built, model, describer, notes
            )
        elif built.dictionary in meta.dictionaries:  # by its ID (MetadataDescriber.codelist)
            dict_id, d = built.dictionary, meta.dictionaries[built.dictionary]
            if not d.version:
                notes.append(f"dictionary {dict_id} ({d.dictionary}) has no Version")
            built.dictionary = d.dictionary
            built.name = d.name or d.dictionary
            built.data_type = d.data_type
            built.version = d.version or None
            built.href = d.href or DICTIONARY_HOMES.get(d.dictionary.upper())
    if untold:
        shown = ", ".join(untold[:8]) + (f" and {len(untold) - 8} more" if len(untold) > 8 else "")
        notes.append(
            f"{len(untold)} codelist(s) with an NCI Codelist Code but no Terminology ({shown}): "
            "written without def:StandardOID (give the CT package, e.g. 'SDTM CT 2024-03-29')"
        )
    return notes


# ---------------------------------------------------------------------------- build
def build_metadata_model(
    meta: DefineMetadata, data_dir: Path, which: Which
) -> tuple[DefineModel, list[str]]:
    """The DefineModel of the ``which`` datasets in ``data_dir`` as the workbook metadata
    describes them, and warnings (nothing is written).

    Raises:
        SpecError: a name in the metadata points at nothing.
        DefineInputError: no datasets in ``data_dir``, or one the metadata does not
            describe or describes as the other kind (tabulation/analysis).
    """
    check_metadata(meta)
    notes: list[str] = []
    extras = define_extras(meta)
    ig = ig_standard(meta, which, notes)
    datasets = read_datasets(Path(data_dir))
    study = SimpleNamespace(
        studyid=meta.study.study_name,
        title=meta.study.study_description or meta.study.study_name,
        protocol=meta.study.protocol_name or meta.study.study_name,
        sponsor=meta.study.originator or "",
    )
    model = new_model(which, study, extras, ig)
    describer = MetadataDescriber(meta, which, extras, model.acrf_leaf)
    infos = []
    for path, frame, xmeta in datasets:
        name = (xmeta.dataset or path.stem).upper()
        ds = meta.datasets.get(name)
        if ds is None:
            raise DefineInputError(
                f"{path.name}: the workbook's Datasets sheet does not describe {name}",
                where=str(path),
                hint="add the dataset to the workbook, or remove the file",
            )
        kind = dataset_kind(name, ds)
        if kind != which:
            raise DefineInputError(
                f"{path.name}: the workbook says {name} is a "
                f"{'n analysis' if kind == 'adam' else ' tabulation'} dataset, "
                f"but it is among the {which} datasets",
                where=str(path),
                hint=f"move it to the {kind} folder, or correct its Purpose",
            )
        infos.append(describer.dataset(name, path, frame, xmeta))
    present = {info.name for info in infos}
    for name, ds in meta.datasets.items():
        if dataset_kind(name, ds) == which and name not in present:
            notes.append(f"{name} is in the Datasets sheet but {data_dir} has no {name}.xpt")
    order = {name: i for i, name in enumerate(meta.datasets)}
    assembled = assemble(model, extras, infos, lambda info: order[info.name])
    listed = _workbook_codelists(model, meta, describer)
    return model, notes + describer.notes + assembled + listed


def write_define_from_metadata(
    meta: DefineMetadata,
    out_dir: Path,
    which: Iterable[str] = ("sdtm", "adam"),
    *,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write ``OUT/sdtm/define.xml`` and ``OUT/adam/define.xml`` (with ``define.html``
    beside each) for the datasets there, as the workbook metadata describes them; return
    the files written. Like :func:`~cdisc_mapper.define.pipeline.write_define`: a kind
    whose folder holds no ``.xpt`` is skipped, nothing at all is an error, warnings go to
    ``progress`` when given, else to :mod:`warnings` (DefineWarning), and each file is
    schema-checked. A kind the workbook describes no dataset of is skipped too
    (:func:`described_kinds`).
    """

    def build(kind: str, folder: Path) -> tuple[DefineModel, list[str]]:
        return build_metadata_model(meta, folder, kind)  # type: ignore[arg-type]

    return write_each(
        Path(out_dir), described_kinds(meta, which, Path(out_dir), progress), build, progress,
        "the workbook metadata",
        empty_hint="put the .xpt files in OUT/sdtm (tabulation) and OUT/adam (analysis)",
    )  # fmt: skip


def described_kinds(
    meta: DefineMetadata,
    which: Iterable[str],
    out_dir: Path,
    progress: Callable[[str], None] | None,
) -> list[str]:
    """The kinds of ``which`` the workbook describes a dataset of: a workbook of SDTM (or
    ADaM) only writes that side's define.xml, and leaves the other folder as it is."""
    described = {dataset_kind(name, ds) for name, ds in meta.datasets.items()}
    kinds = []
    for kind in which:
        if kind in described or kind not in ("sdtm", "adam"):
            kinds.append(kind)
        elif (out_dir / kind).is_dir() and progress is not None:
            progress(
                f"define.xml for {kind.upper()}: skipped, the workbook describes no "
                f"{'analysis' if kind == 'adam' else 'tabulation'} dataset; "
                f"{out_dir / kind} is left as it is"
            )
    return kinds


__all__ = [
    "MetadataDescriber",
    "build_metadata_model",
    "dataset_kind",
    "define_extras",
    "write_define_from_metadata",
]
