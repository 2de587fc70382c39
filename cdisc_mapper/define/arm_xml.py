"""The ARM 1.0 part of a define.xml (arm:AnalysisResultDisplays) as odmlib objects.

odmlib's ARM model (``odmlib.arm_1_0.model``) extends its Define-XML 2.1 model with the
ARM elements and serialises them in schema order; a document with result displays is
built from its MetaDataVersion, Study and ODM classes (:mod:`.writer` picks them) and
declares the ``arm`` namespace.
"""

from __future__ import annotations

from typing import Any

import odmlib.arm_1_0.model as ARM

from cdisc_mapper.define.model import AnalysisResultDef, DefineModel, DocRef, ResultDisplayDef

ARM_NS = "http://www.cdisc.org/ns/arm/v1.0"


def root_classes(model: DefineModel, define: Any) -> Any:
    """The model module whose MetaDataVersion, Study and ODM classes write ``model``: ARM's
    when it has result displays, else ``define`` (odmlib's Define-XML 2.1 model)."""
    return ARM if model.result_displays else define


def namespaces(model: DefineModel, snapshot: dict) -> dict:
    """The namespace snapshot of the document, with ``arm`` when it has result displays."""
    if not model.result_displays:
        return snapshot
    return {**snapshot, "namespaces": {**snapshot["namespaces"], "arm": ARM_NS}}


def _description(text: str) -> ARM.Description:
    desc = ARM.Description()
    desc.TranslatedText.append(ARM.TranslatedText(_content=text, lang="en"))
    return desc


def _doc_ref(ref: DocRef) -> ARM.DocumentRef:
    doc = ARM.DocumentRef(leafID=ref.leaf_id)
    if ref.pages:
        doc.PDFPageRef.append(ARM.PDFPageRef(PageRefs=ref.pages, Type="PhysicalRef"))
    return doc


def _result(result: AnalysisResultDef) -> ARM.AnalysisResult:
    kwargs: dict[str, object] = {"OID": result.oid}
    if result.parameter_oid:
        kwargs["ParameterOID"] = result.parameter_oid
    kwargs["AnalysisReason"] = result.reason
    kwargs["AnalysisPurpose"] = result.purpose
    out = ARM.AnalysisResult(**kwargs)
    out.Description = _description(result.description)
    out.AnalysisDatasets = ARM.AnalysisDatasets()
    for ref in result.datasets:
        ds = ARM.AnalysisDataset(ItemGroupOID=ref.dataset_oid)
        if ref.where_oid:
            ds.WhereClauseRef = ARM.WhereClauseRef(WhereClauseOID=ref.where_oid)
        for oid in ref.variable_oids:
            ds.AnalysisVariable.append(ARM.AnalysisVariable(ItemOID=oid))
        out.AnalysisDatasets.AnalysisDataset.append(ds)
    if result.documentation:
        out.Documentation = ARM.Documentation()
        out.Documentation.Description = _description(result.documentation)
    if result.code is not None:
        context, code = result.code
        out.ProgrammingCode = ARM.ProgrammingCode(Context=context)
        out.ProgrammingCode.Code = ARM.Code(_content=code)
    return out


def _display(display: ResultDisplayDef) -> ARM.ResultDisplay:
    out = ARM.ResultDisplay(OID=display.oid, Name=display.name)
    out.Description = _description(display.description)
    if display.document is not None:
        out.DocumentRef.append(_doc_ref(display.document))
    for result in display.results:
        out.AnalysisResult.append(_result(result))
    return out


def result_displays(model: DefineModel) -> ARM.AnalysisResultDisplays | None:
    """arm:AnalysisResultDisplays of ``model`` (None when it has no result display)."""
    if not model.result_displays:
        return None
    out = ARM.AnalysisResultDisplays()
    for display in model.result_displays:
        out.ResultDisplay.append(_display(display))
    return out
