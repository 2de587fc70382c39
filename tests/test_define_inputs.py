"""define.xml from other inputs: define.yaml extras, a second study, bad specs (errors at
the spec line), missing datasets, and the consistency check finding what is wrong."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest
from lxml import etree

from cdisc_mapper.define import (
    DefineWarning,
    build_adam_model,
    check_define_consistency,
    validate_define_schema,
    write_define,
)
from cdisc_mapper.define.build import DefineInputError
from cdisc_mapper.define.reader import read_define
from cdisc_mapper.errors import SpecError

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "mappings" / "als_msc"
DATA = Path(__file__).parent / "data"
NS = {
    "odm": "http://www.cdisc.org/ns/odm/v1.3",
    "def": "http://www.cdisc.org/ns/def/v2.1",
    "xlink": "http://www.w3.org/1999/xlink",
}


@pytest.fixture()
def study_copy(tmp_path) -> Path:
    dst = tmp_path / "study"
    shutil.copytree(STUDY, dst)
    return dst


@pytest.fixture()
def sdtm_copy(demo_sdtm, tmp_path) -> Path:
    out = tmp_path / "out"
    (out / "sdtm").mkdir(parents=True)
    for xpt in (demo_sdtm[0] / "sdtm").glob("*.xpt"):
        shutil.copy(xpt, out / "sdtm" / xpt.name)
    return out


def _edit(path: Path, old: str, new: str) -> int:
    """Replace ``old`` (once) in a spec file; return the 1-based line it is on."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


# --------------------------------------------------------------------------- bad specs
def test_undefined_method_stops_at_the_spec_line(study_copy, sdtm_copy):
    line = _edit(
        study_copy / "sdtm" / "dm.yaml",
        "_AGEDRV: {op: age, birth: BRTHDTC, ref: RFICDTC}",
        "_AGEDRV: {op: age, birth: BRTHDTC, ref: RFICDTC, method: M-NOSUCH}",
    )
    with pytest.raises(SpecError) as err:
        write_define(study_copy, sdtm_copy)
    assert f"dm.yaml:{line}" in str(err.value)
    assert "M-NOSUCH" in str(err.value) and "not defined" in str(err.value)
    assert not (sdtm_copy / "sdtm" / "define.xml").exists()


def test_unknown_codelist_stops_at_the_spec_line(study_copy, sdtm_copy):
    line = _edit(
        study_copy / "sdtm" / "dm.yaml",
        "SEX: {op: ct, column: GENDER, codelist: SEX,",
        "SEX: {op: ct, column: GENDER, codelist: NOSUCHCL,",
    )
    with pytest.raises(SpecError) as err:
        write_define(study_copy, sdtm_copy)
    assert f"dm.yaml:{line}" in str(err.value)
    assert "NOSUCHCL" in str(err.value)


def test_undefined_comment_stops_at_the_spec_line(study_copy, sdtm_copy):
    line = _edit(study_copy / "sdtm" / "qs.yaml", "comment: C-QS", "comment: C-NOSUCH")
    with pytest.raises(SpecError) as err:
        write_define(study_copy, sdtm_copy)
    assert f"qs.yaml:{line}" in str(err.value)
    assert "C-NOSUCH" in str(err.value)


def test_undefined_method_in_an_adam_spec(study_copy, sdtm_copy):
    text = (study_copy / "adam" / "adsl.yaml").read_text(encoding="utf-8")
    start = text.index("\n  AGEGR1:") + 1
    end = text.index("\n", start)
    original = text[start:end]
    line = _edit(study_copy / "adam" / "adsl.yaml", original, original + "\n    method: M-NOSUCH")
    if not original.rstrip().endswith(":"):
        pytest.skip("AGEGR1 is not a block mapping in this adsl.yaml")
    with pytest.raises(SpecError) as err:
        build_adam_model(study_copy, sdtm_copy / "adam", sdtm_copy / "sdtm")
    assert f"adsl.yaml:{line + 1}" in str(err.value)
    assert "M-NOSUCH" in str(err.value)


def test_nothing_to_describe(tmp_path):
    with pytest.raises(DefineInputError, match="no datasets"):
        write_define(STUDY, tmp_path)


