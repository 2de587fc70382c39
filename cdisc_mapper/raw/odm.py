"""CDISC ODM 1.3.x ClinicalData (OpenClinica, Castor, Medidata and other EDCs' XML
exports) as one table per item group.

* A form here is an ``ItemGroupOID``: its records are the ``ItemGroupData`` elements (one
  row each, in document order), because a FormData may hold a non-repeating and a
  repeating item group, whose records cannot share one row. A form is reached by its
  ItemGroupOID or by the ItemGroupDef's Name in the metadata (a Name several defs share
  reaches none). With ``tables: form`` a form is a ``FormOID`` instead, one row per
  ``FormData`` holding the items of all its item groups (as REDCap's project XML splits
  an instrument into one item group per section); an item met twice in one FormData (a
  repeating item group) is then an error.
* Each row has ``StudyOID``, ``SubjectKey``, ``StudyEventOID``, ``StudyEventRepeatKey``,
  ``FormOID``, ``FormRepeatKey`` and ``ItemGroupRepeatKey`` (empty where nothing repeats),
  then one column per item: its ItemOID, or its ItemDef Name (``item_columns: name``), in
  the ItemGroupDef's ItemRef order (items without a def follow in the order met); with
  ``tables: form`` there is no ``ItemGroupRepeatKey``.
* Values are ``ItemData/@Value`` (or the text of a typed ``ItemDataString``...); an item
  whose ItemDef has a CodeList in the metadata is decoded to the CodeListItem's Decode
  (an EnumeratedItem keeps its value). With metadata, an ItemOID without an ItemDef, a
  is an error naming the line, as is one item twice in a record. A coded value not in
  its item's CodeList (real exports have them: OpenClinica shares one ItemDef between
  form versions with different response sets) is kept as exported and listed
  (:attr:`~cdisc_mapper.raw.edc.EdcExport.undecoded`), so the mapping's own checks meet it.
* An item with a ``MeasurementUnitRef`` also gets column ``<item>_UNIT`` right after
  its own: the unit's Symbol (else its Name, else its OID) from BasicDefinitions.
* Audit records, signatures, annotations and vendor extensions (elements and attributes
  in other namespaces, e.g. OpenClinica's audit logs) are not data: they are counted
  (:attr:`~cdisc_mapper.raw.edc.EdcExport.ignored`), never read as values.
* The XML is read without DTDs, entities or network access; a file that is not
  well-formed is an error naming its line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from lxml import etree

from cdisc_mapper.errors import Location, RawDataError
from cdisc_mapper.raw.edc import EdcExport, EdcSettings, cased, export_path, form_file
from cdisc_mapper.raw.reader import RawForm

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
KEY_COLUMNS = (
    "StudyOID",
    "SubjectKey",
    "StudyEventOID",
    "StudyEventRepeatKey",
    "FormOID",
    "FormRepeatKey",
    "ItemGroupRepeatKey",
)
REPEAT_KEYS = ("StudyEventRepeatKey", "FormRepeatKey", "ItemGroupRepeatKey")
NOT_DATA = ("AuditRecord", "Signature", "Annotation")
LEVELS = ("SubjectData", "StudyEventData", "FormData", "ItemGroupData")
UNIT = "\x00unit"
"""Marks the unit of an item among a group's items (column ``<item>_UNIT``)."""


def _q(name: str) -> str:
    return f"{{{ODM_NS}}}{name}"


@dataclass
class Metadata:
    """What the MetaDataVersions say: item names and code lists, item groups' items."""

    item_names: dict[str, str] = field(default_factory=dict)
    item_codelists: dict[str, str] = field(default_factory=dict)
    codelists: dict[str, dict[str, str]] = field(default_factory=dict)
    group_items: dict[str, list[str]] = field(default_factory=dict)
    group_names: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    form_groups: dict[str, list[str]] = field(default_factory=dict)
    form_names: dict[str, str] = field(default_factory=dict)

    @property
    def present(self) -> bool:
        return bool(self.item_names)


