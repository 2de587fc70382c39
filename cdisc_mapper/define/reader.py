"""Reading a Define-XML 2.0/2.1 document into plain dataclasses (with source lines).

The one define.xml reader: the consistency check, the schema check, the HTML rendering and
the validator's define checks (DD) all read through it. It keeps datasets (ItemGroupDef
with their ItemRefs and Purpose), variables (ItemDef), value lists and where clauses, code
lists, methods, comments and standards; :meth:`DefineDocument.variables` and
:meth:`DefineDocument.keys` join a dataset's ItemRefs with their ItemDefs. Works on any
define.xml (ours or another sponsor's), so nothing here assumes our OIDs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from cdisc_mapper.define.model import RangeCheckDef, WhereClause
from cdisc_mapper.errors import CdiscMapperError, Location

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF21_NS = "http://www.cdisc.org/ns/def/v2.1"
DEF20_NS = "http://www.cdisc.org/ns/def/v2.0"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
NCI_CONTEXT = "nci:ExtCodeID"

#: Define-XML DataType values stored as SAS character / numeric variables.
CHAR_TYPES = frozenset(
    {
        "text",
        "date",
        "datetime",
        "time",
        "partialDate",
        "partialTime",
        "partialDatetime",
        "incompleteDatetime",
        "durationDatetime",
        "intervalDatetime",
        "URI",
    }
)
NUM_TYPES = frozenset({"integer", "float", "double", "decimal"})


class DefineReadError(CdiscMapperError):
    """A define.xml cannot be read (missing, not XML, not ODM/Define-XML)."""


@dataclass(frozen=True)
class ItemRef:
    item_oid: str
    order: int | None
    key_sequence: int | None
    mandatory: str | None
    method_oid: str | None
    where_oids: tuple[str, ...] = ()
    line: int | None = None


@dataclass(frozen=True)
class Item:
    """An ItemDef."""

    oid: str
    name: str
    label: str
    data_type: str
    length: int | None
    significant_digits: int | None
    display_format: str | None
    codelist_oid: str | None
    valuelist_oid: str | None
    origin_type: str | None
    origin_text: str
    comment_oid: str | None
    line: int | None = None


@dataclass(frozen=True)
class CodeList:
    oid: str
    name: str
    data_type: str
    values: tuple[str, ...]
    decodes: dict[str, str]
    nci_code: str | None
    external: str | None
    extended: frozenset[str] = frozenset()
    line: int | None = None


@dataclass(frozen=True)
class Dataset:
    """An ItemGroupDef (``href``: the def:leaf file, ``purpose``: Tabulation/Analysis)."""

    oid: str
    name: str
    label: str
    domain: str
    href: str
    item_refs: tuple[ItemRef, ...]
    line: int | None = None
    purpose: str = ""

    @property
    def standard(self) -> str:
        """``"ADaM"`` for Purpose="Analysis" (or an AD* name without Purpose), else SDTM."""
        if self.purpose:
            return "ADaM" if self.purpose.lower() == "analysis" else "SDTM"
        return "ADaM" if self.name.startswith("AD") else "SDTM"


@dataclass
class DefineDocument:
    path: Path
    define_version: str
    datasets: dict[str, Dataset] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    codelists: dict[str, CodeList] = field(default_factory=dict)
    value_lists: dict[str, tuple[ItemRef, ...]] = field(default_factory=dict)
    where_clauses: dict[str, WhereClause] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    standards: dict[str, dict[str, str]] = field(default_factory=dict)

    def dataset(self, name: str) -> Dataset | None:
        """The ItemGroupDef called ``name`` (case-insensitive), or None."""
        return self.datasets.get(name.upper())

    def _joined(self, dataset: Dataset) -> dict[str, tuple[ItemRef, Item]]:
        out: dict[str, tuple[ItemRef, Item]] = {}
        for ref in dataset.item_refs:
            item = self.items.get(ref.item_oid)
            if item is not None:
                out[item.name] = (ref, item)
        return out

    def variables(self, dataset: Dataset) -> dict[str, Item]:
        """The ItemDefs a dataset references, by variable name, in ItemRef order.

        A reference to a missing ItemDef is left out; a name referenced twice keeps its
        first place and its last ItemDef.
        """
        return {name: item for name, (_, item) in self._joined(dataset).items()}

    def keys(self, dataset: Dataset) -> tuple[str, ...]:
        """The dataset's key variables in KeySequence order."""
        keyed = [
            (r.key_sequence, name)
            for name, (r, _) in self._joined(dataset).items()
            if r.key_sequence is not None
        ]
        return tuple(name for _, name in sorted(keyed, key=lambda k: k[0]))


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


