"""define.xml from a define-generator workbook made by another tool (Pinnacle 21 layout):
tolerant reading (warnings for what is not read), errors naming sheet/row/column, the
metadata.yaml round trip, and a schema-valid define.xml with the workbook's where clauses
and code lists."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree
from openpyxl import Workbook

from cdisc_mapper.define.describe_metadata import build_metadata_model, write_define_from_metadata
from cdisc_mapper.define.pipeline import DefineWarning
from cdisc_mapper.define.schema import validate_define_schema
from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.metadata import (
    DefineMetadata,
    dump_metadata,
    load_metadata,
)
from cdisc_mapper.xlsx.p21 import import_define_workbook, read_define_workbook
from cdisc_mapper.xpt import XptVariable, write_xpt

NS = {
    "odm": "http://www.cdisc.org/ns/odm/v1.3",
    "def": "http://www.cdisc.org/ns/def/v2.1",
}
DEF = "{http://www.cdisc.org/ns/def/v2.1}"
CT = "SDTM CT 2024-03-29"


def sheets() -> dict[str, list[list[object]]]:
    """The workbook, sheet by sheet (row 1 is the header), as another tool writes it."""
    return {
        "Study": [
            ["Attribute", "Value"],
            ["StudyName", "XYZ-01"],
            ["StudyDescription", "A tiny study"],
            ["ProtocolName", "XYZ-01"],
            ["StandardName", "SDTM-IG"],
            ["StandardVersion", "3.4"],
            ["Language", "en"],
        ],
        "Datasets": [
            ["Dataset", "Description", "Class", "Structure", "Purpose", "Key Variables",
             "Repeating", "Reference Data", "Comment", "Developer Notes"],
            ["DM", "Demographics", "Special Purpose", "One record per subject", "Tabulation",
             "STUDYID, USUBJID", "No", "No", "COM.DM", "check with DM team"],
            ["VS", "Vital Signs", "Findings",
             "One record per vital sign measurement per position per subject", "Tabulation",
             "STUDYID, USUBJID, VSTESTCD, VSPOS", "Yes", "No", None, None],
            ["ADSL", "Subject-Level Analysis Dataset", "ADSL", "One record per subject",
             "Analysis", "STUDYID, USUBJID", "No", "No", None, None],
        ],
        "Variables": [
            ["Order", "Dataset", "Variable", "Label", "Data Type", "Length", "Significant Digits",
             "Format", "Mandatory", "Codelist", "Origin", "Pages", "Method", "Predecessor",
             "Role", "Comment", "Developer Notes"],
            [1, "DM", "STUDYID", "Study Identifier", "text", 6, None, None, "Yes", None,
             "Assigned", None, None, None, "Identifier", None, None],
            [2, "DM", "DOMAIN", "Domain Abbreviation", "text", 2, None, None, "Yes", None,
             "Assigned", None, None, None, "Identifier", None, None],
            [3, "DM", "USUBJID", "Unique Subject Identifier", "text", 6, None, None, "Yes", None,
             "Derived", None, "MT.USUBJID", None, "Identifier", None, None],
            [4, "DM", "AGE", "Age", "integer", 8, None, None, "No", None, "Derived", None,
             "MT.AGE", None, "Record Qualifier", None, "verify"],
            [5, "DM", "SEX", "Sex", "text", 1, None, None, "Yes", "SEX", "CRF", "5", None, None,
             "Record Qualifier", None, None],
            [6, "DM", "RFSTDTC", "Subject Reference Start Date/Time", "date", 10, None, None,
             "No", None, "Collected", "4", None, None, "Record Qualifier", None, None],
            [1, "VS", "STUDYID", "Study Identifier", "text", 6, None, None, "Yes", None,
             "Assigned", None, None, None, "Identifier", None, None],
            [2, "VS", "DOMAIN", "Domain Abbreviation", "text", 2, None, None, "Yes", None,
             "Assigned", None, None, None, "Identifier", None, None],
            [3, "VS", "USUBJID", "Unique Subject Identifier", "text", 10, None, None, "Yes", None,
             "Predecessor", None, None, "DM.USUBJID", "Identifier", None, None],
            [4, "VS", "VSSEQ", "Sequence Number", "integer", 8, None, None, "Yes", None,
             "Derived", None, "MT.VSSEQ", None, "Identifier", None, None],
            [5, "VS", "VSTESTCD", "Vital Signs Test Short Name", "text", 5, None, None, "Yes",
             "VSTESTCD", "Assigned", None, None, None, "Topic", None, None],
            [6, "VS", "VSTEST", "Vital Signs Test Name", "text", 23, None, None, "Yes", None,
             "Assigned", None, None, None, "Synonym Qualifier", None, None],
            [7, "VS", "VSPOS", "Vital Signs Position of Subject", "text", 8, None, None, "No",
             None, "Collected", "7", None, None, "Record Qualifier", None, None],
            [8, "VS", "VSORRES", "Result or Finding in Original Units", "text", 4, None, None,
             "No", None, "Collected", "7 8", None, None, "Result Qualifier", None, None],
            [1, "ADSL", "STUDYID", "Study Identifier", "text", 6, None, None, "Yes", None,
             "Predecessor", None, None, "DM.STUDYID", None, None, None],
            [2, "ADSL", "USUBJID", "Unique Subject Identifier", "text", 10, None, None, "Yes",
             None, "Predecessor", None, None, "DM.USUBJID", None, None, None],
            [3, "ADSL", "SAFFL", "Safety Population Flag", "text", 1, None, None, "Yes", "NY",
             "Derived", None, "MT.SAFFL", None, None, None, None],
        ],
        "ValueLevel": [
            ["Order", "Dataset", "Variable", "Where Clause", "Label", "Data Type", "Length",
             "Significant Digits", "Format", "Mandatory", "Codelist", "Origin", "Pages",
             "Method", "Predecessor", "Comment"],
            [1, "VS", "VSORRES", "WC.VS.TEMP.SUPINE", "Temperature, supine", "float", 4, 1,
             None, "No", None, "Collected", "7", None, None, None],
            [2, "VS", "VSORRES", "WC.VS.SYSBP", "Systolic BP", "integer", 3, None, None, "No",
             None, "Collected", "8", None, None, None],
        ],
        "WhereClauses": [
            ["ID", "Dataset", "Variable", "Comparator", "Value", "Comment"],
            ["WC.VS.TEMP.SUPINE", "VS", "VSTESTCD", "EQ", "TEMP", None],
            ["WC.VS.TEMP.SUPINE", "VS", "VSPOS", "EQ", "SUPINE", None],
            ["WC.VS.SYSBP", "VS", "VSTESTCD", "EQ", "SYSBP", None],
        ],
        "Codelists": [
            ["ID", "Name", "NCI Codelist Code", "Data Type", "Terminology", "Comment", "Order",
             "Term", "NCI Term Code", "Decoded Value"],
            ["SEX", "Sex", "C66731", "text", CT, None, 1, "F", "C16576", "Female"],
            ["SEX", "Sex", "C66731", "text", CT, None, 2, "M", "C20197", "Male"],
            ["SEX", "Sex", "C66731", "text", CT, None, 3, "U", "C17998", "Unknown"],
            ["VSTESTCD", "Vital Signs Test Code", "C66741", "text", CT, None, 1, "SYSBP",
             "C25298", "Systolic Blood Pressure"],
            ["VSTESTCD", "Vital Signs Test Code", "C66741", "text", CT, None, 2, "TEMP",
             "C25206", "Temperature"],
            ["NY", "No Yes Response", "C66742", "text", CT, None, 1, "N", "C49487", "No"],
            ["NY", "No Yes Response", "C66742", "text", CT, None, 2, "Y", "C49488", "Yes"],
        ],
        "Dictionaries": [
            ["ID", "Name", "Data Type", "Dictionary", "Version"],
            ["MEDDRA", "Adverse Event Dictionary", "text", "MedDRA", "26.0"],
        ],
        "Methods": [
            ["ID", "Name", "Type", "Description", "Expression Context", "Expression Code",
             "Document", "Pages"],
            ["MT.USUBJID", "Algorithm to derive USUBJID", "Computation",
             "STUDYID-SUBJID", None, None, None, None],
            ["MT.AGE", "Algorithm to derive AGE", "Computation",
             "Age in whole years at informed consent", None, None, "SAP", "12"],
            ["MT.VSSEQ", "Algorithm to derive VSSEQ", "Computation",
             "Sequence number of the record within the subject", None, None, None, None],
            ["MT.SAFFL", "Algorithm to derive SAFFL", "Computation",
             "Y when the subject took any study drug, else N", None, None, None, None],
        ],
        "Comments": [
            ["ID", "Description", "Document", "Pages"],
            ["COM.DM", "Screen failures are not included.", "csdrg", "3"],
        ],
        "Documents": [
            ["ID", "Title", "Href"],
            ["blankcrf", "Annotated CRF", "blankcrf.pdf"],
            ["csdrg", "Clinical Study Data Reviewer's Guide", "csdrg.pdf"],
            ["SAP", "Statistical Analysis Plan", "sap.pdf"],
        ],
        "Notes": [["Anything"], ["the reviewer's notes, not metadata"]],
    }  # fmt: skip


def write_workbook(path: Path, data: dict[str, list[list[object]]]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in data.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def _char(name: str, label: str) -> XptVariable:
    return XptVariable(name, label, "Char")


def write_datasets(out: Path) -> Path:
    (out / "sdtm").mkdir(parents=True)
    (out / "adam").mkdir(parents=True)
    dm = pd.DataFrame(
        {
            "STUDYID": ["XYZ-01"] * 3,
            "DOMAIN": ["DM"] * 3,
            "USUBJID": ["XYZ-01-001", "XYZ-01-002", "XYZ-01-003"],
            "AGE": [34.0, 51.0, 47.0],
            "SEX": ["F", "M", "F"],
            "RFSTDTC": ["2024-01-05", "2024-01-09", "2024-02-01"],
        }
    )
    write_xpt(
        dm,
        out / "sdtm" / "dm.xpt",
        dataset="DM",
        label="Demographics",
        variables=[
            _char("STUDYID", "Study Identifier"),
            _char("DOMAIN", "Domain Abbreviation"),
            _char("USUBJID", "Unique Subject Identifier"),
            XptVariable("AGE", "Age", "Num"),
            _char("SEX", "Sex"),
            _char("RFSTDTC", "Subject Reference Start Date/Time"),
        ],
    )
    records = [
        ("XYZ-01-001", "TEMP", "Temperature", "SUPINE", "36.6"),
        ("XYZ-01-001", "TEMP", "Temperature", "STANDING", "36.8"),
        ("XYZ-01-001", "SYSBP", "Systolic Blood Pressure", "SUPINE", "120"),
        ("XYZ-01-002", "TEMP", "Temperature", "SUPINE", "37.1"),
        ("XYZ-01-002", "SYSBP", "Systolic Blood Pressure", "SUPINE", "118"),
    ]
    vs = pd.DataFrame(records, columns=["USUBJID", "VSTESTCD", "VSTEST", "VSPOS", "VSORRES"])
    vs.insert(0, "DOMAIN", "VS")
    vs.insert(0, "STUDYID", "XYZ-01")
    vs.insert(3, "VSSEQ", vs.groupby("USUBJID").cumcount().astype(float) + 1)
    write_xpt(
        vs,
        out / "sdtm" / "vs.xpt",
        dataset="VS",
        label="Vital Signs",
        variables=[
            _char("STUDYID", "Study Identifier"),
            _char("DOMAIN", "Domain Abbreviation"),
            _char("USUBJID", "Unique Subject Identifier"),
            XptVariable("VSSEQ", "Sequence Number", "Num"),
            _char("VSTESTCD", "Vital Signs Test Short Name"),
            _char("VSTEST", "Vital Signs Test Name"),
            _char("VSPOS", "Vital Signs Position of Subject"),
            _char("VSORRES", "Result or Finding in Original Units"),
        ],
    )
    adsl = dm[["STUDYID", "USUBJID"]].assign(SAFFL=["Y", "Y", "N"])
    write_xpt(
        adsl,
        out / "adam" / "adsl.xpt",
        dataset="ADSL",
        label="Subject-Level Analysis Dataset",
        variables=[
            _char("STUDYID", "Study Identifier"),
            _char("USUBJID", "Unique Subject Identifier"),
            _char("SAFFL", "Safety Population Flag"),
        ],
    )
    return out


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_workbook(tmp_path_factory.mktemp("p21") / "define_spec.xlsx", sheets())


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_datasets(tmp_path_factory.mktemp("p21") / "out")


@pytest.fixture(scope="module")
def written(workbook: Path, datasets: Path) -> tuple[list[Path], list[str]]:
    meta, warnings = read_define_workbook(workbook)
    with pytest.warns(UserWarning):
        files = write_define_from_metadata(meta, datasets)
    return files, warnings


def _tree(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


# --------------------------------------------------------------------------- reading
def test_warnings_name_what_is_not_read(workbook: Path) -> None:
    _meta, warnings = read_define_workbook(workbook)
    text = "\n".join(warnings)
    assert "sheet Datasets, row 1, column Developer Notes (J): not read (define.xml" in text
    assert "sheet Variables, row 1, column Developer Notes (Q): not read (define.xml" in text
    assert "sheet WhereClauses, row 1, column Comment (F): unknown column" in text
    assert "sheet Notes: unknown sheet, not read" in text
    assert "Language" not in text  # read (define.xml is English) without a warning


def test_metadata_as_the_workbook_says(workbook: Path) -> None:
    meta, _ = read_define_workbook(workbook)
    assert list(meta.datasets) == ["DM", "VS", "ADSL"]
    dm, vs = meta.datasets["DM"], meta.datasets["VS"]
    assert dm.class_ == "SPECIAL PURPOSE" and meta.datasets["ADSL"].class_ == (
        "SUBJECT LEVEL ANALYSIS DATASET"
    )
    assert dm.keys == ["STUDYID", "USUBJID"] and dm.repeating is False
    assert list(vs.variables)[-2:] == ["VSPOS", "VSORRES"]
    assert dm.variables["SEX"].origin == "Collected" and dm.variables["SEX"].pages == "5"
    assert meta.study.standard == "SDTM-IG" and meta.study.standard_version == "3.4"
    temp = meta.where_clauses["WC.VS.TEMP.SUPINE"]
    assert [(c.variable, c.comparator, c.values) for c in temp] == [
        ("VSTESTCD", "EQ", ["TEMP"]),
        ("VSPOS", "EQ", ["SUPINE"]),
    ]
    assert [(t.term, t.nci_code, t.decode) for t in meta.codelists["SEX"].terms] == [
        ("F", "C16576", "Female"),
        ("M", "C20197", "Male"),
        ("U", "C17998", "Unknown"),
    ]
    assert meta.methods["MT.AGE"].document == "SAP" and meta.methods["MT.AGE"].pages == "12"


def test_metadata_yaml_round_trip(workbook: Path, tmp_path: Path) -> None:
    meta, warnings = read_define_workbook(workbook)
    assert import_define_workbook(workbook, tmp_path / "study") == warnings
    loaded = load_metadata(tmp_path / "study")
    assert loaded == meta
    again = dump_metadata(loaded, tmp_path / "again.yaml")
    assert load_metadata(again) == meta
    assert again.read_text(encoding="utf-8") == (tmp_path / "study" / "metadata.yaml").read_text(
        encoding="utf-8"
    )
    assert "standard_version: '3.4'" in again.read_text(encoding="utf-8")


def test_metadata_yaml_errors_name_the_line(workbook: Path, tmp_path: Path) -> None:
    import_define_workbook(workbook, tmp_path)
    path = tmp_path / "metadata.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("method: MT.AGE") == 1
    line = text[: text.index("method: MT.AGE")].count("\n") + 1
    path.write_text(text.replace("method: MT.AGE", "method: MT.AEG"), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_metadata(path)
    assert f"metadata.yaml:{line}" in str(err.value)
    assert "'MT.AEG' is not in Methods" in str(err.value)
    old = "structure: One record per subject\n"
    path.write_text(text.replace(old, old + "    colour: red\n", 1), encoding="utf-8")
    with pytest.raises(SpecError, match=r"colour: unknown key"):
        load_metadata(path)


def test_inline_where_clause(tmp_path: Path) -> None:
    data = sheets()
    data["ValueLevel"][1][3] = "VSTESTCD EQ TEMP AND VSPOS IN (SUPINE, SITTING)"
    meta, _ = read_define_workbook(write_workbook(tmp_path / "w.xlsx", data))
    clause = meta.where_clauses[meta.value_levels[0].where]
    assert [(c.variable, c.comparator, c.values) for c in clause] == [
        ("VSTESTCD", "EQ", ["TEMP"]),
        ("VSPOS", "IN", ["SUPINE", "SITTING"]),
    ]


# --------------------------------------------------------------------------- define.xml
def test_define_xml_is_schema_valid(written: tuple[list[Path], list[str]], datasets: Path) -> None:
    files, _ = written
    assert files == [
        datasets / "sdtm" / "define.xml",
        datasets / "sdtm" / "define.html",
        datasets / "sdtm" / "define2-1.xsl",
        datasets / "adam" / "define.xml",
        datasets / "adam" / "define.html",
        datasets / "adam" / "define2-1.xsl",
    ]
    for path in files[::3]:
        assert validate_define_schema(path) == []
    sdtm, adam = _tree(files[0]), _tree(files[3])
    names = [g.get("Name") for g in sdtm.iterfind(".//odm:ItemGroupDef", NS)]
    assert names == ["DM", "VS"]
    assert [g.get("Name") for g in adam.iterfind(".//odm:ItemGroupDef", NS)] == ["ADSL"]
    ig = sdtm.find(".//def:Standard[@Type='IG']", NS)
    assert (ig.get("Name"), ig.get("Version")) == ("SDTMIG", "3.4")
    assert adam.find(".//def:Standard[@Type='IG']", NS).get("Name") == "ADaMIG"
    assert sdtm.find(".//def:AnnotatedCRF/def:DocumentRef", NS).get("leafID") == "LF.blankcrf"
    assert adam.find(".//def:AnnotatedCRF", NS) is None


def test_composite_where_clause(written: tuple[list[Path], list[str]]) -> None:
    root = _tree(written[0][0])
    composite = [
        wc
        for wc in root.iterfind(".//def:WhereClauseDef", NS)
        if len(wc.findall("odm:RangeCheck", NS)) == 2
    ]
    assert len(composite) == 1
    checks = [
        (rc.get(DEF + "ItemOID"), rc.get("Comparator"), rc.findtext("odm:CheckValue", None, NS))
        for rc in composite[0].findall("odm:RangeCheck", NS)
    ]
    assert checks == [("IT.VS.VSTESTCD", "EQ", "TEMP"), ("IT.VS.VSPOS", "EQ", "SUPINE")]
    oid = composite[0].get("OID")
    path = f".//def:ValueListDef/odm:ItemRef/def:WhereClauseRef[@WhereClauseOID='{oid}']"
    refs = root.findall(path, NS)
    assert len(refs) == 1
    item_oid = refs[0].getparent().get("ItemOID")
    item = root.find(f".//odm:ItemDef[@OID='{item_oid}']", NS)
    assert item.get("DataType") == "float" and item.get("SignificantDigits") == "1"
    assert item.find("odm:Description/odm:TranslatedText", NS).text == "Temperature, supine"
    page = item.find("def:Origin/def:DocumentRef/def:PDFPageRef", NS)
    assert page.get("PageRefs") == "7"


def test_codelists_as_the_workbook_gives_them(written: tuple[list[Path], list[str]]) -> None:
    root = _tree(written[0][0])
    sex = root.find(".//odm:CodeList[@OID='CL.SEX']", NS)
    assert sex.get("Name") == "Sex" and sex.get("DataType") == "text"
    assert sex.find("odm:Alias", NS).attrib == {"Context": "nci:ExtCodeID", "Name": "C66731"}
    items = [
        (
            i.get("CodedValue"),
            i.findtext("odm:Decode/odm:TranslatedText", None, NS),
            i.find("odm:Alias", NS).get("Name"),
        )
        for i in sex.findall("odm:CodeListItem", NS)
    ]
    # every term of the workbook, U too although no record has it
    assert items == [("F", "Female", "C16576"), ("M", "Male", "C20197"), ("U", "Unknown", "C17998")]
    std_oid = sex.get(DEF + "StandardOID")
    std = root.find(f".//def:Standard[@OID='{std_oid}']", NS)
    assert (std.get("Type"), std.get("PublishingSet"), std.get("Version")) == (
        "CT",
        "SDTM",
        "2024-03-29",
    )
    sex_item = root.find(".//odm:ItemDef[@OID='IT.DM.SEX']", NS)
    assert sex_item.find("odm:CodeListRef", NS).get("CodeListOID") == "CL.SEX"
    testcd = root.find(".//odm:CodeList[@OID='CL.VSTESTCD']", NS)
    assert [i.get("CodedValue") for i in testcd.findall("odm:CodeListItem", NS)] == [
        "SYSBP",
        "TEMP",
    ]
    adam = _tree(written[0][3])
    assert adam.find(".//odm:CodeList[@OID='CL.NY']", NS) is not None


def test_methods_comments_and_origins(written: tuple[list[Path], list[str]]) -> None:
    root = _tree(written[0][0])
    age_ref = root.find(".//odm:ItemGroupDef[@Name='DM']/odm:ItemRef[@ItemOID='IT.DM.AGE']", NS)
    assert age_ref.get("MethodOID") == "MT.AGE"
    method = root.find(".//odm:MethodDef[@OID='MT.AGE']", NS)
    assert method.get("Name") == "Algorithm to derive AGE"
    doc = method.find("def:DocumentRef", NS)
    assert doc.get("leafID") == "LF.SAP"
    assert doc.find("def:PDFPageRef", NS).get("PageRefs") == "12"
    dm = root.find(".//odm:ItemGroupDef[@Name='DM']", NS)
    assert dm.get(DEF + "CommentOID") == "COM.DM"
    comment = root.find(".//def:CommentDef[@OID='COM.DM']", NS)
    assert comment.findtext("odm:Description/odm:TranslatedText", None, NS) == (
        "Screen failures are not included."
    )
    sex = root.find(".//odm:ItemDef[@OID='IT.DM.SEX']/def:Origin", NS)
    assert (sex.get("Type"), sex.get("Source")) == ("Collected", "Investigator")
    assert sex.find("def:DocumentRef/def:PDFPageRef", NS).get("PageRefs") == "5"
    date = root.find(".//odm:ItemDef[@OID='IT.DM.RFSTDTC']", NS)
    assert date.get("DataType") == "date" and date.get("Length") is None
    keys = {r.get("ItemOID"): r.get("KeySequence") for r in dm.findall("odm:ItemRef", NS)}
    assert (keys["IT.DM.STUDYID"], keys["IT.DM.USUBJID"], keys["IT.DM.AGE"]) == ("1", "2", None)


def test_warnings_where_workbook_and_data_differ(workbook: Path, datasets: Path) -> None:
    meta, _ = read_define_workbook(workbook)
    _model, notes = build_metadata_model(meta, datasets / "sdtm", "sdtm")
    # the fixture's one deliberate difference: DM.USUBJID is 10 long in the data
    assert notes == [
        "DM.USUBJID: Length 6 in the workbook, 10 in the data (define.xml has the workbook's)",
        "Length of ISO 8601 items is not written (Define-XML 2.1 section 5.3.11 gives Length "
        "to text, integer and float only); the workbook gives one for DM.RFSTDTC",
    ]
    _model, notes = build_metadata_model(meta, datasets / "adam", "adam")
    assert notes == ["no ADaMIG version in the Study sheet; define.xml says ADaMIG 1.3"]


def test_dataset_missing_from_workbook(workbook: Path, datasets: Path, tmp_path: Path) -> None:
    meta, _ = read_define_workbook(workbook)
    data = meta.model_dump(by_alias=True)
    del data["datasets"]["VS"]
    data["value_levels"] = []
    data["where_clauses"] = {}
    smaller = DefineMetadata.model_validate(data)
    with pytest.raises(Exception, match=r"does not describe VS"):
        build_metadata_model(smaller, datasets / "sdtm", "sdtm")


# --------------------------------------------------------------------------- errors
def _error(tmp_path: Path, data: dict[str, list[list[object]]]) -> str:
    with pytest.raises(SpecError) as err:
        read_define_workbook(write_workbook(tmp_path / "bad.xlsx", data))
    return str(err.value)


def _cell(sheet: str, row: int, column: str, letter: str) -> str:
    return f"sheet {sheet}, row {row}, column {column} ({letter})"


def test_duplicate_dataset(tmp_path: Path) -> None:
    data = sheets()
    data["Datasets"].append(list(data["Datasets"][2]))
    message = _error(tmp_path, data)
    assert _cell("Datasets", 5, "Dataset", "A") in message and "VS given twice" in message


def test_duplicate_variable(tmp_path: Path) -> None:
    data = sheets()
    data["Variables"].append(list(data["Variables"][5]))
    message = _error(tmp_path, data)
    assert _cell("Variables", len(data["Variables"]), "Variable", "C") in message
    assert "DM.SEX given twice (first at row 6)" in message


def test_duplicate_codelist_term(tmp_path: Path) -> None:
    data = sheets()
    data["Codelists"].insert(3, list(data["Codelists"][1]))
    message = _error(tmp_path, data)
    assert _cell("Codelists", 4, "Term", "H") in message and "term 'F' given twice" in message


@pytest.mark.parametrize(("sheet", "row"), [("Methods", 2), ("Comments", 1), ("Documents", 2)])
def test_duplicate_id(tmp_path: Path, sheet: str, row: int) -> None:
    data = sheets()
    data[sheet].append(list(data[sheet][row]))
    message = _error(tmp_path, data)
    assert _cell(sheet, len(data[sheet]), "ID", "A") in message and "given twice" in message


def test_duplicate_where_clause_variable(tmp_path: Path) -> None:
    data = sheets()
    data["WhereClauses"].append(["WC.VS.SYSBP", "VS", "VSTESTCD", "EQ", "TEMP", None])
    message = _error(tmp_path, data)
    assert _cell("WhereClauses", 5, "Variable", "C") in message
    assert "variable VS.VSTESTCD given twice" in message


def test_variable_of_an_unknown_dataset(tmp_path: Path) -> None:
    data = sheets()
    data["Variables"][6][1] = "VX"
    message = _error(tmp_path, data)
    assert _cell("Variables", 7, "Dataset", "B") in message
    assert "'VX' is not in the Datasets sheet" in message


def test_value_level_of_an_unknown_variable(tmp_path: Path) -> None:
    data = sheets()
    data["ValueLevel"][2][2] = "VSSTRESC"
    message = _error(tmp_path, data)
    assert _cell("ValueLevel", 3, "Variable", "C") in message
    assert "VSSTRESC is not a variable of VS" in message


def test_where_clause_variable_not_in_its_dataset(tmp_path: Path) -> None:
    data = sheets()
    data["WhereClauses"][2][2] = "VSLOC"
    message = _error(tmp_path, data)
    assert _cell("WhereClauses", 3, "Variable", "C") in message
    assert "VSLOC is not a variable of VS" in message


@pytest.mark.parametrize(
    ("column", "index", "letter", "value", "says"),
    [
        ("Where Clause", 3, "D", "WC.VS.DIABP", "where clause 'WC.VS.DIABP' is not in"),
        ("Method", 13, "N", "MT.NOPE", "method 'MT.NOPE' is not in Methods"),
        ("Comment", 15, "P", "COM.NOPE", "comment 'COM.NOPE' is not in Comments"),
        ("Codelist", 10, "K", "UNIT", "codelist 'UNIT' is not in Codelists or Dictionaries"),
    ],
)
def test_value_level_names_something_undefined(
    tmp_path: Path, column: str, index: int, letter: str, value: str, says: str
) -> None:
    data = sheets()
    assert data["ValueLevel"][0][index] == column
    data["ValueLevel"][2][index] = value
    message = _error(tmp_path, data)
    assert _cell("ValueLevel", 3, column, letter) in message and says in message


def test_misspelled_required_column(tmp_path: Path) -> None:
    data = sheets()
    data["Variables"][0][2] = "Varaible"
    message = _error(tmp_path, data)
    assert _cell("Variables", 1, "Varaible", "C") in message and "'Variable'" in message


def test_misspelled_optional_column_is_not_ignored(tmp_path: Path) -> None:
    data = sheets()
    data["Variables"][0][9] = "Codelsit"
    message = _error(tmp_path, data)
    assert _cell("Variables", 1, "Codelsit", "J") in message and "'Codelist'" in message


def test_misspelled_sheet(tmp_path: Path) -> None:
    data = sheets()
    data["Varaibles"] = data.pop("Variables")
    message = _error(tmp_path, data)
    assert "sheet Varaibles" in message and "'Variables'" in message


def test_bad_value_names_the_cell(tmp_path: Path) -> None:
    data = sheets()
    data["Variables"][4][10] = "Calculated"
    message = _error(tmp_path, data)
    assert _cell("Variables", 5, "Origin", "K") in message
    assert re.search(r"Origin 'Calculated' is not one of: .*Collected", message)


def test_data_values_missing_from_a_codelist_are_told(datasets: Path, tmp_path: Path) -> None:
    data = sheets()
    data["Codelists"] = [row for row in data["Codelists"] if row[7] != "M"]
    data["Variables"][4][12] = None  # DM.AGE: Derived without a method
    meta, _ = read_define_workbook(write_workbook(tmp_path / "w.xlsx", data))
    _model, notes = build_metadata_model(meta, datasets / "sdtm", "sdtm")
    assert "DM.SEX: value(s) 'M' in the data are not terms of codelist SEX" in notes
    assert "DM.AGE: origin Derived without a Method" in notes


# --------------------------------------------------------------------------- command line
def test_command_line_define_only_workbook(workbook: Path, datasets: Path, tmp_path: Path):
    """`spec import` of a define-generator workbook writes metadata.yaml; `define` takes the
    workbook or that folder and writes the same define.xml; `sdtm` refuses it by name."""
    from click.testing import CliRunner

    from cdisc_mapper.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["spec", "import", "--xlsx", str(workbook), "--study",
                                  str(tmp_path / "meta")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "meta" / "metadata.yaml").is_file()
    assert "warning:" in result.stderr and "Developer Notes" in result.stderr
    outputs = []
    length = "warning: DM.USUBJID: Length 6 in the workbook, 10 in the data"
    for study, quiet in ((workbook, []), (tmp_path / "meta", ["-q"])):
        out = tmp_path / f"out{len(outputs)}"
        shutil.copytree(datasets, out)
        with warnings.catch_warnings():
            warnings.simplefilter("error", DefineWarning)  # one channel: the progress lines
            result = runner.invoke(main, [*quiet, "define", "--study", str(study), "--out",
                                          str(out)])  # fmt: skip
        assert result.exit_code == 0, result.output
        # each warning once, and none under -q
        assert result.stderr.count(length) == (0 if quiet else 1), result.stderr
        assert "DefineWarning" not in result.stderr and "None" not in result.stderr
        assert ("warning:" in result.stderr) is not bool(quiet)
        outputs.append((out / "sdtm" / "define.xml").read_bytes())
        assert validate_define_schema(out / "sdtm" / "define.xml") == []
    assert outputs[0] == outputs[1]
    for study in (workbook, tmp_path / "meta"):
        result = runner.invoke(main, ["sdtm", "--study", str(study), "--raw", str(tmp_path),
                                      "--out", str(tmp_path / "x")])  # fmt: skip
        assert result.exit_code == 1
        assert "only `cdisc-mapper define` can use it" in result.output


def test_method_formal_expression(tmp_path: Path) -> None:
    """Expression Context/Code of the Methods sheet become def:FormalExpression."""
    data = sheets()
    methods = data["Methods"]
    header = methods[0]
    row = next(r for r in methods if r[0] == "MT.AGE")
    row[header.index("Expression Context")] = "SAS 9.4"
    row[header.index("Expression Code")] = "age = floor(yrdif(brthdt, rficdt, 'AGE'));"
    book = write_workbook(tmp_path / "spec.xlsx", data)
    out = write_datasets(tmp_path / "out")
    meta, _ = read_define_workbook(book)
    with pytest.warns(UserWarning):
        write_define_from_metadata(meta, out, which=("sdtm",))
    root = _tree(out / "sdtm" / "define.xml")
    (expr,) = root.findall(".//{*}MethodDef[@OID='MT.AGE']/{*}FormalExpression")
    assert expr.get("Context") == "SAS 9.4" and expr.text.startswith("age = floor(")
    assert validate_define_schema(out / "sdtm" / "define.xml") == []
