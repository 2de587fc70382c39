"""Loading controlled terminology from ``specs/ct/`` and ``specs/sponsor/``."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from cdisc_mapper.errors import Location, StandardsError
from cdisc_mapper.standards.csvio import read_table, split_codes
from cdisc_mapper.standards.paths import resolve_specs_dir
from cdisc_mapper.standards.terminology import Codelist, Term, Terminology
from cdisc_mapper.yamlsafe import BoundedLoader, read_limited

#: CT packages in precedence order: (source, file name prefix in ``specs/ct/``).
CT_PACKAGES = (("sdtm", "sdtm-ct-"), ("adam", "adam-ct-"), ("define-xml", "define-xml-ct-"))
SPONSOR_FILE = Path("sponsor") / "codelists.yaml"

_CT_COLUMNS = (
    "codelist_code",
    "codelist_name",
    "codelist_short_name",
    "extensible",
    "term_code",
    "submission_value",
    "synonyms",
    "definition",
    "preferred_term",
)
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})\.csv$")
_SHORT_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")
_DATA_TYPES = ("text", "integer", "float")


def _package_file(folder: Path, prefix: str) -> tuple[Path, str]:
    """The newest ``<prefix><yyyy-mm-dd>.csv`` in ``folder`` and its date."""
    found = sorted(
        (m.group(1), p) for p in folder.glob(f"{prefix}*.csv") if (m := _DATE.search(p.name))
    )
    if not found:
        raise StandardsError(
            f"no {prefix}<date>.csv controlled terminology file",
            where=str(folder),
            hint="rebuild specs with tools/build_specs.py",
        )
    date, path = found[-1]
    return path, date


def _read_ct(path: Path, source: str, version: str) -> list[Codelist]:
    """Codelists of one flat CT file (one row per term)."""
    heads: dict[str, tuple[str, str, bool]] = {}
    terms: dict[str, list[Term]] = {}
    for line, row in read_table(path, _CT_COLUMNS):
        code = row["codelist_code"]
        if row["extensible"] not in ("Yes", "No"):
            raise StandardsError(
                f"extensible must be Yes or No, not {row['extensible']!r}",
                where=Location(file=str(path), line=line),
            )
        if code not in heads:
            heads[code] = (
                row["codelist_name"],
                row["codelist_short_name"],
                row["extensible"] == "Yes",
            )
            terms[code] = []
        terms[code].append(
            Term(
                code=row["term_code"],
                submission_value=row["submission_value"],
                synonyms=split_codes(row["synonyms"]),
                definition=row["definition"],
                preferred_term=row["preferred_term"],
            )
        )
    return [
        Codelist(
            code=code,
            name=name,
            short_name=short,
            extensible=ext,
            source=source,
            version=version,
            terms=tuple(terms[code]),
        )
        for code, (name, short, ext) in heads.items()
    ]


class _LineLoader(BoundedLoader):
    """YAML loader (bounded: see :mod:`cdisc_mapper.yamlsafe`) that records each
    mapping's line as ``__line__``."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def _check_keys(
    item: Any, required: set[str], optional: set[str], path: Path, what: str
) -> dict[str, Any]:
    line = item.get("__line__") if isinstance(item, dict) else None
    where = Location(file=str(path), line=line)
    if not isinstance(item, dict):
        raise StandardsError(f"{what} must be a mapping", where=where)
    keys = set(item) - {"__line__"}
    if missing := required - keys:
        raise StandardsError(f"{what} lacks {', '.join(sorted(missing))}", where=where)
    if unknown := keys - required - optional:
        raise StandardsError(
            f"{what} has unknown key(s) {', '.join(sorted(unknown))}",
            where=where,
            hint=f"allowed: {', '.join(sorted(required | optional))}",
        )
    return item


def _text(value: Any, what: str, where: Location) -> str:
    if not isinstance(value, str) or not value.strip():
        raise StandardsError(
            f"{what} must be non-empty text, not {value!r}",
            where=where,
            hint='quote numbers and words YAML reads as booleans ("0", "Y", "NO")',
        )
    return value.strip()


