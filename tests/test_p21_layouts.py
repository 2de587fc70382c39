"""define.xml from another tool's define-generator workbook keeps what the workbook says,
in both Pinnacle 21 Community layouts: the older one (Define-XML 2.0 template: a ``Define``
sheet, the value-level label in a ``Description`` column, code lists without Terminology)
and the newer one (Define-XML 2.1 template: ``Label``, ``SubClass``, ``Standard``,
``Source``, ``Has No Data`` (checked against the data), and the working columns
``Assigned Value`` and ``Common``).

The column names are those of public P21-layout readers and writers (pharmaverse
metacore's ``spec_type_to_*`` patterns, a P21 Community template writer). Each workbook
is made here with openpyxl; the expected values are read off the workbook by hand."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from lxml import etree
from openpyxl import Workbook

from cdisc_mapper.cli import main
from cdisc_mapper.define.datatypes import is_term, same_number
from cdisc_mapper.define.describe_metadata import build_metadata_model, write_define_from_metadata
from cdisc_mapper.define.schema import validate_define_schema
from cdisc_mapper.errors import SpecError
from cdisc_mapper.xlsx.p21 import read_define_workbook
from cdisc_mapper.xlsx.p21_values import where_values
from cdisc_mapper.xpt import XptVariable, write_xpt

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
CT = "SDTM CT 2024-03-29"
Rows = list[list[object]]

# the older layout's item columns (ValueLevel: Description is the label)
OLD_VAR = ["Order", "Dataset", "Variable", "Label", "Data Type", "Length", "Significant Digits",
           "Format", "Mandatory", "Codelist", "Origin", "Pages", "Method", "Predecessor", "Role",
           "Comment", "Developer Notes"]  # fmt: skip
OLD_VL = ["Order", "Dataset", "Variable", "Where Clause", "Description", "Data Type", "Length",
          "Significant Digits", "Format", "Mandatory", "Codelist", "Origin", "Pages", "Method",
          "Predecessor", "Comment", "Developer Notes"]  # fmt: skip


def _var(order: int, ds: str, name: str, label: str, dtype: str, length: int | None,
         mandatory: str = "Yes", codelist: str | None = None, origin: str = "Assigned",
         digits: int | None = None, fmt: str | None = None) -> list[object]:  # fmt: skip
    return [order, ds, name, label, dtype, length, digits, fmt, mandatory, codelist, origin,
            None, None, None, None, None, None]  # fmt: skip


def old_layout() -> dict[str, Rows]:
    """A workbook in the older P21 Community layout (Define-XML 2.0 template)."""
    return {
        "Define": [
            ["Attribute", "Value"],
            ["StudyName", "PILOT-01"],
            ["StudyDescription", "A pilot study"],
            ["ProtocolName", "PILOT-01"],
            ["StandardName", "SDTM"],
            ["StandardVersion", "3.2"],
            ["Language", "en"],
        ],
        "Datasets": [
            ["Dataset", "Description", "Class", "Structure", "Purpose", "Key Variables",
             "Repeating", "Reference Data", "Comment", "Developer Notes"],
            ["DM", "Demographics", "Special Purpose", "One record per subject", "Tabulation",
             "STUDYID, USUBJID", "No", "No", None, None],
            ["AE", "Adverse Events", "Events", "One record per adverse event per subject",
             "Tabulation", "STUDYID, USUBJID, AEDECOD", "Yes", "No", None, None],
            ["MH", "Medical History", "Events", "One record per medical history event per subject",
             "Tabulation", "STUDYID, USUBJID, MHDECOD", "Yes", "No", None, None],
            ["LBCH", "Laboratory Tests (Chemistry)", "Findings",
             "One record per lab test per visit per subject", "Tabulation",
             "STUDYID, USUBJID, LBTESTCD, VISITNUM", "Yes", "No", None, None],
            ["SUPPAE", "Supplemental Qualifiers for AE", "Relationship",
             "One record per supplemental qualifier per related parent domain record",
             "Tabulation", "STUDYID, USUBJID, QNAM", "Yes", "No", None, None],
            ["SUPPDM", "Supplemental Qualifiers for DM", "Relationship",
             "One record per supplemental qualifier per related parent domain record",
             "Tabulation", "STUDYID, USUBJID, QNAM", "Yes", "No", None, None],
        ],
        "Variables": [
            OLD_VAR,
            _var(1, "DM", "STUDYID", "Study Identifier", "text", 8),
            _var(2, "DM", "DOMAIN", "Domain Abbreviation", "text", 2),
            _var(3, "DM", "USUBJID", "Unique Subject Identifier", "text", 11),
            _var(4, "DM", "AGE", "Age", "integer", 8, "No", origin="Collected", fmt="3."),
            _var(1, "AE", "STUDYID", "Study Identifier", "text", 8),
            _var(2, "AE", "USUBJID", "Unique Subject Identifier", "text", 11),
            _var(3, "AE", "AEDECOD", "Dictionary-Derived Term", "text", 20,
                 codelist="MEDDRA26", origin="Assigned"),
            _var(1, "MH", "STUDYID", "Study Identifier", "text", 8),
            _var(2, "MH", "USUBJID", "Unique Subject Identifier", "text", 11),
            _var(3, "MH", "MHDECOD", "Dictionary-Derived Term", "text", 20,
                 codelist="MEDDRA8", origin="Assigned"),
            _var(1, "LBCH", "STUDYID", "Study Identifier", "text", 8),
            _var(2, "LBCH", "DOMAIN", "Domain Abbreviation", "text", 2),
            _var(3, "LBCH", "USUBJID", "Unique Subject Identifier", "text", 11),
            _var(4, "LBCH", "LBTESTCD", "Lab Test or Examination Short Name", "text", 4,
                 codelist="LBTESTCD"),
            _var(5, "LBCH", "LBORRES", "Result or Finding in Original Units", "text", 4, "No",
                 origin="Collected"),
            _var(6, "LBCH", "LBSTRESN", "Numeric Result/Finding in Standard Units", "float", 8,
                 "No", origin="Collected", digits=3),
            _var(7, "LBCH", "VISITNUM", "Visit Number", "float", 8, codelist="VISITNUM"),
            _var(1, "SUPPAE", "STUDYID", "Study Identifier", "text", 8),
            _var(2, "SUPPAE", "USUBJID", "Unique Subject Identifier", "text", 11),
            _var(3, "SUPPAE", "QNAM", "Qualifier Variable Name", "text", 8),
            _var(4, "SUPPAE", "QVAL", "Data Value", "text", 20),
            _var(1, "SUPPDM", "STUDYID", "Study Identifier", "text", 8),
            _var(2, "SUPPDM", "USUBJID", "Unique Subject Identifier", "text", 11),
            _var(3, "SUPPDM", "QNAM", "Qualifier Variable Name", "text", 8),
            _var(4, "SUPPDM", "QVAL", "Data Value", "text", 20),
        ],
        "ValueLevel": [
            OLD_VL,
            [1, "LBCH", "LBORRES", "WC.LB.GLUC", "Glucose", "float", 5, 2, None, "No", None,
             "Collected", None, None, None, None, None],
            [2, "LBCH", "LBORRES", "WC.LB.SODIUM", "Sodium", "integer", 3, None, None, "Yes",
             None, "Collected", None, None, None, None, None],
            [1, "SUPPAE", "QVAL", "WC.QNAM.COMMENT", "Comment", "text", 20, None, None, "No",
             None, "Collected", None, None, None, None, None],
            [1, "SUPPDM", "QVAL", "WC.QNAM.COMMENT", "Comment", "text", 20, None, None, "No",
             None, "Collected", None, None, None, None, None],
        ],
        "WhereClauses": [
            ["ID", "Dataset", "Variable", "Comparator", "Value"],
            ["WC.LB.GLUC", "LBCH", "LBTESTCD", "EQ", "GLUC"],
            ["WC.LB.SODIUM", "LBCH", "LBTESTCD", "EQ", "SODIUM"],
            # one ID for the QNAM of two SUPP-- datasets, as P21 workbooks share them
            ["WC.QNAM.COMMENT", "SUPPAE", "QNAM", "EQ", "COMMENT"],
            ["WC.QNAM.COMMENT", "SUPPDM", "QNAM", "EQ", "COMMENT"],
        ],
        "Codelists": [
            ["ID", "Name", "NCI Codelist Code", "Data Type", "Order", "Term", "NCI Term Code",
             "Decoded Value"],
            ["LBTESTCD", "Laboratory Test Code", "C65047", "text", 1, "GLUC", "C105585",
             "Glucose"],
            ["LBTESTCD", "Laboratory Test Code", "C65047", "text", 2, "SODIUM", "C64809",
             "Sodium"],
            ["VISITNUM", "Visit Number", None, "float", 1, 1, None, "SCREENING"],
            ["VISITNUM", "Visit Number", None, "float", 2, 1.2, None, "UNSCHEDULED 1.2"],
        ],
        "Dictionaries": [
            ["ID", "Name", "Data Type", "Dictionary", "Version"],
            ["MEDDRA26", "Adverse Event Dictionary", "text", "MedDRA", "26.0"],
            ["MEDDRA8", "Medical History Dictionary", "text", "MedDRA", "8.0"],
        ],
        "Methods": [["ID", "Name", "Type", "Description", "Expression Context",
                     "Expression Code", "Document", "Pages"]],
        "Comments": [["ID", "Description", "Document", "Pages"]],
        "Documents": [["ID", "Title", "Href"]],
    }  # fmt: skip


def new_layout() -> dict[str, Rows]:
    """The same study in the newer P21 Community layout (Define-XML 2.1 template): Label
    for the value-level label, Source, Terminology and its working columns."""
    data = old_layout()
    data["Define"][4:6] = [["StandardName", "SDTM-IG"], ["StandardVersion", "3.2"]]
    data["Define"].append(["Legend", "Highlighted cells are required for Define-XML 2.1"])
    datasets = data["Datasets"]
    datasets[0] = ["Dataset", "Label", "Class", "SubClass", "Structure", "Key Variables",
                   "Standard", "Has No Data", "Repeating", "Reference Data", "Comment",
                   "Developer Notes"]  # fmt: skip
    for row in datasets[1:]:
        name, label, cls, structure, _purpose, keys, rep, ref, _c, _n = row
        row[:] = [name, label, cls, None, structure, keys, "SDTMIG 3.2", "No", rep, ref,
                  None, None]  # fmt: skip
    for sheet, at in (("Variables", 9), ("ValueLevel", 10)):
        rows = data[sheet]
        rows[0] = [*rows[0][:at], "Assigned Value", *rows[0][at:]]
        for row in rows[1:]:
            row.insert(at, None)
        at_origin = rows[0].index("Origin") + 1
        rows[0].insert(at_origin, "Source")
        for row in rows[1:]:
            row.insert(at_origin, None)
    variables = data["Variables"]
    variables[0].insert(variables[0].index("Codelist") + 1, "Common")
    for row in variables[1:]:
        row.insert(variables[0].index("Common"), None)
    data["ValueLevel"][0][data["ValueLevel"][0].index("Description")] = "Label"
    codelists = data["Codelists"]
    codelists[0] = [*codelists[0][:4], "Terminology", "Comment", *codelists[0][4:]]
    for row in codelists[1:]:
        row[4:4] = [CT if row[2] else None, None]
    return data


def write_workbook(path: Path, data: dict[str, Rows]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in data.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def _xpt(folder: Path, name: str, label: str, frame: pd.DataFrame, labels: dict[str, str]) -> None:
    variables = [
        XptVariable(c, labels[c], "Num" if frame[c].dtype.kind == "f" else "Char")
        for c in frame.columns
    ]
    write_xpt(frame, folder / f"{name.lower()}.xpt", dataset=name, label=label,
              variables=variables)  # fmt: skip


def write_datasets(out: Path) -> Path:
    sdtm = out / "sdtm"
    sdtm.mkdir(parents=True)
    ids = {"STUDYID": "Study Identifier", "USUBJID": "Unique Subject Identifier",
           "DOMAIN": "Domain Abbreviation"}  # fmt: skip
    subjects = ["PILOT-01-01", "PILOT-01-02"]
    dm = pd.DataFrame({"STUDYID": "PILOT-01", "DOMAIN": "DM", "USUBJID": subjects,
                       "AGE": [63.0, 71.0]})  # fmt: skip
    _xpt(sdtm, "DM", "Demographics", dm, {**ids, "AGE": "Age"})
    ae = pd.DataFrame({"STUDYID": "PILOT-01", "USUBJID": subjects, "AEDECOD": ["Headache", "Rash"]})
    _xpt(sdtm, "AE", "Adverse Events", ae, {**ids, "AEDECOD": "Dictionary-Derived Term"})
    mh = pd.DataFrame({"STUDYID": "PILOT-01", "USUBJID": subjects, "MHDECOD": ["Asthma", "Gout"]})
    _xpt(sdtm, "MH", "Medical History", mh, {**ids, "MHDECOD": "Dictionary-Derived Term"})
    lb = pd.DataFrame(
        {
            "STUDYID": "PILOT-01",
            "DOMAIN": "LB",
            "USUBJID": [subjects[0]] * 2 + [subjects[1]] * 2,
            "LBTESTCD": ["GLUC", "SODIUM"] * 2,
            "LBORRES": ["5.55", "140", "6.1", "138"],
            "LBSTRESN": [5.55, 140.0, 6.1, 138.0],
            # 1.2 as a float sum leaves it: the code list term is 1.2
            "VISITNUM": [1.0, 1.0, 0.1 * 3 * 4, 0.1 * 3 * 4],
        }
    )
    assert lb["VISITNUM"].iloc[2] == 1.2000000000000002
    labels = {
        **ids,
        "LBTESTCD": "Lab Test or Examination Short Name",
        "LBORRES": "Result or Finding in Original Units",
        "LBSTRESN": "Numeric Result/Finding in Standard Units",
        "VISITNUM": "Visit Number",
    }
    _xpt(sdtm, "LBCH", "Laboratory Tests (Chemistry)", lb, labels)
    supp = {"STUDYID": "Study Identifier", "USUBJID": "Unique Subject Identifier",
            "QNAM": "Qualifier Variable Name", "QVAL": "Data Value"}  # fmt: skip
    for parent in ("AE", "DM"):
        frame = pd.DataFrame({"STUDYID": "PILOT-01", "USUBJID": subjects,
                              "QNAM": "COMMENT", "QVAL": ["none", "see notes"]})  # fmt: skip
        _xpt(sdtm, f"SUPP{parent}", f"Supplemental Qualifiers for {parent}", frame, supp)
    return out


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_datasets(tmp_path_factory.mktemp("layouts") / "out")


@pytest.fixture(scope="module", params=["old", "new"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          datasets: Path) -> tuple[etree._Element, list[str], list[str]]:  # fmt: skip
    """(SDTM define.xml root, workbook warnings, build warnings) of each layout."""
    data = old_layout() if request.param == "old" else new_layout()
    folder = tmp_path_factory.mktemp(request.param)
    meta, read_notes = read_define_workbook(write_workbook(folder / "spec.xlsx", data))
    out = folder / "out"
    shutil.copytree(datasets, out)
    said: list[str] = []
    write_define_from_metadata(meta, out, progress=said.append)
    path = out / "sdtm" / "define.xml"
    assert validate_define_schema(path) == []
    notes = [m.removeprefix("warning: ") for m in said if m.startswith("warning: ")]
    return etree.parse(str(path)).getroot(), read_notes, notes


def _item(root: etree._Element, oid: str) -> etree._Element:
    (item,) = root.findall(f".//odm:ItemDef[@OID='{oid}']", NS)
    return item


def _vl_items(root: etree._Element, vl_oid: str) -> list[tuple[etree._Element, str]]:
    """(ItemDef, Mandatory) of each ItemRef of a ValueListDef."""
    refs = root.findall(f".//def:ValueListDef[@OID='{vl_oid}']/odm:ItemRef", NS)
    return [(_item(root, r.get("ItemOID")), r.get("Mandatory")) for r in refs]


def _label(item: etree._Element) -> str:
    return item.findtext("odm:Description/odm:TranslatedText", None, NS)


# --------------------------------------------------------------------------- columns
def test_value_level_label_from_either_layout(built) -> None:
    root, _read, _notes = built
    labels = [_label(item) for item, _ in _vl_items(root, "VL.LBCH.LBORRES")]
    assert labels == ["Glucose", "Sodium"]  # not the parent's "Result or Finding ..."
    (supp,) = _vl_items(root, "VL.SUPPAE.QVAL")
    assert _label(supp[0]) == "Comment"  # not "Data Value"


def test_columns_not_read_are_told_once(built) -> None:
    _root, read, _notes = built
    text = "\n".join(read)
    assert "unknown" not in text  # every column of both layouts is known
    for sheet in ("Datasets", "Variables", "ValueLevel"):
        told = [w for w in read if f"sheet {sheet}, row 1, column Developer Notes" in w]
        assert len(told) == 1 and told[0].endswith("not read (define.xml has no place for it)")
    if "Assigned Value" in text:  # the newer layout
        working = [
            ("Variables", "Common"),
            ("Variables", "Assigned Value"),
            ("ValueLevel", "Assigned Value"),
        ]
        for sheet, column in working:
            assert sum(f"sheet {sheet}, row 1, column {column} (" in w for w in read) == 1


def test_an_unknown_column_is_one_warning_naming_sheet_and_column(tmp_path: Path) -> None:
    data = old_layout()
    data["ValueLevel"][0].append("Reviewer Initials")
    for row in data["ValueLevel"][1:]:
        row.append("JD")
    _meta, read = read_define_workbook(write_workbook(tmp_path / "w.xlsx", data))
    told = [w for w in read if "Reviewer Initials" in w]
    assert told == [f"{tmp_path / 'w.xlsx'}: sheet ValueLevel, row 1, column Reviewer Initials "
                    "(R): unknown column, not read"]  # fmt: skip


# --------------------------------------------------------------------------- attributes
def test_value_level_attributes_as_given(built) -> None:
    root, _read, notes = built
    (gluc, gluc_mandatory), (sodium, sodium_mandatory) = _vl_items(root, "VL.LBCH.LBORRES")
    # every GLUC record has a value, but the workbook says Mandatory No: it stays No
    assert (gluc_mandatory, sodium_mandatory) == ("No", "Yes")
    assert (gluc.get("DataType"), gluc.get("Length"), gluc.get("SignificantDigits")) == (
        "float", "5", "2")  # fmt: skip
    assert (sodium.get("DataType"), sodium.get("Length")) == ("integer", "3")
    # the data's GLUC values are 4 long ("5.55"): told with both values
    assert ("LBCH.LBORRES [LBTESTCD EQ GLUC]: Length 5 in the workbook, 4 in the data "
            "(define.xml has the workbook's)") in notes  # fmt: skip
    assert not any("SODIUM]: Length" in n for n in notes)  # "140", "138": 3 long as stated


def test_variable_attributes_as_given(built) -> None:
    root, _read, notes = built
    age = _item(root, "IT.DM.AGE")
    assert (age.get("DataType"), age.get("Length"), age.get(f"{{{NS['def']}}}DisplayFormat")) == (
        "integer", "8", "3.")  # fmt: skip
    stresn = _item(root, "IT.LBCH.LBSTRESN")
    assert (stresn.get("DataType"), stresn.get("SignificantDigits")) == ("float", "3")
    assert ("LBCH.LBSTRESN: Significant Digits 3 in the workbook, 2 in the data (define.xml "
            "has the workbook's)") in notes  # fmt: skip
    usubjid = _item(root, "IT.DM.USUBJID")
    assert usubjid.get("Length") == "11"  # the data's too: no warning
    assert not any(n.startswith("DM.USUBJID") for n in notes)
    ref = root.find(".//odm:ItemGroupDef[@Name='DM']/odm:ItemRef[@ItemOID='IT.DM.AGE']", NS)
    assert ref.get("Mandatory") == "No"


def test_mandatory_yes_with_empty_records_is_told(tmp_path: Path, datasets: Path) -> None:
    data = old_layout()
    out = tmp_path / "out"
    shutil.copytree(datasets, out)
    frame = pd.DataFrame({"STUDYID": "PILOT-01", "USUBJID": ["PILOT-01-01", "PILOT-01-02"],
                          "QNAM": "COMMENT", "QVAL": ["none", ""]})  # fmt: skip
    supp = {"STUDYID": "Study Identifier", "USUBJID": "Unique Subject Identifier",
            "QNAM": "Qualifier Variable Name", "QVAL": "Data Value"}  # fmt: skip
    _xpt(out / "sdtm", "SUPPDM", "Supplemental Qualifiers for DM", frame, supp)
    meta, _ = read_define_workbook(write_workbook(tmp_path / "w.xlsx", data))
    _model, notes = build_metadata_model(meta, out / "sdtm", "sdtm")
    assert ("SUPPDM.QVAL: Mandatory Yes in the workbook, but 1 record(s) in the data have no "
            "value (define.xml has the workbook's)") in notes  # fmt: skip
    assert not any(n.startswith("SUPPAE.QVAL: Mandatory") for n in notes)  # all filled


# --------------------------------------------------------------------------- versions
def test_stated_ig_version(built) -> None:
    root, _read, notes = built
    ig = root.find(".//def:Standard[@Type='IG']", NS)
    assert (ig.get("Name"), ig.get("Version")) == ("SDTMIG", "3.2")
    assert root.find(".//odm:MetaDataVersion", NS).get("OID").endswith("SDTMIG.3.2")
    assert not any("SDTMIG version" in n for n in notes)


def test_two_versions_of_one_dictionary(built) -> None:
    root, _read, _notes = built
    lists = {
        cl.get("OID"): (cl.get("Name"), ext.get("Dictionary"), ext.get("Version"))
        for cl in root.iterfind(".//odm:CodeList", NS)
        if (ext := cl.find("odm:ExternalCodeList", NS)) is not None
    }
    assert lists == {
        "CL.MEDDRA26": ("Adverse Event Dictionary", "MedDRA", "26.0"),
        "CL.MEDDRA8": ("Medical History Dictionary", "MedDRA", "8.0"),
    }
    for item, oid in (("IT.AE.AEDECOD", "CL.MEDDRA26"), ("IT.MH.MHDECOD", "CL.MEDDRA8")):
        assert _item(root, item).find("odm:CodeListRef", NS).get("CodeListOID") == oid


def test_codelist_without_terminology_names_no_none(tmp_path: Path, datasets: Path) -> None:
    meta, _ = read_define_workbook(write_workbook(tmp_path / "w.xlsx", old_layout()))
    _model, notes = build_metadata_model(meta, datasets / "sdtm", "sdtm")
    told = [n for n in notes if "no Terminology" in n]
    assert told == ["1 codelist(s) with an NCI Codelist Code but no Terminology (LBTESTCD): "
                    "written without def:StandardOID (give the CT package, e.g. "
                    "'SDTM CT 2024-03-29')"]  # fmt: skip
    assert not any("None" in n for n in notes)


# --------------------------------------------------------------------------- datasets
def test_split_dataset_domain(built) -> None:
    root, _read, _notes = built
    lbch = root.find(".//odm:ItemGroupDef[@Name='LBCH']", NS)
    assert (lbch.get("Domain"), lbch.get("SASDatasetName")) == ("LB", "LBCH")
    assert lbch.find("def:Class", NS).get("Name") == "FINDINGS"
    alias = lbch.find("odm:Alias[@Context='DomainDescription']", NS)
    assert alias.get("Name") == "Laboratory Test Results"  # SDTMIG's, no LB in the workbook
    dm = root.find(".//odm:ItemGroupDef[@Name='DM']", NS)
    assert dm.get("Domain") == "DM" and dm.find("odm:Alias", NS) is None
    supp = root.find(".//odm:ItemGroupDef[@Name='SUPPAE']", NS)
    assert supp.get("Domain") == "AE"
    assert supp.find("odm:Alias", NS).get("Name") == "Adverse Events"  # the workbook's


def test_shared_where_clause_resolved_per_dataset(built) -> None:
    root, _read, _notes = built
    checks = {
        wc.get("OID"): [
            (rc.get(f"{{{NS['def']}}}ItemOID"), rc.findtext("odm:CheckValue", None, NS))
            for rc in wc.findall("odm:RangeCheck", NS)
        ]
        for wc in root.iterfind(".//def:WhereClauseDef", NS)
        if "QNAM" in wc.get("OID")
    }
    assert sorted(checks.values()) == [
        [("IT.SUPPAE.QNAM", "COMMENT")],
        [("IT.SUPPDM.QNAM", "COMMENT")],
    ]


def test_where_clause_of_another_dataset_is_refused(tmp_path: Path) -> None:
    data = old_layout()
    data["ValueLevel"][3][3] = "WC.LB.GLUC"  # SUPPAE.QVAL with a clause about LBCH
    with pytest.raises(SpecError) as err:
        read_define_workbook(write_workbook(tmp_path / "w.xlsx", data))
    assert "sheet ValueLevel, row 4, column Where Clause (D)" in str(err.value)
    assert "where clause WC.LB.GLUC is about dataset LBCH, not SUPPAE" in str(err.value)


# --------------------------------------------------------------------------- terms
def test_numeric_terms_compared_as_numbers(built) -> None:
    _root, _read, notes = built
    assert not any("VISITNUM" in n for n in notes)  # 1.2000000000000002 is the term 1.2


def test_a_number_that_is_no_term_is_told(tmp_path: Path, datasets: Path) -> None:
    data = old_layout()
    data["Codelists"][-1][5] = 1.3  # the data have 1.2
    meta, _ = read_define_workbook(write_workbook(tmp_path / "w.xlsx", data))
    _model, notes = build_metadata_model(meta, datasets / "sdtm", "sdtm")
    assert ("LBCH.VISITNUM: value(s) '1.2000000000000002' in the data are not terms of "
            "codelist VISITNUM") in notes  # fmt: skip


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [(1.2000000000000002, 1.2, True), (0.1 + 0.2, 0.3, True), (1.2, 1.21, False),
     (1e-20, 0.0, False), (-3.0, -3.0, True), (1e15 + 1, 1e15, False)],
)  # fmt: skip
def test_same_number(a: float, b: float, same: bool) -> None:
    assert same_number(a, b) is same
    assert is_term(repr(a), {repr(b)}, numeric=True) is same
    assert is_term(repr(a), {repr(b)}, numeric=False) is (a == b)
    assert math.isfinite(a)


# --------------------------------------------------------------------------- the study sheet
def test_blank_study_name_is_located(tmp_path: Path) -> None:
    data = old_layout()
    data["Define"][1][1] = None
    with pytest.raises(SpecError) as err:
        read_define_workbook(write_workbook(tmp_path / "w.xlsx", data))
    assert "sheet Define, row 2, column Value (B)" in str(err.value)
    assert "StudyName has no Value" in str(err.value)


# --------------------------------------------------------------------------- one side only
def test_sdtm_only_workbook_writes_sdtm_only(tmp_path: Path, datasets: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(datasets, out)
    (out / "adam").mkdir()
    shutil.copy(out / "sdtm" / "dm.xpt", out / "adam" / "adsl.xpt")  # not in the workbook
    book = write_workbook(tmp_path / "w.xlsx", old_layout())
    result = CliRunner().invoke(main, ["define", "--study", str(book), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "sdtm" / "define.xml").is_file()
    assert sorted(p.name for p in (out / "adam").iterdir()) == ["adsl.xpt"]
    assert "define.xml for ADAM: skipped, the workbook describes no analysis dataset" in (
        result.stderr)  # fmt: skip


def test_a_failing_side_writes_nothing(tmp_path: Path, datasets: Path) -> None:
    data = old_layout()
    data["Datasets"].append(["ADSL", "Subject-Level Analysis Dataset", "ADSL",
                             "One record per subject", "Analysis", "USUBJID", "No", "No",
                             None, None])  # fmt: skip
    data["Variables"].append(_var(1, "ADSL", "USUBJID", "Unique Subject Identifier", "text", 11))
    out = tmp_path / "out"
    shutil.copytree(datasets, out)
    (out / "adam").mkdir()
    shutil.copy(out / "sdtm" / "ae.xpt", out / "adam" / "adae.xpt")  # ADAE: not described
    book = write_workbook(tmp_path / "w.xlsx", data)
    result = CliRunner().invoke(main, ["-q", "define", "--study", str(book), "--out", str(out)])
    assert result.exit_code == 1
    assert "adae.xpt" in result.stderr
    assert not (out / "sdtm" / "define.xml").exists()  # SDTM built, but never half-written


@pytest.mark.parametrize(("values", "told"), [(["2024-01-05", "2024-02-11"], False),
                                              (["none", "2024-02-11"], True)])  # fmt: skip
def test_a_stated_date_value_level_item(
    tmp_path: Path, datasets: Path, values: list[str], told: bool
) -> None:
    """A value-level item the workbook calls a date is one when its records hold ISO 8601
    dates (no warning), and told as text in the data when they do not."""
    data = old_layout()
    data["ValueLevel"][3][5] = "date"  # SUPPAE.QVAL [QNAM EQ COMMENT]
    data["ValueLevel"][3][6] = None
    out = tmp_path / "out"
    shutil.copytree(datasets, out)
    frame = pd.DataFrame({"STUDYID": "PILOT-01", "USUBJID": ["PILOT-01-01", "PILOT-01-02"],
                          "QNAM": "COMMENT", "QVAL": values})  # fmt: skip
    supp = {"STUDYID": "Study Identifier", "USUBJID": "Unique Subject Identifier",
            "QNAM": "Qualifier Variable Name", "QVAL": "Data Value"}  # fmt: skip
    _xpt(out / "sdtm", "SUPPAE", "Supplemental Qualifiers for AE", frame, supp)
    meta, _ = read_define_workbook(write_workbook(tmp_path / "w.xlsx", data))
    model, notes = build_metadata_model(meta, out / "sdtm", "sdtm")
    (item,) = [i for i in model.items.values() if i.oid.startswith("IT.SUPPAE.QVAL.")]
    assert (item.data_type, item.length) == ("date", None)
    said = ("SUPPAE.QVAL [QNAM EQ COMMENT]: Data Type date in the workbook, text in the data "
            "(define.xml has the workbook's)")  # fmt: skip
    assert (said in notes) is told


def test_blank_where_clause_value_is_the_missing_value(tmp_path: Path) -> None:
    """``DSSCAT NE`` with a blank Value (as the CDISC pilot's define.xml has
    ``<CheckValue></CheckValue>``) selects the records with a value; LT needs one."""
    assert where_values("''", "NE") == [""] and where_values("A, 'B'", "IN") == ["A", "B"]
    data = old_layout()
    data["WhereClauses"][1][3:5] = ["NE", None]
    meta, _ = read_define_workbook(write_workbook(tmp_path / "w.xlsx", data))
    (cond,) = meta.where_clauses["WC.LB.GLUC"]
    assert (cond.comparator, cond.values) == ("NE", [""])
    data["WhereClauses"][1][3] = "LT"
    with pytest.raises(SpecError) as err:
        read_define_workbook(write_workbook(tmp_path / "w2.xlsx", data))
    assert "sheet WhereClauses, row 2, column Value (E)" in str(err.value)
    assert "where clause WC.LB.GLUC: no Value" in str(err.value)


def test_has_no_data_is_checked_against_the_data(tmp_path: Path, datasets: Path) -> None:
    data = new_layout()
    datasets_sheet, variables = data["Datasets"], data["Variables"]
    datasets_sheet[1][datasets_sheet[0].index("Has No Data")] = "Yes"  # DM has records
    variables[0].append("Has No Data")
    for row in variables[1:]:
        row.append("Yes" if row[2] == "LBORRES" else "No")
    meta, read = read_define_workbook(write_workbook(tmp_path / "w.xlsx", data))
    assert not any("Has No Data" in w for w in read)  # read, not told as unread
    _model, notes = build_metadata_model(meta, datasets / "sdtm", "sdtm")
    told = [n for n in notes if "Has No Data" in n]
    assert told == [
        "DM: Has No Data Yes in the workbook, No in the data (define.xml has the data's)",
        "LBCH.LBORRES: Has No Data Yes in the workbook, No in the data (define.xml has the data's)",
    ]
