"""The de-identification spec (cdisc_mapper.deid.spec): defaults, overrides, located
errors; and the refusal of a key inside a package (cdisc_mapper.deid.key)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc_mapper.deid.key import KeyPathError, build_key, check_key_path
from cdisc_mapper.deid.spec import DeidSpec, VariableRule, load_deid_spec
from cdisc_mapper.errors import SpecError


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deid.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_spec_gives_the_documented_defaults() -> None:
    spec = load_deid_spec(None)
    assert spec.dates.method == "offset" and spec.dates.offset_days == (-1095, -366)
    assert (spec.age.cap, spec.age.set_to) == (89, 90)
    assert spec.quasi_identifiers == ("AGE", "SEX", "RACE", "ETHNIC", "COUNTRY")
    assert spec.group_rare["RACE"].k == 5 and spec.group_rare["RACE"].into == "OTHER"


def test_overrides_by_name_and_by_dataset(tmp_path: Path) -> None:
    spec = load_deid_spec(
        _spec(
            tmp_path,
            "variables:\n  CMINDC: keep\n  ADAE.AETERM: {action: replace, source: AELLT}\n",
        )
    )
    assert spec.override("CM", "CMINDC") == VariableRule(action="keep")
    assert spec.override("ADAE", "AETERM") == VariableRule(action="replace", source="AELLT")
    assert spec.override("AE", "AETERM") is None


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("dates:\n  method: offset\n  ofset_days: [1, 2]\n", 3, "unknown key"),
        ("age:\n  cap: 89\nvariables:\n  AETERM: scramble\n", 4, "variables.AETERM"),
        ("dates:\n  offset_days: [10, -10]\n", 2, "offset_days is [lowest, highest]"),
        ("variables:\n  AETERM: {action: replace}\n", 2, "needs `source:`"),
        ("group_rare:\n  RACE: {k: 1}\n", 2, "greater than or equal to 2"),
        ("variables:\n  keep: remove\n", 2, "not a variable name"),
    ],
)
def test_a_bad_spec_names_its_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = _spec(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_deid_spec(path)
    assert f"{path}:{line}" in str(err.value)
    assert words in str(err.value)


def test_a_key_inside_the_output_or_input_package_is_refused(tmp_path: Path) -> None:
    out, package = tmp_path / "shared", tmp_path / "package"
    for inside in (out / "sdtm" / "key.json", out / "key.json", package / "adam" / "k.json"):
        with pytest.raises(KeyPathError) as err:
            check_key_path(inside, out, package)
        assert f"--key-out {inside}" in str(err.value)
    check_key_path(tmp_path / "private" / "key.json", out, package)  # apart: accepted


def test_the_same_secret_gives_the_same_key_and_another_secret_another() -> None:
    subjects = {f"ST-01-{i:03d}": ("ST", f"{i:03d}") for i in range(1, 31)}
    spec = DeidSpec()
    one = build_key("s3cret", spec, subjects, ["01", "02"], [])
    assert one == build_key("s3cret", spec, subjects, ["01", "02"], [])
    assert one.subjects != build_key("other", spec, subjects, ["01", "02"], []).subjects
    news = sorted(one.subjects.values())
    assert news == [f"ST-S{i:02d}" for i in range(1, 31)]  # a permutation of 1..30
    assert all(-1095 <= d <= -366 for d in one.offsets.values())
    assert sorted(one.sites.values()) == ["SITE01", "SITE02"]
    assert set(one.subjids) == {f"{i:03d}" for i in range(1, 31)}
