"""Data against define.xml (cdisc_mapper.validate.checks.define_values, DD0101-DD0104):
one seeded defect per check in a copy of the demo output with the define.xml the define
module writes for it, and the clean copy, where each check is silent."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lxml import etree

from cdisc_mapper.define import write_define
from cdisc_mapper.validate.checks.define_values import size
from cdisc_mapper.xpt import read_xpt
from tests.conftest import SHARED, STUDY
from tests.test_validate_checks import one, rewrite, row_of, run, set_value, xpt_path

ODM = "http://www.cdisc.org/ns/odm/v1.3"
PILOT = SHARED / "reference" / "cdisc-pilot-msg2"


@pytest.fixture(scope="module")
def defined_template(demo_sdtm, tmp_path_factory) -> Path:
    """The demo SDTM output with its own define.xml, written once."""
    out, _ = demo_sdtm
    target = tmp_path_factory.mktemp("defined") / "pkg"
    shutil.copytree(out / "sdtm", target / "sdtm")
    write_define(STUDY, target, which=("sdtm",))
    return target


@pytest.fixture
def defined(defined_template, tmp_path) -> tuple[Path, Path]:
    """A private copy: (package folder, its define.xml)."""
    target = tmp_path / "pkg"
    shutil.copytree(defined_template, target)
    return target, target / "sdtm" / "define.xml"


@pytest.mark.parametrize("check_id", ["DD0101", "DD0102", "DD0103", "DD0104"])
def test_define_value_checks_are_silent_on_the_demo_and_its_define(defined, check_id):
    pkg, define = defined
    report, found = run(pkg, check_id, define=define)
    assert found == [] and report.checks[0].status == "passed"


def test_define_value_checks_skip_without_define(defined):
    pkg, _ = defined
    report, found = run(pkg, "DD0101")
    assert found == [] and report.checks[0].status == "skipped"


def test_dd0101_value_not_in_non_extensible_define_codelist(defined):
    pkg, define = defined
    rewrite(pkg, "DM", lambda df: set_value(df, 0, "SEX", "U"))
    _, found = run(pkg, "DD0101", define=define)
    f = one(found, dataset="DM", variable="SEX")
    assert (f.record, f.value) == (1, "U")
    assert "CL.SEX" in f.message and "non-extensible" in f.message and "(1 record)" in f.message


def test_dd0101_value_not_in_value_level_codelist(defined):
    """ALSR01's QSORRES given the No/Yes list at value level: every distinct answer is
    reported once, at its first ALSR01 record, with its record count."""
    pkg, define = defined

    def add_codelist(root: etree._Element) -> None:
        item = root.find(f".//{{{ODM}}}ItemDef[@OID='IT.QS.QSORRES.ALSR01']")
        assert item is not None
        ref = etree.Element(f"{{{ODM}}}CodeListRef", CodeListOID="CL.NY")
        item.insert(1, ref)  # after Description, as the schema orders it

    tree = etree.parse(str(define))
    add_codelist(tree.getroot())
    tree.write(str(define), xml_declaration=True, encoding="UTF-8")
    qs, _ = read_xpt(xpt_path(pkg, "QS"))
    answers = qs[(qs["QSTESTCD"] == "ALSR01") & (qs["QSORRES"] != "")]
    expected = {
        value: (int(group.index[0]) + 1, len(group)) for value, group in answers.groupby("QSORRES")
    }
    assert len(expected) >= 2
    _, found = run(pkg, "DD0101", define=define)
    got = {f.value: f for f in found}
    assert set(got) == set(expected)
    for value, (record, count) in expected.items():
        f = got[value]
        assert (f.dataset, f.variable, f.record) == ("QS", "QSORRES", record)
        assert "value level (QSTESTCD EQ ['ALSR01'])" in f.message
        assert f"({count} record{'' if count == 1 else 's'})" in f.message


def test_dd0102_value_not_in_extensible_define_codelist(defined):
    pkg, define = defined
    row = row_of(pkg, "AE", lambda df: df["EPOCH"] == "TREATMENT")
    rewrite(pkg, "AE", lambda df: set_value(df, row, "EPOCH", "FOLLOW-UP"))
    report, found = run(pkg, "DD0102", define=define)
    f = one(found, dataset="AE", variable="EPOCH")
    assert (f.record, f.value) == (row + 1, "FOLLOW-UP") and "CL.EPOCH" in f.message
    assert report.exit_code("error") == 0 and report.exit_code("warning") == 1


def test_dd0103_value_level_data_type(defined):
    pkg, define = defined
    row = row_of(pkg, "LB", lambda df: (df["LBTESTCD"] == "ALT") & (df["LBORRES"] != ""))
    rewrite(pkg, "LB", lambda df: set_value(df, row, "LBORRES", "12.5"))
    _, found = run(pkg, "DD0103", define=define)
    f = one(found, dataset="LB", variable="LBORRES")
    assert (f.record, f.value) == (row + 1, "12.5")
    assert "not integer" in f.message and "IT.LB.LBORRES.ALT" in f.message


def test_dd0104_value_level_length(defined):
    pkg, define = defined
    row = row_of(pkg, "VS", lambda df: (df["VSTESTCD"] == "DIABP") & (df["VSORRES"] != ""))
    rewrite(pkg, "VS", lambda df: set_value(df, row, "VSORRES", "1234"))
    _, found = run(pkg, "DD0104", define=define)
    f = one(found, dataset="VS", variable="VSORRES")
    assert (f.record, f.value) == (row + 1, "1234")
    assert "4 digits; Length 3 in IT.VS.VSORRES.DIABP" in f.message


def test_length_counts_digits_of_numbers_and_bytes_of_text():
    assert size("2.27045", "float") == 6
    assert size("-0.03", "float") == 3
    assert size("1.5E3", "float") == 2
    assert size("12", "integer") == 2
    assert size("Ä b", "text") == 4


@pytest.mark.skipif(not PILOT.is_dir(), reason="needs ../shared/reference")
def test_pilot_define_value_findings(tmp_path):
    """The CDISC MSG pilot: values its own define.xml lists under another spelling."""
    pkg = tmp_path / "pilot"
    shutil.copytree(PILOT / "sdtm", pkg / "sdtm")
    define = pkg / "sdtm" / "define.xml"
    _, closed = run(pkg, "DD0101", define=define, encoding="WINDOWS-1252")
    assert {(f.dataset, f.variable, f.value) for f in closed} == {
        ("FA", "FAOBJ", "PRURITIS"),  # the define lists PRURITUS
        ("QSPH", "QSORRES", "Not at all"),
        ("QSPH", "QSSTRESC", "Not at all"),
        ("RS", "RSORRES", "No weight loss."),
        ("RS", "RSORRES", "Probable weight loss associated with present illness."),
        ("TS", "TSVAL", "BOTH"),  # SEXPOP given the SEX list
    }
    _, extensible = run(pkg, "DD0102", define=define, encoding="WINDOWS-1252")
    assert {(f.dataset, f.value) for f in extensible} == {
        ("LB", "Anisocytes"),  # listed as 'Anisocytes; Anisocytosis'
        ("OE", "ANTERIOR CHAMBER"),  # listed as 'EYE, ANTERIOR CHAMBER'
    }
    _, lengths = run(pkg, "DD0104", define=define, encoding="WINDOWS-1252")
    assert sorted((f.dataset, f.value) for f in lengths) == [
        ("LB", "12.41"),  # float Length 3: four digits
        ("LB", "NORMAL"),  # text Length 1
        ("RS", "Probable weight loss associated with present illness."),  # Length 42
        ("TS", "BOTH"),  # Length 1
    ]