def _read_sponsor(path: Path) -> list[Codelist]:
    """Sponsor-defined codelists of ``specs/sponsor/codelists.yaml``."""
    if not path.is_file():
        raise StandardsError("sponsor codelist file not found", where=str(path))
    try:
        doc = yaml.load(read_limited(path), Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:  # a syntax error, or a limit of yamlsafe
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context
        raise StandardsError(f"invalid YAML: {problem}", where=Location(str(path), line)) from None
    except yaml.YAMLError as exc:
        raise StandardsError(f"invalid YAML: {exc}", where=str(path)) from None
    doc = _check_keys(doc, {"version", "codelists"}, set(), path, "sponsor file")
    version = str(doc["version"])
    out: list[Codelist] = []
    for raw in doc["codelists"] or []:
        cl = _check_keys(
            raw, {"short_name", "name", "extensible", "data_type", "terms"}, set(), path, "codelist"
        )
        where = Location(file=str(path), line=cl["__line__"])
        short = _text(cl["short_name"], "short_name", where)
        if not _SHORT_NAME.match(short):
            raise StandardsError(
                f"short_name {short!r} must be 1-8 upper-case letters, digits or _",
                where=where,
            )
        if not isinstance(cl["extensible"], bool):
            raise StandardsError("extensible must be true or false", where=where)
        if cl["data_type"] not in _DATA_TYPES:
            raise StandardsError(f"data_type must be one of {', '.join(_DATA_TYPES)}", where=where)
        terms: list[Term] = []
        seen: set[str] = set()
        for raw_term in cl["terms"] or []:
            t = _check_keys(
                raw_term, {"submission_value"}, {"decode", "synonyms"}, path, f"term of {short}"
            )
            twhere = Location(file=str(path), line=t["__line__"])
            value = _text(t["submission_value"], "submission_value", twhere)
            if value in seen:
                raise StandardsError(f"{short}: duplicate term {value!r}", where=twhere)
            seen.add(value)
            synonyms = t.get("synonyms") or []
            if not isinstance(synonyms, list):
                raise StandardsError("synonyms must be a list", where=twhere)
            terms.append(
                Term(
                    code=None,
                    submission_value=value,
                    synonyms=tuple(_text(s, "synonym", twhere) for s in synonyms),
                    preferred_term=_text(t["decode"], "decode", twhere) if "decode" in t else "",
                )
            )
        if not terms:
            raise StandardsError(f"codelist {short} has no terms", where=where)
        out.append(
            Codelist(
                code=None,
                name=_text(cl["name"], "name", where),
                short_name=short,
                extensible=cl["extensible"],
                source="sponsor",
                version=version,
                terms=tuple(terms),
                data_type=cl["data_type"],
            )
        )
    return out


@lru_cache(maxsize=8)
def _load_terminology(folder: Path) -> Terminology:
    cdisc: list[Codelist] = []
    for source, prefix in CT_PACKAGES:
        path, date = _package_file(folder / "ct", prefix)
        cdisc.extend(_read_ct(path, source, date))
    sponsor = _read_sponsor(folder / SPONSOR_FILE)
    taken = {cl.short_name for cl in cdisc}
    names: set[str] = set()
    for cl in sponsor:
        if cl.short_name in taken or cl.short_name in names:
            raise StandardsError(
                f"sponsor codelist {cl.short_name} reuses a codelist short name",
                where=str(folder / SPONSOR_FILE),
                hint="sponsor short names must differ from CDISC ones and each other",
            )
        names.add(cl.short_name)
    return Terminology([*cdisc, *sponsor])


def load_terminology(specs_dir: Path | str | None = None) -> Terminology:
    """SDTM CT subset, ADaM CT, Define-XML CT and sponsor codelists, merged.

    ``specs_dir`` defaults to ``$CDISC_MAPPER_SPECS`` or the bundled ``specs/``.
    Cached per resolved folder. Raises :class:`StandardsError` for missing or bad files.
    """
    return _load_terminology(resolve_specs_dir(specs_dir))
