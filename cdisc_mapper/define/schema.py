"""Schema validation against the Define-XML 2.1 XSD that ships inside ``odmlib``.

The schema files are never copied into this repository: they are located in the
installed ``odmlib`` package (``odmlib/schemas/define/2.1/define2-1-0.xsd``, which
imports the ODM 1.3.2 foundation schema from ``odmlib/schemas/odm/1.3.2``). A document
that also carries Analysis Results Metadata (namespace ``http://www.cdisc.org/ns/arm/v1.0``)
is validated with odmlib's ARM 1.0 schema for Define-XML 2.1, which includes the Define-XML
2.1 schema and adds the ARM elements.
"""

from __future__ import annotations

from copy import deepcopy
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lxml import etree

from cdisc_mapper.define.reader import DefineReadError, hardened_parser, parse_tree
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


def define_xsd_path(*, with_arm: bool = False) -> Path:
    """The installed Define-XML 2.1 XSD (or the ARM 1.0 + Define-XML 2.1 XSD)."""
    if with_arm:
        return _package_file("odmlib", "schemas", "arm", "1.0-define2.1", "arm1-0-0.xsd")
    return _package_file("odmlib", "schemas", "define", "2.1", "define2-1-0.xsd")


@lru_cache(maxsize=2)
def _schema(with_arm: bool) -> etree.XMLSchema:
    path = define_xsd_path(with_arm=with_arm)
    return etree.XMLSchema(etree.parse(str(path), hardened_parser()))


def validate_tree(tree: etree._ElementTree) -> list[str]:
    """Schema errors of a parsed document, as ``"line N: message"`` texts, in file order.

    Entity references (which a hardened parse leaves unexpanded, and
    :func:`cdisc_mapper.define.reader.doctype_problems` reports) are left out of what is
    validated, so the rest of the document is still checked.
    """
    tree = _without_entities(tree)
    root = tree.getroot()
    uses_arm = any(
        etree.QName(el).namespace == ARM_NS for el in root.iter() if isinstance(el.tag, str)
    )
    schema = _schema(uses_arm)
    try:
        if schema.validate(tree):
            return []
    except etree.XMLSchemaValidateError as exc:
        return [f"the schema validator stopped: {exc}"]
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


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
    """Validate ``path`` against the Define-XML 2.1 schema; return the errors (empty when
    valid), each ``"line N: message"``. A file that is not well-formed XML gives one error
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
