"""Where an ADaM variable's label, type and length come from, and that no value is lost to
a type.

Rules (cdisc_mapper.spec.adam_labels.adamig_variable, cdisc_mapper.adam.engine,
cdisc_mapper.adam.storage):

* an ADaMIG variable of the dataset's structure, or outside ADSL an ADSL variable, by its
  exact name: ADaMIG's label and type (TRTSDT in a BDS dataset is "Date of First Exposure
  to Treatment", never the ``*DT`` rule's ``{Date}``);
* a variable carried from SDTM (kept by a record builder, or ``derive: value`` of the same
  name) keeps its SDTMIG label and type and its SDTM file's length, whatever ADaMIG suffix
  rule its name looks like (VSELTM is SDTM text, not the ``*TM`` numeric time);
* a variable named by an ADaMIG rule takes the rule's type and label, and the spec must give
  a label where the rule's is a placeholder (``{Relative Day}`` of ``*ADY``); a spec label
  always replaces a rule's or a carried variable's;
* a value that does not fit its variable's type is an error naming the records, never a
  missing value.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_mapper.adam import adam_metadata, run_adam
from cdisc_mapper.adam.storage import stored_length, typed_values
from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.xpt import XptVariable, read_xpt, write_xpt
from tests.adam_ops_context import STUDY, reported_line

ADVS_KEEP = "keep: [VISITNUM, VISIT]"
TPT_LABEL = "Planned Time Point Name"
ELTM_LABEL = "Planned Elapsed Time from Time Point Ref"


def study_with(
    tmp_path: Path, file: str = "advs.yaml", add: str = "", keep: str = ""
) -> tuple[Path, int]:
    """A copy of the study's ADaM specs whose ``file`` ends with the variable entries
    ``add`` and whose ADVS findings step also keeps the VS variables ``keep``; and the
    1-based line of the first added entry."""
    dst = tmp_path / "study"
    shutil.copytree(STUDY / "adam", dst / "adam")
    path = dst / "adam" / file
    text = path.read_text()
    if keep:
        assert ADVS_KEEP in text
        text = text.replace(ADVS_KEEP, f"keep: [VISITNUM, VISIT, {keep}]")
    assert text.endswith("\n")
    line = text.count("\n") + 1
    path.write_text(text + add)
    return dst, line


def add_timepoints(sdtm: Path, visit_length: int | None = None) -> None:
    """Give SDTM VS the time point variables VSTPT and VSELTM (ISO 8601 durations, text)
    and a sponsor variable VSSPFL (not in SDTMIG; "Y" or blank, declared 3 long), and, with
    ``visit_length``, declare VISIT that long."""
    path = sdtm / "vs.xpt"
    frame, meta = read_xpt(path)
    frame["VSTPT"] = np.where(frame["VSSEQ"] % 2 == 0, "5 MIN POST DOSE", "PREDOSE")
    frame["VSELTM"] = np.where(frame["VSSEQ"] % 2 == 0, "PT5M", "-PT15M")
    frame["VSSPFL"] = np.where(frame["VSSEQ"] % 3 == 0, "Y", "")
    variables = [
        XptVariable(v.name, v.label, v.type, visit_length)
        if v.name == "VISIT" and visit_length
        else v
        for v in meta.variables
    ]
    variables += [
        XptVariable("VSTPT", TPT_LABEL, "Char"),
        XptVariable("VSELTM", ELTM_LABEL, "Char"),
        XptVariable("VSSPFL", "Sponsor Flag", "Char", 3),
    ]
    write_xpt(frame, path, dataset="VS", label=meta.label, variables=variables)


@pytest.fixture()
def sdtm(demo_sdtm, tmp_path: Path) -> Path:
    """A copy of the 20-subject demo's SDTM whose VS has time points."""
    dst = tmp_path / "sdtm"
    shutil.copytree(demo_sdtm[0] / "sdtm", dst)
    add_timepoints(dst)
    return dst


def advs_variables(study: Path) -> dict[str, object]:
    return {v.name: v for v in adam_metadata(study)["ADVS"].variables}


# --------------------------------------------------------------------------- from the specs
def test_carried_sdtm_variables_keep_their_sdtmig_label_and_type(tmp_path: Path) -> None:
    study, _ = study_with(
        tmp_path,
        add="  VSTPT: {}\n  VSELTM: {}\n  VSDY: {}\n",
        keep="VSTPT, VSELTM, VSDY",
    )
    v = advs_variables(study)
    got = {n: (v[n].label, v[n].type, v[n].standard) for n in ("VSTPT", "VSELTM", "VSDY")}
    assert got == {
        "VSTPT": (TPT_LABEL, "Char", "SDTMIG 3.4"),
        # not the *TM rule's numeric {Time}, nor the *SDY rule's {Relative Start Day}
        "VSELTM": (ELTM_LABEL, "Char", "SDTMIG 3.4"),
        "VSDY": ("Study Day of Vital Signs", "Num", "SDTMIG 3.4"),
    }
    assert v["VSDY"].format is None


