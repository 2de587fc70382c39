"""Every YAML the tool reads costs no more than its size: alias bombs, self-containing
aliases, deep nesting and huge documents are refused at their line (spec files, spec
workbook cells, sponsor codelists), and a fuzzed spec file loads or gives a SpecError."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.errors import SpecError, StandardsError
from cdisc_mapper.spec.yamlio import load_spec_yaml, load_yaml
from cdisc_mapper.standards import load_terminology
from cdisc_mapper.yamlsafe import (
    MAX_ALIAS_VALUES,
    MAX_YAML_BYTES,
    MAX_YAML_DEPTH,
    BoundedLoader,
    YamlLimitError,
)
from tests.conftest import REPO


def alias_bomb(levels: int = 9) -> str:
    """``levels`` anchors, each a list of nine aliases of the one before: 9**levels
    values in a few hundred bytes."""
    lines = ["domain: AE", "l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _spec_error(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "s.yaml"
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    with pytest.raises(SpecError) as info:
        load_spec_yaml(path)
    return str(info.value)


def test_an_alias_bomb_is_refused_at_its_line_in_no_time(tmp_path: Path) -> None:
    text = alias_bomb()
    assert len(text) < 1024
    start = time.process_time()  # CPU time: the work done, however loaded the machine
    message = _spec_error(tmp_path, text)
    assert time.process_time() - start < 2
    # *l4 stands for 66 430 values: the second one, on l5's line (7), passes the limit
    assert "s.yaml:7: aliases repeat more than 100000 values (alias *l4" in message
    assert "write the values out" in message


def test_shared_values_stay_readable(tmp_path: Path) -> None:
    """Anchors that share a small value (as the bundled ADaM specs do) keep working, and
    the aliases read as copies with the line of the alias."""
    path = tmp_path / "s.yaml"
    path.write_text("groups: &g\n  - {label: young, max: 40}\n  - {label: old}\nA: *g\nB: *g\n")
    doc = load_spec_yaml(path)
    assert doc.data["A"] == doc.data["B"] == doc.data["groups"]
    assert doc.line_of(("B",)) == 5


def test_the_limit_counts_every_value_an_alias_stands_for() -> None:
    under = "a: &a [" + ", ".join(["x"] * 999) + "]\nb: [" + ", ".join(["*a"] * 99) + "]\n"
    assert len(yaml.load(under, Loader=BoundedLoader)["b"]) == 99  # 99 000 values
    over = under.replace("[*a", "[*a, *a, *a")  # 101 * 1000 > MAX_ALIAS_VALUES
    with pytest.raises(YamlLimitError, match=f"more than {MAX_ALIAS_VALUES}"):
        yaml.load(over, Loader=BoundedLoader)


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: [1, {c: *a}]}\n"])
def test_a_value_that_contains_itself_is_refused(tmp_path: Path, text: str) -> None:
    assert "s.yaml:1: alias *a is inside the value of its own anchor" in _spec_error(tmp_path, text)


def test_deep_nesting_is_refused_at_the_line(tmp_path: Path) -> None:
    block = "".join("  " * i + f"k{i}:\n" for i in range(500)) + "  " * 500 + "x\n"
    # the mapping of line n + 1 is n + 1 levels deep (the file's mapping is the first)
    expected = f"s.yaml:{MAX_YAML_DEPTH + 1}: mappings and lists nested more than 64 levels"
    assert expected in _spec_error(tmp_path, block)
    flow = "a: " + "[" * 100_000
    assert "s.yaml:1: mappings and lists nested more than" in _spec_error(tmp_path, flow)
    fine = "a: " + "[" * (MAX_YAML_DEPTH - 1) + "1" + "]" * (MAX_YAML_DEPTH - 1) + "\n"
    assert (tmp_path / "s.yaml").write_text(fine) and load_spec_yaml(tmp_path / "s.yaml").data


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    message = _spec_error(tmp_path, b"a: " + b"x" * MAX_YAML_BYTES)
    assert message.startswith(f"{tmp_path / 's.yaml'}: the YAML document is larger than 10 MB")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("domain: AE\n".encode("utf-16"), "s.yaml:1: spec file is UTF-16 text, not UTF-8"),
        (b"a: 1\nb: 2\nc: \xff\xfe\x00\n", "s.yaml:3: spec file is not UTF-8 text (byte 14"),
        (b"- a\n- b\n", "s.yaml:1: a spec file is a mapping of keys to values at the top, not a"),
        (b"\n\nplain text\n", "s.yaml:3: a spec file is a mapping of keys to values at the top"),
    ],
)
def test_what_is_not_a_spec_file_is_said_at_its_line(
    tmp_path: Path, data: bytes, expected: str
) -> None:
    assert expected in _spec_error(tmp_path, data)


def test_a_folder_named_yaml_is_a_spec_error(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").mkdir()
    with pytest.raises(SpecError, match="cannot read the spec file"):
        load_spec_yaml(tmp_path / "s.yaml")


def test_workbook_cells_have_the_same_limits() -> None:
    with pytest.raises(yaml.YAMLError, match="aliases repeat"):
        load_yaml(alias_bomb())
    with pytest.raises(yaml.YAMLError, match="nested more than"):
        load_yaml("[" * 5000)
    assert load_yaml("{a: &x [1, 2], b: *x}") == {"a": [1, 2], "b": [1, 2]}


def test_sponsor_codelists_have_the_same_limits(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(REPO / "specs", specs)
    (specs / "sponsor" / "codelists.yaml").write_text(alias_bomb().replace("domain: AE", ""))
    with pytest.raises(StandardsError) as info:
        load_terminology(specs)
    assert str(info.value).startswith(
        f"{specs / 'sponsor' / 'codelists.yaml'}:7: invalid YAML: aliases repeat more than"
    )


# ------------------------------------------------------------------------------- fuzzing
_TOKENS = ["a", "b", ":", " ", "\n", "  ", "-", "[", "]", "{", "}", ",", "&a", "*a", "&b",
           "*b", "!!str", "!x", "?", "|", ">", "'", '"', "#", "\t", "---", "...", "%YAML 1.2",
           "<<", "1", "true", "~", "\\", "\x00", "\ufeff", "é"]  # fmt: skip


def _problem(path: Path) -> str | None:
    """What is wrong with how ``path`` loads (None: nothing): an error must name the file;
    a loaded spec is a mapping whose every value has a line inside the file."""
    try:
        doc = load_spec_yaml(path)
    except SpecError as exc:
        return None if str(exc).startswith(str(path)) else f"error not naming the file: {exc}"
    if not isinstance(doc.data, dict):
        return f"loaded a {type(doc.data).__name__}, not a mapping"
    last = path.read_bytes().count(b"\n") + 1
    outside = {loc: line for loc, line in doc.lines.items() if not 1 <= line <= last}
    return f"lines outside the file: {outside}" if outside else None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_load_or_give_a_spec_error(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("y") / "spec.yaml"
    path.write_bytes(data)
    assert _problem(path) is None


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=80))
def test_random_yaml_like_text_loads_or_gives_a_spec_error(tmp_path_factory, tokens) -> None:
    path = tmp_path_factory.mktemp("y") / "spec.yaml"
    path.write_text("".join(tokens), encoding="utf-8")
    assert _problem(path) is None