def _decode_text(item: etree._Element) -> str | None:
    """A CodeListItem's Decode text (English or unlabelled first), None without one."""
    texts = item.findall(f"{_q('Decode')}/{_q('TranslatedText')}")
    if not texts:
        return None
    plain = [t for t in texts if t.get(XML_LANG) in (None, "en")] or texts
    return (plain[0].text or "").strip()


def read_metadata(root: etree._Element) -> Metadata:
    """Item defs, code lists and item group defs of every MetaDataVersion (the first
    definition of an OID wins)."""
    meta = Metadata()
    for unit in root.iter(_q("MeasurementUnit")):
        symbol = [t for t in unit.iterfind(f"{_q('Symbol')}/{_q('TranslatedText')}")]
        plain = [t for t in symbol if t.get(XML_LANG) in (None, "en")] or symbol
        text = (plain[0].text or "").strip() if plain else ""
        meta.units.setdefault(unit.get("OID", ""), text or unit.get("Name") or unit.get("OID", ""))
    for mdv in root.iter(_q("MetaDataVersion")):
        for item in mdv.iter(_q("ItemDef")):
            oid = item.get("OID", "")
            meta.item_names.setdefault(oid, item.get("Name") or oid)
            ref = item.find(_q("CodeListRef"))
            if ref is not None:
                meta.item_codelists.setdefault(oid, ref.get("CodeListOID", ""))
        for codelist in mdv.iter(_q("CodeList")):
            decodes = {
                ci.get("CodedValue", ""): _decode_text(ci)
                for ci in codelist.iter(_q("CodeListItem"), _q("EnumeratedItem"))
            }
            oid = codelist.get("OID", "")
            meta.codelists.setdefault(
                oid, {k: v if v is not None else k for k, v in decodes.items()}
            )
        for form in mdv.iter(_q("FormDef")):
            oid = form.get("OID", "")
            meta.form_names.setdefault(oid, form.get("Name") or oid)
            refs = [r.get("ItemGroupOID", "") for r in form.iter(_q("ItemGroupRef"))]
            meta.form_groups.setdefault(oid, refs)
        for group in mdv.iter(_q("ItemGroupDef")):
            oid = group.get("OID", "")
            meta.group_names.setdefault(oid, group.get("Name") or oid)
            refs = [r.get("ItemOID", "") for r in group.iter(_q("ItemRef"))]
            meta.group_items.setdefault(oid, refs)
    return meta