def test_adsl_variables_in_a_bds_dataset_have_their_adsl_labels(tmp_path: Path) -> None:
    study, _ = study_with(
        tmp_path,
        add=(
            "  TRTSDT: {derive: value, source: ADSL.TRTSDT}\n"
            "  TRTEDT: {derive: value, source: ADSL.TRTEDT}\n"
            "  RFICDT: {derive: date, source: DM.RFICDTC}\n"
        ),
    )
    v = advs_variables(study)
    assert (v["TRTSDT"].label, v["TRTSDT"].type, v["TRTSDT"].format) == (
        "Date of First Exposure to Treatment",
        "Num",
        "DATE9.",
    )
    assert v["TRTEDT"].label == "Date of Last Exposure to Treatment"
    # derived in ADVS, not copied: still ADSL's variable, not the *DT rule's {Date}
    assert (v["RFICDT"].label, v["RFICDT"].standard) == ("Date of Informed Consent", "ADaMIG 1.3")


def test_a_rule_named_variable_without_a_label_is_a_spec_error_at_its_line(
    tmp_path: Path,
) -> None:
    study, line = study_with(tmp_path, add="  DTHADY: {derive: analysis_day, date: ADT}\n")
    with pytest.raises(SpecError) as err:
        adam_metadata(study)
    text = str(err.value)
    assert "DTHADY" in text and "*ADY" in text
    # the rule's placeholder is never shown as if it were a label; a label is proposed
    assert "{" not in text and "}" not in text
    assert "give it a 'label'" in text and "label: DTH Relative Day" in text
    assert reported_line(text, "advs.yaml") == line


def test_a_spec_label_replaces_a_rule_or_carried_label(tmp_path: Path) -> None:
    study, _ = study_with(
        tmp_path,
        add=(
            "  DTHADY: {derive: analysis_day, date: ADT, label: Relative Day of Death}\n"
            "  VSTPT: {label: Time Point}\n"
        ),
        keep="VSTPT",
    )
    v = advs_variables(study)
    assert (v["DTHADY"].label, v["DTHADY"].type, v["DTHADY"].standard) == (
        "Relative Day of Death",
        "Num",
        "ADaMIG 1.3",
    )
    assert (v["VSTPT"].label, v["VSTPT"].type) == ("Time Point", "Char")
    # a named rule's label (TRTxxP) too
    adsl, _ = study_with(tmp_path / "adsl", "adsl.yaml")
    text = (adsl / "adam" / "adsl.yaml").read_text()
    old = "TRT01P: {derive: period_treatment, period: 1}"
    (adsl / "adam" / "adsl.yaml").write_text(
        text.replace(old, old[:-1] + ", label: Planned Treatment Run-in}")
    )
    trt01p = next(x for x in adam_metadata(adsl)["ADSL"].variables if x.name == "TRT01P")
    assert trt01p.label == "Planned Treatment Run-in"


def test_a_carried_variable_sdtmig_does_not_define_needs_a_label(tmp_path: Path) -> None:
    study, line = study_with(tmp_path, add="  VSSPFL: {}\n", keep="VSSPFL")
    with pytest.raises(SpecError) as err:
        adam_metadata(study)
    text = str(err.value)
    assert "VSSPFL: copies VS.VSSPFL, which SDTMIG 3.4 does not define" in text
    assert reported_line(text, "advs.yaml") == line


def test_a_type_against_an_adamig_rule_is_a_spec_error(tmp_path: Path) -> None:
    study, line = study_with(
        tmp_path, add="  VISDT: {derive: keep, column: VISIT, label: Visit Date, type: Char}\n"
    )
    with pytest.raises(SpecError) as err:
        adam_metadata(study)
    assert "ADaMIG type (rule *DT) is Num, not Char" in str(err.value)
    assert abs(reported_line(str(err.value), "advs.yaml") - line) <= 1


# --------------------------------------------------------------------------- with the data
def test_vseltm_stays_text_with_its_values(tmp_path: Path, sdtm: Path) -> None:
    study, _ = study_with(tmp_path, add="  VSTPT: {}\n  VSELTM: {}\n", keep="VSTPT, VSELTM")
    run_adam(study, sdtm, tmp_path / "out")
    advs, meta = read_xpt(tmp_path / "out" / "adam" / "advs.xpt")
    vs, _ = read_xpt(sdtm / "vs.xpt")
    by_name = {v.name: v for v in meta.variables}
    assert (by_name["VSELTM"].type, by_name["VSELTM"].label) == ("Char", ELTM_LABEL)
    assert (by_name["VSTPT"].type, by_name["VSTPT"].label) == ("Char", TPT_LABEL)
    # every ADVS record has its VS record's time point, none is missing
    pairs = advs.merge(
        vs[["USUBJID", "VSSEQ", "VSELTM", "VSTPT"]],
        left_on=["USUBJID", "SRCSEQ"],
        right_on=["USUBJID", "VSSEQ"],
        suffixes=("", "_VS"),
    )
    assert len(pairs) == len(advs) > 0
    assert (pairs["VSELTM"] == pairs["VSELTM_VS"]).all()
    assert (pairs["VSTPT"] == pairs["VSTPT_VS"]).all()
    assert set(advs["VSELTM"]) == {"PT5M", "-PT15M"}