# --------------------------------------------------------------------------- define.yaml
DEFINE_YAML = """\
originator: Example CRO
documents:
  acrf: {title: Annotated CRF, href: acrf.pdf, kind: acrf, standards: [sdtm]}
  csdrg: {title: Clinical Study Data Reviewer's Guide, href: csdrg.pdf, standards: [sdtm]}
forms:
  enrollment: {pages: "3 4"}
methods:
  M-AGE: {description: "Age in completed years at informed consent.", document: csdrg,
          pages: "7"}
dictionaries:
  MedDRA: {version: "26.0"}
codelists:
  ELESCCAT: {full: true}
attach:
  SE: C-SE
  "*.VISITNUM": C-VISIT
"""


def test_define_yaml_documents_methods_dictionaries(study_copy, sdtm_copy):
    (study_copy / "define.yaml").write_text(DEFINE_YAML, encoding="utf-8")
    _edit(
        study_copy / "sdtm" / "dm.yaml",
        "    method: >-\n      Completed years from BRTHDTC to RFICDTC; when the birth date is too"
        " partial to\n      give one age, the age the site recorded on the enrolment form",
        "    method: M-AGE",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DefineWarning)  # MedDRA has a version now
        write_define(study_copy, sdtm_copy, which=["sdtm"])
    define = sdtm_copy / "sdtm" / "define.xml"
    assert validate_define_schema(define) == []
    assert check_define_consistency(define, sdtm_copy / "sdtm") == []
    root = etree.parse(str(define)).getroot()
    assert root.get("Originator") == "Example CRO"
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    assert mdv.find("def:AnnotatedCRF/def:DocumentRef", NS).get("leafID") == "LF.acrf"
    assert mdv.find("def:SupplementalDoc/def:DocumentRef", NS).get("leafID") == "LF.csdrg"
    leaves = {lf.get("ID"): lf.get(f"{{{NS['xlink']}}}href") for lf in mdv.iterfind("def:leaf", NS)}
    assert leaves == {"LF.acrf": "acrf.pdf", "LF.csdrg": "csdrg.pdf"}
    sex = mdv.find("odm:ItemDef[@OID='IT.DM.SEX']/def:Origin/def:DocumentRef", NS)
    assert sex.get("leafID") == "LF.acrf"
    assert sex.find("def:PDFPageRef", NS).get("PageRefs") == "3 4"
    age_ref = mdv.find("odm:ItemGroupDef[@Name='DM']/odm:ItemRef[@ItemOID='IT.DM.AGE']", NS)
    assert age_ref.get("MethodOID") == "MT.M-AGE"
    method = mdv.find("odm:MethodDef[@OID='MT.M-AGE']", NS)
    assert method.find("def:DocumentRef/def:PDFPageRef", NS).get("PageRefs") == "7"
    ext = mdv.find("odm:CodeList[@OID='CL.MEDDRA']/odm:ExternalCodeList", NS)
    assert (ext.get("Dictionary"), ext.get("Version")) == ("MedDRA", "26.0")
    from cdisc_mapper.standards import load_terminology

    full = set(load_terminology().get("ELESCCAT").submission_values)
    doc = read_define(define)
    assert set(doc.codelists["CL.ELESCCAT"].values) == full
    se = mdv.find("odm:ItemGroupDef[@Name='SE']", NS)
    assert se.get(f"{{{NS['def']}}}CommentOID") == "COM.C-SE"
    assert doc.items["IT.VS.VISITNUM"].comment_oid == "COM.C-VISIT"
    # no ISO 3166 in dictionaries: COUNTRY ("generally" ISO 3166-1 alpha-3) gets no list
    assert doc.items["IT.DM.COUNTRY"].codelist_oid is None


def test_define_yaml_errors_name_the_line(study_copy, sdtm_copy):
    (study_copy / "define.yaml").write_text(
        "methods:\n  M-AGE: {description: x, documnet: csdrg}\n", encoding="utf-8"
    )
    with pytest.raises(SpecError) as err:
        write_define(study_copy, sdtm_copy)
    assert "define.yaml:2" in str(err.value) and "documnet" in str(err.value)


# --------------------------------------------------------------------------- second study
def test_second_study_gets_a_valid_consistent_define(tmp_path):
    from cdisc_mapper.sdtm.pipeline import run_sdtm

    run_sdtm(DATA / "mini_study", DATA / "mini_raw", tmp_path)
    files = write_define(DATA / "mini_study", tmp_path)
    assert [f.name for f in files] == ["define.xml", "define.html", "define2-1.xsl", "acrf.pdf"]
    define = tmp_path / "sdtm" / "define.xml"
    assert validate_define_schema(define) == []
    assert check_define_consistency(define, tmp_path / "sdtm") == []
    doc = read_define(define)
    assert doc.items["IT.DM.USUBJID"].origin_type == "Derived"
    assert {"DM", "EX", "VS", "TA"} <= set(doc.datasets)


