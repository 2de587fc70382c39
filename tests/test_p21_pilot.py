"""The CDISC pilot's SDTM define.xml (SDTM-MSG v2.0 sample, ``../shared/reference``) as a
Pinnacle 21 layout workbook, and the pilot's own datasets: the define.xml written from
that workbook says what the workbook says (labels, data types, lengths, Mandatory of every
variable and value-level item), keeps the split QS datasets' Domain, and resolves the
where clauses the pilot shares among datasets. Skipped without ``../shared``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import Workbook

from cdisc_mapper.define.describe_metadata import write_define_from_metadata
from cdisc_mapper.define.schema import validate_define_schema
from cdisc_mapper.xlsx.p21 import read_define_workbook

PILOT = Path(__file__).resolve().parents[1].parent / "shared/reference/cdisc-pilot-msg2/sdtm"
pytestmark = pytest.mark.skipif(not PILOT.is_dir(), reason="needs ../shared/reference")

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
DEF = "{http://www.cdisc.org/ns/def/v2.1}"
Rows = list[list[object]]


def _text(el: etree._Element) -> str:
    return el.findtext("odm:Description/odm:TranslatedText", "", NS)


def _item_row(item: etree._Element, mandatory: str | None) -> list[object]:
    """Label, Data Type, Length, Significant Digits, Format, Mandatory, Codelist, Origin."""
    ref = item.find("odm:CodeListRef", NS)
    origin = item.find("def:Origin", NS)
    return [
        _text(item),
        item.get("DataType"),
        item.get("Length"),
        item.get("SignificantDigits"),
        item.get(DEF + "DisplayFormat"),
        "Yes" if mandatory == "Yes" else "No",
        ref.get("CodeListOID") if ref is not None else None,
        origin.get("Type") if origin is not None else None,
    ]


def pilot_workbook(root: etree._Element) -> dict[str, Rows]:
    """The pilot define.xml as the older P21 layout gives it (one sheet per part)."""
    items = {i.get("OID"): i for i in root.iterfind(".//odm:ItemDef", NS)}
    owner: dict[str, str] = {}  # item OID -> dataset
    datasets: Rows = [["Dataset", "Description", "Class", "Structure", "Purpose", "Key Variables"]]
    variables: Rows = [
        [
            "Order",
            "Dataset",
            "Variable",
            "Label",
            "Data Type",
            "Length",
            "Significant Digits",
            "Format",
            "Mandatory",
            "Codelist",
            "Origin",
            "Role",
        ]
    ]
    for group in root.iterfind(".//odm:ItemGroupDef", NS):
        name = group.get("Name")
        refs = group.findall("odm:ItemRef", NS)
        keys = sorted(
            (int(r.get("KeySequence")), items[r.get("ItemOID")].get("Name"))
            for r in refs
            if r.get("KeySequence")
        )
        datasets.append(
            [
                name,
                _text(group),
                group.find("def:Class", NS).get("Name"),
                group.get(DEF + "Structure"),
                group.get("Purpose"),
                ", ".join(k for _, k in keys),
            ]
        )
        for ref in refs:
            item = items[ref.get("ItemOID")]
            owner[item.get("OID")] = name
            variables.append(
                [
                    int(ref.get("OrderNumber")),
                    name,
                    item.get("Name"),
                    *_item_row(item, ref.get("Mandatory")),
                    ref.get("Role"),
                ]
            )
    value_level: Rows = [
        [
            "Order",
            "Dataset",
            "Variable",
            "Where Clause",
            "Description",
            "Data Type",
            "Length",
            "Significant Digits",
            "Format",
            "Mandatory",
            "Codelist",
            "Origin",
        ]
    ]
    clause_rows: dict[tuple[str, str], list[object]] = {}
    parents = {
        i.find("def:ValueListRef", NS).get("ValueListOID"): i
        for i in items.values()
        if i.find("def:ValueListRef", NS) is not None
    }
    for vl in root.iterfind(".//def:ValueListDef", NS):
        parent = parents[vl.get("OID")]
        ds = owner[parent.get("OID")]
        for ref in vl.findall("odm:ItemRef", NS):
            wid = ref.find("def:WhereClauseRef", NS).get("WhereClauseOID")
            value_level.append(
                [
                    int(ref.get("OrderNumber")),
                    ds,
                    parent.get("Name"),
                    wid,
                    *_item_row(items[ref.get("ItemOID")], ref.get("Mandatory")),
                ]
            )
            wc = root.find(f".//def:WhereClauseDef[@OID='{wid}']", NS)
            for rc in wc.findall("odm:RangeCheck", NS):
                values = [v.text or "" for v in rc.findall("odm:CheckValue", NS)]
                clause_rows[(wid, ds, items[rc.get(DEF + "ItemOID")].get("Name"))] = [
                    rc.get("Comparator"),
                    ", ".join(values),
                ]
    where: Rows = [["ID", "Dataset", "Variable", "Comparator", "Value"]]
    where += [[wid, ds, var, *rest] for (wid, ds, var), rest in clause_rows.items()]
    codelists: Rows = [
        [
            "ID",
            "Name",
            "NCI Codelist Code",
            "Data Type",
            "Order",
            "Term",
            "NCI Term Code",
            "Decoded Value",
        ]
    ]
    dictionaries: Rows = [["ID", "Name", "Data Type", "Dictionary", "Version"]]
    for cl in root.iterfind(".//odm:CodeList", NS):
        ext = cl.find("odm:ExternalCodeList", NS)
        if ext is not None:
            dictionaries.append(
                [
                    cl.get("OID"),
                    cl.get("Name"),
                    cl.get("DataType"),
                    ext.get("Dictionary"),
                    ext.get("Version"),
                ]
            )
            continue
        code = cl.find("odm:Alias[@Context='nci:ExtCodeID']", NS)
        for n, term in enumerate(
            cl.findall("odm:CodeListItem", NS) + cl.findall("odm:EnumeratedItem", NS), 1
        ):
            term_code = term.find("odm:Alias", NS)
            codelists.append(
                [
                    cl.get("OID"),
                    cl.get("Name"),
                    code.get("Name") if code is not None else None,
                    cl.get("DataType"),
                    n,
                    term.get("CodedValue"),
                    term_code.get("Name") if term_code is not None else None,
                    term.findtext("odm:Decode/odm:TranslatedText", None, NS),
                ]
            )
    return {
        "Define": [
            ["Attribute", "Value"],
            ["StudyName", "CDISCPILOT01"],
            ["StudyDescription", "CDISC pilot"],
            ["ProtocolName", "CDISCPILOT01"],
            ["StandardName", "SDTM"],
            ["StandardVersion", "3.3"],
        ],
        "Datasets": datasets,
        "Variables": variables,
        "ValueLevel": value_level,
        "WhereClauses": where,
        "Codelists": codelists,
        "Dictionaries": dictionaries,
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[etree._Element, etree._Element]:
    """(the pilot's define.xml, ours from the pilot as a workbook, on the pilot's data)."""
    pilot = etree.parse(str(PILOT / "define.xml")).getroot()
    folder = tmp_path_factory.mktemp("pilot")
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in pilot_workbook(pilot).items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(folder / "spec.xlsx")
    meta, _ = read_define_workbook(folder / "spec.xlsx")
    (folder / "out" / "sdtm").mkdir(parents=True)
    for xpt in PILOT.glob("*.xpt"):
        shutil.copy(xpt, folder / "out" / "sdtm")
    write_define_from_metadata(meta, folder / "out", progress=lambda _m: None)
    path = folder / "out" / "sdtm" / "define.xml"
    assert validate_define_schema(path) == []
    return pilot, etree.parse(str(path)).getroot()


def _attrs(root: etree._Element) -> dict[tuple[str, str], tuple[object, ...]]:
    """(dataset, variable) -> label, data type, length, significant digits, Mandatory."""
    items = {i.get("OID"): i for i in root.iterfind(".//odm:ItemDef", NS)}
    out = {}
    for group in root.iterfind(".//odm:ItemGroupDef", NS):
        for ref in group.findall("odm:ItemRef", NS):
            item = items[ref.get("ItemOID")]
            out[(group.get("Name"), item.get("Name"))] = (
                _text(item),
                item.get("DataType"),
                item.get("Length"),
                item.get("SignificantDigits"),
                ref.get("Mandatory"),
            )
    return out


def test_variables_as_the_workbook_says(written) -> None:
    pilot, ours = written
    theirs = _attrs(pilot)
    mine = _attrs(ours)
    written_datasets = {ds for ds, _ in mine}
    assert len(written_datasets) == len(list(PILOT.glob("*.xpt")))  # FT... have no data
    assert mine == {k: v for k, v in theirs.items() if k[0] in written_datasets}


def _levels(root: etree._Element) -> dict[tuple[str, str], list[tuple[object, ...]]]:
    """(dataset, variable) -> label, data type, length, Mandatory of each value-level item."""
    items = {i.get("OID"): i for i in root.iterfind(".//odm:ItemDef", NS)}
    owner = {
        r.get("ItemOID"): g.get("Name")
        for g in root.iterfind(".//odm:ItemGroupDef", NS)
        for r in g.findall("odm:ItemRef", NS)
    }
    parents = {
        ref.get("ValueListOID"): item
        for item in items.values()
        if (ref := item.find("def:ValueListRef", NS)) is not None
    }
    out = {}
    for vl in root.iterfind(".//def:ValueListDef", NS):
        parent = parents[vl.get("OID")]
        out[(owner[parent.get("OID")], parent.get("Name"))] = sorted(
            (
                _text(items[r.get("ItemOID")]),
                items[r.get("ItemOID")].get("DataType"),
                items[r.get("ItemOID")].get("Length"),
                r.get("Mandatory"),
            )
            for r in vl.findall("odm:ItemRef", NS)
        )
    return out


def test_value_levels_as_the_workbook_says(written) -> None:
    pilot, ours = written
    mine, theirs = _levels(ours), _levels(pilot)
    assert sum(map(len, mine.values())) > 150
    left_out = set()
    for key, levels in mine.items():
        assert set(levels) <= set(theirs[key]), key  # each as the workbook says
        left_out |= {(*key, level[0]) for level in set(theirs[key]) - set(levels)}
    # only those whose where clause selects no record of the sample (a warning tells)
    assert left_out == {
        ("RS", "RSORRES", "HAMD-17 Question 16A"),
        ("RS", "RSSTRESC", "HAMD-17 Question 16A Standardized"),
        ("SUPPDM", "QVAL", "Race 4"),
        ("SUPPDM", "QVAL", "Race 5"),
        ("TS", "TSVAL", "Randomization Quotient"),
        ("TS", "TSVAL", "Trial Length"),
        ("TS", "TSVAL", "Trial Secondary Objective"),
    }


def test_split_datasets_and_ig(written) -> None:
    _pilot, ours = written
    for name in ("QSPH", "QSSL"):
        group = ours.find(f".//odm:ItemGroupDef[@Name='{name}']", NS)
        assert (group.get("Domain"), group.get("SASDatasetName")) == ("QS", name)
        assert group.find("odm:Alias", NS).get("Name") == "Questionnaires"
    ig = ours.find(".//def:Standard[@Type='IG']", NS)
    assert (ig.get("Name"), ig.get("Version")) == ("SDTMIG", "3.3")