def parse_odm(path: Path) -> etree._Element:
    """The document's root, read without DTDs, entities or network; a RawDataError naming
    the line when the file is not well-formed XML or not ODM."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )  # fmt: skip
    try:
        root = etree.parse(str(path), parser).getroot()
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise RawDataError(
            f"not well-formed XML: {exc.msg}",
            where=Location(file=str(path), line=line),
            hint="re-export the ODM file; it must be complete, well-formed XML",
        ) from None
    if root.tag != _q("ODM"):
        raise RawDataError(
            f"the root element is {root.tag!r}, not ODM in the namespace {ODM_NS}",
            where=Location(file=str(path), line=root.sourceline),
            hint="give a CDISC ODM 1.3 export",
        )
    return root


@dataclass
class _Group:
    """The records of one item group as they are read."""

    rows: list[dict[str, str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    items: list[str] = field(default_factory=list)


class _Reader:
    def __init__(self, path: Path, meta: Metadata, settings: EdcSettings):
        self.path = path
        self.meta = meta
        self.settings = settings
        self.groups: dict[str, _Group] = {}
        self.ignored: Counter[str] = Counter()
        self.undecoded: list[str] = []

    def where(self, element: etree._Element, column: str | None = None) -> Location:
        return Location(file=str(self.path), line=element.sourceline, column=column)

    def count_foreign(self, element: etree._Element) -> None:
        """Vendor extension attributes of an ODM element, counted."""
        foreign = sum(1 for a in element.attrib if str(a).startswith("{"))
        if foreign:
            self.ignored["vendor extension attributes"] += foreign

    def children(self, element: etree._Element, level: int, keys: dict[str, str]) -> None:
        """Walk the ClinicalData tree down to item groups."""
        self.count_foreign(element)
        for child in element:
            if not isinstance(child.tag, str):
                continue
            tag = etree.QName(child)
            if tag.namespace == ODM_NS and level < len(LEVELS) and tag.localname == LEVELS[level]:
                own = {**keys, **_keys(child, tag.localname)}
                if tag.localname == "ItemGroupData":
                    self.record(child, own, child.get("ItemGroupOID", ""), [child])
                elif tag.localname == "FormData" and self.settings.odm_tables == "form":
                    self.form_data(child, own)
                else:
                    self.children(child, level + 1, own)
            else:
                self.not_data(child)

    def not_data(self, element: etree._Element) -> None:
        """Count an element that holds no clinical data (with what it contains)."""
        tag = etree.QName(element)
        if tag.namespace != ODM_NS:
            self.ignored["vendor extension elements"] += 1
        else:
            self.ignored[f"{tag.localname} elements"] += 1

    def form_data(self, element: etree._Element, keys: dict[str, str]) -> None:
        """A FormData as one record (``tables: form``): the items of all its item groups."""
        self.count_foreign(element)
        groups = []
        for child in element:
            if not isinstance(child.tag, str):
                continue
            if child.tag == _q("ItemGroupData"):
                groups.append(child)
            else:
                self.not_data(child)
        self.record(element, keys, element.get("FormOID", ""), groups)

    def record(
        self, element: etree._Element, keys: dict[str, str], table: str, holders: list
    ) -> None:
        """One row of ``table`` (an ItemGroupOID, or a FormOID with ``tables: form``): the
        items of ``holders`` (the ItemGroupData elements), at ``element``'s line."""
        group = self.groups.setdefault(table, _Group(items=self.defined_items(table)))
        row = dict(keys)
        for holder in holders:
            self.count_foreign(holder)
            for item in holder:
                if not isinstance(item.tag, str):
                    continue
                tag = etree.QName(item)
                if tag.namespace == ODM_NS and tag.localname.startswith("ItemData"):
                    self.item(item, tag.localname, row, group)
                else:
                    self.not_data(item)
        group.rows.append(row)
        group.lines.append(int(element.sourceline or 0))

    def defined_items(self, table: str) -> list[str]:
        """The items the metadata gives a table, in order."""
        if self.settings.odm_tables == "form":
            groups = self.meta.form_groups.get(table, [])
            return list(dict.fromkeys(i for g in groups for i in self.meta.group_items.get(g, [])))
        return list(self.meta.group_items.get(table, []))

    def item(self, item: etree._Element, kind: str, row: dict[str, str], group: _Group) -> None:
        self.count_foreign(item)
        unit = None
        for child in item:
            if not isinstance(child.tag, str):
                continue
            if child.tag == _q("MeasurementUnitRef"):
                unit = child.get("MeasurementUnitOID", "")
            else:
                self.not_data(child)
        oid = item.get("ItemOID", "")
        if self.meta.present and oid not in self.meta.item_names:
            raise RawDataError(
                f"ItemData ItemOID {oid!r} has no ItemDef in the metadata",
                where=self.where(item, "ItemOID"),
                hint="export the metadata (MetaDataVersion) the clinical data was entered with",
            )
        if oid in row:
            form = self.settings.odm_tables == "form"
            raise RawDataError(
                f"item {oid!r} twice in one {'FormData' if form else 'ItemGroupData'}",
                where=self.where(item, "ItemOID"),
                hint="a repeating item group: read the export with tables: item_group"
                if form
                else "",
            )
        value = item.get("Value", "") if kind == "ItemData" else (item.text or "")
        row[oid] = self.decoded(value.strip(), oid, item)
        if oid not in group.items:
            group.items.append(oid)
        if unit is not None:
            row[oid + UNIT] = self.meta.units.get(unit, unit)
            if oid + UNIT not in group.items:
                group.items.insert(group.items.index(oid) + 1, oid + UNIT)

    def decoded(self, value: str, oid: str, item: etree._Element) -> str:
        codelist = self.meta.item_codelists.get(oid)
        if not value or codelist is None or codelist not in self.meta.codelists:
            return value
        decodes = self.meta.codelists[codelist]
        if value in decodes:
            return decodes[value]
        self.undecoded.append(
            f"{self.path.name}:{item.sourceline}: item {oid} value {value!r} is not a coded "
            f"value of its CodeList {codelist} (kept as exported)"
        )
        return value

    def forms(self) -> tuple[dict[str, RawForm], dict[str, str]]:
        by_form = self.settings.odm_tables == "form"
        keys = KEY_COLUMNS[:-1] if by_form else KEY_COLUMNS
        defined = self.meta.form_groups if by_form else self.meta.group_items
        forms: dict[str, RawForm] = {}
        for oid in dict.fromkeys([*defined, *self.groups]):
            group = self.groups.get(oid, _Group(items=self.defined_items(oid)))
            columns = self.column_names(oid, keys, group.items)
            frame = pd.DataFrame(
                [[row.get(c, "") for c in (*keys, *group.items)] for row in group.rows],
                index=pd.Index(group.lines, dtype="int64"),
                columns=pd.Index(columns),
                dtype=object,
            )
            forms[oid] = RawForm(
                name=oid,
                path=self.path,
                data=frame,
                written=form_file(self.settings.records, oid),
                system_columns=tuple(cased(k, self.settings) for k in REPEAT_KEYS),
            )
        names = self.meta.form_names if by_form else self.meta.group_names
        count = Counter(names.values())
        aliases = {n: o for o, n in names.items() if n not in forms and count[n] == 1}
        return forms, aliases

    def column_names(self, oid: str, keys: tuple[str, ...], items: list[str]) -> list[str]:
        by_name = self.settings.item_columns == "name"
        names = [
            (self.meta.item_names.get(i.removesuffix(UNIT), i) if by_name else i.removesuffix(UNIT))
            + ("_UNIT" if i.endswith(UNIT) else "")
            for i in items
        ]
        out = [cased(c, self.settings) for c in (*keys, *names)]
        dupes = sorted({c for c in out if out.count(c) > 1})
        if dupes:
            raise RawDataError(
                f"item group {oid!r}: more than one column named {dupes}",
                where=Location(file=str(self.path)),
                hint="name columns by ItemOID (export: item_columns: oid)",
            )
        return out


