"""YAML reading that remembers where every value came from.

Spec files are reviewed by people, so an error must point at the spec line. We compose
the YAML node tree (which carries line marks), build plain Python values from it and
keep a map from each value's path (e.g. ``("variables", "VSTESTCD", "op")``) to its line.

Scalars are resolved with YAML 1.2 core-schema rules (``true``/``false``, ``null``,
decimal ints and floats); everything else stays a string, so ``Yes``, ``No``, ``ND``
and ``01`` are read as the text a reviewer sees, not as booleans or octal numbers.
Duplicate keys are an error. :func:`dump_yaml` writes values back so that this reader
reads them as the same values (strings that would read as something else are quoted).

Reading costs no more than the file's size: the loader is a
:class:`~cdisc_mapper.yamlsafe.BoundedLoader` (no document over 10 MB, no deep nesting,
no alias that contains itself or that repeats too many values), and a spec file is a
mapping at the top. Every problem is a :class:`SpecError` at the file's line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from cdisc_mapper.errors import Location, SpecError
from cdisc_mapper.yamlsafe import BoundedLoader, YamlLimitError, read_limited

Path_ = tuple[str | int, ...]


class _CoreLoader(BoundedLoader):
    """A bounded SafeLoader with YAML 1.2 core-schema implicit types only."""


_CoreLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9]*)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$",
        list("-+.0123456789"),
    ),
]:
    _CoreLoader.add_implicit_resolver(_tag, re.compile(_pattern), _first)


class SpecDocument:
    """A parsed spec file: its data and the line of every value in it."""

    def __init__(self, path: Path, data: Any, lines: dict[Path_, int]):
        self.path = path
        self.data = data
        self.lines = lines

    def line_of(self, loc: Path_) -> int | None:
        """The line of the deepest known prefix of ``loc`` (1-based)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), None)

    def where(self, loc: Path_) -> Location:
        found = _PROVENANCE.get(self.path.resolve())
        if found is not None:  # read from a workbook: point at its cell
            cell = found(tuple(loc))
            if cell is not None:
                return cell
        return Location(file=str(self.path), line=self.line_of(loc))


#: Spec files written from a workbook (resolved path -> loc -> the workbook cell), so
#: that errors name the sheet, row and column the user edits, not the temporary file.
_PROVENANCE: dict[Path, Callable[[tuple[Any, ...]], Location | None]] = {}


def register_provenance(
    path: Path, locate: Callable[[tuple[Any, ...]], Location | None] | None
) -> None:
    """Make errors about ``path`` point where ``locate`` says (None: forget it)."""
    key = Path(path).resolve()
    if locate is None:
        _PROVENANCE.pop(key, None)
    else:
        _PROVENANCE[key] = locate


def _build(node: yaml.Node, path: Path_, lines: dict[Path_, int], file: Path) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _build(key_node, (*path, "<key>"), {}, file)
            if isinstance(key, list | dict):
                raise SpecError(
                    "a mapping key must be a plain value",
                    where=Location(file=str(file), line=key_node.start_mark.line + 1),
                )
            if key in out:
                raise SpecError(
                    f"duplicate key {key!r} (first given at line {lines[(*path, key)]})",
                    where=Location(file=str(file), line=key_node.start_mark.line + 1),
                    hint="each key may appear once; remove or rename one",
                )
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _build(value_node, (*path, key), lines, file)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines, file) for i, item in enumerate(node.value)]
    constructor = _CoreLoader("")
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.YAMLError as exc:  # e.g. an unknown tag such as !foo
        raise SpecError(
            f"cannot read this value: {getattr(exc, 'problem', None) or exc}",
            where=Location(file=str(file), line=node.start_mark.line + 1),
            hint="spec files use plain YAML values: no tags",
        ) from None


def load_spec_yaml(path: Path) -> SpecDocument:
    """Read a YAML spec file, keeping line numbers; raise SpecError on malformed YAML, on a
    file over the limits of :mod:`cdisc_mapper.yamlsafe` and on a file that is not a
    mapping at the top."""
    path = Path(path)
    text = _read_text(path)
    node = _compose(text, path)
    if node is None:
        raise SpecError("spec file is empty", where=str(path))
    if not isinstance(node, yaml.MappingNode):
        what = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
        raise SpecError(
            f"a spec file is a mapping of keys to values at the top, not {what}",
            where=Location(file=str(path), line=node.start_mark.line + 1),
            hint="start each top-level entry with its key, e.g. `domain: AE`",
        )
    lines: dict[Path_, int] = {}
    data = _build(node, (), lines, path)
    return SpecDocument(path, data, lines)


def _read_text(path: Path) -> str:
    """The file's text, decoded as UTF-8; SpecError (at the line of the first byte that is
    not UTF-8) when it is missing, too large or not UTF-8 text."""
    try:
        data = read_limited(path)
    except FileNotFoundError:
        raise SpecError("spec file not found", where=str(path)) from None
    except YamlLimitError as exc:
        raise SpecError(str(exc.problem), where=str(path), hint=exc.hint) from None
    except OSError as exc:
        raise SpecError(f"cannot read the spec file ({exc.strerror})", where=str(path)) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SpecError(
            "spec file is UTF-16 text, not UTF-8",
            where=Location(file=str(path), line=1),
            hint="save it as UTF-8 text",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"spec file is not UTF-8 text (byte {exc.start + 1}: {exc.reason})",
            where=Location(file=str(path), line=data.count(b"\n", 0, exc.start) + 1),
            hint="a spec file is plain text: save it as UTF-8",
        ) from None


def _compose(text: str, path: Path) -> yaml.Node | None:
    """The YAML node tree of ``text``; SpecError at the line of a YAML problem."""
    try:
        return yaml.compose(text, Loader=_CoreLoader)
    except YamlLimitError as exc:
        mark = exc.problem_mark
        raise SpecError(
            str(exc.problem),
            where=Location(file=str(path), line=mark.line + 1 if mark else None),
            hint=exc.hint,
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise SpecError(
            f"malformed YAML: {exc.problem or exc.context}",
            where=Location(file=str(path), line=line),
            hint="check indentation, quotes and colons on that line",
        ) from None
    except yaml.YAMLError as exc:  # e.g. a control character the YAML reader refuses
        line = text.count("\n", 0, getattr(exc, "position", 0) or 0) + 1
        raise SpecError(
            f"malformed YAML: {exc}".splitlines()[0],
            where=Location(file=str(path), line=line),
            hint="remove control characters; save the file as plain UTF-8 text",
        ) from None


class SpecDumper(yaml.SafeDumper):
    """Quotes every string the spec reader (YAML 1.2 core) or YAML 1.1 would not read back
    as that string."""


for _tag, _regexp, _first in [
    (tag, regexp, first)
    for first, pairs in _CoreLoader.yaml_implicit_resolvers.items()
    for tag, regexp in pairs
]:
    SpecDumper.add_implicit_resolver(_tag, _regexp, [_first])


def dump_yaml(data: Any) -> str:
    """``data`` as spec YAML text (key order kept, flow style for short collections)."""
    return yaml.dump(
        data, Dumper=SpecDumper, sort_keys=False, allow_unicode=True, width=100,
        default_flow_style=None,
    )  # fmt: skip


def load_yaml(text: str) -> Any:
    """Plain values from YAML text with the spec reader's scalar rules and limits (no line
    marks); a ``yaml.YAMLError`` when it is malformed or over the limits."""
    return yaml.load(text, Loader=_CoreLoader)  # a bounded SafeLoader subclass
