"""define.html: the CDISC Define-XML 2.1 stylesheet applied with lxml.

The stylesheet (``define2-1.xsl``, MIT licence, its notice inside the file) is the one the
``defineutils`` package ships; it is located in the installed package, and a copy is
written beside each define.xml (:func:`write_stylesheet`), which names it in its
``xml-stylesheet`` instruction, so a browser opening define.xml shows it rendered. The
comments table is switched on (the stylesheet hides it by default) so that every sponsor
decision is on the page; methods are shown as they are by default.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from lxml import etree

from cdisc_mapper.define.reader import parse_tree
from cdisc_mapper.define.schema import SchemaNotFoundError
from cdisc_mapper.errors import CdiscMapperError


class HtmlRenderError(CdiscMapperError):
    """The stylesheet could not turn a define.xml into HTML."""


def stylesheet_path() -> Path:
    """The installed ``defineutils`` copy of ``define2-1.xsl``."""
    try:
        base = resources.files("defineutils")
    except ModuleNotFoundError:
        raise SchemaNotFoundError(
            "package defineutils is not installed", hint="pip install defineutils"
        ) from None
    path = Path(str(base.joinpath("definehtml", "define2-1.xsl")))
    if not path.is_file():
        raise SchemaNotFoundError(
            "definehtml/define2-1.xsl not found in the installed defineutils package",
            where=str(path),
            hint="reinstall defineutils",
        )
    return path


def write_stylesheet(folder: Path) -> Path:
    """Write the stylesheet into ``folder`` (beside define.xml); return its path."""
    out = Path(folder) / stylesheet_path().name
    out.write_bytes(stylesheet_path().read_bytes())
    return out


@lru_cache(maxsize=1)
def _transform() -> etree.XSLT:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XSLT(etree.parse(str(stylesheet_path()), parser))


def render_html(define_path: Path, html_path: Path | None = None) -> Path:
    """Write ``define.html`` beside ``define_path`` (or to ``html_path``); return it."""
    define_path = Path(define_path)
    out = Path(html_path) if html_path is not None else define_path.with_suffix(".html")
    tree = parse_tree(define_path)
    transform = _transform()
    try:
        result = transform(
            tree,
            displayCommentsTable=etree.XSLT.strparam("1"),
            displayMethodsTable=etree.XSLT.strparam("1"),
        )
    except etree.XSLTApplyError as exc:
        raise HtmlRenderError(f"stylesheet failed: {exc}", where=str(define_path)) from None
    if result.getroot() is None:
        raise HtmlRenderError("stylesheet produced no HTML", where=str(define_path))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(bytes(result))
    return out
