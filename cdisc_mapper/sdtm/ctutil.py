"""Small helpers over controlled terminology shared by the mapping operations."""

from __future__ import annotations

from typing import Any


def decode(codelist: Any, target: Any, term: Any) -> str | None:
    """The term of ``target`` paired with ``term`` of ``codelist``.

    CDISC pairs (e.g. LBTESTCD/LBTEST, TSPARMCD/TSPARM) share each term's NCI concept
    code. Sponsor lists have no codes: a sponsor code list decodes to itself (its term's
    decode, the preferred term), or to the term of a paired sponsor list (e.g. ALSFRSTC
    to ALSFRSTN) whose submission value is that decode.
    """
    if target is codelist or getattr(target, "short_name", None) == codelist.short_name:
        return term.preferred_term or None
    if term.code:
        for cand in target.terms:
            if cand.code == term.code:
                return cand.submission_value
        return None
    if term.preferred_term and not getattr(target, "code", None):
        for cand in target.terms:
            if cand.submission_value == term.preferred_term:
                return cand.submission_value
    return None
