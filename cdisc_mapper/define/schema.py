"""Schema validation against the Define-XML XSD of the document's own version.

The schema files are never copied into this repository: they are located in the
installed ``odmlib`` package (``odmlib/schemas/define/2.1/define2-1-0.xsd`` and
``odmlib/schemas/define/2.0/define2-0-0.xsd``, which import the ODM 1.3.2 foundation
schema from ``odmlib/schemas/odm/1.3.2``). The version is the document's own: the
namespace of its ``def:DefineVersion`` attribute (``http://www.cdisc.org/ns/def/v2.0`` or
``.../v2.1``) and the value (``2.0.0``, ``2.1.x``); a document of another version, or
without a Define-XML namespace, is one error naming the MetaDataVersion line, not a crash
and not a comparison with a schema it was never written for. A Define-XML 2.1 document
that also carries Analysis Results Metadata (namespace ``http://www.cdisc.org/ns/arm/v1.0``)
is validated with odmlib's ARM 1.0 schema for Define-XML 2.1, which includes the
Define-XML 2.1 schema and adds the ARM elements.
"""

from __future__ import annotations

from copy import deepcopy
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lxml import etree

from cdisc_mapper.define.reader import (
    DEF20_NS,
    DEF21_NS,
    ODM_NS,
    DefineReadError,
    hardened_parser,
    parse_tree,
)
from cdisc_mapper.errors import CdiscMapperError

ARM_NS = "http://www.cdisc.org/ns/arm/v1.0"


class SchemaNotFoundError(CdiscMapperError):
    """The Define-XML schema files are not where the odmlib package keeps them."""


def _package_file(package: str, *parts: str) -> Path:
    try:
        base = resources.files(package)
    except ModuleNotFoundError:
        raise SchemaNotFoundError(
            f"package {package} is not installed", hint=f"pip install {package}"
        ) from None
    path = Path(str(base.joinpath(*parts)))
    if not path.is_file():
        raise SchemaNotFoundError(
            f"{'/'.join(parts)} not found in the installed {package} package",
            where=str(path),
            hint=f"reinstall {package} (cdisc_mapper needs the file it ships)",
        )
    return path


#: Define-XML versions with a schema: version -> (def namespace, XSD within odmlib).
SCHEMAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "2.0": (DEF20_NS, ("schemas", "define", "2.0", "define2-0-0.xsd")),
    "2.1": (DEF21_NS, ("schemas", "define", "2.1", "define2-1-0.xsd")),
}
_DEFINE_NS_PREFIX = "http://www.cdisc.org/ns/def/v"


def define_xsd_path(*, with_arm: bool = False, version: str = "2.1") -> Path:
    """The installed Define-XML XSD of ``version`` (``"2.0"`` or ``"2.1"``), or the
    ARM 1.0 + Define-XML 2.1 XSD."""
    if with_arm:
        return _package_file("odmlib", "schemas", "arm", "1.0-define2.1", "arm1-0-0.xsd")
    return _package_file("odmlib", *SCHEMAS[version][1])


@lru_cache(maxsize=3)
def _schema(with_arm: bool, version: str = "2.1") -> etree.XMLSchema:
    path = define_xsd_path(with_arm=with_arm, version=version)
    return etree.XMLSchema(etree.parse(str(path), hardened_parser()))


def define_version(root: etree._Element) -> tuple[str | None, list[str]]:
    """The Define-XML version (``"2.0"``, ``"2.1"``) whose schema checks the document, and
    the problems that stop or qualify that choice (``"line N: ..."``).

    The version is the namespace of ``def:DefineVersion`` on the MetaDataVersion, checked
    against its value; without that attribute, the Define-XML namespace the document
    declares (the schema then reports the missing attribute). None when the document
    has no Define-XML namespace of a known version.
    """
    mdv = root.find(f"{{{ODM_NS}}}Study/{{{ODM_NS}}}MetaDataVersion")
    where = mdv if mdv is not None else root
    line = where.sourceline
    stated = [
        (etree.QName(name).namespace or "", value)
        for name, value in where.attrib.items()
        if etree.QName(name).localname == "DefineVersion"
    ]
    known = {ns: version for version, (ns, _) in SCHEMAS.items()}
    if stated:
        namespace, value = stated[0]
        version = known.get(namespace)
        if version is None:
            return None, [
                f"line {line}: def:DefineVersion {value!r} is in namespace {namespace!r}, "
                f"not a Define-XML version with a schema here ({', '.join(SCHEMAS)}); the file "
                "was not schema-checked"
            ]
        if value.split(".")[:2] != version.split("."):
            return version, [
                f"line {line}: def:DefineVersion {value!r} is not a Define-XML {version} version "
                f"although its namespace is {namespace}; checked against the {version} schema"
            ]
        return version, []
    declared = {ns for ns in (root.nsmap or {}).values() if ns}
    found = sorted(known[ns] for ns in declared if ns in known)
    if found:
        return found[-1], []
    others = sorted(ns for ns in declared if ns.startswith(_DEFINE_NS_PREFIX))
    what = f"namespace {others[0]!r}" if others else "no Define-XML namespace"
    return None, [
        f"line {line}: no def:DefineVersion and {what}: not a Define-XML version with a "
        f"schema here ({', '.join(SCHEMAS)}); the file was not schema-checked"
    ]


def validate_tree(tree: etree._ElementTree) -> list[str]:
    """Schema errors of a parsed document, as ``"line N: message"`` texts, in file order.

    Entity references (which a hardened parse leaves unexpanded, and
    :func:`cdisc_mapper.define.reader.doctype_problems` reports) are left out of what is
    validated, so the rest of the document is still checked.
    """
    tree = _without_entities(tree)
    root = tree.getroot()
    version, problems = define_version(root)
    if version is None:
        return problems
    uses_arm = version == "2.1" and any(
        etree.QName(el).namespace == ARM_NS for el in root.iter() if isinstance(el.tag, str)
    )
    schema = _schema(uses_arm, version)
    try:
        if schema.validate(tree):
            return problems
    except etree.XMLSchemaValidateError as exc:
        return [*problems, f"the schema validator stopped: {exc}"]
    return [*problems, *(f"line {e.line}: {e.message}" for e in schema.error_log)]


def _without_entities(tree: etree._ElementTree) -> etree._ElementTree:
    """``tree``, or a copy of it without entity references (their tail text kept)."""
    if next(tree.getroot().iter(etree.Entity), None) is None:
        return tree
    copy = deepcopy(tree)
    for node in list(copy.getroot().iter(etree.Entity)):
        parent, before = node.getparent(), node.getprevious()
        if parent is None:
            continue
        if node.tail:
            if before is not None:
                before.tail = (before.tail or "") + node.tail
            else:
                parent.text = (parent.text or "") + node.tail
        parent.remove(node)
    return copy


def validate_define_schema(path: Path) -> list[str]:
    """Validate ``path`` against the Define-XML schema of its version (2.0 or 2.1, see
    :func:`define_version`); return the errors (empty when valid), each ``"line N:
    message"``. A file that is not well-formed XML gives one error
    at the offending line; a missing file raises :class:`DefineReadError`."""
    try:
        tree = parse_tree(Path(path))
    except DefineReadError as exc:
        if "not found" in exc.message:
            raise
        where = exc.where
        line = getattr(where, "line", None)
        return [f"line {line}: {exc.message}"]
    return validate_tree(tree)
