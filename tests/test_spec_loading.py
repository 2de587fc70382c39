"""The spec loader: YAML 1.2 scalars, line numbers for every value, clear errors; and
property tests (hypothesis) that it never fails with anything but SpecError."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cdisc_mapper.errors import SpecError
from cdisc_mapper.sdtm import load_study
from cdisc_mapper.spec.sdtm import SourceSpec
from cdisc_mapper.spec.study import SubjectSpec
from cdisc_mapper.spec.yamlio import load_spec_yaml
from tests.conftest import STUDY

# PyYAML writes YAML 1.1; our loader reads YAML 1.2 core: leave out the few plain strings
# the two read differently (e.g. 0E0, which is a float in 1.2)
_CORE = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20
).filter(lambda t: not _CORE.match(t.strip()))
keys = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789", min_size=1, max_size=8).filter(
    lambda t: not _CORE.match(t)
)
scalars = st.one_of(
    texts,
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.none(),
)
trees = st.recursive(
    scalars,
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(keys, kids, max_size=4)),
    max_leaves=20,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(keys, trees, min_size=1, max_size=5))
def test_round_trip_and_every_value_has_a_line(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("y") / "spec.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    doc = load_spec_yaml(path)
    assert doc.data == data
    n_lines = len(path.read_text(encoding="utf-8").splitlines())
    for loc in _paths(data):
        line = doc.line_of(loc)
        assert line is not None and 1 <= line <= max(n_lines, 1)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_loads_or_raises_spec_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("y") / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_spec_yaml(path)
    except SpecError as exc:
        assert "spec.yaml" in str(exc)


def test_yaml_12_scalars_keep_the_reviewers_text(tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_text("a: Yes\nb: No\nc: 01\nd: ND\ne: true\nf: 1.5\ng: null\nh: NA\n")
    assert load_spec_yaml(path).data == {
        "a": "Yes",
        "b": "No",
        "c": "01",
        "d": "ND",
        "e": True,
        "f": 1.5,
        "g": None,
        "h": "NA",
    }


def test_duplicate_key_is_an_error_with_both_lines(tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_text("variables:\n  AETERM: {op: column, column: X}\n  AETERM: {op: constant}\n")
    try:
        load_spec_yaml(path)
    except SpecError as exc:
        assert "s.yaml:3" in str(exc) and "first given at line 2" in str(exc)
    else:
        raise AssertionError("duplicate key accepted")


def test_empty_and_missing_files(tmp_path: Path):
    (tmp_path / "e.yaml").write_text("")
    for name, pattern in [("e.yaml", "empty"), ("nope.yaml", "not found")]:
        try:
            load_spec_yaml(tmp_path / name)
        except SpecError as exc:
            assert pattern in str(exc)
        else:
            raise AssertionError(name)


def test_bundled_study_specs_load_and_check(tmp_path: Path):
    bundle = load_study(STUDY)
    assert bundle.study.studyid == "0208-16-HMO"
    assert {"DM", "AE", "EX", "LB", "VS", "QS", "RE", "MH", "DS", "PR", "CM", "IE"} <= set(
        bundle.domains
    )
    # operation arguments are validated at load time against each operation's model
    assert bundle.op_args[("DM", 0, "SEX")].codelist == "SEX"


def test_variable_line_is_reported_for_a_bad_op_argument(tmp_path: Path):
    import shutil

    study = tmp_path / "study"
    shutil.copytree(STUDY, study)
    spec = study / "sdtm" / "qs.yaml"
    text = spec.read_text().replace(
        "QSCAT: {op: constant, value: ALSFRS-R}", "QSCAT: {op: constant}"
    )
    spec.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "QSCAT: {op: constant}" in t)
    try:
        load_study(study)
    except SpecError as exc:
        assert f"qs.yaml:{line}" in str(exc) and "value" in str(exc)
    else:
        raise AssertionError("missing argument accepted")


def test_yaml_tags_are_a_spec_error(tmp_path: Path):
    """Found by the property test: an unknown tag must not escape as a YAML exception."""
    path = tmp_path / "s.yaml"
    path.write_text("a: 1\nb: !0\n")
    try:
        load_spec_yaml(path)
    except SpecError as exc:
        assert "s.yaml:2" in str(exc)
    else:
        raise AssertionError("tag accepted")


@pytest.mark.parametrize(
    ("form", "file", "why"),
    [
        ("ae", "../other/ae.csv", "goes up with '..'"),
        ("ae", "sub/../../ae.csv", "goes up with '..'"),
        ("ae", "..\\other\\ae.csv", "goes up with '..'"),  # a Windows path on any system
        ("ae", "/data/other/ae.csv", "is an absolute path"),
        ("ae", "C:\\data\\ae.csv", "is an absolute path"),
        ("ae", "\\\\server\\share\\ae.csv", "is an absolute path"),
        ("ae", "", "names no file"),
        ("ae", ".", "names no file"),
        ("../other/ae", None, "goes up with '..'"),  # the form names the default file
        ("/data/ae", None, "is an absolute path"),
    ],
)
def test_spec_paths_stay_inside_the_raw_folder(form: str, file: str | None, why: str) -> None:
    # a spec could read another study's files: '../other/ae.csv' was accepted
    source = {"form": form, **({"file": file} if file is not None else {})}
    with pytest.raises(ValidationError, match=re.escape(why)):
        SourceSpec.model_validate(source)
    registry = form if file is None else file
    with pytest.raises(ValidationError, match=re.escape(why)):
        SubjectSpec.model_validate({"subject_column": "ID", "registry_form": registry})


def test_spec_path_error_names_the_spec_line(tmp_path: Path) -> None:
    study = tmp_path / "study"
    shutil.copytree(STUDY, study)
    spec = study / "sdtm" / "ae.yaml"
    spec.write_text(
        spec.read_text().replace(
            "  - form: adverse_events\n", "  - form: adverse_events\n    file: /etc/passwd\n"
        )
    )
    with pytest.raises(SpecError) as info:
        load_study(study)
    assert str(info.value).startswith(
        f"{spec}:5: sources.0.file: Value error, '/etc/passwd' is an absolute path; give a "
        "path relative to the raw folder"
    )
    for file in ["ae.csv", "exports/2024/ae.csv", "exports\\ae.csv", "a..b.csv"]:
        assert SourceSpec.model_validate({"form": "ae", "file": file}).file == file
