"""What a define-generator workbook's metadata says about standards and documents: the
IG of each kind (SDTM, ADaM), the CT package of a code list, which datasets are SDTM or
ADaM, which document is the annotated CRF, and the define.yaml facts the shared builders
read (:func:`define_extras`)."""

from __future__ import annotations

import re

from cdisc_mapper.define.codelists import PUBLISHING_SETS, ct_package
from cdisc_mapper.define.model import StandardDef
from cdisc_mapper.spec.define import (
    CodelistOption,
    DefineExtras,
    DefineSpec,
    DictionarySpec,
    DocumentSpec,
    Which,
)
from cdisc_mapper.spec.metadata import DatasetMeta, DefineMetadata, DocumentMeta
from cdisc_mapper.standards import load_adamig, load_sdtmig

#: Document IDs (normalised) that name the annotated CRF when no Type column says so.
ACRF_IDS = frozenset({"blankcrf", "acrf", "crf", "annotatedcrf"})

#: Define-XML 2.1 IG standard names (define-enumerations.xsd StandardName) by kind.
IG_NAMES: dict[str, Which] = {
    "SDTMIG": "sdtm",
    "SDTMIG-AP": "sdtm",
    "SDTMIG-MD": "sdtm",
    "ADaMIG": "adam",
    "ADaM-OCCDSIG": "adam",
    "ADaMIG-MD": "adam",
    "ADaMIG-NCA": "adam",
    "ADaMIG-popPK": "adam",
}

#: Names workbooks give an IG by (the older P21 templates' StandardName ``SDTM`` with
#: StandardVersion ``3.2``: the model's name for its IG), by their :func:`_key`.
IG_ALIASES = {"sdtm": "SDTMIG", "adam": "ADaMIG"}

_CT_PACKAGE = re.compile(
    r"\b(SDTM|ADaM|SEND|CDASH|DEFINE-XML)\b.*?\b(\d{4}-\d{2}-\d{2})\b", re.IGNORECASE
)

_PUBLISHING = {p.upper(): p for p in (*PUBLISHING_SETS.values(), "SEND", "CDASH")}


def _key(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text).casefold()


def codelist_short_name(cl_id: str) -> str:
    """The short name whose OID (``CL.<short name>``) a workbook code list gets."""
    return cl_id[3:] if cl_id.startswith("CL.") and len(cl_id) > 3 else cl_id


def dataset_kind(name: str, ds: DatasetMeta) -> Which:
    """sdtm or adam: by Purpose, else by Standard (an SDTM or ADaM IG), else ADaM for a
    name starting with AD."""
    if ds.purpose is not None:
        return "adam" if ds.purpose == "Analysis" else "sdtm"
    standard = parse_standard(ds.standard)[0]
    if standard is not None:
        return IG_NAMES[standard]
    return "adam" if name.upper().startswith("AD") else "sdtm"


def document_kind(doc_id: str, doc: DocumentMeta) -> str:
    """acrf or supplemental: the Type column, else the annotated CRF by ID or title."""
    if doc.kind is not None:
        return doc.kind
    title = doc.title.casefold()
    if _key(doc_id) in ACRF_IDS or ("annotated" in title and "crf" in title):
        return "acrf"
    return "supplemental"


def define_extras(meta: DefineMetadata) -> DefineExtras:
    """The define.yaml facts the shared builders read (documents, dictionaries, full code
    lists), from the workbook. The annotated CRF is for the SDTM define.xml only unless
    the workbook's Standards column says otherwise."""
    documents = {}
    for doc_id, doc in meta.documents.items():
        kind = document_kind(doc_id, doc)
        default: list[Which] = ["sdtm"] if kind == "acrf" else ["sdtm", "adam"]
        documents[doc_id] = DocumentSpec(
            title=doc.title, href=doc.href, kind=kind, standards=doc.standards or default
        )
    # by the workbook's ID, as variables name them (two versions of one dictionary are two)
    dictionaries = {
        dict_id: DictionarySpec(version=d.version or "", href=d.href)
        for dict_id, d in meta.dictionaries.items()
    }
    codelists = {codelist_short_name(c): CodelistOption(full=True) for c in meta.codelists}
    spec = DefineSpec(
        originator=meta.study.originator,
        documents=documents,
        dictionaries=dictionaries,
        codelists=codelists,
    )
    return DefineExtras(spec)


def parse_standard(text: str | None) -> tuple[str | None, str | None]:
    """``("SDTMIG", "3.4")`` from ``SDTMIG 3.4``, ``SDTM-IG v3.4`` or ``SDTM-IG``: the
    Define-XML IG name (None when not one) and the version given with it."""
    if not text:
        return None, None
    m = re.fullmatch(r"\s*(.*?)[\s_]*(?:v(?:ersion)?\s*)?(\d+(?:\.\d+)*)?\s*", text, re.I)
    assert m is not None  # the pattern matches any text
    name = next((n for n in IG_NAMES if _key(n) == _key(m[1])), IG_ALIASES.get(_key(m[1])))
    return name, m[2]


def ig_standard(meta: DefineMetadata, which: Which, notes: list[str]) -> StandardDef:
    """The IG of the Study sheet (StandardName, StandardVersion) when it is this kind's,
    else the one the Datasets sheet's Standard column gives this kind's datasets, else the
    IG version cdisc_mapper ships."""
    found: list[tuple[str, str]] = []
    name, version = parse_standard(meta.study.standard)
    if meta.study.standard and name is None:
        notes.append(
            f"Study StandardName {meta.study.standard!r} is not a Define-XML 2.1 IG name; ignored"
        )
    if name is not None and IG_NAMES[name] == which and (meta.study.standard_version or version):
        found.append((name, meta.study.standard_version or version or ""))
    for ds_name, ds in meta.datasets.items():
        name, version = parse_standard(ds.standard)
        if (
            name is not None
            and version
            and IG_NAMES[name] == which
            and dataset_kind(ds_name, ds) == which
        ):
            found.append((name, version))
    if found:
        if len(set(found)) > 1:
            shown = ", ".join(sorted({f"{n} {v}" for n, v in found}))
            notes.append(
                f"the workbook names several {which} IGs ({shown}); define.xml says "
                f"{found[0][0]} {found[0][1]}"
            )
        name, version = found[0]
        return StandardDef(oid=f"STD.{name}.{version}", name=name, type="IG", version=version)
    name = "SDTMIG" if which == "sdtm" else "ADaMIG"
    version = (load_sdtmig() if which == "sdtm" else load_adamig()).version
    notes.append(f"no {name} version in the Study sheet; define.xml says {name} {version}")
    return StandardDef(oid=f"STD.{name}.{version}", name=name, type="IG", version=version)


def ct_standard(terminology: str | None) -> StandardDef | None:
    """The CT package a Terminology cell names (``SDTM CT 2024-03-29``), if any."""
    m = _CT_PACKAGE.search(terminology or "")
    if m is None:
        return None
    return ct_package(_PUBLISHING[m[1].upper()], m[2])