def _text(element: etree._Element | None, ns: dict[str, str]) -> str:
    """The (first) TranslatedText of an element's Description, whitespace-normalised."""
    if element is None:
        return ""
    node = element.find("odm:Description/odm:TranslatedText", ns)
    return " ".join((node.text or "").split()) if node is not None else ""


def hardened_parser() -> etree.XMLParser:
    """The parser of every XML file read from outside: no DTD loaded or validated, no
    entity expanded (internal or external: no file or URL is ever read through one), no
    network access. ``huge_tree`` lifts libxml2's size limits for large define.xml files;
    without entity expansion it opens no "billion laughs"."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=True,
    )


def parse_tree(path: Path) -> etree._ElementTree:
    """Parse ``path`` safely (:func:`hardened_parser`); DefineReadError if it cannot.

    A DOCTYPE and its entities are kept unexpanded; :func:`doctype_problems` lists them.
    """
    path = Path(path)
    if not path.is_file():
        raise DefineReadError("define.xml not found", where=str(path))
    try:
        return etree.parse(str(path), hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise DefineReadError(
            f"not well-formed XML: {exc.msg}", where=Location(file=str(path), line=exc.lineno)
        ) from None
    except OSError as exc:
        bad = undecodable_byte(path)
        if bad is not None:
            offset, line, byte, encoding = bad
            raise DefineReadError(
                f"byte 0x{byte:02X} at offset {offset} is not {encoding} text, the encoding "
                "the file declares",
                where=Location(file=str(path), line=line),
                hint="save the file in that encoding, or declare its real one in the XML "
                'declaration (e.g. <?xml version="1.0" encoding="windows-1252"?>)',
            ) from None
        raise DefineReadError(f"cannot read define.xml: {exc}", where=str(path)) from None


_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def undecodable_byte(path: Path) -> tuple[int, int, int, str] | None:
    """(offset, line, byte, encoding) of the first byte of an XML file that its declared
    encoding (UTF-8 when it declares none) does not decode, or None."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    declared = _DECLARED_ENCODING.match(raw.lstrip(b"\xef\xbb\xbf"))
    encoding = declared.group(1).decode("ascii") if declared else "UTF-8"
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exc:
        return exc.start, raw.count(b"\n", 0, exc.start) + 1, raw[exc.start], encoding.upper()
    except LookupError:
        return None
    return None


def doctype_problems(tree: etree._ElementTree) -> list[str]:
    """What a Define-XML document must not have: a DOCTYPE (Define-XML uses no DTD), the
    entities it declares, and entity references (never expanded here, so the text they
    stand for is read as missing), each as a text naming its place (the prolog, or
    ``"line N"``)."""
    problems: list[str] = []
    info = tree.docinfo
    dtd = info.internalDTD
    entities = sorted(e.name or "" for e in dtd.iterentities()) if dtd is not None else []
    if info.doctype or dtd is not None:
        declared = f" declaring entities {', '.join(entities)}" if entities else ""
        external = f" with external DTD {info.system_url!r}" if info.system_url else ""
        problems.append(
            f"prolog: DOCTYPE {info.doctype or '(internal subset)'}{external}{declared}: "
            "Define-XML uses no DTD; it is not loaded and no entity is expanded"
        )
    for node in tree.getroot().iter(etree.Entity):
        problems.append(
            f"line {node.sourceline}: entity reference {node.text} is not expanded (the "
            "text it stands for is read as missing)"
        )
    return problems


def _item_ref(ref: etree._Element, ns: dict[str, str]) -> ItemRef:
    return ItemRef(
        item_oid=ref.get("ItemOID", ""),
        order=_int(ref.get("OrderNumber")),
        key_sequence=_int(ref.get("KeySequence")),
        mandatory=ref.get("Mandatory"),
        method_oid=ref.get("MethodOID"),
        where_oids=tuple(
            w.get("WhereClauseOID", "") for w in ref.iterfind("def:WhereClauseRef", ns)
        ),
        line=ref.sourceline,
    )