def test_carried_sdtm_variable_keeps_its_sdtm_length_and_label(tmp_path: Path, demo_sdtm) -> None:
    sdtm = tmp_path / "sdtm"
    shutil.copytree(demo_sdtm[0] / "sdtm", sdtm)
    add_timepoints(sdtm, visit_length=40)
    study, _ = study_with(
        tmp_path, add="  VSTPT: {}\n  VSSPFL: {label: Sponsor Flag}\n", keep="VSTPT, VSSPFL"
    )
    run_adam(study, sdtm, tmp_path / "out")
    _, meta = read_xpt(tmp_path / "out" / "adam" / "advs.xpt")
    by_name = {v.name: v for v in meta.variables}
    # VISIT values are at most 22 bytes; VS declares 40, so ADVS does too
    assert (by_name["VISIT"].length, by_name["VISIT"].label) == (40, "Visit Name")
    assert by_name["VSTPT"].length == len("5 MIN POST DOSE")
    # a variable SDTMIG does not define: the file's type and length, the spec's label
    assert (by_name["VSSPFL"].type, by_name["VSSPFL"].length) == ("Char", 3)
    # a variable made in ADaM is as long as its longest value
    assert by_name["PARAMCD"].length == 6


def test_text_in_a_numeric_variable_is_a_located_error(tmp_path: Path, sdtm: Path) -> None:
    study, line = study_with(
        tmp_path,
        add="  ELTM: {derive: keep, column: VSELTM, label: Elapsed Time}\n",
        keep="VSELTM",
    )
    with pytest.raises(MappingError) as err:
        run_adam(study, sdtm, tmp_path / "out")
    text = str(err.value)
    assert "ADVS.ELTM is Num (ADaMIG BDS rule *TM)" in text
    assert "record 1 (USUBJID=" in text and "'-PT15M'" in text
    assert "never set missing" in text
    assert reported_line(text, "advs.yaml") == line
    assert not (tmp_path / "out" / "adam" / "advs.xpt").exists()


def test_text_in_a_sponsor_numeric_variable_is_a_located_error(tmp_path: Path, sdtm: Path) -> None:
    study, line = study_with(
        tmp_path,
        add="  TPTN: {derive: keep, column: VSTPT, label: Time Point (N), type: Num}\n",
        keep="VSTPT",
    )
    with pytest.raises(MappingError) as err:
        run_adam(study, sdtm, tmp_path / "out")
    text = str(err.value)
    assert "ADVS.TPTN is Num (the spec's 'type')" in text and "'PREDOSE'" in text
    assert reported_line(text, "advs.yaml") == line


def test_numbers_in_a_text_variable_are_a_located_error(tmp_path: Path, sdtm: Path) -> None:
    study, line = study_with(
        tmp_path, add="  VISITC: {derive: keep, column: VISITNUM, label: Visit, type: Char}\n"
    )
    with pytest.raises(MappingError) as err:
        run_adam(study, sdtm, tmp_path / "out")
    text = str(err.value)
    assert "ADVS.VISITC is Char" in text and "hold numbers" in text
    assert reported_line(text, "advs.yaml") == line


# --------------------------------------------------------------------------- storage
def test_typed_values_keep_every_value_or_name_the_misfits() -> None:
    text = pd.Series(["1.5", "", "  ", None, np.nan, "PT5M", "nan", "2"], dtype=object)
    values, misfits = typed_values(text, "Num")
    assert list(misfits) == [5, 6]  # text, including the text 'nan', is never missing
    assert values[0] == 1.5 and values[7] == 2.0 and np.isnan(values[1:5]).all()
    numbers = pd.Series([1.0, np.nan, 3.0])
    assert list(typed_values(numbers, "Num")[1]) == []
    assert list(typed_values(numbers, "Char")[1]) == [0, 2]
    assert list(typed_values(pd.Series([np.nan, np.nan]), "Char")[0]) == ["", ""]
    assert list(typed_values(pd.Series(["a", ""], dtype="str"), "Char")[1]) == []


def test_stored_length_is_at_least_the_declared_length() -> None:
    col = pd.Series(["AB", "ABCD  ", ""], dtype=object)
    assert stored_length(col, "Char") == 4
    assert stored_length(col, "Char", 10) == 10
    assert stored_length(col, "Char", 2) == 4
    assert stored_length(pd.Series([""], dtype=object), "Char") == 1
    assert stored_length(pd.Series([1.0]), "Num", 3) == 8
