"""YAML composed at a cost bounded by the file's size: every YAML the tool reads (spec
files, spec workbook cells, sponsor codelists) goes through :class:`BoundedLoader`.

A YAML file of a few hundred bytes can stand for billions of values (an alias bomb:
each anchor repeats the one before nine times), refer to itself (``&a [*a]``) or nest so
deep that reading it exhausts the stack. The loader refuses, at the line where it
happens:

- a document over :data:`MAX_YAML_BYTES` (:func:`read_limited` reads no more);
- mappings and lists nested deeper than :data:`MAX_YAML_DEPTH`;
- aliases (``*name``) that repeat more than :data:`MAX_ALIAS_VALUES` values in all,
  counting every value an alias stands for, aliases inside it included;
- an alias inside the value of its own anchor (a structure that contains itself).

Anchors and aliases used to share a small mapping (as the bundled study does) stay far
below these limits. Each refusal is a :class:`YamlLimitError`, a ``MarkedYAMLError``
carrying the line and a hint, so that readers turn it into their own located error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError

#: Largest YAML document read (bytes): 10 MiB; the bundled study's largest spec file has
#: under 10 KB, a define-generator workbook of a large study gives about 1 MB.
MAX_YAML_BYTES = 10 * 1024 * 1024
#: Deepest nesting of mappings and lists; the bundled study's spec files nest 10 levels.
MAX_YAML_DEPTH = 64
#: Values that aliases may repeat in one document, in all.
MAX_ALIAS_VALUES = 100_000


class YamlLimitError(ComposerError):
    """A YAML document exceeds one of this module's limits."""

    def __init__(self, problem: str, mark: Any, hint: str) -> None:
        super().__init__(None, None, problem, mark)
        self.hint = hint


def read_limited(path: Path) -> bytes:
    """The bytes of ``path``; :class:`YamlLimitError` when it holds more than
    :data:`MAX_YAML_BYTES` (no more than that is read, whatever the file is)."""
    with Path(path).open("rb") as fh:
        data = fh.read(MAX_YAML_BYTES + 1)
    check_size(len(data))
    return data


def check_size(size: int) -> None:
    """:class:`YamlLimitError` when a document of ``size`` bytes or characters is over
    :data:`MAX_YAML_BYTES`."""
    if size > MAX_YAML_BYTES:
        raise YamlLimitError(
            f"the YAML document is larger than {MAX_YAML_BYTES // (1024 * 1024)} MB",
            None,
            "a spec file this large is not a spec: check that the right file is given",
        )


class BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that refuses deep nesting, self-containing aliases and aliases that
    repeat more than :data:`MAX_ALIAS_VALUES` values (see the module)."""

    def __init__(self, stream: str | bytes) -> None:
        check_size(len(stream))
        super().__init__(stream)
        self._depth = 0
        self._alias_values = 0
        self._sizes: dict[int, int] = {}
        """Composed node (by id) -> the number of values it stands for, aliases expanded."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            self._count_alias(event)
            return super().compose_node(parent, index)
        nested = isinstance(event, yaml.CollectionStartEvent)
        if nested:
            self._enter(event)
        try:
            node = super().compose_node(parent, index)
        finally:
            if nested:
                self._depth -= 1
        if node is not None:
            self._sizes[id(node)] = 1 + sum(self._sizes[id(c)] for c in _children(node))
        return node

    def _enter(self, event: yaml.CollectionStartEvent) -> None:
        """One mapping or list deeper; refused past :data:`MAX_YAML_DEPTH`."""
        if self._depth >= MAX_YAML_DEPTH:
            raise YamlLimitError(
                f"mappings and lists nested more than {MAX_YAML_DEPTH} levels deep",
                event.start_mark,
                "spec files nest a few levels; check the brackets and indentation",
            )
        self._depth += 1

    def _count_alias(self, event: yaml.AliasEvent) -> None:
        anchored = self.anchors.get(event.anchor)
        if anchored is None:
            return  # an undefined alias: the composer reports it
        size = self._sizes.get(id(anchored))
        if size is None:
            raise YamlLimitError(
                f"alias *{event.anchor} is inside the value of its own anchor",
                event.start_mark,
                "a value cannot contain itself; write the repeated part out",
            )
        self._alias_values += size
        if self._alias_values > MAX_ALIAS_VALUES:
            raise YamlLimitError(
                f"aliases repeat more than {MAX_ALIAS_VALUES} values (alias *{event.anchor} "
                f"stands for {size})",
                event.start_mark,
                "an alias repeats its anchor's whole value; write the values out instead "
                "of nesting aliases",
            )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