def _keys(element: etree._Element, level: str) -> dict[str, str]:
    if level == "SubjectData":
        return {"SubjectKey": element.get("SubjectKey", "")}
    if level == "StudyEventData":
        return {
            "StudyEventOID": element.get("StudyEventOID", ""),
            "StudyEventRepeatKey": element.get("StudyEventRepeatKey", ""),
        }
    if level == "FormData":
        return {
            "FormOID": element.get("FormOID", ""),
            "FormRepeatKey": element.get("FormRepeatKey", ""),
        }
    return {"ItemGroupRepeatKey": element.get("ItemGroupRepeatKey", "")}


def read_odm(root_dir: Path, settings: EdcSettings) -> EdcExport:
    """The item groups of the ODM file the settings name, inside the raw folder."""
    path = export_path(root_dir, settings.records, "ODM file")
    root = parse_odm(path)
    reader = _Reader(path, read_metadata(root), settings)
    for clinical in root.iter(_q("ClinicalData")):
        reader.children(clinical, 0, {"StudyOID": clinical.get("StudyOID", "")})
    forms, aliases = reader.forms()
    return EdcExport(
        file=settings.records,
        forms=forms,
        aliases=aliases,
        ignored=dict(sorted(reader.ignored.items())),
        undecoded=reader.undecoded,
    )
