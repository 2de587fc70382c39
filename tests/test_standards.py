"""Tests of cdisc_mapper.standards and of the specs/ files built by tools/build_specs.py."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cdisc_mapper.errors import StandardsError, UnknownCodelistError
from cdisc_mapper.standards import (
    SPECS_ENV,
    ct_loader,
    ig,
    load_adamig,
    load_sdtmig,
    load_terminology,
)
from cdisc_mapper.standards.metadata import label_placeholders

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


@pytest.fixture(scope="module")
def sdtmig():
    return load_sdtmig()


@pytest.fixture(scope="module")
def adamig():
    return load_adamig()


@pytest.fixture(scope="module")
def ct():
    return load_terminology()


# ------------------------------------------------------------------------ SDTMIG


def test_dm_sex_metadata(sdtmig):
    sex = sdtmig.variable("DM", "SEX")
    assert sex is not None
    assert (sex.label, sex.type, sex.core, sex.role) == ("Sex", "Char", "Req", "Record Qualifier")
    assert sex.codelist_codes == ("C66731",)
    dm = sdtmig.dataset("DM")
    assert (dm.label, dm.class_, dm.structure) == (
        "Demographics",
        "Special-Purpose",
        "One record per subject",
    )


def test_vs_variables_in_ig_order(sdtmig):
    names = [v.name for v in sdtmig.variables("VS")]
    assert names[:4] == ["STUDYID", "DOMAIN", "USUBJID", "VSSEQ"]
    orders = [v.order for v in sdtmig.variables("VS")]
    assert orders == sorted(orders) and orders[0] == 1
    assert sdtmig.variable("VS", "VSTESTCD").codelist_codes == ("C66741",)
    assert sdtmig.variable("VS", "DOMAIN").value_list == ("VS",)


def test_every_sdtmig_dataset_present(sdtmig):
    # SDTMIG v3.4 Datasets.csv lists 63 datasets; specs/ holds them all, so that the
    # validator's structure checks cover any SDTM package
    # fmt: off
    expected = {
        "AE", "AG", "BE", "BS", "CE", "CM", "CO", "CP", "CV", "DA", "DD", "DM", "DS", "DV",
        "EC", "EG", "EX", "FA", "FT", "GF", "HO", "IE", "IS", "LB", "MB", "MH", "MI", "MK",
        "ML", "MS", "NV", "OE", "OI", "PC", "PE", "PP", "PR", "QS", "RE", "RELREC", "RELSPEC",
        "RELSUB", "RP", "RS", "SC", "SE", "SM", "SR", "SS", "SU", "SUPPQUAL", "SV", "TA",
        "TD", "TE", "TI", "TM", "TR", "TS", "TU", "TV", "UR", "VS",
    }
    # fmt: on
    assert len(expected) == 63
    assert set(sdtmig.dataset_names) == expected
    for name in expected:
        assert sdtmig.variables(name), name
    assert sdtmig.dataset("RELREC").class_ == "Relationship"
    assert [v.name for v in sdtmig.variables("RELREC")][:3] == ["STUDYID", "RDOMAIN", "USUBJID"]
    assert sdtmig.variable("EC", "ECTRT").core == "Req"


def test_multiple_codelists_split(sdtmig):
    assert sdtmig.variable("DS", "DSDECOD").codelist_codes == ("C66727", "C114118", "C150811")
    assert sdtmig.variable("AE", "AESTDTC").described_value_domain == (
        "ISO 8601 datetime or interval"
    )


def test_suppqual_helper(sdtmig):
    supp = sdtmig.variables("SUPPDM")
    assert [v.name for v in supp] == [v.name for v in sdtmig.variables("SUPPQUAL")]
    assert [v.name for v in supp][:3] == ["STUDYID", "RDOMAIN", "USUBJID"]
    assert {v.dataset for v in supp} == {"SUPPDM"}
    assert sdtmig.dataset("SUPPAE").label == "Supplemental Qualifiers for AE"
    assert sdtmig.dataset("SUPPAE").class_ == "Relationship"
    assert sdtmig.variable("SUPPLB", "QNAM").label == "Qualifier Variable Name"
    assert sdtmig.has_dataset("SUPPQS")


def test_unknown_dataset_and_variable(sdtmig):
    with pytest.raises(StandardsError, match="no dataset 'XX'"):
        sdtmig.dataset("XX")
    with pytest.raises(StandardsError):
        sdtmig.variables("ZZ")  # a custom domain: not in SDTMIG
    assert sdtmig.variable("DM", "NOTAVAR") is None
    assert not sdtmig.has_dataset("SUPP")


# ------------------------------------------------------------------------ ADaMIG


def test_adsl_generic_names(adamig):
    trt = adamig.variable("ADSL", "TRT01P")
    assert trt is not None
    assert (trt.label, trt.type, trt.core, trt.template) == (
        "Planned Treatment for Period 01",
        "Char",
        "Req",
        "TRTxxP",
    )
    assert adamig.variable("ADSL", "SITEGR1").label == "Pooled Site Group 1"
    assert adamig.variable("ADSL", "TRTSDT").template is None
    assert adamig.variable("ADSL", "SEX").codelist_codes == ("C66731",)
    assert adamig.variable("ADSL", "SAFFL").value_list == ("Y", "N")
    assert adamig.variable("ADSL", "TRTXXP") is None


def test_bds_and_tte(adamig):
    names = [v.name for v in adamig.variables("BDS")]
    assert names[:5] == ["STUDYID", "USUBJID", "SUBJID", "SITEID", "ASEQ"]
    assert {"PARAMCD", "AVAL", "ABLFL", "CHG", "AVISIT"} <= set(names)
    assert adamig.variable("BDS", "ANL01FL").label == "Analysis Flag 01"
    assert adamig.variable("BDS", "DTYPE").codelist_codes == ("C81224",)
    tte = adamig.variables("TTE")
    assert [v.name for v in tte] == names and {v.dataset for v in tte} == {"TTE"}
    assert adamig.dataset("TTE").subclass == "TIME-TO-EVENT"
    # '*' suffix rules apply last, so exact and xx/y names win
    assert adamig.variable("BDS", "ADT").label == "Analysis Date"
    assert adamig.variable("BDS", "LSTDOSDT").template == "*DT"


def test_matches_lists_every_definition_the_winner_first(adamig):
    # VSELTM is named like the *TM rule only; TRTSDT (BDS) like *DT and *SDT
    assert [m.template for m in adamig.matches("BDS", "VSELTM")] == ["*TM"]
    assert [m.template for m in adamig.matches("BDS", "TRTSDT")] == ["*DT", "*SDT"]
    # an exact name first, then named rules (ANLzzFL) before suffix rules
    assert [m.template for m in adamig.matches("BDS", "ADT")] == [None, "*DT"]
    assert [m.template for m in adamig.matches("BDS", "ANL01FL")] == ["ANLzzFL"]
    assert adamig.matches("BDS", "PARAMCD")[0].template is None
    assert adamig.matches("BDS", "NOSUCH") == []
    assert adamig.variable("BDS", "TRTSDT") == adamig.matches("BDS", "TRTSDT")[0]
    assert adamig.matches("BDS", "VSELTM")[0].is_suffix_template
    assert not adamig.matches("ADSL", "TRT01P")[0].is_suffix_template
    assert not adamig.matches("ADSL", "TRTSDT")[0].is_suffix_template
    with pytest.raises(StandardsError):
        adamig.matches("ADXX", "ADT")


def test_suffix_rule_labels_are_placeholders(adamig):
    """ADaMIG leaves the label of a *DT, *TM... variable to the producer ({Date}); named
    rules fill theirs (TRTxxP -> Period 01)."""
    assert label_placeholders(adamig.variable("BDS", "DTHADY").label) == ("Relative Day",)
    assert label_placeholders(adamig.variable("BDS", "VSSDY").label) == ("Relative Start Day",)
    assert label_placeholders("{Date} of {Event}") == ("Date", "Event")
    assert label_placeholders(adamig.variable("ADSL", "TRT01P").label) == ()
    for structure in ("ADSL", "BDS", "OCCDS"):
        for v in adamig.variables(structure):
            assert bool(label_placeholders(v.label)) == v.name.startswith("*"), v.name


def test_occds_hand_curated(adamig, sdtmig):
    occds = {v.name: v for v in adamig.variables("OCCDS")}
    for name in (
        "STUDYID",
        "USUBJID",
        "AESEQ",
        "AETERM",
        "AEDECOD",
        "AEBODSYS",
        "ASTDT",
        "ASTDTF",
        "AENDT",
        "AENDTF",
        "ADURN",
        "ADURU",
        "TRTEMFL",
        "APERIOD",
        "APERIODC",
        "TRTA",
        "TRTAN",
        "AOCCFL",
    ):
        assert name in occds, name
    assert occds["TRTEMFL"].label == "Treatment Emergent Analysis Flag"
    assert occds["AOCCFL"].label == "1st Occurrence within Subject Flag"
    assert occds["ASTDTF"].codelist_codes == ("C81223",)
    # ADaM copies of SDTM variables keep the SDTMIG label and type
    for name, meta in occds.items():
        ae = sdtmig.variable("AE", name)
        if ae is not None and name not in ("STUDYID", "USUBJID"):
            assert (meta.label, meta.type) == (ae.label, ae.type), name
    # ADaM variables shared with BDS keep the ADaMIG label and type
    for name, meta in occds.items():
        bds = adamig.variable("BDS", name)
        if bds is not None and bds.template is None:
            assert (meta.label, meta.type) == (bds.label, bds.type), name
    assert adamig.dataset("OCCDS").class_ == "OCCURRENCE DATA STRUCTURE"


def test_adam_unknown_dataset_hint(adamig):
    with pytest.raises(StandardsError, match="per data structure"):
        adamig.variables("ADAE")


# ---------------------------------------------------------------------------- CT


def test_sex_codelist(ct):
    sex = ct.get("SEX")
    assert sex is ct.get("C66731") and sex is ct.get("sex")
    assert (sex.code, sex.name, sex.extensible, sex.source, sex.version) == (
        "C66731",
        "Sex",
        False,
        "sdtm",
        "2025-03-28",
    )
    assert sex.submission_values == ("F", "INTERSEX", "M", "U")
    assert sex.term("F").code == "C16576"
    assert sex.term("f") is None
    assert "M" in sex and "Male" not in sex


def test_unit_and_test_codes(ct):
    assert ct.get("UNIT").extensible is True
    assert ct.get("UNIT").code == "C71620"
    assert len(ct.get("LBTESTCD").terms) == len(ct.get("LBTEST").terms) > 2000
    assert ct.get("VSTESTCD").term("SYSBP") is not None
    re_cd = ct.get("RETESTCD")
    assert re_cd.term("FVC").code == "C111361"
    assert re_cd.term("FVCPP").code == "C112381"
    assert ct.get("ND").submission_values == ("NOT DONE",)


def test_mh_event_date_type(ct):
    mhedttyp = ct.get("C124301")
    assert mhedttyp.short_name == "MHEDTTYP"
    assert {"SYMPTOM ONSET", "DIAGNOSIS"} <= set(mhedttyp.submission_values)


def test_ts_value_codelists(ct):
    for short in (
        "TSPARMCD",
        "TSPARM",
        "STYPE",
        "TPHASE",
        "TBLIND",
        "TCNTRL",
        "TINDTP",
        "TTYPE",
        "INTMODEL",
        "INTTYPE",
        "SEXPOP",
        "NY",
        "EPOCH",
        "ROUTE",
        "FRM",
        "FREQ",
        "ARMNULRS",
        "NCOMPLT",
        "DSCAT",
        "PROTMLST",
        "AESEV",
        "OUT",
        "ACN",
    ):
        assert ct.get(short).terms, short
    assert ct.get("TSPARMCD").term("TPHASE") is not None


#: Codelists SDTMIG v3.4 cites that SDTM CT 2025-03-28 no longer has
#: (tools/build_specs.py RETIRED_SDTM_CODELISTS): MSRESCAT.
RETIRED = {"C85495"}


def test_every_cited_codelist_resolves(ct, sdtmig, adamig):
    for std in (sdtmig, adamig):
        for ds in std.dataset_names:
            for v in std.variables(ds):
                for code in v.codelist_codes:
                    if code in RETIRED:
                        continue
                    assert ct.get(code).code == code, f"{ds}.{v.name} {code}"
    assert sdtmig.variable("MS", "MSRESCAT").codelist_codes == ("C85495",)


def test_adam_and_define_ct(ct):
    dtype = ct.get("DTYPE")
    assert (dtype.source, dtype.code, dtype.version) == ("adam", "C81224", "2025-09-26")
    assert "LOCF" in dtype
    assert ct.get("ORIGINT").source == "define-xml"
    assert ct.get("DICTNAM").source == "sdtm"  # in both packages: SDTM CT wins
    assert set(ct.versions) == {"sdtm", "adam", "define-xml", "sponsor"}


def test_sponsor_codelists(ct):
    tc = ct.get("ALSFRSTC")
    assert (tc.code, tc.source, tc.extensible) == (None, "sponsor", False)
    assert len(tc.terms) == 14
    values = tc.submission_values
    assert values[0] == "ALSR01" and "ALSR05A" in values and "ALSR05B" in values
    assert values[-1] == "ALSRTOT"
    assert all(len(v) <= 8 and t.code is None for v, t in zip(values, tc.terms, strict=True))
    tn = ct.get("ALSFRSTN")
    assert len(tn.terms) == 14
    assert all(len(v) <= 40 for v in tn.submission_values)
    assert [t.preferred_term for t in tc.terms] == list(tn.submission_values)
    assert tc.term("ALSR05B").preferred_term == "ALSFRS-R - Cutting Food with Gastrostomy"
    assert ct.get("ALSR01RS").data_type == "integer"
    assert ct.get("ALSR01RS").submission_values == ("0", "1", "2", "3", "4")
    assert ct.get("ELESCCAT").submission_values == (
        "DEFINITE",
        "PROBABLE",
        "PROBABLE LAB-SUPPORTED",
        "POSSIBLE",
        "SUSPECTED",
    )
    assert set(ct.get("ALSTYPE").submission_values) == {"FAMILIAL", "SPORADIC"}
    assert ct.versions["sponsor"] == "1.0"


def test_match_raw_values(ct):
    assert ct.get("SEX").match("female").submission_value == "F"
    assert ct.get("SEX").match("  M ").submission_value == "M"
    assert ct.get("NY").match("Yes").submission_value == "Y"
    assert ct.get("ROUTE").match("oral").submission_value == "ORAL"
    assert ct.get("ROUTE").match("PO").submission_value == "ORAL"  # synonym
    assert ct.get("UNIT").match("mmol/l").submission_value == "mmol/L"
    assert ct.get("UNIT").match("g/l").submission_value == "g/L"  # value beats synonym
    assert ct.get("UNIT").match("au") is None  # synonym of several units: ambiguous
    assert ct.get("ALSONSET").match("Spinal").submission_value == "LIMB"
    assert ct.get("ELESCCAT").match("definite").submission_value == "DEFINITE"
    assert ct.get("SEX").match("unknownish") is None
    assert ct.get("SEX").match("") is None


def test_unknown_codelist_raises(ct):
    with pytest.raises(UnknownCodelistError, match=r"SEXX.*did you mean SEX"):
        ct.get("SEXX")
    with pytest.raises(StandardsError):
        ct.get("C99999999")
    assert ct.find("C99999999") is None
    assert "SEX" in ct and "NOPE" not in ct


# ----------------------------------------------------------------- loading, errors


def test_loaders_cached_and_fast():
    best = float("inf")  # CPU seconds: the work done, whatever else the machine runs
    for _ in range(3):
        for cached in (ig._load_sdtmig, ig._load_adamig, ct_loader._load_terminology):
            cached.cache_clear()
        start = time.process_time()
        load_sdtmig(), load_adamig(), load_terminology()
        best = min(best, time.process_time() - start)
    assert best < 0.5
    assert load_terminology() is load_terminology()
    assert load_sdtmig(SPECS) is load_sdtmig()


def test_env_var_override(monkeypatch, tmp_path):
    monkeypatch.setenv(SPECS_ENV, str(SPECS / "." / "ct" / ".."))
    assert load_sdtmig() is load_sdtmig(SPECS)
    monkeypatch.setenv(SPECS_ENV, str(tmp_path / "missing"))
    with pytest.raises(StandardsError, match=SPECS_ENV):
        load_terminology()


@pytest.fixture
def specs_copy(tmp_path):
    target = tmp_path / "specs"
    shutil.copytree(SPECS, target)
    return target


def test_missing_file_is_reported(specs_copy):
    (specs_copy / "sdtmig-3.4" / "variables.csv").unlink()
    with pytest.raises(StandardsError, match=r"variables\.csv: standards file not found"):
        load_sdtmig(specs_copy)


def test_bad_variable_row_is_located(specs_copy):
    path = specs_copy / "sdtmig-3.4" / "variables.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace(",Char,", ",Text,", 1)
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(StandardsError, match=r"variables.csv:3: type must be Char or Num"):
        load_sdtmig(specs_copy)


def test_bad_sponsor_yaml_is_located(specs_copy):
    path = specs_copy / "sponsor" / "codelists.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("short_name: ALSTYPE", "short_name: SEX"), encoding="utf-8")
    with pytest.raises(StandardsError, match="SEX reuses a codelist short name"):
        load_terminology(specs_copy)
    path.write_text(text.replace("decode: Familial ALS", "decod: Familial ALS"), encoding="utf-8")
    with pytest.raises(StandardsError, match=r"codelists.yaml:\d+: term of ALSTYPE has unknown"):
        load_terminology(specs_copy)
    path.write_text(
        text.replace('submission_value: "0"', "submission_value: 0", 1), encoding="utf-8"
    )
    with pytest.raises(StandardsError, match="submission_value must be non-empty text"):
        load_terminology(specs_copy)


def test_specs_stay_small():
    total = sum(p.stat().st_size for p in SPECS.rglob("*") if p.is_file())
    assert total < 5_000_000


# ------------------------------------------------------------------ reproducibility


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="../shared/reference not available")
def test_build_is_reproducible(tmp_path):
    out = tmp_path / "specs"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "build_specs.py"),
            "--reference",
            str(REFERENCE),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    built = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert len(built) == 8
    assert Path("sdtm-1.8/class_variables.csv") in built
    for rel in built:
        committed = SPECS / rel
        assert committed.is_file(), f"{rel} is built but not committed in specs/"
        assert committed.read_bytes() == (out / rel).read_bytes(), f"{rel} differs"
