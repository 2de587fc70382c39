"""Writing a DefineModel as Define-XML 2.1 with odmlib's declarative model.

Why odmlib (``odmlib.define_2_1.model``) and not hand-built lxml: its classes mirror the
Define-XML 2.1 elements one to one, check attribute values and required children when
they are created, and serialise children in schema order whatever order we assign them
in, so the writer is a plain mapping from our model and cannot emit a misordered
document. It lacks only two things, added here on the lxml side: pretty printing and the
``xml-stylesheet`` processing instruction. odmlib keeps a process-wide namespace registry
(another module importing ``odmlib.define_2_0`` would rebind ``def:``), so each document
is bound to an explicit Define-XML 2.1 namespace snapshot before it is serialised.

Output is deterministic: attribute order is fixed by the keyword order below, lists come
ordered from the model, and the creation date-time is an input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import odmlib.define_2_1.model as DEF
import odmlib.ns_registry as NS
import odmlib.typed as T
from lxml import etree

from cdisc_mapper.define import arm_xml
from cdisc_mapper.define.model import (
    CodeListDef,
    Comment,
    DatasetDef,
    DefineModel,
    DocRef,
    ItemDef,
    Method,
    Origin,
    WhereClause,
)
from cdisc_mapper.define.model import ItemRef as RefDef

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
STYLESHEET = "define2-1.xsl"
_SNAPSHOT = {
    "namespaces": {"odm": ODM_NS, "def": DEF_NS, "xlink": XLINK_NS},
    "default": {"odm": ODM_NS},
}


def _description(text: str) -> DEF.Description:
    desc = DEF.Description()
    desc.TranslatedText.append(DEF.TranslatedText(_content=text, lang="en"))
    return desc


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def _doc_ref(ref: DocRef) -> DEF.DocumentRef:
    doc = DEF.DocumentRef(leafID=ref.leaf_id)
    if ref.pages:
        doc.PDFPageRef.append(DEF.PDFPageRef(PageRefs=ref.pages, Type="PhysicalRef"))
    return doc


def _origin(origin: Origin) -> DEF.Origin:
    kwargs = {"Type": origin.type}
    if origin.source:
        kwargs["Source"] = origin.source
    out = DEF.Origin(**kwargs)
    if origin.text:
        out.Description = _description(origin.text)
    if origin.document is not None:
        out.DocumentRef.append(_doc_ref(origin.document))
    return out


def _item_ref(ref: RefDef, cls: type = DEF.ItemRef) -> Any:
    kwargs: dict[str, object] = {
        "ItemOID": ref.item_oid,
        "OrderNumber": ref.order,
        "Mandatory": _yes(ref.mandatory),
    }
    if ref.key_sequence is not None:
        kwargs["KeySequence"] = ref.key_sequence
    if ref.method_oid:
        kwargs["MethodOID"] = ref.method_oid
    if ref.role:
        kwargs["Role"] = ref.role
    if ref.non_standard:
        kwargs["IsNonStandard"] = "Yes"
    if ref.has_no_data:
        kwargs["HasNoData"] = "Yes"
    out = cls(**kwargs)
    for wc in ref.where_oids:
        out.WhereClauseRef.append(DEF.WhereClauseRef(WhereClauseOID=wc))
    return out


class ItemRef(DEF.ItemRef):
    """An ItemRef of an ItemGroupDef: odmlib's Define-XML 2.1 ItemRef (which has
    def:HasNoData and def:IsNonStandard) with WhereClauseRef optional, as the schema
    has it there (odmlib requires one, as value-level ItemRefs do). The class name is
    the element name odmlib writes."""

    ItemOID = DEF.ItemRef.ItemOID
    OrderNumber = DEF.ItemRef.OrderNumber
    Mandatory = DEF.ItemRef.Mandatory
    KeySequence = DEF.ItemRef.KeySequence
    MethodOID = DEF.ItemRef.MethodOID
    Role = DEF.ItemRef.Role
    RoleCodeListOID = DEF.ItemRef.RoleCodeListOID
    IsNonStandard = T.ValueSetString(namespace="def")
    HasNoData = T.ValueSetString(namespace="def")
    WhereClauseRef = T.ODMListObject(
        required=False, element_class=DEF.WhereClauseRef, namespace="def"
    )


def _dataset(ds: DatasetDef) -> DEF.ItemGroupDef:
    kwargs: dict[str, object] = {
        "OID": ds.oid,
        "Name": ds.name,
        "SASDatasetName": ds.name,
        "Repeating": _yes(ds.repeating),
        "IsReferenceData": _yes(ds.reference_data),
        "Purpose": ds.purpose,
        "Structure": ds.structure,
        "ArchiveLocationID": ds.leaf_id,
        "StandardOID": ds.standard_oid,
    }
    if ds.domain:
        kwargs["Domain"] = ds.domain
    if ds.comment_oid:
        kwargs["CommentOID"] = ds.comment_oid
    if ds.non_standard:
        kwargs["IsNonStandard"] = "Yes"
    group = DEF.ItemGroupDef(**kwargs)
    group.Description = _description(ds.label)
    for ref in ds.item_refs:
        group.ItemRef.append(_item_ref(ref, ItemRef))
    if ds.domain_description:
        group.Alias.append(DEF.Alias(Context="DomainDescription", Name=ds.domain_description))
    group.Class = DEF.Class(Name=ds.class_)
    if ds.subclass:
        group.Class.SubClass.append(DEF.SubClass(Name=ds.subclass))
    group.leaf = DEF.leaf(ID=ds.leaf_id, href=ds.href, title=DEF.title(_content=ds.href))
    return group


def _item(item: ItemDef) -> DEF.ItemDef:
    kwargs: dict[str, object] = {
        "OID": item.oid,
        "Name": item.name,
        "DataType": item.data_type,
    }
    if item.length is not None:
        kwargs["Length"] = item.length
    if item.significant_digits is not None:
        kwargs["SignificantDigits"] = item.significant_digits
    kwargs["SASFieldName"] = item.name
    if item.display_format:
        kwargs["DisplayFormat"] = item.display_format
    if item.comment_oid:
        kwargs["CommentOID"] = item.comment_oid
    out = DEF.ItemDef(**kwargs)
    out.Description = _description(item.label)
    if item.codelist_oid:
        out.CodeListRef = DEF.CodeListRef(CodeListOID=item.codelist_oid)
    if item.origin is not None:
        out.Origin.append(_origin(item.origin))
    if item.valuelist_oid:
        out.ValueListRef = DEF.ValueListRef(ValueListOID=item.valuelist_oid)
    return out


def _codelist(cl: CodeListDef) -> DEF.CodeList:
    kwargs: dict[str, object] = {"OID": cl.oid, "Name": cl.name, "DataType": cl.data_type}
    if cl.non_standard:
        kwargs["IsNonStandard"] = "Yes"
    if cl.standard_oid:
        kwargs["StandardOID"] = cl.standard_oid
    if cl.comment_oid:
        kwargs["CommentOID"] = cl.comment_oid
    out = DEF.CodeList(**kwargs)
    if cl.dictionary:
        ext: dict[str, object] = {"Dictionary": cl.dictionary}
        if cl.version:
            ext["Version"] = cl.version
        if cl.href:
            ext["href"] = cl.href
        out.ExternalCodeList = DEF.ExternalCodeList(**ext)
        return out
    decoded = cl.has_decodes
    for order, term in enumerate(cl.terms, start=1):
        kw: dict[str, object] = {"CodedValue": term.value, "OrderNumber": order}
        if term.extended:
            kw["ExtendedValue"] = "Yes"
        entry: Any
        target: list[Any]
        if decoded:
            entry = DEF.CodeListItem(**kw)
            entry.Decode = DEF.Decode()
            entry.Decode.TranslatedText.append(
                DEF.TranslatedText(_content=term.decode or term.value, lang="en")
            )
            target = out.CodeListItem
        else:
            entry = DEF.EnumeratedItem(**kw)
            target = out.EnumeratedItem
        if term.nci_code:
            entry.Alias.append(DEF.Alias(Context="nci:ExtCodeID", Name=term.nci_code))
        target.append(entry)
    if cl.nci_code:
        out.Alias.append(DEF.Alias(Context="nci:ExtCodeID", Name=cl.nci_code))
    return out


def _global_variables(model: DefineModel) -> DEF.GlobalVariables:
    out = DEF.GlobalVariables()
    out.StudyName = DEF.StudyName(_content=model.study_name)
    out.StudyDescription = DEF.StudyDescription(_content=model.study_description)
    out.ProtocolName = DEF.ProtocolName(_content=model.protocol_name)
    return out


def _standards(model: DefineModel) -> DEF.Standards:
    out = DEF.Standards()
    for std in model.standards:
        kw: dict[str, object] = {"OID": std.oid, "Name": std.name, "Type": std.type}
        if std.publishing_set:
            kw["PublishingSet"] = std.publishing_set
        kw["Version"] = std.version
        kw["Status"] = std.status
        out.Standard.append(DEF.Standard(**kw))
    return out


def _documents(model: DefineModel, mdv: DEF.MetaDataVersion) -> None:
    if model.acrf_leaf:
        mdv.AnnotatedCRF = DEF.AnnotatedCRF(DocumentRef=DEF.DocumentRef(leafID=model.acrf_leaf))
    if model.supplemental_leaves:
        mdv.SupplementalDoc = DEF.SupplementalDoc()
        for leaf_id in model.supplemental_leaves:
            mdv.SupplementalDoc.DocumentRef.append(DEF.DocumentRef(leafID=leaf_id))


def _where_clause(oid: str, clause: WhereClause) -> DEF.WhereClauseDef:
    wc = DEF.WhereClauseDef(OID=oid)
    for check in clause.checks:
        rc = DEF.RangeCheck(Comparator=check.comparator, SoftHard="Soft", ItemOID=check.item_oid)
        for value in check.values:
            rc.CheckValue.append(DEF.CheckValue(_content=value))
        wc.RangeCheck.append(rc)
    return wc


def _method(oid: str, method: Method) -> DEF.MethodDef:
    md = DEF.MethodDef(OID=oid, Name=method.name, Type=method.type)
    md.Description = _description(method.description)
    if method.expression is not None:
        context, code = method.expression
        md.FormalExpression.append(DEF.FormalExpression(Context=context, _content=code))
    if method.document is not None:
        md.DocumentRef.append(_doc_ref(method.document))
    return md


def _comment(oid: str, comment: Comment) -> DEF.CommentDef:
    cd = DEF.CommentDef(OID=oid)
    cd.Description = _description(comment.text)
    if comment.document is not None:
        cd.DocumentRef.append(_doc_ref(comment.document))
    return cd


def _metadata_version(model: DefineModel) -> DEF.MetaDataVersion:
    mdv = arm_xml.root_classes(model, DEF).MetaDataVersion(
        OID=model.mdv_oid,
        Name=model.mdv_name,
        Description=model.mdv_description,
        DefineVersion="2.1.0",
    )
    mdv.Standards = _standards(model)
    _documents(model, mdv)
    for oid in sorted(model.value_lists):
        vl = DEF.ValueListDef(OID=oid)
        for ref in model.value_lists[oid].item_refs:
            vl.ItemRef.append(_item_ref(ref))
        mdv.ValueListDef.append(vl)
    for oid in sorted(model.where_clauses):
        mdv.WhereClauseDef.append(_where_clause(oid, model.where_clauses[oid]))
    for ds in model.datasets:
        mdv.ItemGroupDef.append(_dataset(ds))
    for item in model.items.values():
        mdv.ItemDef.append(_item(item))
    for oid in sorted(model.codelists):
        mdv.CodeList.append(_codelist(model.codelists[oid]))
    for oid in sorted(model.methods):
        mdv.MethodDef.append(_method(oid, model.methods[oid]))
    for oid in sorted(model.comments):
        mdv.CommentDef.append(_comment(oid, model.comments[oid]))
    for leaf in model.leaves:
        mdv.leaf.append(DEF.leaf(ID=leaf.id, href=leaf.href, title=DEF.title(_content=leaf.title)))
    if model.result_displays:
        mdv.AnalysisResultDisplays = arm_xml.result_displays(model)
    return mdv


def to_odmlib(model: DefineModel) -> DEF.ODM:
    """The odmlib object tree of a DefineModel."""
    classes = arm_xml.root_classes(model, DEF)
    root = classes.ODM(
        FileOID=model.file_oid,
        FileType="Snapshot",
        CreationDateTime=model.creation_datetime,
        ODMVersion="1.3.2",
        Originator=model.originator,
        SourceSystem="cdisc_mapper",
        SourceSystemVersion=model.source_system_version,
        Context="Submission",
    )
    study = classes.Study(OID=model.study_oid)
    study.GlobalVariables = _global_variables(model)
    study.MetaDataVersion = _metadata_version(model)
    root.Study = study
    return root


def to_bytes(model: DefineModel) -> bytes:
    """The define.xml document: XML declaration, stylesheet instruction, indented ODM."""
    root = to_odmlib(model)
    NS.bind_document_namespaces(root, arm_xml.namespaces(model, _SNAPSHOT))
    text = root.to_xml_string()
    tree = etree.fromstring(text.encode("utf-8"), etree.XMLParser(remove_blank_text=True))
    etree.indent(tree, space="  ")
    pi = etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{STYLESHEET}"')
    body = etree.tostring(tree, encoding="UTF-8", xml_declaration=False)
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(pi) + b"\n"
    return head + body + b"\n"


def write_model(model: DefineModel, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_bytes(model))
    return path
