"""Controlled terminology: terms, codelists and the merged :class:`Terminology`."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cached_property

from cdisc_mapper.errors import UnknownCodelistError

_NCI_CODE = re.compile(r"^C\d+$")


def _norm(text: str) -> str:
    """Key for case- and spacing-insensitive matching."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Term:
    """One term of a codelist.

    ``code`` is the NCI concept code (None for sponsor terms). ``preferred_term`` is the
    NCI preferred term for CDISC terms and the decode for sponsor terms.
    """

    code: str | None
    submission_value: str
    synonyms: tuple[str, ...] = ()
    definition: str = ""
    preferred_term: str = ""


@dataclass(frozen=True)
class Codelist:
    """A codelist: CDISC CT (``code`` = NCI code) or sponsor-defined (``code`` None).

    ``source`` is ``"sdtm"``, ``"adam"``, ``"define-xml"`` or ``"sponsor"``; ``version`` is
    the CT package date (e.g. ``2025-03-28``) or the sponsor file's version.
    """

    code: str | None
    name: str
    short_name: str
    extensible: bool
    source: str
    version: str
    terms: tuple[Term, ...]
    data_type: str = "text"

    @property
    def submission_values(self) -> tuple[str, ...]:
        """The submission values in codelist order."""
        return tuple(t.submission_value for t in self.terms)

    @cached_property
    def _by_value(self) -> dict[str, Term]:
        return {t.submission_value: t for t in self.terms}

    @cached_property
    def _indexes(self) -> tuple[dict[str, list[Term]], ...]:
        """Case-insensitive indexes: submission value, synonyms, preferred term."""
        indexes: tuple[dict[str, list[Term]], ...] = ({}, {}, {})
        for term in self.terms:
            keys = ([term.submission_value], term.synonyms, [term.preferred_term])
            for index, values in zip(indexes, keys, strict=True):
                for value in values:
                    if value:
                        bucket = index.setdefault(_norm(value), [])
                        if term not in bucket:
                            bucket.append(term)
        return indexes

    def term(self, submission_value: str) -> Term | None:
        """The term whose submission value is exactly ``submission_value``, else None."""
        return self._by_value.get(submission_value)

    def __contains__(self, submission_value: object) -> bool:
        return isinstance(submission_value, str) and submission_value in self._by_value

    def match(self, raw: str) -> Term | None:
        """Map a raw value to a term, or None.

        Tries, in order: exact submission value; then, ignoring case and repeated or
        surrounding spaces, the submission value, a synonym, the NCI preferred term (the
        decode for sponsor terms). The first step with exactly one hit wins; a step with
        several different terms is ambiguous and returns None (no guessing).
        """
        if not isinstance(raw, str) or not raw.strip():
            return None
        exact = self._by_value.get(raw.strip())
        if exact is not None:
            return exact
        key = _norm(raw)
        for index in self._indexes:
            hits = index.get(key)
            if hits:
                return hits[0] if len(hits) == 1 else None
        return None


class Terminology:
    """CDISC CT (SDTM, ADaM, Define-XML) and sponsor codelists, by code or short name.

    Built by :func:`cdisc_mapper.standards.load_terminology`. When two packages carry the
    same codelist (same NCI code or short name), the first given wins: SDTM CT, then ADaM
    CT, then Define-XML CT, then sponsor lists (which must not reuse a CDISC short name).
    """

    def __init__(self, codelists: Iterable[Codelist]) -> None:
        self._by_code: dict[str, Codelist] = {}
        self._by_short: dict[str, Codelist] = {}
        ordered: list[Codelist] = []
        for cl in codelists:
            if (cl.code and cl.code in self._by_code) or cl.short_name in self._by_short:
                continue
            if cl.code:
                self._by_code[cl.code] = cl
            self._by_short[cl.short_name] = cl
            ordered.append(cl)
        self._codelists = tuple(ordered)

    def __repr__(self) -> str:
        return f"Terminology({len(self._codelists)} codelists, {self.versions})"

    def __len__(self) -> int:
        return len(self._codelists)

    def __iter__(self) -> Iterator[Codelist]:
        return iter(self._codelists)

    def __contains__(self, code_or_short_name: object) -> bool:
        return isinstance(code_or_short_name, str) and self.find(code_or_short_name) is not None

    @property
    def versions(self) -> dict[str, str]:
        """Version of each source, e.g. ``{"sdtm": "2025-03-28", "sponsor": "1.0"}``."""
        out: dict[str, str] = {}
        for cl in self._codelists:
            out.setdefault(cl.source, cl.version)
        return out

    def codelists(self, source: str | None = None) -> tuple[Codelist, ...]:
        """All codelists, or those of one ``source`` (``sdtm``, ``adam``, ...)."""
        if source is None:
            return self._codelists
        return tuple(cl for cl in self._codelists if cl.source == source)

    def find(self, code_or_short_name: str) -> Codelist | None:
        """Like :meth:`get` but returns None for an unknown codelist."""
        key = code_or_short_name.strip()
        if _NCI_CODE.match(key.upper()):
            return self._by_code.get(key.upper())
        return self._by_short.get(key) or self._by_short.get(key.upper())

    def get(self, code_or_short_name: str) -> Codelist:
        """The codelist with NCI code (``C66731``) or short name (``SEX``).

        Raises :class:`UnknownCodelistError` naming close short names when not found.
        """
        found = self.find(code_or_short_name)
        if found is not None:
            return found
        key = code_or_short_name.strip()
        close = difflib.get_close_matches(key.upper(), list(self._by_short), n=3)
        sources = ", ".join(f"{s} {v}" for s, v in self.versions.items())
        hint = f"did you mean {', '.join(close)}? " if close else ""
        hint += (
            f"loaded: {sources}; CDISC codelists outside the project subset need "
            "tools/build_specs.py, sponsor lists go in specs/sponsor/codelists.yaml"
        )
        raise UnknownCodelistError(f"unknown codelist {key!r}", hint=hint)

    def extended(self, additions: Mapping[str, Mapping[str, str]]) -> Terminology:
        """This terminology with terms a study adds (codelist -> submission value ->
        decode): to a sponsor list, or to an extensible CDISC list as extended values
        (no NCI code; SDTMIG 3.4 section 4.3.2). A term already in the list keeps the
        list's own. Raises ValueError naming the codelist when it is unknown or a
        non-extensible CDISC list (its values are fixed by CDISC)."""
        if not additions:
            return self
        changed: dict[str, Codelist] = {}
        for name, terms in additions.items():
            cl = self.find(name)
            if cl is None:
                raise ValueError(f"unknown codelist {name!r}")
            if cl.code and not cl.extensible:
                raise ValueError(
                    f"codelist {cl.short_name} ({cl.code}) is not extensible: CDISC fixes "
                    "its values, a study cannot add to it"
                )
            new = tuple(
                Term(code=None, submission_value=value, preferred_term=decode)
                for value, decode in terms.items()
                if value not in cl
            )
            changed[cl.short_name] = replace(cl, terms=cl.terms + new)
        return Terminology(changed.get(cl.short_name, cl) for cl in self._codelists)
