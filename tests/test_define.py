"""Define-XML 2.1 for the demo study: schema-valid, consistent with the data, complete
enough for a reviewer (origins, methods, value-level metadata, code lists), reproducible."""

from __future__ import annotations

import re
import shutil
import warnings
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from cdisc_mapper.define import (
    check_define_consistency,
    render_html,
    validate_define_schema,
    write_define,
)
from cdisc_mapper.define.build import creation_datetime
from cdisc_mapper.define.reader import CHAR_TYPES, NUM_TYPES, DefineReadError, read_define
from cdisc_mapper.xpt import read_xpt

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "mappings" / "als_msc"
NS = {
    "odm": "http://www.cdisc.org/ns/odm/v1.3",
    "def": "http://www.cdisc.org/ns/def/v2.1",
    "xlink": "http://www.w3.org/1999/xlink",
}


def _copy_sdtm(src: Path, dst: Path) -> None:
    (dst / "sdtm").mkdir(parents=True)
    for xpt in (src / "sdtm").glob("*.xpt"):
        shutil.copy(xpt, dst / "sdtm" / xpt.name)


@pytest.fixture(scope="module")
def built(demo_sdtm, tmp_path_factory) -> tuple[Path, object]:
    """A private copy of the demo SDTM datasets, ADaM built from them, and both defines:
    (output folder, the ADaM result)."""
    out = tmp_path_factory.mktemp("define") / "out"
    _copy_sdtm(demo_sdtm[0], out)
    from cdisc_mapper.adam import run_adam

    adam = run_adam(STUDY, out / "sdtm", out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_define(STUDY, out, adam_result=adam)
    return out, adam


@pytest.fixture(scope="module")
def package(built) -> Path:
    return built[0]


def _tree(package: Path, kind: str) -> etree._ElementTree:
    return etree.parse(str(package / kind / "define.xml"))


def _text(el: etree._Element | None) -> str:
    if el is None:
        return ""
    node = el.find("odm:Description/odm:TranslatedText", NS)
    return node.text if node is not None else ""


def _item(tree: etree._ElementTree, oid: str) -> etree._Element:
    found = tree.getroot().find(f".//odm:ItemDef[@OID='{oid}']", NS)
    assert found is not None, oid
    return found


def _html_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8")
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", raw)))


# --------------------------------------------------------------------------- validity
@pytest.mark.parametrize("kind", ["sdtm", "adam"])
def test_define_is_schema_valid_and_consistent_with_the_data(package, kind):
    define = package / kind / "define.xml"
    assert (package / kind / "define.html").is_file()
    assert validate_define_schema(define) == []
    # the stylesheet its xml-stylesheet instruction names is beside it: the CDISC one
    assert b'<?xml-stylesheet type="text/xsl" href="define2-1.xsl"?>' in define.read_bytes()[:200]
    xsl = (package / kind / "define2-1.xsl").read_text(encoding="utf-8")
    assert "Copyright (c) 2013-2018 Lex Jansen" in xsl
    assert 'xmlns:arm="http://www.cdisc.org/ns/arm/v1.0"' in xsl
    assert check_define_consistency(define, package / kind) == []


@pytest.mark.parametrize("kind", ["sdtm", "adam"])
def test_every_dataset_and_variable_is_described(package, kind):
    doc = read_define(package / kind / "define.xml")
    files = {p.stem.upper() for p in (package / kind).glob("*.xpt")}
    assert set(doc.datasets) == files
    assert all(ds.href == f"{name.lower()}.xpt" for name, ds in doc.datasets.items())


@pytest.mark.parametrize(("kind", "standard"), [("sdtm", "SDTM"), ("adam", "ADaM")])
def test_the_reader_joins_items_and_keys(package, kind, standard):
    doc = read_define(package / kind / "define.xml")
    for name, ds in doc.datasets.items():
        assert ds.standard == standard and ds.line is not None
        _, meta = read_xpt(package / kind / ds.href)
        variables = doc.variables(ds)
        assert list(variables) == meta.names, name  # ItemRef order is the file's order
        for var in meta.variables:
            item = variables[var.name]
            assert item.label == var.label and item.line is not None
            assert item.data_type in (CHAR_TYPES if var.type == "Char" else NUM_TYPES)
            assert item.length in (var.length, None) or var.type == "Num"  # none for ISO 8601
        assert doc.keys(ds) and set(doc.keys(ds)) <= set(variables)
    first = "DM" if kind == "sdtm" else "ADSL"
    assert doc.keys(doc.datasets[first]) == ("STUDYID", "USUBJID")
    assert doc.dataset(first.lower()) is doc.datasets[first]


def test_the_reader_says_what_is_wrong(tmp_path):
    with pytest.raises(DefineReadError, match=r"define\.xml not found"):
        read_define(tmp_path / "define.xml")
    bad = tmp_path / "bad.xml"
    bad.write_text("<ODM>\n<unclosed>\n")
    with pytest.raises(DefineReadError, match="not well-formed XML") as info:
        read_define(bad)
    assert f"{bad}:" in str(info.value)
    bad.write_text("<html xmlns='http://www.w3.org/1999/xhtml'/>")
    with pytest.raises(DefineReadError, match="not a Define-XML document"):
        read_define(bad)


def test_rerun_is_byte_identical(built, tmp_path):
    package, adam = built
    again = tmp_path / "out"
    for kind in ("sdtm", "adam"):
        (again / kind).mkdir(parents=True)
        for xpt in (package / kind).glob("*.xpt"):
            shutil.copy(xpt, again / kind / xpt.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_define(STUDY, again, adam_result=adam)
    for kind in ("sdtm", "adam"):
        for name in ("define.xml", "define.html"):
            assert (again / kind / name).read_bytes() == (package / kind / name).read_bytes()


def test_creation_datetime_follows_source_date_epoch(package, tmp_path, monkeypatch):
    _copy_sdtm(package, tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_define(STUDY, tmp_path, which=["sdtm"])
    root = _tree(tmp_path, "sdtm").getroot()
    assert root.get("CreationDateTime") == "2023-11-14T22:13:20"


def test_creation_datetime_is_the_clock_without_source_date_epoch(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    before = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    stamp = datetime.strptime(creation_datetime(), "%Y-%m-%dT%H:%M:%S")
    after = datetime.now(UTC).replace(tzinfo=None)
    assert before <= stamp <= after
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert creation_datetime() == "1970-01-01T00:00:00"


# --------------------------------------------------------------------------- SDTM content
def test_sdtm_header_standards_and_datasets(package):
    root = _tree(package, "sdtm").getroot()
    assert root.get("ODMVersion") == "1.3.2"
    assert root.get(f"{{{NS['def']}}}Context") == "Submission"
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    assert mdv.get(f"{{{NS['def']}}}DefineVersion") == "2.1.0"
    assert root.findtext("odm:Study/odm:GlobalVariables/odm:StudyName", namespaces=NS) == (
        "0208-16-HMO"
    )
    standards = {
        (s.get("Name"), s.get("Type"), s.get("PublishingSet"), s.get("Version"))
        for s in mdv.iterfind("def:Standards/def:Standard", NS)
    }
    assert ("SDTMIG", "IG", None, "3.4") in standards
    assert ("CDISC/NCI", "CT", "SDTM", "2025-03-28") in standards
    dm = mdv.find("odm:ItemGroupDef[@Name='DM']", NS)
    assert dm.get("Repeating") == "No"
    assert dm.get("Purpose") == "Tabulation"
    assert dm.get(f"{{{NS['def']}}}Structure") == "One record per subject"
    assert dm.find("def:Class", NS).get("Name") == "SPECIAL PURPOSE"
    assert dm.find("def:leaf", NS).get(f"{{{NS['xlink']}}}href") == "dm.xpt"
    keys = {
        r.get("ItemOID"): r.get("KeySequence")
        for r in dm.iterfind("odm:ItemRef", NS)
        if r.get("KeySequence")
    }
    assert keys == {"IT.DM.STUDYID": "1", "IT.DM.USUBJID": "2"}
    ta = mdv.find("odm:ItemGroupDef[@Name='TA']", NS)
    assert ta.get("IsReferenceData") == "Yes"
    assert ta.find("def:Class", NS).get("Name") == "TRIAL DESIGN"
    supp = mdv.find("odm:ItemGroupDef[@Name='SUPPMH']", NS)
    assert supp.get("Domain") == "MH"  # linked to its parent
    assert supp.find("odm:Alias", NS).get("Name") == "Medical History"
    assert supp.find("def:Class", NS).get("Name") == "RELATIONSHIP"
    qs = mdv.find("odm:ItemGroupDef[@Name='QS']", NS)
    assert qs.get(f"{{{NS['def']}}}CommentOID") == "COM.C-QS"


def test_sdtm_origins_say_where_each_variable_comes_from(package):
    tree = _tree(package, "sdtm")
    sex = _item(tree, "IT.DM.SEX").find("def:Origin", NS)
    assert (sex.get("Type"), sex.get("Source")) == ("Collected", "Investigator")
    assert _text(sex) == "enrollment.csv GENDER"  # the raw column, beside the aCRF page
    assert sex.find("def:DocumentRef", NS).get("leafID") == "LF.acrf"
    armcd = _item(tree, "IT.DM.ARMCD").find("def:Origin", NS)
    assert (armcd.get("Type"), _text(armcd)) == ("Assigned", "Assigned: MSC")
    assert _text(_item(tree, "IT.VS.VSORRES.PULSE").find("def:Origin", NS)) == ("vitals.csv PULSE")
    assert _text(_item(tree, "IT.VS.VSORRES.HEIGHT").find("def:Origin", NS)) == (
        "enrollment.csv HEIGHT_CM"
    )
    assert _item(tree, "IT.TA.ARMCD").find("def:Origin", NS).get("Type") == "Protocol"
    doc = read_define(package / "sdtm" / "define.xml")
    for ds in doc.datasets.values():
        for ref in ds.item_refs:
            item = doc.items[ref.item_oid]
            if item.valuelist_oid and item.origin_type is None:
                continue  # mixed origins: each value-level item carries its own
            assert item.origin_type, f"{ds.name}.{item.name} has no origin"
            if item.origin_type == "Derived":
                assert ref.method_oid and doc.methods[ref.method_oid].strip(), item.oid
            elif item.origin_type in ("Collected", "Assigned", "Predecessor"):
                assert item.origin_text, f"{ds.name}.{item.name}: no origin text"


def test_sdtm_methods_come_from_the_spec_or_the_operation(package):
    doc = read_define(package / "sdtm" / "define.xml")
    # spec method: text
    assert doc.methods["MT.DM.RFSTDTC"] == "First MSC injection (RFXSTDTC)"
    assert doc.methods["MT.DM.AGE"].startswith("Completed years from BRTHDTC to RFICDTC")
    # no method in the spec: the operation's method sentence, filled from its arguments
    assert doc.methods["MT.VS.VSDY"] == (
        "Study day of VSDTC: VSDTC - DM.RFSTDTC + 1 when on or after DM.RFSTDTC, else "
        "VSDTC - DM.RFSTDTC (no day 0); null when either date is partial (SDTMIG 3.4 "
        "section 4.4.4)."
    )
    assert doc.methods["MT.DM.DTHFL"] == "'Y' when DTHDTC is not empty; otherwise null."
    assert doc.methods["MT.DM.ACTARMCD"] == "If RFXSTDTC is not empty then 'MSC'; otherwise ''."
    assert doc.methods["MT.LB.LBSTAT"] == "Raw NOT_DONE recoded: 'ND' -> 'NOT DONE'."
    assert not [oid for oid, text in doc.methods.items() if "Here:" in text]
    assert doc.items["IT.DM.AGE"].comment_oid == "COM.C-AGE"
    assert doc.comments["COM.C-AGE"].startswith("AGE is derived at informed consent")
    assert doc.comments["COM.AE.AERLPRT"] == "The lumbar puncture is the study activity (AERLPRT)"
    # internal variables an argument names are explained
    assert "_VISITLABEL (labs) = labs.csv VISIT" in doc.methods["MT.LB.VISITNUM"]


@pytest.mark.parametrize("kind", ["sdtm", "adam"])
def test_each_method_text_is_said_once_and_no_text_names_an_internal_file(package, kind):
    tree = _tree(package, kind)
    texts = [
        m.findtext("odm:Description/odm:TranslatedText", namespaces=NS)
        for m in tree.iterfind(".//odm:MethodDef", NS)
    ]
    assert len(texts) == len(set(texts))
    every = [t.text or "" for t in tree.iterfind(".//odm:TranslatedText", NS)]
    assert not [t for t in every if re.search(r"\.(ya?ml|py)\b", t)]


def test_shared_methods_serve_every_variable_derived_the_same_way(package):
    sdtm, adam = _tree(package, "sdtm"), _tree(package, "adam")
    usubjid = {
        ig.get("Name")
        for ig in sdtm.iterfind(".//odm:ItemGroupDef", NS)
        for ref in ig.iterfind("odm:ItemRef[@MethodOID='MT.USUBJID']", NS)
    }
    assert {"AE", "CM", "DM", "LB", "VS", "QS"} <= usubjid
    windows = sorted(
        (ig.get("Name"), ref.get("ItemOID"))
        for ig in adam.iterfind(".//odm:ItemGroupDef", NS)
        for ref in ig.iterfind("odm:ItemRef[@MethodOID='MT.AVISIT.AVISITN']", NS)
    )
    assert windows == [
        (ds, f"IT.{ds}.{var}")
        for ds in ("ADLB", "ADQS", "ADRE", "ADVS")
        for var in ("AVISIT", "AVISITN")
    ]
    name = adam.find(".//odm:MethodDef[@OID='MT.AVISIT.AVISITN']", NS).get("Name")
    assert name == "Algorithm to derive AVISIT, AVISITN"


def test_sdtm_value_level_metadata(package):
    doc = read_define(package / "sdtm" / "define.xml")
    for ds, testcd in (
        ("QS", "QSTESTCD"),
        ("LB", "LBTESTCD"),
        ("VS", "VSTESTCD"),
        ("RE", "RETESTCD"),
    ):
        refs = doc.value_lists[f"VL.{ds}.{ds}ORRES"]
        clauses = [doc.where_clauses[r.where_oids[0]] for r in refs]
        assert all(c.checks[0].item_oid == f"IT.{ds}.{testcd}" for c in clauses)
        assert all(c.checks[0].comparator == "EQ" for c in clauses)
    temp = doc.items["IT.VS.VSORRES.TEMP"]
    assert (temp.data_type, temp.significant_digits) == ("float", 1)
    assert doc.items["IT.VS.VSORRESU.PULSE"].origin_text == "Assigned: beats/min"
    supp = doc.value_lists["VL.SUPPMH.QVAL"]
    names = {doc.items[r.item_oid].name for r in supp}
    assert names == {"MHONSITE", "MHALSTYP", "MHELESC"}
    assert doc.items["IT.SUPPMH.QVAL.MHELESC"].codelist_oid == "CL.ELESCCAT"
    assert doc.items["IT.SUPPMH.QVAL.MHELESC"].label == "El Escorial Category"
    # records of each source form: DSDECOD by DSCAT, each with its own code list
    ds = doc.value_lists["VL.DS.DSDECOD"]
    lists = {doc.items[r.item_oid].codelist_oid for r in ds}
    assert lists == {"CL.PROTMLST", "CL.NCOMPLT"}


def test_sdtm_code_lists(package):
    tree = _tree(package, "sdtm")
    mdv = tree.getroot().find("odm:Study/odm:MetaDataVersion", NS)
    sex = mdv.find("odm:CodeList[@OID='CL.SEX']", NS)
    assert sex.find("odm:Alias", NS).get("Name") == "C66731"
    assert sex.get(f"{{{NS['def']}}}StandardOID") == "STD.CT.SDTM.2025-03-28"
    terms = {
        t.get("CodedValue"): t.find("odm:Alias", NS).get("Name")
        for t in sex.iterfind("odm:EnumeratedItem", NS)
    }
    assert terms == {"F": "C16576", "M": "C20197"}  # only the terms used, with codes
    # sponsor list: no NCI alias, non-standard, decodes
    alsfrs = mdv.find("odm:CodeList[@OID='CL.ALSFRSTC']", NS)
    assert alsfrs.get(f"{{{NS['def']}}}IsNonStandard") == "Yes"
    assert alsfrs.find(".//odm:Alias", NS) is None
    decode = alsfrs.find("odm:CodeListItem[@CodedValue='ALSR01']/odm:Decode/odm:TranslatedText", NS)
    assert decode.text == "ALSFRS-R - Speech"
    # CDISC test codes decoded by the paired test names in the data
    lbtestcd = mdv.find("odm:CodeList[@OID='CL.LBTESTCD']", NS)
    alt = lbtestcd.find("odm:CodeListItem[@CodedValue='ALT']", NS)
    assert alt.findtext("odm:Decode/odm:TranslatedText", namespaces=NS) == (
        "Alanine Aminotransferase"
    )
    assert alt.find("odm:Alias", NS).get("Name") == "C64433"
    meddra = mdv.find("odm:CodeList[@OID='CL.MEDDRA']/odm:ExternalCodeList", NS)
    assert meddra.get("Dictionary") == "MedDRA"
    assert _item(tree, "IT.AE.AEDECOD").find("odm:CodeListRef", NS).get("CodeListOID") == (
        "CL.MEDDRA"
    )


def test_sponsor_terms_of_extensible_lists_are_extended_values(package):
    mdv = _tree(package, "sdtm").getroot().find("odm:Study/odm:MetaDataVersion", NS)
    ext = f"{{{NS['def']}}}ExtendedValue"

    def terms(oid: str) -> dict[str, str | None]:
        cl = mdv.find(f"odm:CodeList[@OID='{oid}']", NS)
        return {t.get("CodedValue"): t.get(ext) for t in cl if t.get("CodedValue")}

    # QSCAT (C100129, extensible) has no ALSFRS-R term; DICTNAM (TSVCDREF) no ISO 8601
    assert terms("CL.QSCAT") == {"ALSFRS-R": "Yes"}
    assert terms("CL.DICTNAM") == {"CDISC CT": None, "ISO 3166": None, "ISO 8601": "Yes"}
    assert (
        _item(_tree(package, "sdtm"), "IT.QS.QSCAT").find("odm:CodeListRef", NS).get("CodeListOID")
        == "CL.QSCAT"
    )
    # every other extended value in the file: none (DSDECOD's IG names three lists, so a
    # term of one is no extension of another; LBSTRESC's numbers are no terms)
    extended = [t.get("CodedValue") for t in mdv.iterfind("odm:CodeList/*", NS) if t.get(ext)]
    assert sorted(extended) == ["ALSFRS-R", "ISO 8601"]
    assert "Yes" not in terms("CL.NCOMPLT").values()
    assert _item(_tree(package, "sdtm"), "IT.LB.LBSTRESC").find("odm:CodeListRef", NS) is None


def test_qstestcd_and_qstest_have_paired_lists(package):
    doc = read_define(package / "sdtm" / "define.xml")
    assert doc.items["IT.QS.QSTESTCD"].codelist_oid == "CL.ALSFRSTC"
    assert doc.items["IT.QS.QSTEST"].codelist_oid == "CL.ALSFRSTN"
    codes = doc.codelists["CL.ALSFRSTC"].values
    names = doc.codelists["CL.ALSFRSTN"].values
    assert len(codes) == len(names) == 14
    assert codes[0] == "ALSR01" and names[0] == "ALSFRS-R - Speech"
    assert "ALSFRS-R - Speech" not in codes and "ALSR01" not in names


def test_dictionary_variables_have_external_code_lists(package):
    sdtm = _tree(package, "sdtm")
    adam = _tree(package, "adam")

    def listed(tree, oid: str) -> str | None:
        ref = _item(tree, oid).find("odm:CodeListRef", NS)
        return ref.get("CodeListOID") if ref is not None else None

    for oid in ("IT.AE.AEDECOD", "IT.AE.AEBODSYS", "IT.AE.AESOC"):
        assert listed(sdtm, oid) == "CL.MEDDRA", oid
    for oid in ("IT.ADAE.AEDECOD", "IT.ADAE.AEBODSYS", "IT.ADAE.AELLTCD"):
        assert listed(adam, oid) == "CL.MEDDRA", oid
    assert listed(sdtm, "IT.DM.COUNTRY") == "CL.ISO3166-1ALPHA-3"
    assert listed(adam, "IT.ADSL.COUNTRY") == "CL.ISO3166-1ALPHA-3"
    for tree in (sdtm, adam):
        mdv = tree.getroot().find("odm:Study/odm:MetaDataVersion", NS)
        meddra = mdv.find("odm:CodeList[@OID='CL.MEDDRA']/odm:ExternalCodeList", NS)
        assert (meddra.get("Dictionary"), meddra.get("Version")) == ("MedDRA", "26.0")
        iso = mdv.find("odm:CodeList[@OID='CL.ISO3166-1ALPHA-3']/odm:ExternalCodeList", NS)
        assert (iso.get("Dictionary"), iso.get("Version")) == ("ISO 3166-1 alpha-3", "2020")


# --------------------------------------------------------------------------- ADaM content
def test_adam_datasets_classes_and_formats(package):
    mdv = _tree(package, "adam").getroot().find("odm:Study/odm:MetaDataVersion", NS)
    groups = mdv.findall("odm:ItemGroupDef", NS)
    assert groups[0].get("Name") == "ADSL"
    assert all(g.get("Purpose") == "Analysis" for g in groups)
    classes = {g.get("Name"): g.find("def:Class", NS) for g in groups}
    assert classes["ADSL"].get("Name") == "SUBJECT LEVEL ANALYSIS DATASET"
    assert classes["ADQS"].get("Name") == "BASIC DATA STRUCTURE"
    assert classes["ADAE"].get("Name") == "OCCURRENCE DATA STRUCTURE"
    assert classes["ADAE"].find("def:SubClass", NS).get("Name") == "ADVERSE EVENT"
    standards = {s.get("Name") for s in mdv.iterfind("def:Standards/def:Standard", NS)}
    assert {"ADaMIG", "CDISC/NCI"} <= standards
    trtsdt = mdv.find("odm:ItemDef[@OID='IT.ADSL.TRTSDT']", NS)
    assert trtsdt.get("DataType") == "integer"
    assert trtsdt.get(f"{{{NS['def']}}}DisplayFormat") == "DATE9."


def test_adam_value_level_metadata_by_parameter(package):
    doc = read_define(package / "adam" / "define.xml")
    for ds in ("ADQS", "ADRE", "ADPROG", "ADLB", "ADVS"):
        refs = doc.value_lists[f"VL.{ds}.AVAL"]
        checks = [doc.where_clauses[r.where_oids[0]].checks[0] for r in refs]
        assert {c.item_oid for c in checks} == {f"IT.{ds}.PARAMCD"}
        params = {c.values[0] for c in checks}
        assert set(doc.codelists[f"CL.{ds}.PARAMCD"].values) == params
    total = doc.items["IT.ADQS.AVAL.ALSRTOT"]
    assert total.origin_type == "Derived"
    ref = next(r for r in doc.value_lists["VL.ADQS.AVAL"] if r.item_oid == total.oid)
    assert doc.methods[ref.method_oid].startswith("Sum of the AVAL of ALSR01")
    item = doc.items["IT.ADQS.AVAL.ALSR01"]
    assert (item.origin_type, item.origin_text) == ("Predecessor", "QS.QSSTRESN")
    assert doc.codelists["CL.ADQS.PARAMCD"].decodes["ALSRTOT"] == "ALSFRS-R Total Score"


def test_every_derived_adam_variable_says_how(package):
    doc = read_define(package / "adam" / "define.xml")
    refs = [r for ds in doc.datasets.values() for r in ds.item_refs]
    refs += [r for vl in doc.value_lists.values() for r in vl]
    for ref in refs:
        item = doc.items[ref.item_oid]
        if item.origin_type == "Derived":
            assert ref.method_oid, item.oid
            assert doc.methods[ref.method_oid].strip(), item.oid
        elif item.origin_type == "Predecessor":
            assert re.match(r"^[A-Z]+\.[A-Z0-9_]+", item.origin_text), item.oid


# --------------------------------------------------------------------------- HTML
def test_define_html_shows_variables_origins_vlm_codelists_methods(package):
    sdtm = _html_text(package / "sdtm" / "define.html")
    assert "enrollment.csv GENDER" in sdtm  # where SEX came from
    assert "Annotated CRF" in sdtm  # the link to the generated aCRF
    assert "Completed years from BRTHDTC to RFICDTC" in sdtm  # a method
    assert 'VSTESTCD = "PULSE"' in sdtm  # value-level metadata
    assert "vitals.csv PULSE" in sdtm
    assert "C66731" in sdtm and "El Escorial Diagnostic Category" in sdtm  # code lists
    assert "AGE is derived at informed consent" in sdtm  # a sponsor decision (comment)
    adam = _html_text(package / "adam" / "define.html")
    assert 'PARAMCD = "ALSRTOT"' in adam
    assert "Sum of the AVAL of ALSR01" in adam
    assert "DATE9." in adam


def test_render_html_beside_any_define(package, tmp_path):
    target = tmp_path / "define.xml"
    shutil.copy(package / "sdtm" / "define.xml", target)
    html = render_html(target)
    assert html == tmp_path / "define.html"
    assert "Demographics" in _html_text(html)


# --------------------------------------------------------------------------- stated VLM
def _value_list(tree: etree._ElementTree, oid: str) -> list[etree._Element]:
    return tree.findall(f".//def:ValueListDef[@OID='{oid}']/odm:ItemRef", NS)


def test_stated_value_level_replaces_the_found_one_with_composite_clauses(package):
    """define.yaml states ADRE.AVAL by PARAMCD and DTYPE: four levels, each with a where
    clause of two RangeChecks that selects exactly the records recomputed from ADRE."""
    import pyreadstat

    tree = _tree(package, "adam")
    refs = _value_list(tree, "VL.ADRE.AVAL")
    assert len(refs) == 4
    frame, _ = pyreadstat.read_xport(str(package / "adam" / "adre.xpt"))
    for ref in refs:
        (wc_ref,) = ref.findall("def:WhereClauseRef", NS)
        oid = wc_ref.get("WhereClauseOID")
        checks = tree.findall(f".//def:WhereClauseDef[@OID='{oid}']/odm:RangeCheck", NS)
        assert len(checks) == 2
        mask = pd.Series(True, index=frame.index)
        for check in checks:
            name = check.get("{http://www.cdisc.org/ns/def/v2.1}ItemOID").split(".")[-1]
            values = [v.text for v in check.findall("odm:CheckValue", NS)]
            hit = frame[name].isin(values)
            mask &= hit if check.get("Comparator") == "EQ" else ~hit
        assert mask.sum() > 0, oid
        item = tree.find(f".//odm:ItemDef[@OID='{ref.get('ItemOID')}']", NS)
        origin = item.find("def:Origin", NS)
        best = oid.endswith("DTYPE.EQ.MAXIMUM")
        assert origin.get("Type") == ("Derived" if best else "Predecessor")
        assert (ref.get("MethodOID") == "MT.M-BESTEFFORT") is best
        if best:  # the best effort is the largest of the visit's efforts
            efforts = frame[~frame["DTYPE"].eq("MAXIMUM")]
            top = efforts.groupby(["USUBJID", "PARAMCD", "VISITNUM", "ADT"])["AVAL"].max()
            rows = frame[mask].set_index(["USUBJID", "PARAMCD", "VISITNUM", "ADT"])["AVAL"]
            assert (rows == top.reindex(rows.index)).all()
    assert tree.find(".//odm:MethodDef[@OID='MT.M-BESTEFFORT']", NS) is not None
    assert check_define_consistency(package / "adam" / "define.xml", package / "adam") == []
