# ruff: noqa: E501 (the XML fixtures keep their lines whole)
"""Tests of cdisc_mapper.raw.odm: ODM 1.3.x ClinicalData as one table per item group,
every ItemData accounted for (counted here with lxml directly), codelists decoded, audit
records and vendor extensions counted; malformed files give located errors. The real
files are in ../shared/reference/odm-1.3.2/."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from cdisc_mapper.errors import RawDataError
from cdisc_mapper.raw.edc import EdcSettings
from cdisc_mapper.raw.odm import KEY_COLUMNS, read_odm

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "odm-1.3.2"
needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason="../shared absent")
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
FILES = ["odmlib-odm-data-snapshot.xml", "openclinica-3.1-full-extract.xml"]


def _counts(path: Path) -> tuple[Counter[str], Counter[str]]:
    """Per ItemGroupOID: ItemGroupData elements and ItemData with a value, by XPath."""
    tree = etree.parse(str(path))
    groups = Counter(g.get("ItemGroupOID") for g in tree.iterfind(".//odm:ItemGroupData", NS))
    items: Counter[str] = Counter()
    for item in tree.iterfind(".//odm:ItemGroupData/odm:ItemData", NS):
        if item.get("Value", "").strip():
            items[item.getparent().get("ItemGroupOID")] += 1
    return groups, items


@needs_reference
@pytest.mark.parametrize("name", FILES)
def test_every_item_read_back(name: str) -> None:
    export = read_odm(REFERENCE, EdcSettings(records=name))
    groups, items = _counts(REFERENCE / name)
    tree = etree.parse(str(REFERENCE / name))
    unit_refs = Counter(
        u.getparent().getparent().get("ItemGroupOID")
        for u in tree.iterfind(".//odm:ItemData/odm:MeasurementUnitRef", NS)
    )
    for oid, form in export.forms.items():
        data = form.data
        assert len(data) == groups.get(oid, 0), oid
        item_columns = [c for c in data.columns if c not in KEY_COLUMNS]
        values = data[[c for c in item_columns if not c.endswith("_UNIT")]]
        assert int((values != "").to_numpy().sum()) == items.get(oid, 0), oid
        units = data[[c for c in item_columns if c.endswith("_UNIT")]]
        assert int((units != "").to_numpy().sum()) == unit_refs.get(oid, 0), oid
    assert set(groups) <= set(export.forms)


@needs_reference
def test_snapshot_totals_and_keys() -> None:
    export = read_odm(REFERENCE, EdcSettings(records=FILES[0], item_columns="name"))
    assert sum(len(f.data) for f in export.forms.values()) == 60  # the README's count
    ae = export.open("ae", "AdverseEvent", where="x")  # ItemGroupDef Name reaches the group
    assert ae.file == "odmlib-odm-data-snapshot.xml#IG.AE"
    lb = export.forms["IG.LB.LB_ARRAY1"].data
    assert sorted(set(lb["ItemGroupRepeatKey"]), key=int)[:3] == ["1", "2", "3"]
    assert export.ignored == {}


@needs_reference
def test_openclinica_audit_logs_and_extensions_counted() -> None:
    path = REFERENCE / FILES[1]
    export = read_odm(REFERENCE, EdcSettings(records=FILES[1]))
    tree = etree.parse(str(path))
    foreign = [
        e for e in tree.iterfind(".//odm:ClinicalData//*", NS)
        if not e.tag.startswith("{http://www.cdisc.org") and e.getparent().tag.startswith("{http://www.cdisc.org")
    ]  # fmt: skip
    assert export.ignored["vendor extension elements"] == len(foreign) == 102
    units = tree.findall(".//odm:ItemData/odm:MeasurementUnitRef", NS)
    assert len(units) == 155 and "MeasurementUnitRef elements" not in export.ignored
    physical = export.forms["IG_PHYSI_UNGROUPED"].data
    assert "I_PHYSI_HEIGHT_UNIT" in physical.columns
    assert list(physical.loc[4772, ["I_PHYSI_HEIGHT", "I_PHYSI_HEIGHT_UNIT"]]) == ["70", "in"]
    assert sum(len(f.data) for f in export.forms.values()) == 56
    assert sum(len(set(f.data["SubjectKey"])) for f in export.forms.values()) >= 13
    # coded values not in their item's code list (an ItemDef shared by two form versions
    # with different response sets) are kept and listed; counted here by XPath
    lists = {
        cl.get("OID"): {ci.get("CodedValue") for ci in cl.iterfind("odm:CodeListItem", NS)}
        for cl in tree.iterfind(".//odm:CodeList", NS)
    }
    coded = {
        d.get("OID"): d.find("odm:CodeListRef", NS).get("CodeListOID")
        for d in tree.iterfind(".//odm:ItemDef", NS)
        if d.find("odm:CodeListRef", NS) is not None
    }
    outside = [
        i.sourceline for i in tree.iterfind(".//odm:ItemData", NS)
        if i.get("ItemOID") in coded and i.get("Value")
        and i.get("Value") not in lists[coded[i.get("ItemOID")]]
    ]  # fmt: skip
    assert [int(n.split(":")[1]) for n in export.undecoded] == outside
    assert len(outside) == 16
    assert export.undecoded[0] == (
        "openclinica-3.1-full-extract.xml:4798: item I_PHYSI_SKIN value '2' is not a coded "
        "value of its CodeList CL_7 (kept as exported)"
    )
    verif = export.forms["IG_VERIF_UNGROUPED"].data
    assert set(verif["StudyOID"]) >= {"S_R0112345_6657", "S_R0112345_7258"}


ODM = """<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:v="urn:vendor" FileOID="F" FileType="Snapshot"
     CreationDateTime="2020-01-01T00:00:00" ODMVersion="1.3.2">
  <Study OID="S"><MetaDataVersion OID="M" Name="M">
    <ItemGroupDef OID="IG.DM" Name="dm" Repeating="No">
      <ItemRef ItemOID="IT.SEX" Mandatory="No"/><ItemRef ItemOID="IT.AGE" Mandatory="No"/>
    </ItemGroupDef>
    <ItemDef OID="IT.SEX" Name="SEX" DataType="text"><CodeListRef CodeListOID="CL.SEX"/></ItemDef>
    <ItemDef OID="IT.AGE" Name="AGE" DataType="integer"/>
    <CodeList OID="CL.SEX" Name="SEX" DataType="text">
      <CodeListItem CodedValue="1"><Decode><TranslatedText xml:lang="en">Male</TranslatedText></Decode></CodeListItem>
      <CodeListItem CodedValue="2"><Decode><TranslatedText xml:lang="en">Female</TranslatedText></Decode></CodeListItem>
    </CodeList>
  </MetaDataVersion></Study>
  <ClinicalData StudyOID="S" MetaDataVersionOID="M">
    <SubjectData SubjectKey="001" v:extra="x">
      <StudyEventData StudyEventOID="SE.BASE" StudyEventRepeatKey="1">
        <FormData FormOID="F.DM" FormRepeatKey="1">
          <ItemGroupData ItemGroupOID="IG.DM">
            <ItemData ItemOID="IT.SEX" Value="2"><AuditRecord><UserRef UserOID="U"/></AuditRecord></ItemData>
            <ItemData ItemOID="{age}" Value="54"/>
          </ItemGroupData>
          <v:Log/>
        </FormData>
      </StudyEventData>
    </SubjectData>
  </ClinicalData>
