"""Just enough Define-XML (2.0/2.1) reading to compare define.xml with the data.

Reads ItemGroupDef (name, label, domain, file, keys) and the ItemDefs they reference
(name, label, DataType, Length). Full Define-XML handling (writing, schema validation,
stylesheet) belongs to :mod:`cdisc_mapper.define`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from cdisc_mapper.validate.errors import ValidationInputError

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NAMESPACES = ("http://www.cdisc.org/ns/def/v2.1", "http://www.cdisc.org/ns/def/v2.0")
XLINK_NS = "http://www.w3.org/1999/xlink"

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


@dataclass(frozen=True)
class DefineVariable:
    """One ItemRef + ItemDef of an ItemGroupDef."""

    name: str
    label: str
    data_type: str
    length: int | None
    order: int | None
    key_sequence: int | None
    mandatory: bool | None
    oid: str


@dataclass(frozen=True)
class DefineDataset:
    """One ItemGroupDef."""

    name: str
    label: str
    domain: str
    file: str
    variables: dict[str, DefineVariable] = field(default_factory=dict)
    purpose: str = ""
    source: Path | None = None

    @property
    def standard(self) -> str:
        """``"ADaM"`` for Purpose="Analysis" (or an AD* name without Purpose), else SDTM."""
        if self.purpose:
            return "ADaM" if self.purpose.lower() == "analysis" else "SDTM"
        return "ADaM" if self.name.startswith("AD") else "SDTM"

    @property
    def keys(self) -> tuple[str, ...]:
        """Key variables in KeySequence order."""
        keyed = [v for v in self.variables.values() if v.key_sequence is not None]
        return tuple(v.name for v in sorted(keyed, key=lambda v: v.key_sequence or 0))


@dataclass(frozen=True)
class DefineMetadata:
    """The dataset and variable metadata of one define.xml."""

    path: Path
    define_version: str
    datasets: dict[str, DefineDataset]
    paths: tuple[Path, ...] = ()

    def dataset(self, name: str) -> DefineDataset | None:
        """The ItemGroupDef called ``name`` (case-insensitive), or None."""
        return self.datasets.get(name.upper())

    @property
    def standards(self) -> frozenset[str]:
        """The standards (SDTM, ADaM) whose datasets this define.xml describes."""
        return frozenset(d.standard for d in self.datasets.values())


def merge_defines(defines: list[DefineMetadata]) -> DefineMetadata:
    """One view of several define.xml files (e.g. SDTM and ADaM of one package).

    Raises:
        ValidationInputError: two files describe the same dataset.
    """
    datasets: dict[str, DefineDataset] = {}
    for define in defines:
        for name, meta in define.datasets.items():
            if name in datasets:
                raise ValidationInputError(
                    f"dataset {name} is described in {datasets[name].source} and {define.path}",
                    hint="give one define.xml per standard",
                )
            datasets[name] = meta
    return DefineMetadata(
        path=defines[0].path,
        define_version=defines[0].define_version,
        datasets=datasets,
        paths=tuple(d.path for d in defines),
    )


def _text(element: etree._Element | None, ns: dict[str, str]) -> str:
    if element is None:
        return ""
    node = element.find("odm:Description/odm:TranslatedText", ns)
    return " ".join((node.text or "").split()) if node is not None else ""


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


def read_define(path: Path) -> DefineMetadata:
    """Parse ``path``.

    Raises:
        ValidationInputError: the file is missing, is not well-formed XML, or is not an
            ODM/Define-XML document.
    """
    path = Path(path)
    if not path.is_file():
        raise ValidationInputError(
            "define.xml not found",
            where=str(path),
            hint="give the path of an existing define.xml, or leave --define out",
        )
    try:
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    except (etree.XMLSyntaxError, OSError) as exc:
        raise ValidationInputError(
            f"define.xml is not well-formed XML: {exc}", where=str(path)
        ) from None
    root = tree.getroot()
    if etree.QName(root).namespace != ODM_NS or etree.QName(root).localname != "ODM":
        raise ValidationInputError(
            "not a Define-XML document (root element is not ODM v1.3)", where=str(path)
        )
    def_ns = next(
        (uri for uri in (root.nsmap or {}).values() if uri in DEF_NAMESPACES), DEF_NAMESPACES[0]
    )
    ns = {"odm": ODM_NS, "def": def_ns, "xlink": XLINK_NS}
    mdv = root.find("odm:Study/odm:MetaDataVersion", ns)
    if mdv is None:
        raise ValidationInputError("define.xml has no Study/MetaDataVersion", where=str(path))
    version = mdv.get(f"{{{def_ns}}}DefineVersion", "")
    items = {it.get("OID"): it for it in mdv.iterfind("odm:ItemDef", ns)}
    leaves = {
        leaf.get("ID"): leaf.get(f"{{{XLINK_NS}}}href", "") for leaf in mdv.iterfind("def:leaf", ns)
    }
    datasets: dict[str, DefineDataset] = {}
    for group in mdv.iterfind("odm:ItemGroupDef", ns):
        name = (group.get("Name") or group.get("SASDatasetName") or "").upper()
        if not name:
            continue
        leaf = group.find("def:leaf", ns)
        file = (
            leaf.get(f"{{{XLINK_NS}}}href", "")
            if leaf is not None
            else leaves.get(group.get(f"{{{def_ns}}}ArchiveLocationID"), "")
        )
        variables: dict[str, DefineVariable] = {}
        for ref in group.iterfind("odm:ItemRef", ns):
            item = items.get(ref.get("ItemOID"))
            if item is None:
                continue
            var_name = (item.get("Name") or item.get("SASFieldName") or "").upper()
            mandatory = ref.get("Mandatory")
            variables[var_name] = DefineVariable(
                name=var_name,
                label=_text(item, ns),
                data_type=item.get("DataType", ""),
                length=_int(item.get("Length")),
                order=_int(ref.get("OrderNumber")),
                key_sequence=_int(ref.get("KeySequence")),
                mandatory=None if mandatory is None else mandatory == "Yes",
                oid=item.get("OID", ""),
            )
        datasets[name] = DefineDataset(
            name=name,
            label=_text(group, ns),
            domain=group.get("Domain", ""),
            file=file,
            variables=variables,
            purpose=group.get("Purpose", ""),
            source=path,
        )
    return DefineMetadata(path=path, define_version=version, datasets=datasets, paths=(path,))
