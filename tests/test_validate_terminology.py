"""Terminology checks (cdisc_mapper.validate.checks.terminology) on tiny hand-written
packages: values outside CT that the SDTMIG itself permits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from cdisc_mapper.define import write_define
from cdisc_mapper.validate.checks.terminology import _distinct_pairs
from tests.conftest import STUDY
from tests.validate_pkg import findings, write_dataset


def _dm(tmp_path: Path, races: list[str]) -> Path:
    sdtm = tmp_path / "pkg" / "sdtm"
    n = len(races)
    write_dataset(
        sdtm,
        "DM",
        {
            "STUDYID": ["ST"] * n,
            "DOMAIN": ["DM"] * n,
            "USUBJID": [f"S-{i + 1}" for i in range(n)],
            "SEX": ["F"] * n,
            "RACE": races,
        },
    )
    return sdtm.parent


def test_ct0001_race_multiple_is_permitted_by_the_sdtmig(tmp_path):
    # SDTMIG v3.4 §4.2.8.3 and the DM assumptions: several races collected -> RACE
    # 'MULTIPLE' (the races in SUPPDM); OTHER is a CT term.
    root = _dm(tmp_path, ["WHITE", "MULTIPLE", "OTHER"])
    assert findings(root, "CT0001")[1] == []


def test_ct0001_a_race_outside_ct_is_still_reported(tmp_path):
    root = _dm(tmp_path, ["WHITE", "MULTIPLE", "MULTI-RACIAL"])
    _, found = findings(root, "CT0001")
    assert [(f.dataset, f.record, f.variable, f.value) for f in found] == [
        ("DM", 3, "RACE", "MULTI-RACIAL")
    ]
    assert found[0].message.startswith("'MULTI-RACIAL' is not in non-extensible codelist RACE")


def test_ct0001_multiple_is_not_a_value_of_a_result(tmp_path):
    # 'MULTIPLE' is for non-result qualifiers only: IEORRES (Result Qualifier, codelist
    # NY) holds one answer.
    sdtm = tmp_path / "pkg" / "sdtm"
    write_dataset(
        sdtm,
        "IE",
        {
            "STUDYID": ["ST", "ST"],
            "DOMAIN": ["IE", "IE"],
            "USUBJID": ["S-1", "S-2"],
            "IESEQ": [1.0, 1.0],
            "IETESTCD": ["IN01", "IN01"],
            "IEORRES": ["N", "MULTIPLE"],
        },
    )
    _, found = findings(sdtm.parent, "CT0001")
    assert [(f.record, f.variable, f.value) for f in found] == [(2, "IEORRES", "MULTIPLE")]


ODM = "http://www.cdisc.org/ns/odm/v1.3"
DEF = "http://www.cdisc.org/ns/def/v2.1"


def _define(
    path: Path,
    terms: dict[str, bool],
    *,
    value_level: bool = False,
    dataset: str = "TS",
    variable: str = "TSVCDREF",
    columns: tuple[str, ...] = ("STUDYID", "DOMAIN", "TSSEQ", "TSPARMCD", "TSVAL", "TSVCDREF"),
    nci_code: str | None = None,
) -> Path:
    """A define.xml describing ``dataset`` whose ``variable`` has a codelist listing
    ``terms`` (term -> whether it carries def:ExtendedValue="Yes"), declared a CDISC
    codelist when ``nci_code`` is given; with ``value_level`` the codelist hangs on a
    value-level ItemDef of the variable instead of its own ItemDef."""
    root = etree.Element(f"{{{ODM}}}ODM", nsmap={None: ODM, "def": DEF})
    study = etree.SubElement(root, f"{{{ODM}}}Study", OID="S")
    mdv = etree.SubElement(study, f"{{{ODM}}}MetaDataVersion", OID="M", Name="M")
    mdv.set(f"{{{DEF}}}DefineVersion", "2.1.0")
    group = etree.SubElement(mdv, f"{{{ODM}}}ItemGroupDef", OID="IG", Name=dataset)
    group.set("Purpose", "Tabulation")
    for name in columns:
        etree.SubElement(group, f"{{{ODM}}}ItemRef", ItemOID=f"IT.{name}", Mandatory="No")
        item = etree.SubElement(mdv, f"{{{ODM}}}ItemDef", OID=f"IT.{name}", Name=name)
        item.set("DataType", "text")
        if name == variable and value_level:
            etree.SubElement(item, f"{{{DEF}}}ValueListRef", ValueListOID="VL")
        elif name == variable:
            etree.SubElement(item, f"{{{ODM}}}CodeListRef", CodeListOID="CL")
    if value_level:
        vl = etree.SubElement(mdv, f"{{{DEF}}}ValueListDef", OID="VL")
        etree.SubElement(vl, f"{{{ODM}}}ItemRef", ItemOID="IT.VALUE", Mandatory="No")
        item = etree.SubElement(mdv, f"{{{ODM}}}ItemDef", OID="IT.VALUE", Name=variable)
        etree.SubElement(item, f"{{{ODM}}}CodeListRef", CodeListOID="CL")
    codelist = etree.SubElement(mdv, f"{{{ODM}}}CodeList", OID="CL", Name=variable)
    for term, extended in terms.items():
        element = etree.SubElement(codelist, f"{{{ODM}}}EnumeratedItem", CodedValue=term)
        if extended:
            element.set(f"{{{DEF}}}ExtendedValue", "Yes")
    if nci_code:
        etree.SubElement(codelist, f"{{{ODM}}}Alias", Context="nci:ExtCodeID", Name=nci_code)
    etree.ElementTree(root).write(str(path), xml_declaration=True, encoding="UTF-8")
    return path


def _ts(tmp_path: Path) -> Path:
    sdtm = tmp_path / "pkg" / "sdtm"
    write_dataset(
        sdtm,
        "TS",
        {
            "STUDYID": ["ST"] * 3,
            "DOMAIN": ["TS"] * 3,
            "TSSEQ": [1.0, 1.0, 1.0],
            "TSPARMCD": ["SSTDTC", "REGID", "PCLAS"],
            "TSVAL": ["2020-01-01", "NCT0", "X"],
            "TSVCDREF": ["ISO 8601", "clinicaltrials.gov", "MED-RT"],
        },
    )
    return sdtm.parent


def test_ct0002_a_term_define_declares_extended_is_not_reported(tmp_path):
    root = _ts(tmp_path)
    define = _define(
        tmp_path / "define.xml",
        {"ISO 8601": True, "clinicaltrials.gov": True, "MED-RT": False},
    )
    _, found = findings(root, "CT0002", define=define)
    # MED-RT is a CDISC DICTNAM term (C163416): never an extension, flag or not
    assert found == []


@pytest.mark.parametrize("value_level", [False, True])
def test_ct0002_undeclared_extensions_are_still_reported(tmp_path, value_level):
    root = _ts(tmp_path)
    define = _define(
        tmp_path / "define.xml",
        {"ISO 8601": True, "clinicaltrials.gov": False},
        value_level=value_level,
    )
    _, found = findings(root, "CT0002", define=define)
    assert [(f.record, f.value, f.message) for f in found] == [
        (
            2,
            "clinicaltrials.gov",
            "'clinicaltrials.gov' is not in extensible codelist DICTNAM (C66788) (define.xml "
            'lists it without def:ExtendedValue="Yes": mark it so) (1 record)',
        )
    ]


def test_ct0002_a_term_missing_from_define_says_so(tmp_path):
    root = _ts(tmp_path)
    define = _define(tmp_path / "define.xml", {"ISO 8601": True})
    _, found = findings(root, "CT0002", define=define)
    assert [(f.value, f.message) for f in found] == [
        (
            "clinicaltrials.gov",
            "'clinicaltrials.gov' is not in extensible codelist DICTNAM (C66788) (sponsor "
            'extension not in define.xml: add it with def:ExtendedValue="Yes") (1 record)',
        )
    ]


def test_ct0002_without_define_every_extension_is_reported(tmp_path):
    _, found = findings(_ts(tmp_path), "CT0002")
    assert [f.value for f in found] == ["ISO 8601", "clinicaltrials.gov"]


def _declare(root: etree._Element, item_oid: str, term: str, extended: bool) -> None:
    """Make ``term`` a term of ``item_oid``'s codelist (adding one when the ItemDef has
    none), with def:ExtendedValue="Yes" or without it."""
    ns = {"odm": ODM}
    mdv = root.find("odm:Study/odm:MetaDataVersion", ns)
    assert mdv is not None
    item = mdv.find(f"odm:ItemDef[@OID='{item_oid}']", ns)
    assert item is not None, item_oid
    ref = item.find("odm:CodeListRef", ns)
    if ref is None:
        ref = etree.Element(f"{{{ODM}}}CodeListRef", CodeListOID=f"CL.TEST.{item_oid}")
        item.insert(1, ref)  # after the Description
        codelist = etree.Element(
            f"{{{ODM}}}CodeList", OID=f"CL.TEST.{item_oid}", Name=item_oid, DataType="text"
        )
        mdv.find("odm:CodeList", ns).addprevious(codelist)  # type: ignore[union-attr]
    codelist = mdv.find(f"odm:CodeList[@OID='{ref.get('CodeListOID')}']", ns)
    assert codelist is not None
    entry = next((e for e in codelist if e.get("CodedValue") == term), None)
    if entry is None:
        entry = etree.SubElement(codelist, f"{{{ODM}}}EnumeratedItem", CodedValue=term)
    entry.attrib.pop(f"{{{DEF}}}ExtendedValue", None)
    if extended:
        entry.set(f"{{{DEF}}}ExtendedValue", "Yes")


@pytest.mark.parametrize("extended", [True, False])
def test_ct0002_reads_the_extensions_our_own_define_declares(tmp_path, demo_sdtm, extended):
    """The demo's sponsor terms QSCAT 'ALSFRS-R' and TSVCDREF 'ISO 8601': silent when our
    define.xml marks them def:ExtendedValue="Yes", reported when it does not."""
    out, _ = demo_sdtm
    pkg = tmp_path / "pkg"
    shutil.copytree(out / "sdtm", pkg / "sdtm")
    define = next(p for p in write_define(STUDY, pkg, which=("sdtm",)) if p.suffix == ".xml")
    tree = etree.parse(str(define))
    _declare(tree.getroot(), "IT.QS.QSCAT", "ALSFRS-R", extended)
    _declare(tree.getroot(), "IT.TS.TSVCDREF", "ISO 8601", extended)
    tree.write(str(define), xml_declaration=True, encoding="UTF-8")
    _, found = findings(pkg, "CT0002", define=define)
    expected = [] if extended else [("QS", "QSCAT", "ALSFRS-R"), ("TS", "TSVCDREF", "ISO 8601")]
    assert [(f.dataset, f.variable, f.value) for f in found] == expected
    assert all("without def:ExtendedValue" in f.message for f in found)


def _rs(tmp_path: Path) -> Path:
    sdtm = tmp_path / "pkg" / "sdtm"
    write_dataset(
        sdtm,
        "RS",
        {
            "STUDYID": ["ST"] * 2,
            "DOMAIN": ["RS"] * 2,
            "USUBJID": ["S-1"] * 2,
            "RSSEQ": [1.0, 2.0],
            "RSTESTCD": ["HAMD101", "HAMD1XX"],
            "RSCAT": ["HAMD 17", "HAMD 17"],
        },
    )
    return sdtm.parent


def test_ct0002_a_term_of_the_cdisc_codelist_define_chose_is_not_an_extension(tmp_path):
    # SDTMIG v3.4 RS: RSTESTCD takes ONCRTSCD (C96782) for oncology and the instrument's
    # clinical-classification codelist otherwise; the CDISC pilot's define.xml ties it to
    # HAMD1TC (C100138), whose term HAMD101 is then not a sponsor extension
    root = _rs(tmp_path)
    columns = ("STUDYID", "DOMAIN", "USUBJID", "RSSEQ", "RSTESTCD", "RSCAT")
    define = _define(
        tmp_path / "define.xml",
        {"HAMD101": False},
        dataset="RS",
        variable="RSTESTCD",
        columns=columns,
        nci_code="C100138",
    )
    _, found = findings(root, "CT0002", define=define)
    assert [(f.record, f.variable, f.value) for f in found] == [(2, "RSTESTCD", "HAMD1XX")]
    _, found = findings(root, "CT0002")
    assert [f.value for f in found] == ["HAMD101", "HAMD1XX"]
    sponsor = _define(
        tmp_path / "sponsor.xml",
        {"HAMD101": False},
        dataset="RS",
        variable="RSTESTCD",
        columns=columns,
    )
    _, found = findings(root, "CT0002", define=sponsor)  # not a CDISC codelist: undeclared
    assert [f.value for f in found] == ["HAMD101", "HAMD1XX"]


@pytest.mark.parametrize("many", [False, True])
def test_distinct_code_decode_pairs_of_the_kept_records(many):
    # many: 3,000 codes of one record each, so that the pairs are too sparse to mark by
    # position; the pairs found are the same
    codes = ["A", "A", "B", "A", "C", ""]
    decodes = ["Alpha", "Alpha", "Beta", "Alfa", "", "Gamma"]
    if many:
        codes += [f"X{i}" for i in range(3000)]
        decodes += ["Other"] * 3000
    a = pd.Series(pd.Categorical(codes))
    b = pd.Series(pd.Categorical(decodes))
    keep = ~((a == "") | (b == "")).to_numpy()
    pairs = _distinct_pairs(a, b, keep)
    found = set(zip(pairs["c"], pairs["d"], strict=True))
    expected = {("A", "Alpha"), ("B", "Beta"), ("A", "Alfa")}
    if many:
        expected |= {(f"X{i}", "Other") for i in range(3000)}
    assert found == expected and len(pairs) == len(expected)
    assert pairs["c"].dtype == object and pairs["d"].dtype == object
