"""cdisc_mapper.define.schema: each define.xml is checked against the schema of its own
Define-XML version (2.0 or 2.1); another version is one located problem, not a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from cdisc_mapper.define.schema import define_version, define_xsd_path, validate_define_schema

DEFINE20 = Path(__file__).parent / "data" / "define20" / "define.xml"
DEF20 = "http://www.cdisc.org/ns/def/v2.0"


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFINE20.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "define.xml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_the_define_20_schema_is_the_one_odmlib_ships():
    path = define_xsd_path(version="2.0")
    assert path.parts[-4:] == ("schemas", "define", "2.0", "define2-0-0.xsd")


def test_a_valid_define_20_is_valid():
    # hand-written to the Define-XML 2.0 specification; the 2.1 schema rejects it
    assert validate_define_schema(DEFINE20) == []


def test_a_define_20_is_checked_against_the_20_schema(tmp_path):
    broken = _variant(tmp_path, 'Purpose="Tabulation"', 'Purpose="Tabulation" def:Label="x"')
    # def:Label does not exist in Define-XML 2.0 (nor 2.1): one error at its element
    assert validate_define_schema(broken) == [
        "line 15: Element '{http://www.cdisc.org/ns/odm/v1.3}ItemGroupDef', attribute "
        f"'{{{DEF20}}}Label': The attribute '{{{DEF20}}}Label' is not allowed."
    ]


def test_define_version_reads_namespace_and_value():
    root = etree.parse(str(DEFINE20)).getroot()
    assert define_version(root) == ("2.0", [])


def test_a_version_that_disagrees_with_its_namespace_is_said(tmp_path):
    path = _variant(tmp_path, 'def:DefineVersion="2.0.0"', 'def:DefineVersion="2.1.0"')
    problems = validate_define_schema(path)
    assert problems == [
        "line 12: def:DefineVersion '2.1.0' is not a Define-XML 2.0 version although its "
        f"namespace is {DEF20}; checked against the 2.0 schema"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            DEF20,
            "http://www.cdisc.org/ns/def/v3.0",
            "line 12: def:DefineVersion '2.0.0' is in namespace "
            "'http://www.cdisc.org/ns/def/v3.0', not a Define-XML version with a schema here "
            "(2.0, 2.1); the file was not schema-checked",
        ),
        (
            'xmlns:def="http://www.cdisc.org/ns/def/v2.0"',
            'xmlns:def="http://example.org/def"',
            "line 12: def:DefineVersion '2.0.0' is in namespace 'http://example.org/def', not a "
            "Define-XML version with a schema here (2.0, 2.1); the file was not schema-checked",
        ),
    ],
)
def test_an_unknown_version_is_one_located_problem(tmp_path, old, new, expected):
    assert validate_define_schema(_variant(tmp_path, old, new)) == [expected]


def test_without_define_version_the_namespace_decides(tmp_path):
    path = _variant(tmp_path, 'def:DefineVersion="2.0.0"', "")
    problems = validate_define_schema(path)
    # the 2.0 schema, which requires the attribute, says what is missing
    assert len(problems) == 1 and "v2.0}DefineVersion' is required" in problems[0]


def test_no_define_namespace_at_all_is_one_located_problem(tmp_path):
    path = tmp_path / "define.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3">\n'
        '<Study OID="ST"><MetaDataVersion OID="M" Name="M"/></Study>\n</ODM>\n',
        encoding="utf-8",
    )
    assert validate_define_schema(path) == [
        "line 3: no def:DefineVersion and no Define-XML namespace: not a Define-XML version "
        "with a schema here (2.0, 2.1); the file was not schema-checked"
    ]
