"""Define-XML 2.1 for the SDTM and ADaM datasets, from the same specs that made them.

::

    from cdisc_mapper.define import (
        write_define, validate_define_schema, render_html, check_define_consistency,
    )

    files = write_define(Path("mappings/als_msc"), Path("out"))   # out/sdtm, out/adam
    validate_define_schema(Path("out/sdtm/define.xml"))           # [] when valid
    check_define_consistency(Path("out/sdtm/define.xml"), Path("out/sdtm"))  # findings

Layout (the data flow): :mod:`.spec` (optional ``define.yaml`` facts: documents, named
methods, dictionary versions), :mod:`.describe_sdtm` / :mod:`.describe_adam` (per dataset and
variable: origin, derivation, comment, code list, value-level metadata, from the specs),
:mod:`.assemble` with :mod:`.codelists` and :mod:`.datatypes` (what the data decide: types,
lengths, used terms) into the :mod:`.model`, :mod:`.methods` (one MethodDef per method
text), :mod:`.arm` (Analysis Results Metadata from ``adam/reports.yaml``), :mod:`.writer`
(odmlib, Define-XML 2.1; :mod:`.arm_xml` for ARM 1.0), :mod:`.schema` (odmlib's XSD),
:mod:`.html` (defineutils' define2-1.xsl, also written beside define.xml),
:mod:`.reader` and :mod:`.consistency` (define.xml against the XPT files).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

    from cdisc_mapper.define.consistency import DefineFinding, check_define_consistency
    from cdisc_mapper.define.html import render_html
    from cdisc_mapper.define.pipeline import (
        DefineSchemaError,
        DefineWarning,
        build_adam_model,
        build_sdtm_model,
        write_define,
    )
    from cdisc_mapper.define.schema import validate_define_schema

__all__ = [
    "DefineFinding",
    "DefineSchemaError",
    "DefineWarning",
    "build_adam_model",
    "build_sdtm_model",
    "check_define_consistency",
    "render_html",
    "validate_define_schema",
    "write_define",
]

_HOMES = {
    "DefineFinding": "consistency",
    "check_define_consistency": "consistency",
    "render_html": "html",
    "validate_define_schema": "schema",
}
"""The module of each name (the others are :mod:`.pipeline`'s). They are imported when
first used, so that a reader of define.xml (``define.reader``, as the validator uses it)
does not import the writer's pipeline with the ADaM and aCRF packages behind it."""


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    home = _HOMES.get(name, "pipeline")
    if home == "consistency":
        from cdisc_mapper.define import consistency  # noqa: PLC0415

        return getattr(consistency, name)
    if home == "html":
        from cdisc_mapper.define import html  # noqa: PLC0415

        return getattr(html, name)
    if home == "schema":
        from cdisc_mapper.define import schema  # noqa: PLC0415

        return getattr(schema, name)
    from cdisc_mapper.define import pipeline  # noqa: PLC0415

    return getattr(pipeline, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
