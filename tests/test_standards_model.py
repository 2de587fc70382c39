"""Tests of the SDTM v1.8 class variables (specs/sdtm-1.8) and Standard.allowed_variables."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cdisc_mapper.errors import StandardsError
from cdisc_mapper.standards import (
    ClassVariable,
    Standard,
    VariableMeta,
    load_adamig,
    load_sdtmig,
)
from cdisc_mapper.standards.metadata import interleave, model_class_order

SPECS = Path(__file__).resolve().parents[1] / "specs"
GENERAL = ("AE", "CM", "DS", "EX", "IE", "LB", "MH", "PR", "QS", "RE", "VS")
IG_ONLY = ("CO", "DM", "SE", "SV", "TA", "TE", "TI", "TS", "TV", "SUPPQUAL", "SUPPAE")


@pytest.fixture(scope="module")
def sdtmig() -> Standard:
    return load_sdtmig()


def names(variables: list[VariableMeta]) -> list[str]:
    return [v.name for v in variables]


# --------------------------------------------------------------- class variables


def test_class_variables_in_model_order(sdtmig: Standard) -> None:
    findings = sdtmig.class_variables("Findings")
    assert names(findings)[:3] == ["STUDYID", "DOMAIN", "USUBJID"]
    assert {v.class_ for v in findings} == {"Identifiers", "Findings", "Timing"}
    # identifiers, then the class's topic and qualifiers, then timing
    classes = [v.class_ for v in findings]
    assert classes == sorted(classes, key=["Identifiers", "Findings", "Timing"].index)
    topic = next(v for v in findings if v.role == "Topic")
    assert (topic.name, topic.label) == ("--TESTCD", "Short Name of Measurement, Test, or Exam")
    stdy = next(v for v in findings if v.name == "--STDY")
    assert (stdy.label, stdy.type, stdy.role) == (
        "Study Day of Start of Observation",
        "Num",
        "Timing",
    )
    assert next(v for v in findings if v.name == "--DTC").format == "ISO 8601"
    assert names(sdtmig.class_variables("Events"))[16] == "--TERM"  # after 16 identifiers
    assert names(sdtmig.class_variables("Interventions"))[16] == "--TRT"


def test_findings_about_puts_obj_after_test(sdtmig: Standard) -> None:
    fa = names(sdtmig.class_variables("Findings About"))
    assert fa[fa.index("--TEST") + 1] == "--OBJ"
    assert set(fa) - {"--OBJ"} == set(names(sdtmig.class_variables("Findings")))


def test_class_variables_rejects_other_classes(sdtmig: Standard) -> None:
    with pytest.raises(StandardsError, match="not an SDTM general observation class"):
        sdtmig.class_variables("Special-Purpose")


# -------------------------------------------------------------- allowed variables


def test_mh_allows_model_study_day(sdtmig: Standard) -> None:
    stdy = sdtmig.variable_allowed("MH", "MHSTDY")
    assert stdy is not None
    assert (stdy.dataset, stdy.label, stdy.type, stdy.core, stdy.role, stdy.source) == (
        "MH",
        "Study Day of Start of Observation",
        "Num",
        "Perm",
        "Timing",
        "model",
    )
    assert stdy.codelist_codes == ()
    assert sdtmig.variable_allowed("mh", " mhstdy ") == stdy
    # variables() and variable() stay the IG table
    assert sdtmig.variable("MH", "MHSTDY") is None
    assert "MHSTDY" not in names(sdtmig.variables("MH"))


def test_ex_allows_visit_variables(sdtmig: Standard) -> None:
    assert sdtmig.variable("EX", "VISITNUM") is None
    visitnum = sdtmig.variable_allowed("EX", "VISITNUM")
    visit = sdtmig.variable_allowed("EX", "VISIT")
    assert visitnum is not None and visit is not None
    assert (visitnum.label, visitnum.type, visitnum.source) == ("Visit Number", "Num", "model")
    assert (visit.label, visit.type) == ("Visit Name", "Char")
    allowed = names(sdtmig.allowed_variables("EX"))
    # timing variables: VISITNUM, VISIT before TAETORD, EPOCH, then --DTC... (model order)
    order = [allowed.index(n) for n in ("EXTRT", "VISITNUM", "VISIT", "TAETORD", "EPOCH")]
    assert order == sorted(order)
    assert allowed.index("EPOCH") < allowed.index("EXSTDTC")


def test_lb_allowed_order(sdtmig: Standard) -> None:
    allowed = names(sdtmig.allowed_variables("LB"))
    assert allowed[:3] == ["STUDYID", "DOMAIN", "USUBJID"]
    assert allowed.index("LBSEQ") < allowed.index("LBTESTCD")
    assert allowed.index("VISITNUM") < allowed.index("LBDTC")
    assert allowed.index("LBTESTCD") < allowed.index("LBORRES") < allowed.index("VISITNUM")
    assert allowed.index("LBDTC") < allowed.index("LBDY") < allowed.index("LBTPT")


def test_ig_variables_keep_ig_metadata(sdtmig: Standard) -> None:
    for ds in GENERAL:
        by_name = {v.name: v for v in sdtmig.allowed_variables(ds)}
        for v in sdtmig.variables(ds):
            assert by_name[v.name] == v, f"{ds}.{v.name}"
            assert by_name[v.name].source == "ig"
    assert sdtmig.variable_allowed("MH", "MHEVDTYP").codelist_codes == ("C124301",)
    assert sdtmig.variable_allowed("LB", "LBTESTCD").core == "Req"


def test_allowed_is_ig_plus_model_in_model_order(sdtmig: Standard) -> None:
    for ds in GENERAL:
        allowed = sdtmig.allowed_variables(ds)
        got = names(allowed)
        assert len(got) == len(set(got)), ds
        ig_names = names(sdtmig.variables(ds))
        assert [n for n in got if n in ig_names] == ig_names, ds  # IG relative order kept
        model = [
            v.name.replace("--", ds) for v in sdtmig.class_variables(sdtmig.dataset(ds).class_)
        ]
        assert set(model) <= set(got), ds
        listed = [n for n in got if n in model]
        assert listed == [n for n in model if n in listed], ds  # model order
        for v in allowed:
            if v.name not in ig_names:
                assert (v.source, v.core, v.dataset) == ("model", "Perm", ds), v


def test_domain_specific_variable_follows_ig_neighbour(sdtmig: Standard) -> None:
    # MHEVDTYP is not in the SDTM v1.8 Events table: it stays right after MHDECOD
    assert "--EVDTYP" not in names(sdtmig.class_variables("Events"))
    allowed = names(sdtmig.allowed_variables("MH"))
    at = allowed.index("MHEVDTYP")
    assert allowed[at - 1] == "MHDECOD"
    assert allowed[at + 1] == "MHPTCD"  # model-only Events qualifier after --DECOD
    assert at < allowed.index("MHCAT")


def test_special_purpose_trial_design_and_supp_unchanged(sdtmig: Standard) -> None:
    for ds in IG_ONLY:
        assert sdtmig.allowed_variables(ds) == sdtmig.variables(ds), ds
    assert sdtmig.variable_allowed("DM", "SEX") == sdtmig.variable("DM", "SEX")
    assert sdtmig.variable_allowed("DM", "DMSTDY") is None
    assert sdtmig.variable_allowed("SUPPAE", "QNAM").dataset == "SUPPAE"
    assert sdtmig.variable_allowed("SV", "SVSEQ") is None


def test_unknown_variable_and_dataset(sdtmig: Standard) -> None:
    assert sdtmig.variable_allowed("MH", "NOTAVAR") is None
    assert sdtmig.variable_allowed("MH", "LBSTDY") is None  # another domain's prefix
    assert sdtmig.variable_allowed("MH", "MHTESTCD") is None  # Findings, not Events
    assert sdtmig.variable_allowed("LB", "LBTERM") is None
    with pytest.raises(StandardsError, match="no dataset 'XX'"):
        sdtmig.allowed_variables("XX")
    with pytest.raises(StandardsError, match="no dataset"):
        sdtmig.variable_allowed("ZZ", "ZZSTDY")


def test_returned_lists_are_copies(sdtmig: Standard) -> None:
    first = sdtmig.allowed_variables("AE")
    first.clear()
    assert sdtmig.allowed_variables("AE")


def test_adamig_has_no_model() -> None:
    with pytest.raises(StandardsError, match="no SDTM model class metadata"):
        load_adamig().allowed_variables("ADSL")


# ------------------------------------------------------------- interleave rule


def _ig(name: str, order: int) -> VariableMeta:
    return VariableMeta("XX", name, f"IG {name}", "Char", order, "Req", "", ())


def _cv(name: str, order: int) -> ClassVariable:
    return ClassVariable("Events", order, name, f"Label of {name}", "Char", "Record Qualifier")


def test_interleave_rule() -> None:
    model = [_cv(n, i) for i, n in enumerate(("STUDYID", "--SEQ", "--TERM", "--DECOD", "--CAT"))]
    ig = [
        _ig("XXFIRST", 1),  # unlisted, no listed neighbour before it: first
        _ig("STUDYID", 2),
        _ig("XXDECOD", 3),  # listed; IG puts it before XXTERM, model order wins
        _ig("XXOWN1", 4),  # unlisted: right after XXDECOD
        _ig("XXOWN2", 5),
        _ig("XXTERM", 6),
    ]
    merged = interleave(ig, model, "XX")
    assert names(merged) == [
        "XXFIRST",
        "STUDYID",
        "XXSEQ",
        "XXTERM",
        "XXDECOD",
        "XXOWN1",
        "XXOWN2",
        "XXCAT",
    ]
    added = {v.name: v for v in merged if v.source == "model"}
    assert set(added) == {"XXSEQ", "XXCAT"}
    assert added["XXSEQ"].label == "Label of XXSEQ"  # "--" placeholders filled
    assert added["XXSEQ"].order == 1 and added["XXSEQ"].core == "Perm"


def test_model_label_placeholder_filled() -> None:
    cv = ClassVariable("Timing", 30, "--STDY", "Day of -- Start", "Num", "Timing")
    assert cv.for_domain("MH") == ("MHSTDY", "Day of MH Start")
    assert ClassVariable("Timing", 17, "VISITNUM", "Visit Number", "Num", "Timing").for_domain(
        "LB"
    ) == ("VISITNUM", "Visit Number")
    assert model_class_order({"Events": (cv,)}, "Events") == (cv,)


# ------------------------------------------------------------------ specs file


def test_missing_or_bad_class_variables_file(tmp_path: Path) -> None:
    target = tmp_path / "specs"
    shutil.copytree(SPECS, target)
    path = target / "sdtm-1.8" / "class_variables.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace("Identifiers,", "Specials,", 1)
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(StandardsError, match=r"class_variables.csv:4: class must be one of"):
        load_sdtmig(target)
    path.unlink()
    with pytest.raises(StandardsError, match=r"class_variables\.csv: standards file not found"):
        load_sdtmig(target)