def read_define(path: Path) -> DefineDocument:
    """Parse a Define-XML 2.0 or 2.1 document."""
    tree = parse_tree(Path(path))
    root = tree.getroot()
    if etree.QName(root).namespace != ODM_NS or etree.QName(root).localname != "ODM":
        raise DefineReadError("not a Define-XML document (root is not ODM 1.3)", where=str(path))
    nsmap = {v for v in (root.nsmap or {}).values()}
    def_ns = DEF20_NS if DEF20_NS in nsmap and DEF21_NS not in nsmap else DEF21_NS
    ns = {"odm": ODM_NS, "def": def_ns, "xlink": XLINK_NS}
    mdv = root.find("odm:Study/odm:MetaDataVersion", ns)
    if mdv is None:
        raise DefineReadError("no Study/MetaDataVersion", where=str(path))
    doc = DefineDocument(path=Path(path), define_version=mdv.get(f"{{{def_ns}}}DefineVersion", ""))
    for std in mdv.iterfind("def:Standards/def:Standard", ns):
        doc.standards[std.get("OID", "")] = dict(std.attrib)
    leaves = {
        leaf.get("ID"): leaf.get(f"{{{XLINK_NS}}}href", "") for leaf in mdv.iterfind("def:leaf", ns)
    }
    for group in mdv.iterfind("odm:ItemGroupDef", ns):
        name = (group.get("Name") or group.get("SASDatasetName") or "").upper()
        leaf = group.find("def:leaf", ns)
        href = (
            leaf.get(f"{{{XLINK_NS}}}href", "")
            if leaf is not None
            else leaves.get(group.get(f"{{{def_ns}}}ArchiveLocationID"), "")
        )
        doc.datasets[name] = Dataset(
            oid=group.get("OID", ""),
            name=name,
            label=_text(group, ns),
            domain=group.get("Domain", ""),
            href=href,
            item_refs=tuple(_item_ref(r, ns) for r in group.iterfind("odm:ItemRef", ns)),
            line=group.sourceline,
            purpose=group.get("Purpose", ""),
        )
    for item in mdv.iterfind("odm:ItemDef", ns):
        origin = item.find("def:Origin", ns)
        clref = item.find("odm:CodeListRef", ns)
        vlref = item.find("def:ValueListRef", ns)
        doc.items[item.get("OID", "")] = Item(
            oid=item.get("OID", ""),
            name=(item.get("Name") or item.get("SASFieldName") or "").upper(),
            label=_text(item, ns),
            data_type=item.get("DataType", ""),
            length=_int(item.get("Length")),
            significant_digits=_int(item.get("SignificantDigits")),
            display_format=item.get(f"{{{def_ns}}}DisplayFormat"),
            codelist_oid=clref.get("CodeListOID") if clref is not None else None,
            valuelist_oid=vlref.get("ValueListOID") if vlref is not None else None,
            origin_type=origin.get("Type") if origin is not None else None,
            origin_text=_text(origin, ns),
            comment_oid=item.get(f"{{{def_ns}}}CommentOID"),
            line=item.sourceline,
        )
    for vl in mdv.iterfind("def:ValueListDef", ns):
        doc.value_lists[vl.get("OID", "")] = tuple(
            _item_ref(r, ns) for r in vl.iterfind("odm:ItemRef", ns)
        )
    for wc in mdv.iterfind("def:WhereClauseDef", ns):
        checks = tuple(
            RangeCheckDef(
                item_oid=rc.get(f"{{{def_ns}}}ItemOID", ""),
                comparator=rc.get("Comparator", ""),
                values=tuple((cv.text or "") for cv in rc.iterfind("odm:CheckValue", ns)),
            )
            for rc in wc.iterfind("odm:RangeCheck", ns)
        )
        doc.where_clauses[wc.get("OID", "")] = WhereClause(
            oid=wc.get("OID", ""), checks=checks, line=wc.sourceline
        )
    for cl in mdv.iterfind("odm:CodeList", ns):
        values: list[str] = []
        decodes: dict[str, str] = {}
        extended: set[str] = set()
        for term in (*cl.iterfind("odm:CodeListItem", ns), *cl.iterfind("odm:EnumeratedItem", ns)):
            value = term.get("CodedValue", "")
            values.append(value)
            decode = term.find("odm:Decode/odm:TranslatedText", ns)
            if decode is not None:
                decodes[value] = decode.text or ""
            if term.get(f"{{{def_ns}}}ExtendedValue") == "Yes":
                extended.add(value)
        alias = next(
            (
                a.get("Name")
                for a in cl.iterfind("odm:Alias", ns)
                if a.get("Context") == NCI_CONTEXT
            ),
            None,
        )
        ext = cl.find("odm:ExternalCodeList", ns)
        doc.codelists[cl.get("OID", "")] = CodeList(
            oid=cl.get("OID", ""),
            name=cl.get("Name", ""),
            data_type=cl.get("DataType", ""),
            values=tuple(values),
            decodes=decodes,
            nci_code=alias,
            external=(ext.get("Dictionary") or "external") if ext is not None else None,
            extended=frozenset(extended),
            line=cl.sourceline,
        )
    for method in mdv.iterfind("odm:MethodDef", ns):
        doc.methods[method.get("OID", "")] = _text(method, ns)
    for comment in mdv.iterfind("def:CommentDef", ns):
        doc.comments[comment.get("OID", "")] = _text(comment, ns)
    return doc
