"""study.yaml ``timeline`` and ``codelists`` (cdisc_mapper.spec.study): their errors at
the spec line, and the terms a study adds to a codelist (Terminology.extended)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cdisc_mapper.errors import SpecError
from cdisc_mapper.sdtm import load_study
from cdisc_mapper.standards import load_terminology

MINI = Path(__file__).parent / "data" / "mini_study"


def _study_with(tmp_path: Path, text: str) -> Path:
    study = tmp_path / "study"
    shutil.copytree(MINI, study)
    spec = study / "study.yaml"
    spec.write_text(spec.read_text() + text)
    return study


def _line_of(study: Path, text: str) -> int:
    lines = (study / "study.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def test_a_timeline_with_an_unknown_key_is_an_error_at_its_line(tmp_path: Path) -> None:
    study = _study_with(
        tmp_path, "timeline:\n  kind: relative_days\n  day0: Trial onset\n  anker: 2000-01-01\n"
    )
    with pytest.raises(SpecError) as err:
        load_study(study)
    line = _line_of(study, "anker:")
    assert f"study.yaml:{line}: timeline.anker: unknown key" in str(err.value)


def test_a_timeline_anchor_not_in_the_calendar_is_an_error_at_its_line(tmp_path: Path) -> None:
    study = _study_with(
        tmp_path,
        'timeline: {kind: relative_days, day0: Trial onset,\n  anchor: "2001-02-29"}\n',
    )
    with pytest.raises(SpecError) as err:
        load_study(study)
    assert "timeline.anchor" in str(err.value)
    assert "'2001-02-29' is not a date of the calendar" in str(err.value)


def test_a_timeline_needs_its_day0_event(tmp_path: Path) -> None:
    study = _study_with(tmp_path, "timeline: {kind: relative_days}\n")
    with pytest.raises(SpecError, match=r"study.yaml:33: timeline.day0: required key missing"):
        load_study(study)


def test_terms_added_to_a_sponsor_and_an_extensible_cdisc_codelist(tmp_path: Path) -> None:
    study = _study_with(
        tmp_path,
        "codelists:\n"
        "  ALSONSET: {terms: {RESPIRATORY: Respiratory onset}}\n"
        "  C66726: {terms: {POWDER FOR SUSPENSION: Powder for suspension}}\n",
    )
    bundle = load_study(study)
    terms = bundle.terminology(load_terminology())
    onset = terms.get("ALSONSET").term("RESPIRATORY")
    assert onset is not None and onset.preferred_term == "Respiratory onset"
    assert onset.code is None
    frm = terms.get("FRM")  # C66726, extensible
    assert frm.term("POWDER FOR SUSPENSION") is not None
    assert frm.term("TABLET") is not None and frm.term("TABLET").code  # CDISC's own kept
    assert load_terminology().get("FRM").term("POWDER FOR SUSPENSION") is None  # unchanged


def test_a_term_added_to_a_closed_cdisc_codelist_is_an_error_at_its_line(
    tmp_path: Path,
) -> None:
    study = _study_with(tmp_path, "codelists:\n  SEX: {terms: {X: Other sex}}\n")
    bundle = load_study(study)
    with pytest.raises(SpecError) as err:
        bundle.terminology(load_terminology())
    line = _line_of(study, "SEX:")
    msg = str(err.value)
    assert f"study.yaml:{line}" in msg
    assert "codelist SEX (C66731) is not extensible" in msg


def test_a_term_added_to_an_unknown_codelist_is_an_error(tmp_path: Path) -> None:
    study = _study_with(tmp_path, "codelists:\n  NOSUCHCL: {terms: {X: X}}\n")
    with pytest.raises(SpecError, match="unknown codelist 'NOSUCHCL'"):
        load_study(study).terminology(load_terminology())
