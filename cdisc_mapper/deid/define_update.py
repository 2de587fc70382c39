"""The original define.xml with the attributes de-identification changed, rewritten.

Regenerating define.xml from the data alone would lose what only the original says
(origins, methods, value-level metadata, documents), so the original is kept and only
what de-identification changed is rewritten: for each de-identified variable its
``Length`` (and that of its value-level ItemDefs) follows the new values, its origin
loses the description of the original values, a ``def:CommentDef`` says what was done
and why (after the original comment, if any),
and new values of a variable with an enumerated code list (a grouped ``OTHER``, an age
group label) are added to that code list. The result is checked against the
Define-XML 2.1 schema before it is written.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from lxml import etree

from cdisc_mapper.define.reader import parse_tree
from cdisc_mapper.define.schema import validate_tree
from cdisc_mapper.errors import CdiscMapperError

ODM = "http://www.cdisc.org/ns/odm/v1.3"
DEF = "http://www.cdisc.org/ns/def/v2.1"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NS = {"odm": ODM, "def": DEF}


class DefineUpdateError(CdiscMapperError):
    """The updated define.xml would not be schema-valid."""


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _comment_text(mdv: etree._Element, oid: str | None) -> str:
    if not oid:
        return ""
    found = mdv.find(f"def:CommentDef[@OID='{oid}']", NS)
    if found is None:
        return ""
    return " ".join(t.text or "" for t in found.iterfind(".//odm:TranslatedText", NS)).strip()


def _add_comment(mdv: etree._Element, item: etree._Element, oid: str, text: str) -> None:
    comment = etree.Element(_q(DEF, "CommentDef"), OID=oid)
    description = etree.SubElement(comment, _q(ODM, "Description"))
    translated = etree.SubElement(description, _q(ODM, "TranslatedText"))
    translated.set(XML_LANG, "en")
    translated.text = text
    anchor = mdv.findall("def:CommentDef", NS) or []
    if anchor:
        anchor[-1].addnext(comment)
    else:
        following = mdv.find("def:leaf", NS)
        if following is None:
            mdv.append(comment)
        else:
            following.addprevious(comment)
    item.set(_q(DEF, "CommentOID"), oid)


def _set_length(item: etree._Element, length: int | None) -> None:
    if length is not None and item.get("Length") is not None and item.get("DataType") == "text":
        item.set("Length", str(length))


def _add_terms(mdv: etree._Element, item: etree._Element, values: set[str]) -> None:
    ref = item.find("odm:CodeListRef", NS)
    if ref is None or not values:
        return
    codelist = mdv.find(f"odm:CodeList[@OID='{ref.get('CodeListOID')}']", NS)
    if codelist is None or codelist.find("odm:ExternalCodeList", NS) is not None:
        return
    items = codelist.findall("odm:CodeListItem", NS) + codelist.findall("odm:EnumeratedItem", NS)
    have = {i.get("CodedValue") for i in items}
    decoded = codelist.find("odm:CodeListItem", NS) is not None
    last = items[-1] if items else None
    for value in sorted(values - have):
        new = etree.Element(_q(ODM, "CodeListItem" if decoded else "EnumeratedItem"))
        new.set("CodedValue", value)
        if decoded:
            text = etree.SubElement(
                etree.SubElement(new, _q(ODM, "Decode")), _q(ODM, "TranslatedText")
            )
            text.set(XML_LANG, "en")
            text.text = value
        if last is None:
            codelist.insert(0, new)
        else:
            last.addnext(new)
        last = new


def _drop_origin_text(item: etree._Element) -> None:
    """The origin's description (e.g. ``Assigned: <the value>``) told how the original
    values came about, not the de-identified ones: it goes, the origin type stays."""
    for origin in item.iterfind("def:Origin", NS):
        for description in origin.findall("odm:Description", NS):
            origin.remove(description)


def _item_oids(mdv: etree._Element, dataset: str) -> dict[str, etree._Element]:
    group = mdv.find(f"odm:ItemGroupDef[@Name='{dataset}']", NS)
    found: dict[str, etree._Element] = {}
    if group is None:
        return found
    for ref in group.iterfind("odm:ItemRef", NS):
        item = mdv.find(f"odm:ItemDef[@OID='{ref.get('ItemOID')}']", NS)
        if item is not None:
            found[item.get("Name") or ""] = item
    return found


def _value_items(mdv: etree._Element, item: etree._Element) -> list[etree._Element]:
    ref = item.find("def:ValueListRef", NS)
    if ref is None:
        return []
    vl = mdv.find(f"def:ValueListDef[@OID='{ref.get('ValueListOID')}']", NS)
    if vl is None:
        return []
    oids = [r.get("ItemOID") for r in vl.iterfind("odm:ItemRef", NS)]
    return [i for o in oids if (i := mdv.find(f"odm:ItemDef[@OID='{o}']", NS)) is not None]


def update_define(
    source: Path,
    target: Path,
    changed: Mapping[tuple[str, str], tuple[str, int | None, set[str]]],
    removed: Collection[str] = (),
) -> Path:
    """``source`` rewritten to ``target``; ``changed`` maps (dataset, variable) to the
    comment text, the new length (None: unchanged) and the values now present;
    ``removed`` names datasets left out (their ItemGroupDef goes; the ItemDefs and
    value-level metadata they alone used stay, unreferenced, which the schema allows)."""
    tree = parse_tree(source)
    mdv = tree.getroot().find("odm:Study/odm:MetaDataVersion", NS)
    if mdv is None:
        raise DefineUpdateError("define.xml has no Study/MetaDataVersion", where=str(source))
    for dataset in sorted(removed):
        group = mdv.find(f"odm:ItemGroupDef[@Name='{dataset}']", NS)
        if group is not None:
            mdv.remove(group)
    for dataset in sorted({d for d, _ in changed}):
        items = _item_oids(mdv, dataset)
        for (ds, name), (text, length, values) in sorted(changed.items()):
            item = items.get(name)
            if ds != dataset or item is None:
                continue
            _set_length(item, length)
            for vlm in _value_items(mdv, item):
                _set_length(vlm, length)
            _drop_origin_text(item)
            original = _comment_text(mdv, item.get(_q(DEF, "CommentOID")))
            note = f"De-identified: {text}."
            _add_comment(mdv, item, f"COM.DEID.{ds}.{name}", f"{original} {note}".strip())
            _add_terms(mdv, item, values)
    problems = validate_tree(tree)
    if problems:
        raise DefineUpdateError(
            f"the updated define.xml is not schema-valid: {problems[0]}", where=str(source)
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tree.write(str(target), xml_declaration=True, encoding="UTF-8")
    return target
