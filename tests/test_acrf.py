"""The generated aCRF as a file, and define.xml citing it: every Collected item points
to an existing page of acrf.pdf that holds its annotation (read back with pypdf)."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader

from cdisc_mapper.acrf import write_acrf
from cdisc_mapper.define import write_define
from cdisc_mapper.define.schema import validate_define_schema
from cdisc_mapper.errors import RawDataError, SpecError
from tests.conftest import STUDY

NS = {
    "odm": "http://www.cdisc.org/ns/odm/v1.3",
    "def": "http://www.cdisc.org/ns/def/v2.1",
    "xlink": "http://www.w3.org/1999/xlink",
}


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    out: list[tuple[int, str, int]] = []

    def walk(entries: list, level: int) -> None:
        for entry in entries:
            if isinstance(entry, list):
                walk(entry, level + 1)
            else:
                out.append((level, entry.title, reader.get_destination_page_number(entry) + 1))

    walk(reader.outline, 0)
    return out


# --------------------------------------------------------------------------- the file
def test_acrf_file_is_byte_identical_and_dated_by_source_date_epoch(
    demo_raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14T22:13:20Z
    first = write_acrf(STUDY, tmp_path / "a", demo_raw).read_bytes()
    second = write_acrf(STUDY, tmp_path / "b", demo_raw).read_bytes()
    assert first == second
    reader = PdfReader(tmp_path / "a" / "acrf.pdf")
    assert reader.metadata["/CreationDate"] == "D:20231114221320+00'00'"
    assert reader.metadata["/Title"] == "Study 0208-16-HMO: Annotated CRF"


def test_acrf_pages_and_bookmarks_by_form_and_domain(demo_raw: Path, tmp_path: Path) -> None:
    reader = PdfReader(write_acrf(STUDY, tmp_path, demo_raw))
    outline = _outline(reader)
    forms = [(title, page) for level, title, page in outline if level == 1][:12]
    # contents on page 1; enrollment on 2; adverse_events (28 fields) on 3 and 4
    assert outline[:2] == [(0, "Contents", 1), (0, "Forms", 2)]
    assert forms[:3] == [("enrollment", 2), ("adverse_events", 3), ("medications", 5)]
    assert (1, "VS (Vital Signs)", 2) in outline  # HEIGHT_CM of the enrollment form
    assert (1, "QS (Questionnaires)", 12) in outline
    assert len(reader.pages) == 14
    vitals = _squeeze(reader.pages[13].extract_text())
    assert _squeeze("Form: vitals") in vitals
    assert _squeeze("VS (Vital Signs)") in vitals
    assert _squeeze("VSORRES when VSTESTCD = SYSBP") in vitals
    enrollment = _squeeze(reader.pages[1].extract_text())
    assert _squeeze("WEIGHT_KG") in enrollment and "NOTSUBMITTED" in enrollment


def test_acrf_command_writes_the_file(demo_raw: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cdisc_mapper.cli import main

    out = tmp_path / "docs"
    res = CliRunner().invoke(
        main, ["-q", "acrf", "--study", str(STUDY), "--raw", str(demo_raw), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == str(out / "acrf.pdf")
    assert len(PdfReader(out / "acrf.pdf").pages) == 14


def test_missing_raw_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    with pytest.raises(RawDataError) as err:
        write_acrf(STUDY, tmp_path / "out", tmp_path / "raw")
    assert "enrollment.csv" in str(err.value)
    assert not (tmp_path / "out" / "acrf.pdf").exists()


# --------------------------------------------------------------------------- define.xml
@pytest.fixture(scope="module")
def sdtm_define(demo_sdtm, demo_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's SDTM define.xml written with the raw folder (acrf.pdf beside it)."""
    out = tmp_path_factory.mktemp("acrf") / "out"
    (out / "sdtm").mkdir(parents=True)
    for xpt in (demo_sdtm[0] / "sdtm").glob("*.xpt"):
        shutil.copy(xpt, out / "sdtm" / xpt.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_define(STUDY, out, which=["sdtm"], raw_dir=demo_raw)
    return out / "sdtm"


def _where_of(mdv: etree._Element) -> dict[str, tuple[str, str]]:
    """Value-level ItemOID -> (variable tested, value) of its where clause."""
    clauses = {}
    for wc in mdv.iterfind("def:WhereClauseDef", NS):
        check = wc.find("odm:RangeCheck", NS)
        variable = check.get(f"{{{NS['def']}}}ItemOID").split(".")[-1]
        clauses[wc.get("OID")] = (variable, check.findtext("odm:CheckValue", namespaces=NS))
    out = {}
    for ref in mdv.iterfind("def:ValueListDef/odm:ItemRef", NS):
        clause = ref.find("def:WhereClauseRef", NS).get("WhereClauseOID")
        out[ref.get("ItemOID")] = clauses[clause]
    return out


def _expected_annotations(item: etree._Element, where: dict[str, tuple[str, str]]) -> list[str]:
    """The annotations an aCRF page may show for an item, from the item alone, most
    specific first: SUPP-- QVAL by its QNAM; a result by its test code (a wide form's
    item), else the variable's name (a long form: the test is a column of its own)."""
    dataset = item.get("OID").split(".")[1]
    name = item.get("Name")
    tested = where.get(item.get("OID"))
    if dataset.startswith("SUPP"):
        return [f"{dataset}.QNAM = {tested[1]}" if tested else f"{dataset}.QNAM ="]
    if tested and tested[0].endswith("TESTCD"):
        return [f"{name} when {tested[0]} = {tested[1]}", name]
    return [name]


def test_every_collected_item_points_to_a_page_holding_its_annotation(sdtm_define: Path) -> None:
    root = etree.parse(str(sdtm_define / "define.xml")).getroot()
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    reader = PdfReader(sdtm_define / "acrf.pdf")
    pages = [_squeeze(p.extract_text()) for p in reader.pages]
    where = _where_of(mdv)
    collected = 0
    for item in mdv.iterfind("odm:ItemDef", NS):
        origin = item.find("def:Origin", NS)
        if origin is None or origin.get("Type") != "Collected":
            continue
        collected += 1
        ref = origin.find("def:DocumentRef", NS)
        assert ref is not None and ref.get("leafID") == "LF.acrf", item.get("OID")
        page_ref = ref.find("def:PDFPageRef", NS)
        assert page_ref.get("Type") == "PhysicalRef"
        # the most specific annotation the aCRF has anywhere must be on the cited pages
        found = [_squeeze(a) for a in _expected_annotations(item, where)]
        expected = next(a for a in found if any(a in page for page in pages))
        for number in (int(n) for n in page_ref.get("PageRefs").split()):
            assert 1 <= number <= len(pages), (item.get("OID"), number)
            assert expected in pages[number - 1], (item.get("OID"), number, expected)
    assert collected > 100  # 139 in the default demo


def test_define_declares_the_acrf_leaf_and_links_it(sdtm_define: Path) -> None:
    define = sdtm_define / "define.xml"
    assert validate_define_schema(define) == []
    mdv = etree.parse(str(define)).getroot().find("odm:Study/odm:MetaDataVersion", NS)
    assert mdv.find("def:AnnotatedCRF/def:DocumentRef", NS).get("leafID") == "LF.acrf"
    leaf = mdv.find("def:leaf[@ID='LF.acrf']", NS)
    assert leaf.get(f"{{{NS['xlink']}}}href") == "acrf.pdf"
    assert leaf.findtext("def:title", namespaces=NS) == "Annotated CRF"
    sysbp = mdv.find("odm:ItemDef[@OID='IT.VS.VSORRES.SYSBP']/def:Origin", NS)
    assert sysbp.findtext("odm:Description/odm:TranslatedText", namespaces=NS) == (
        "vitals.csv SYS_BP"
    )
    assert sysbp.find("def:DocumentRef/def:PDFPageRef", NS).get("PageRefs") == "14"
    # a variable two forms fill cites the pages of both
    prstdtc = mdv.find("odm:ItemDef[@OID='IT.PR.PRSTDTC']/def:Origin", NS)
    assert prstdtc.find("def:DocumentRef/def:PDFPageRef", NS).get("PageRefs") == "7 11"
    html = (sdtm_define / "define.html").read_text(encoding="utf-8")
    assert re.search(r'<a class="external tocItem" href="acrf.pdf">Annotated CRF', html)
    assert 'href="acrf.pdf#page=14"' in html


# --------------------------------------------------------------------------- sponsor aCRF
SPONSOR = """\
documents:
  acrf: {title: Annotated CRF, href: acrf.pdf, kind: acrf, standards: [sdtm]}
forms:
  enrollment: {pages: "3 4", fields: {GENDER: "4"}}
"""


@pytest.fixture
def sdtm_copy(demo_sdtm, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    (out / "sdtm").mkdir(parents=True)
    for xpt in (demo_sdtm[0] / "sdtm").glob("*.xpt"):
        shutil.copy(xpt, out / "sdtm" / xpt.name)
    return out


@pytest.fixture
def study_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "study"
    shutil.copytree(STUDY, dst)
    return dst


def test_sponsor_acrf_pages_are_cited_and_nothing_is_generated(
    study_copy: Path, sdtm_copy: Path
) -> None:
    (study_copy / "define.yaml").write_text(SPONSOR, encoding="utf-8")
    own = sdtm_copy / "sdtm" / "acrf.pdf"
    own.write_bytes(b"%PDF-1.4 the sponsor's own aCRF")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files = write_define(study_copy, sdtm_copy, which=["sdtm"])
    assert [f.name for f in files] == ["define.xml", "define.html", "define2-1.xsl"]
    assert own.read_bytes() == b"%PDF-1.4 the sponsor's own aCRF"  # kept as it was
    mdv = etree.parse(str(sdtm_copy / "sdtm" / "define.xml")).getroot()
    mdv = mdv.find("odm:Study/odm:MetaDataVersion", NS)

    def pages(oid: str) -> str:
        ref = mdv.find(f"odm:ItemDef[@OID='{oid}']/def:Origin/def:DocumentRef/def:PDFPageRef", NS)
        return ref.get("PageRefs")

    assert pages("IT.DM.SEX") == "4"  # the field's page
    assert pages("IT.DM.BRTHDTC") == "3 4"  # the form's pages
    # a form without pages: the aCRF cited without a page
    sysbp = mdv.find("odm:ItemDef[@OID='IT.VS.VSORRES.SYSBP']/def:Origin/def:DocumentRef", NS)
    assert sysbp.get("leafID") == "LF.acrf" and sysbp.find("def:PDFPageRef", NS) is None


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        # forms: without the sponsor's aCRF document
        ('forms:\n  enrollment: {pages: "3"}\n', 1, "declares no aCRF"),
        # a form the specs do not read
        (SPONSOR + '  enrolment: {pages: "5"}\n', 5, "'enrolment' is not a raw form"),
        # page numbers that are not
        (SPONSOR.replace('GENDER: "4"', 'GENDER: "4,5"'), 4, "'4,5' is not page numbers"),
    ],
)
def test_sponsor_pages_errors_name_the_line(
    study_copy: Path, sdtm_copy: Path, text: str, line: int, message: str
) -> None:
    (study_copy / "define.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as err:
        write_define(study_copy, sdtm_copy, which=["sdtm"])
    assert f"define.yaml:{line}" in str(err.value)
    assert message in str(err.value)
    assert not (sdtm_copy / "sdtm" / "define.xml").exists()


def test_define_command_with_raw_lists_columns_not_submitted(
    demo_raw: Path, sdtm_copy: Path
) -> None:
    from click.testing import CliRunner

    from cdisc_mapper.cli import main

    args = ["-q", "define", "--study", str(STUDY), "--out", str(sdtm_copy), "--raw", str(demo_raw)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert str(sdtm_copy / "sdtm" / "acrf.pdf") in res.stdout.splitlines()
    enrollment = _squeeze(PdfReader(sdtm_copy / "sdtm" / "acrf.pdf").pages[1].extract_text())
    assert "WEIGHT_KGNOTSUBMITTED" in enrollment


def test_crf_pages_of_columns_else_of_the_form() -> None:
    from cdisc_mapper.define.describe_sdtm import crf_pages
    from cdisc_mapper.spec.define import FormSpec

    form = FormSpec(pages="3 4 5", fields={"A": "4", "B": "5 3"})
    assert crf_pages(form, ["B", "A"]) == "3 4 5"
    assert crf_pages(form, ["A"]) == "4"
    assert crf_pages(form, ["C"]) == "3 4 5"  # a field without pages: the form's
    assert crf_pages(form, []) == "3 4 5"
    assert crf_pages(None, ["A"]) is None