</ODM>
"""


def test_clean_file_decoded_with_keys(tmp_path: Path) -> None:
    (tmp_path / "x.xml").write_text(ODM.format(age="IT.AGE"))
    export = read_odm(tmp_path, EdcSettings(records="x.xml", item_columns="name"))
    data = export.forms["IG.DM"].data
    assert data.to_dict("records") == [
        {"StudyOID": "S", "SubjectKey": "001", "StudyEventOID": "SE.BASE",
         "StudyEventRepeatKey": "1", "FormOID": "F.DM", "FormRepeatKey": "1",
         "ItemGroupRepeatKey": "", "SEX": "Female", "AGE": "54"}
    ]  # fmt: skip
    assert list(data.index) == [19]  # the line of the ItemGroupData element
    assert export.ignored == {
        "AuditRecord elements": 1,
        "vendor extension attributes": 1,
        "vendor extension elements": 1,
    }
    assert export.key("dm", "dm") == "IG.DM"


def test_unknown_item_oid(tmp_path: Path) -> None:
    (tmp_path / "x.xml").write_text(ODM.format(age="IT.WEIGHT"))
    with pytest.raises(
        RawDataError, match=r"x.xml:21, column ItemOID: ItemData ItemOID 'IT.WEIGHT' has no ItemDef"
    ):
        read_odm(tmp_path, EdcSettings(records="x.xml"))


def test_not_well_formed_names_the_line(tmp_path: Path) -> None:
    text = ODM.format(age="IT.AGE").replace('<ItemData ItemOID="IT.AGE" Value="54"/>', "<ItemData>")
    (tmp_path / "x.xml").write_text(text)
    with pytest.raises(
        RawDataError,
        match=r"x.xml:22: not well-formed XML: Opening and ending tag mismatch: ItemData line 21",
    ):
        read_odm(tmp_path, EdcSettings(records="x.xml"))


def test_entities_are_not_expanded(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    text = (
        ODM.format(age="IT.AGE")
        .replace(
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE ODM [<!ENTITY s SYSTEM "secret.txt">]>',
        )
        .replace('Value="54"', 'Value="&s;"')
    )
    (tmp_path / "x.xml").write_text(text)
    try:
        export = read_odm(tmp_path, EdcSettings(records="x.xml"))
    except RawDataError:
        return  # refused: fine
    assert "TOP SECRET" not in export.forms["IG.DM"].data.to_string()


def test_not_odm(tmp_path: Path) -> None:
    (tmp_path / "x.xml").write_text("<root/>\n")
    with pytest.raises(RawDataError, match=r"x.xml:1: the root element is 'root', not ODM"):
        read_odm(tmp_path, EdcSettings(records="x.xml"))


REDCAP_XML = REFERENCE.parent / "redcap" / "pycap-test_long_project.xml"


@needs_reference
def test_redcap_project_xml_by_form() -> None:
    """REDCap's project XML (ODM 1.3.1) splits an instrument into one item group per
    field or section; ``tables: form`` gives one row per FormData with all its items."""
    export = read_odm(REDCAP_XML.parent, EdcSettings(records=REDCAP_XML.name, odm_tables="form"))
    tree = etree.parse(str(REDCAP_XML))
    forms = Counter(f.get("FormOID") for f in tree.iterfind(".//odm:FormData", NS))
    filled = Counter(
        i.getparent().getparent().get("FormOID")
        for i in tree.iterfind(".//odm:FormData/odm:ItemGroupData/odm:ItemData", NS)
        if i.get("Value", "").strip()
    )
    assert sum(forms.values()) == 32
    assert len(tree.findall(".//odm:ItemData", NS)) == 128  # the README's count
    for oid, form in export.forms.items():
        data = form.data
        assert len(data) == forms.get(oid, 0), oid
        assert "ItemGroupRepeatKey" not in data.columns
        items = data[[c for c in data.columns if c not in KEY_COLUMNS]]
        assert int((items != "").to_numpy().sum()) == filled.get(oid, 0), oid
    first = export.open("demographics", "Demographics", where="x").data.iloc[0]
    assert (first["study_id"], first["date_enrolled"], first["first_name"]) == (
        "1",
        "2021-12-09",
        "Test 1",
    )
    assert first["gym___0"] == "Unchecked"  # decoded by the project's own CodeList
    foreign = [
        name for e in tree.iterfind(".//odm:ClinicalData//*", NS) for name in e.attrib
        if name.startswith("{")
    ]  # fmt: skip
    assert export.ignored == {"vendor extension attributes": len(foreign)}


@needs_reference
def test_repeating_group_inside_a_form_is_an_error_by_form() -> None:
    with pytest.raises(
        RawDataError,
        match=r"odmlib-odm-data-snapshot.xml:\d+, column ItemOID: item 'IT\.\w+' twice in one FormData",
    ) as err:
        read_odm(REFERENCE, EdcSettings(records=FILES[0], odm_tables="form"))
    assert "tables: item_group" in str(err.value)