# --------------------------------------------------------------------------- consistency
def test_consistency_check_finds_each_kind_of_mismatch(sdtm_copy, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_define(STUDY, sdtm_copy, which=["sdtm"])
    tree = etree.parse(str(sdtm_copy / "sdtm" / "define.xml"))
    mdv = tree.getroot().find("odm:Study/odm:MetaDataVersion", NS)

    def one(path: str) -> etree._Element:
        found = mdv.find(path, NS)
        assert found is not None, path
        return found

    one("odm:ItemGroupDef[@Name='DM']/odm:Description/odm:TranslatedText").text = "Demography"
    one("odm:ItemDef[@OID='IT.DM.SEX']").set("Length", "2")
    one("odm:ItemDef[@OID='IT.DM.AGE']").set("DataType", "text")
    country = one("odm:ItemGroupDef[@Name='DM']/odm:ItemRef[@ItemOID='IT.DM.COUNTRY']")
    country.getparent().remove(country)
    male = one("odm:CodeList[@OID='CL.SEX']/odm:EnumeratedItem[@CodedValue='M']")
    male.getparent().remove(male)
    one(
        "def:WhereClauseDef[@OID='WC.VS.VSTESTCD.EQ.PULSE']/odm:RangeCheck/odm:CheckValue"
    ).text = "PULSEX"
    one("odm:ItemDef[@OID='IT.VS.VSORRES.TEMP']").set("DataType", "integer")
    extra = etree.SubElement(one("odm:ItemGroupDef[@Name='AE']"), f"{{{NS['odm']}}}ItemRef")
    extra.set("ItemOID", "IT.AE.NOSUCH")
    cm = one("odm:ItemGroupDef[@Name='CM']")
    cm.getparent().remove(cm)
    bad = tmp_path / "define.xml"
    tree.write(str(bad), xml_declaration=True, encoding="UTF-8")

    found = check_define_consistency(bad, sdtm_copy / "sdtm")
    keys = {(f.check_id, f.dataset, f.variable) for f in found}
    assert keys == {
        ("DC0001", "CM", ""),
        ("DC0003", "DM", ""),
        ("DC0004", "DM", "COUNTRY"),
        ("DC0007", "DM", "AGE"),
        ("DC0008", "DM", "SEX"),
        ("DC0009", "VS", "VSORRES"),
        ("DC0010", "DM", "SEX"),
        ("DC0011", "VS", "VSORRES"),
        ("DC0011", "VS", "VSORRESU"),
        ("DC0011", "VS", "VSSTRESC"),
        ("DC0011", "VS", "VSSTRESN"),
        ("DC0011", "VS", "VSSTRESU"),
        ("DC0012", "AE", ""),
    }
    assert all(f.severity == "error" for f in found)
    sex = next(f for f in found if f.check_id == "DC0010")
    assert "'M'" in sex.message and "non-extensible" in sex.message
    assert all(f.line for f in found if f.check_id != "DC0001")


# --------------------------------------------------------------------------- units
def test_codelist_terms_codes_extensions_and_decodes():
    from cdisc_mapper.define.codelists import CodelistBuilder
    from cdisc_mapper.spec.define import DefineExtras, DefineSpec
    from cdisc_mapper.standards import load_terminology

    ct = load_terminology()
    builder = CodelistBuilder(DefineExtras(DefineSpec()))
    assert builder.use(ct.get("UNIT"), ["mg", "bananas/day", ""], numeric=False) == "CL.UNIT"
    builder.use(ct.get("SEX"), ["F", "X"], numeric=False)
    builder.use(ct.get("ALSFRSTC"), ["ALSR02", "ALSR01"], numeric=False)
    lists, standards = builder.build()
    unit = {t.value: t for t in lists["CL.UNIT"].terms}
    assert unit["mg"].nci_code and not unit["mg"].extended
    assert unit["bananas/day"].extended and unit["bananas/day"].nci_code is None
    assert any("'X'" in w and "non-extensible" in w for w in builder.warnings)
    alsfrs = lists["CL.ALSFRSTC"]
    assert [t.value for t in alsfrs.terms] == ["ALSR01", "ALSR02"]  # the list's own order
    assert alsfrs.terms[0].decode == "ALSFRS-R - Speech" and alsfrs.non_standard
    assert [s.version for s in standards] == [ct.get("SEX").version]


def test_data_types_from_values():
    from cdisc_mapper.define import datatypes

    assert datatypes.char_iso_type(["2020-01-02", "2021-12-31"]) == "date"
    assert datatypes.char_iso_type(["2020-01-02", "2021-12"]) == "partialDate"
    assert datatypes.char_iso_type(["2020-01-02T10:30", "2021-12"]) == "partialDatetime"
    assert datatypes.char_iso_type(["2020-01-02T10:30:00"]) == "datetime"
    assert datatypes.char_iso_type(["P6M", "P1Y2M"]) == "durationDatetime"
    assert datatypes.char_iso_type(["soon"]) is None
    import pandas as pd

    assert datatypes.numeric_type(pd.Series([1.0, 2.0, float("nan")])) == ("integer", None)
    assert datatypes.numeric_type(pd.Series([1.25, 2.5])) == ("float", 2)


def test_schema_validation_reports_lines(tmp_path):
    broken = tmp_path / "define.xml"
    broken.write_text('<?xml version="1.0"?>\n<ODM>\n<Study>\n</ODM>\n', encoding="utf-8")
    problems = validate_define_schema(broken)
    assert len(problems) == 1 and problems[0].startswith("line 4:")


# --------------------------------------------------------------------------- stated VLM
_STATED = """
  VS.VSORRES:
    - where:
        - {variable: VSTESTCD, values: [TEMP]}
        - {variable: VSORRESU, values: [F]}
      label: Temperature collected in Fahrenheit
      origin: Collected
      source: vitals.csv TEMP
      comment: Converted to C in VSSTRESN.
    - where:
        - {variable: VSTESTCD, values: [TEMP]}
        - {variable: VSORRESU, comparator: NE, values: [F]}
      label: Temperature collected in Celsius
      origin: Collected
      source: vitals.csv TEMP
"""


def _state(study: Path, text: str) -> int:
    """Append ``text`` to define.yaml's ``value_level:`` (its last key); return the line
    number the first line of ``text`` gets."""
    path = study / "define.yaml"
    before = path.read_text(encoding="utf-8")
    top = [line for line in before.splitlines() if line[:1].isalpha()]
    assert top[-1] == "value_level:"
    path.write_text(before.rstrip("\n") + "\n" + text.lstrip("\n"), encoding="utf-8")
    return before.rstrip("\n").count("\n") + 2


def test_stated_sdtm_value_level_with_composite_clauses(study_copy, sdtm_copy):
    _state(study_copy, _STATED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_define(study_copy, sdtm_copy, which=["sdtm"])
    tree = etree.parse(str(sdtm_copy / "sdtm" / "define.xml"))
    refs = tree.findall(".//def:ValueListDef[@OID='VL.VS.VSORRES']/odm:ItemRef", NS)
    assert [r.get("ItemOID") for r in refs] == [
        "IT.VS.VSORRES.TEMP.F",
        "IT.VS.VSORRES.TEMP.NOT.F",
    ]
    clause = tree.find(".//def:WhereClauseDef[@OID='WC.VS.VSTESTCD.EQ.TEMP.VSORRESU.EQ.F']", NS)
    checks = clause.findall("odm:RangeCheck", NS)
    assert [(c.get("Comparator"), c.findtext("odm:CheckValue", namespaces=NS)) for c in checks] == [
        ("EQ", "TEMP"),
        ("EQ", "F"),
    ]
    item = tree.find(".//odm:ItemDef[@OID='IT.VS.VSORRES.TEMP.F']", NS)
    assert item.find("def:Origin", NS).get("Type") == "Collected"
    comment_oid = item.get(f"{{{NS['def']}}}CommentOID")
    comment = tree.find(f".//def:CommentDef[@OID='{comment_oid}']", NS)
    assert "Converted to C" in "".join(comment.itertext())
    assert validate_define_schema(sdtm_copy / "sdtm" / "define.xml") == []
    assert check_define_consistency(sdtm_copy / "sdtm" / "define.xml", sdtm_copy / "sdtm") == []


@pytest.mark.parametrize(
    ("old", "new", "offset", "message"),
    [
        ("{variable: VSORRESU, values: [F]}", "{variable: VSORREZU, values: [F]}", 3,
         "tests VSORREZU, which is not a variable of VS"),
        ("VS.VSORRES:", "VS.VSNOPE:", 0, "VS has no variable VSNOPE"),
        ("{variable: VSORRESU, values: [F]}", "{variable: VSORRESU, values: [F, C]}", 3,
         "EQ takes one value"),
        ("{variable: VSORRESU, values: [F]}", "{variable: VSTESTCD, values: [F]}", 1,
         "tests a variable twice"),
        ("origin: Collected\n      source: vitals.csv TEMP\n      comment",
         "origin: Predecessor\n      comment", 5, "Predecessor origin needs source"),
        ("comment: Converted to C in VSSTRESN.", "comment: C-NOSUCH", 7,
         "comment C-NOSUCH is not defined"),
    ],
)  # fmt: skip
def test_bad_stated_value_level_stops_at_its_define_yaml_line(
    study_copy, sdtm_copy, old, new, offset, message
):
    first = _state(study_copy, _STATED.replace(old, new, 1))
    with pytest.raises(SpecError) as err:
        write_define(study_copy, sdtm_copy, which=["sdtm"])
    assert message in str(err.value)
    assert f"define.yaml:{first + offset}" in str(err.value)
    assert not (sdtm_copy / "sdtm" / "define.xml").exists()


def test_stated_clause_selecting_nothing_is_a_warning(study_copy, sdtm_copy):
    _state(study_copy, _STATED.replace("values: [F]}", "values: [K]}", 1))
    with pytest.warns(DefineWarning, match="entry 1 selects no record of VS"):
        write_define(study_copy, sdtm_copy, which=["sdtm"])
    tree = etree.parse(str(sdtm_copy / "sdtm" / "define.xml"))
    refs = tree.findall(".//def:ValueListDef[@OID='VL.VS.VSORRES']/odm:ItemRef", NS)
    assert [r.get("ItemOID") for r in refs] == ["IT.VS.VSORRES.TEMP.NOT.F"]


def test_stated_value_level_with_an_order_comparator(study_copy, sdtm_copy):
    """GT on a numeric variable: the clause selects exactly the records above the value,
    and the consistency check (which evaluates clauses the same way) finds it clean."""
    import pyreadstat

    _state(
        study_copy,
        """
  VS.VSSTRESN:
    - where:
        - {variable: VSTESTCD, values: [TEMP]}
        - {variable: VSSTRESN, comparator: GT, values: ["36.8"]}
      label: Temperature above 36.8 C
      origin: Derived
      method: Converted from VSORRES to C where collected in F.
""",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_define(study_copy, sdtm_copy, which=["sdtm"])
    define = sdtm_copy / "sdtm" / "define.xml"
    tree = etree.parse(str(define))
    oid = "WC.VS.VSTESTCD.EQ.TEMP.VSSTRESN.GT.36.8"
    checks = tree.findall(f".//def:WhereClauseDef[@OID='{oid}']/odm:RangeCheck", NS)
    assert [c.get("Comparator") for c in checks] == ["EQ", "GT"]
    frame, _ = pyreadstat.read_xport(str(sdtm_copy / "sdtm" / "vs.xpt"))
    hot = frame[(frame["VSTESTCD"] == "TEMP") & (frame["VSSTRESN"] > 36.8)]
    assert len(hot) > 0
    assert validate_define_schema(define) == []
    assert check_define_consistency(define, sdtm_copy / "sdtm") == []


def test_named_method_with_a_formal_expression(study_copy, sdtm_copy):
    """define.yaml ``expression:`` becomes def:MethodDef/FormalExpression (Context and
    code), schema-valid."""
    path = study_copy / "define.yaml"
    text = path.read_text(encoding="utf-8")
    old = "      parameter, visit and date (ties: the lowest REREPNUM); DTYPE = MAXIMUM.\n"
    assert old in text
    path.write_text(
        text.replace(
            old,
            old + '    expression: {context: "SAS 9.4", code: "aval = max(of effort1-effort3);"}\n',
        ),
        encoding="utf-8",
    )
    derived = "origin: Derived\n      method: M-BESTEFFORT"
    collected = (
        "origin: Collected\n      source: vitals.csv TEMP\n"
        "      comment: Converted to C in VSSTRESN."
    )
    assert collected in _STATED
    _state(study_copy, _STATED.replace(collected, derived))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_define(study_copy, sdtm_copy, which=["sdtm"])
    define = sdtm_copy / "sdtm" / "define.xml"
    tree = etree.parse(str(define))
    (expr,) = tree.findall(".//odm:MethodDef[@OID='MT.M-BESTEFFORT']/odm:FormalExpression", NS)
    assert expr.get("Context") == "SAS 9.4"
    assert expr.text == "aval = max(of effort1-effort3);"
    assert validate_define_schema(define) == []
