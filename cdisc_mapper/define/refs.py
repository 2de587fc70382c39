"""What a spec's ``comment:``, ``codelist:`` and ``method:`` text refers to, resolved the
same way for every builder (SDTM specs, ADaM specs, define.yaml value levels).

A ``comment:`` that is a ``C-<ID>`` word (or a defined id) names a study comment; a
``method:`` that is an ``M-<ID>`` word names a define.yaml method; other text is the
comment or derivation itself. A name that is not defined is a SpecError at ``where``.
"""

from __future__ import annotations

from typing import Any

from cdisc_mapper.define.info import CodelistRef, CommentInfo, MethodInfo
from cdisc_mapper.define.model import DocRef
from cdisc_mapper.errors import Location, SpecError
from cdisc_mapper.spec.define import COMMENT_ID, METHOD_ID, DefineExtras

CODELIST_HINT = "check the short name or NCI code (specs/ct, specs/sponsor/codelists.yaml)"


def comment_ref(
    text: str,
    comments: dict[str, str],
    where: Location | str,
    *,
    what: str = "",
    source: str = "comments",
    hint: str = "",
) -> CommentInfo:
    """The comment ``text`` gives: a named study comment, or the text itself."""
    text = text.strip()
    if not (COMMENT_ID.match(text) or text in comments):
        return CommentInfo(text=" ".join(text.split()))
    found = comments.get(text)
    if found is None:
        known = ", ".join(sorted(comments)) or "none"
        raise SpecError(
            f"{what}comment {text} is not defined ({source}: {known})", where=where, hint=hint
        )
    return CommentInfo(text=" ".join(found.split()), oid=f"COM.{text}")


def codelist_ref(
    terminology: Any,
    wanted: str,
    where: Location | str,
    *,
    what: str = "",
    explicit: bool = True,
    hint: str = CODELIST_HINT,
) -> CodelistRef:
    """The loaded code list ``wanted`` names (short name or NCI code)."""
    found = terminology.find(wanted)
    if found is None:
        raise SpecError(
            f"{what}codelist {wanted!r} does not exist in the loaded terminology",
            where=where,
            hint=hint,
        )
    return CodelistRef(codelist=found, where=where, explicit=explicit)  # type: ignore[arg-type]


def method_ref(
    text: str, extras: DefineExtras, where: Location | str, what: str = ""
) -> MethodInfo:
    """The derivation ``text`` gives (whitespace normalised), or the named method."""
    text = " ".join(text.split())
    if not METHOD_ID.match(text):
        return MethodInfo(description=text)
    return require_method(extras, text, where, what)


def method_info(extras: DefineExtras, method_id: str) -> MethodInfo | None:
    """The define.yaml method ``M-<ID>`` as define.xml describes it (None: not defined)."""
    method = extras.spec.methods.get(method_id)
    if method is None:
        return None
    expression = method.expression
    return MethodInfo(
        description=method.description,
        oid=f"MT.{method_id}",
        name=method.name or method_id,
        type=method.type,
        document=DocRef(f"LF.{method.document}", method.pages) if method.document else None,
        expression=(expression.context, expression.code) if expression else None,
    )


def require_method(
    extras: DefineExtras, method_id: str, where: Location | str, what: str = ""
) -> MethodInfo:
    """:func:`method_info`, or a SpecError at ``where`` naming the defined methods."""
    method = method_info(extras, method_id)
    if method is None:
        known = ", ".join(sorted(extras.spec.methods)) or "none"
        raise SpecError(
            f"{what}method {method_id} is not defined (define.yaml methods: {known})",
            where=where,
            hint="add it to define.yaml methods:, or write the derivation as text",
        )
    return method
