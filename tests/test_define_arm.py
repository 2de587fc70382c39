"""Analysis Results Metadata (ARM 1.0) in the ADaM define.xml, from ``adam/reports.yaml``:
valid against the Define-XML 2.1 + ARM schema, each result with its parameter, records,
variables, documentation and a programming statement that recomputes the report, shown
in define.html."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest
import yaml
from lxml import etree

from cdisc_mapper.define import write_define
from cdisc_mapper.define.arm import add_analysis_results
from cdisc_mapper.define.model import DatasetDef, DefineModel, ItemDef
from cdisc_mapper.define.schema import define_xsd_path
from cdisc_mapper.spec.adam import ReportsSpec

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "mappings" / "als_msc"
NS = {
    "odm": "http://www.cdisc.org/ns/odm/v1.3",
    "def": "http://www.cdisc.org/ns/def/v2.1",
    "arm": "http://www.cdisc.org/ns/arm/v1.0",
}
ROWS = {  # reports.yaml rows: AVISITN of each
    1: "6",
    2: "2",
    3: "3",
    4: "4",
    5: "5",
    6: "10",
    7: "12",
    8: "11",
}


@pytest.fixture(scope="module")
def package(demo_sdtm, tmp_path_factory) -> Path:
    """The demo's SDTM copied, ADaM (with its reports) and both define.xml written."""
    from cdisc_mapper.adam import run_adam

    out = tmp_path_factory.mktemp("arm") / "out"
    (out / "sdtm").mkdir(parents=True)
    for xpt in (demo_sdtm[0] / "sdtm").glob("*.xpt"):
        shutil.copy(xpt, out / "sdtm" / xpt.name)
    adam = run_adam(STUDY, out / "sdtm", out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_define(STUDY, out, adam_result=adam)
    return out


@pytest.fixture(scope="module")
def adam_define(package) -> etree._ElementTree:
    return etree.parse(str(package / "adam" / "define.xml"))


def test_adam_define_validates_against_define_2_1_with_arm(adam_define):
    schema = etree.XMLSchema(etree.parse(str(define_xsd_path(with_arm=True))))
    assert schema.validate(adam_define), [str(e) for e in schema.error_log][:3]
    # the plain Define-XML 2.1 schema does not know the ARM elements: ARM is really used
    plain = etree.XMLSchema(etree.parse(str(define_xsd_path())))
    assert not plain.validate(adam_define)


def test_sdtm_define_has_no_analysis_results(package):
    text = (package / "sdtm" / "define.xml").read_text(encoding="utf-8")
    assert "arm:" not in text and "http://www.cdisc.org/ns/arm/v1.0" not in text


def test_rows_above_are_those_of_the_report_spec() -> None:
    rows = yaml.safe_load((STUDY / "adam" / "reports.yaml").read_text())
    where = [r["where"] for r in rows["progression_summaries"][0]["rows"]]
    assert {k: f"{w['equals']:g}" for k, w in enumerate(where, start=1)} == ROWS
    assert all(w["variable"] == "AVISITN" for w in where)


def test_one_display_per_summary_with_a_result_per_parameter_and_row(adam_define):
    displays = adam_define.findall(".//arm:AnalysisResultDisplays/arm:ResultDisplay", NS)
    assert [d.get("OID") for d in displays] == ["RD.progression_summary"]
    display = displays[0]
    assert display.get("Name") == "Monthly progression rate: treatment intervals versus run-in"
    assert display.find("def:DocumentRef", NS).get("leafID") == "LF.progression_summary"
    leaf = adam_define.find(".//def:leaf[@ID='LF.progression_summary']", NS)
    assert leaf.get("{http://www.w3.org/1999/xlink}href") == "../reports/progression_summary.html"
    oids = [r.get("OID") for r in display.iterfind("arm:AnalysisResult", NS)]
    assert oids == [
        f"AR.progression_summary.{p}.{k}" for p in ("ALSSLOPE", "ALSRATE", "FVCSLOPE") for k in ROWS
    ] + ["AR.progression_summary.ALSRTOT.CHANGE"]


def test_a_result_names_parameter_records_and_variables(adam_define):
    result = adam_define.find(".//arm:AnalysisResult[@OID='AR.progression_summary.FVCSLOPE.6']", NS)
    assert result.get("ParameterOID") == "IT.ADPROG.PARAMCD"
    assert result.get("AnalysisReason") == "SPECIFIED IN SAP"
    assert result.get("AnalysisPurpose") == "EXPLORATORY OUTCOME MEASURE"
    (dataset,) = result.findall("arm:AnalysisDatasets/arm:AnalysisDataset", NS)
    assert dataset.get("ItemGroupOID") == "IG.ADPROG"
    where_oid = dataset.find("def:WhereClauseRef", NS).get("WhereClauseOID")
    assert where_oid == "WC.ADPROG.PARAMCD.EQ.FVCSLOPE.EFFFL.EQ.Y.AVISITN.EQ.10"
    clause = adam_define.find(f".//def:WhereClauseDef[@OID='{where_oid}']", NS)
    checks = [
        (
            rc.get(f"{{{NS['def']}}}ItemOID"),
            rc.get("Comparator"),
            rc.findtext("odm:CheckValue", namespaces=NS),
        )
        for rc in clause.iterfind("odm:RangeCheck", NS)
    ]
    assert checks == [
        ("IT.ADPROG.PARAMCD", "EQ", "FVCSLOPE"),
        ("IT.ADPROG.EFFFL", "EQ", "Y"),
        ("IT.ADPROG.AVISITN", "EQ", "10"),
    ]
    variables = [v.get("ItemOID") for v in dataset.iterfind("arm:AnalysisVariable", NS)]
    assert variables == [
        f"IT.ADPROG.{n}"
        for n in ("AVAL", "BASE", "PCTIMPR", "CRIT1FL", "CRIT2FL", "CRIT3FL", "CRIT4FL", "PCTIREAS")
    ]
    every_item = {i.get("OID") for i in adam_define.iterfind(".//odm:ItemDef", NS)}
    assert set(variables) <= every_item
    doc = result.findtext("arm:Documentation/odm:Description/odm:TranslatedText", namespaces=NS)
    assert doc.startswith(
        "Records: ADPROG with PARAMCD = 'FVCSLOPE', EFFFL = 'Y' and AVISITN = 10."
    )
    assert "Wilcoxon signed-rank test, two-sided" in doc
    code = result.find("arm:ProgrammingCode", NS)
    assert code.get("Context") == "Python 3 (pandas, NumPy, SciPy)"


def test_each_programming_statement_recomputes_its_report_row(package, adam_define):
    """Run each arm:Code in OUT/adam: responders n/N, mean improvement, the Wilcoxon p and
    the Hodges-Lehmann estimate equal the report's CSV row (written by the report code)."""
    report = pd.read_csv(package / "reports" / "progression_summary.csv")
    *results, change = adam_define.findall(".//arm:AnalysisResult", NS)
    assert len(results) == 3 * len(ROWS) and len(report) == 3 * len(ROWS) + 1
    for i, result in enumerate(results):
        namespace: dict = {}
        code = result.findtext("arm:ProgrammingCode/arm:Code", namespaces=NS)
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(package / "adam")
            exec(code, namespace)  # the snippet is ours, from this test's own run
        row = report.iloc[i]
        assert f"{namespace['responders']}/{namespace['evaluable']}" == row["responders_n_over_n"]
        assert namespace["mean_improvement"] == pytest.approx(
            row["mean_improvement_pct"], rel=1e-12
        )
        assert namespace["test"].pvalue == pytest.approx(row["wilcoxon_p"], rel=1e-12)
        assert namespace["hodges_lehmann"] == pytest.approx(row["hl_estimate"], rel=1e-12)
    namespace = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(package / "adam")
        exec(change.findtext("arm:ProgrammingCode/arm:Code", namespaces=NS), namespace)
    assert (
        f"{namespace['counted']}/{namespace['n']}"
        == report.iloc[3 * len(ROWS)]["responders_n_over_n"]
    )


def test_the_clinical_change_result_names_both_datasets(adam_define):
    result = adam_define.find(
        ".//arm:AnalysisResult[@OID='AR.progression_summary.ALSRTOT.CHANGE']", NS
    )
    assert result.get("ParameterOID") == "IT.ADQS.PARAMCD"
    datasets = [
        (
            d.get("ItemGroupOID"),
            d.find("def:WhereClauseRef", NS).get("WhereClauseOID"),
            [v.get("ItemOID") for v in d.iterfind("arm:AnalysisVariable", NS)],
        )
        for d in result.iterfind("arm:AnalysisDatasets/arm:AnalysisDataset", NS)
    ]
    assert datasets == [
        ("IG.ADQS", "WC.ADQS.PARAMCD.EQ.ALSRTOT", ["IT.ADQS.AVAL", "IT.ADQS.ADT"]),
        ("IG.ADSL", "WC.ADSL.EFFFL.EQ.Y", ["IT.ADSL.TRTSDT"]),
    ]
    doc = result.findtext("arm:Documentation/odm:Description/odm:TranslatedText", namespaces=NS)
    assert "the last AVAL dated on or before TRTSDT, the score after the first AVAL" in doc
    assert doc.endswith("counted: 1 <= change <= 4.")


def test_define_html_shows_the_analysis_results(package):
    html = (package / "adam" / "define.html").read_text(encoding="utf-8")
    assert "Analysis Results Metadata - Summary" in html
    assert "Analysis Results Metadata - Detail" in html
    assert 'id="ARD.RD.progression_summary"' in html
    assert "Monthly progression rate: treatment intervals versus run-in" in html
    assert "SPECIFIED IN SAP" in html
    assert "stats.wilcoxon(" in html
    sdtm = (package / "sdtm" / "define.html").read_text(encoding="utf-8")
    assert "Analysis Results Metadata" not in sdtm


# --------------------------------------------------------------------------- unit cases
def _model(variables: dict[str, list[str]]) -> DefineModel:
    model = DefineModel(
        which="adam", file_oid="F", study_oid="S", study_name="S", study_description="S",
        protocol_name="P", mdv_oid="M", mdv_name="M", mdv_description="M",
        creation_datetime="2000-01-01T00:00:00", originator="o", source_system_version="0",
    )  # fmt: skip
    for ds, names in variables.items():
        model.datasets.append(
            DatasetDef(
                oid=f"IG.{ds}",
                name=ds,
                domain=None,
                label=ds,
                structure="s",
                class_="c",
                purpose="Analysis",
                repeating=True,
                reference_data=False,
                standard_oid="STD",
                href=f"{ds.lower()}.xpt",
            )
        )
        for n in names:
            model.add_item(ItemDef(oid=f"IT.{ds}.{n}", name=n, label=n, data_type="text"))
    return model


def _reports(where: dict) -> ReportsSpec:
    return ReportsSpec.model_validate(
        {
            "progression_summaries": [
                {
                    "name": "rates",
                    "title": "Rates",
                    "dataset": "ADX",
                    "population": "EFFFL",
                    "parameters": ["SLOPE"],
                    "rows": [{"label": "Row one", "where": where}],
                    "responder_flag": "CRIT1FL",
                    "responder_label": "responder",
                    "improvement": "PCTIMPR",
                    "analysis_reason": "DATA DRIVEN",
                    "analysis_purpose": "PRIMARY OUTCOME MEASURE",
                }
            ]
        }
    )


def test_a_population_flag_only_in_adsl_takes_adsl_with_its_own_where_clause():
    model = _model(
        {"ADSL": ["USUBJID", "EFFFL"], "ADX": ["PARAMCD", "AVISITN", "AVAL", "BASE", "CRIT1FL"]}
    )
    add_analysis_results(model, _reports({"variable": "AVISITN", "equals": 2}))
    (result,) = model.result_displays[0].results
    assert (result.reason, result.purpose) == ("DATA DRIVEN", "PRIMARY OUTCOME MEASURE")
    adx, adsl = result.datasets
    assert adx.where_oid == "WC.ADX.PARAMCD.EQ.SLOPE.AVISITN.EQ.2"
    # PCTIMPR is not described in this define.xml: not listed
    assert adx.variable_oids == ("IT.ADX.AVAL", "IT.ADX.BASE", "IT.ADX.CRIT1FL")
    assert (adsl.dataset_oid, adsl.where_oid) == ("IG.ADSL", "WC.ADSL.EFFFL.EQ.Y")
    assert set(model.where_clauses) == {
        "WC.ADX.PARAMCD.EQ.SLOPE.AVISITN.EQ.2",
        "WC.ADSL.EFFFL.EQ.Y",
    }


def test_a_row_no_where_clause_can_say_is_given_in_words_only():
    model = _model({"ADX": ["PARAMCD", "EFFFL", "AVISITN", "AVAL", "BASE", "CRIT1FL"]})
    where = {"any": [{"variable": "AVISITN", "equals": 2}, {"variable": "AVISITN", "equals": 3}]}
    add_analysis_results(model, _reports(where))
    (result,) = model.result_displays[0].results
    (adx,) = result.datasets
    assert adx.where_oid is None
    assert model.where_clauses == {}
    assert result.documentation.startswith(
        "Records: ADX with PARAMCD = 'SLOPE', EFFFL = 'Y' and (AVISITN = 2 or AVISITN = 3)."
    )
    assert "# keep only the records where (AVISITN = 2 or AVISITN = 3)" in result.code[1]


def test_a_summary_of_a_dataset_not_described_adds_nothing():
    model = _model({"ADSL": ["USUBJID", "EFFFL"]})
    add_analysis_results(model, _reports({"variable": "AVISITN", "equals": 2}))
    assert model.result_displays == [] and model.leaves == []
