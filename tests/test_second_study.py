"""A second study with a different EDC layout maps with specs alone (no code changes):
month-first dates, long-format vitals, another subject id scheme, two arms."""

from __future__ import annotations

from pathlib import Path

import pyreadstat

from cdisc_mapper.sdtm.pipeline import run_sdtm

DATA = Path(__file__).parent / "data"


def test_mini_study_maps_with_its_own_specs(tmp_path):
    result = run_sdtm(DATA / "mini_study", DATA / "mini_raw", tmp_path)
    dm, _ = pyreadstat.read_xport(str(tmp_path / "sdtm" / "dm.xpt"))
    assert dm.USUBJID.tolist() == ["MINI-01/S1", "MINI-01/S2"]
    assert dm.RFICDTC.tolist() == ["2021-03-01", "2021-03-02"]  # month-first
    assert dm.SEX.tolist() == ["F", "M"]
    assert dm.RFSTDTC.tolist() == ["2021-03-08", "2021-03-09"]
    assert dm.SITEID.tolist() == ["100", "100"]
    vs, _ = pyreadstat.read_xport(str(tmp_path / "sdtm" / "vs.xpt"))
    wt = vs[vs.VSTESTCD == "WEIGHT"].set_index("USUBJID")
    assert wt.loc["MINI-01/S1", "VSORRESU"] == "LB"
    assert wt.loc["MINI-01/S1", "VSSTRESN"] == 70.0  # 154.3 lb, 1 decimal
    assert wt.loc["MINI-01/S2", "VSSTRESC"] == "80.2"
    assert set(vs.VSORRESU) == {"mmHg", "LB", "kg"}
    assert vs[vs.VISIT == "WEEK 1"].EPOCH.tolist() == ["TREATMENT"]
    assert set(vs[vs.VISIT == "SCREENING"].EPOCH) == {"SCREENING"}
    se, _ = pyreadstat.read_xport(str(tmp_path / "sdtm" / "se.xpt"))
    assert se.groupby("USUBJID").ETCD.apply(list).to_dict() == {
        "MINI-01/S1": ["SCRN", "TRTA"],
        "MINI-01/S2": ["SCRN", "TRTP"],
    }
    assert {"DM", "EX", "VS", "SE", "SV", "TA", "TE", "TV"} <= set(result.datasets)


def test_xlsx_export_gives_the_same_datasets(tmp_path):
    """The same forms exported as XLSX map to byte-identical XPT files."""
    import shutil

    import pandas as pd

    raw = tmp_path / "raw_xlsx"
    raw.mkdir()
    for csv in (DATA / "mini_raw").glob("*.csv"):
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
        frame.to_excel(raw / f"{csv.stem}.xlsx", index=False)
    study = tmp_path / "study"
    shutil.copytree(DATA / "mini_study", study)
    text = (study / "study.yaml").read_text()
    (study / "study.yaml").write_text(
        text.replace("sponsor: Example Sponsor", "sponsor: Example Sponsor\nraw_format: xlsx")
    )
    run_sdtm(DATA / "mini_study", DATA / "mini_raw", tmp_path / "a")
    run_sdtm(study, raw, tmp_path / "b")
    for xpt in sorted((tmp_path / "a" / "sdtm").glob("*.xpt")):
        assert xpt.read_bytes() == (tmp_path / "b" / "sdtm" / xpt.name).read_bytes(), xpt.name


def _study_with(tmp_path: Path, extra: str) -> Path:
    import shutil

    study = tmp_path / "study"
    shutil.copytree(DATA / "mini_study", study)
    text = (study / "study.yaml").read_text()
    (study / "study.yaml").write_text(
        text.replace("sponsor: Example Sponsor", f"sponsor: Example Sponsor\n{extra}")
    )
    return study


def test_forms_in_other_csv_dialects_give_the_same_datasets(tmp_path):
    """Semicolon-separated windows-1252 forms (a European export), one of them tab
    separated, stated in study.yaml ``csv:``, map to byte-identical XPT files."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for csv in (DATA / "mini_raw").glob("*.csv"):
        rows = [line.split(",") for line in csv.read_text().splitlines()]
        sep = "\t" if csv.stem == "dosing" else ";"
        (raw / csv.name).write_bytes("\r\n".join(map(sep.join, rows)).encode("windows-1252"))
    study = _study_with(
        tmp_path,
        "csv:\n  delimiter: ';'\n  encoding: windows-1252\n"
        "  files:\n    dosing.csv: {delimiter: tab}",
    )
    run_sdtm(DATA / "mini_study", DATA / "mini_raw", tmp_path / "a")
    run_sdtm(study, raw, tmp_path / "b")
    for xpt in sorted((tmp_path / "a" / "sdtm").glob("*.xpt")):
        assert xpt.read_bytes() == (tmp_path / "b" / "sdtm" / xpt.name).read_bytes(), xpt.name


def test_a_csv_file_setting_for_a_file_not_in_the_raw_folder_is_an_error(tmp_path):
    import pytest

    from cdisc_mapper.errors import SpecError

    study = _study_with(tmp_path, "csv:\n  files:\n    dosage.csv: {delimiter: ';'}")
    with pytest.raises(SpecError) as info:
        run_sdtm(study, DATA / "mini_raw", tmp_path / "out")
    assert "'dosage.csv', which is not a file of the raw folder" in info.value.message
    assert str(info.value.where).endswith("study.yaml:9")  # the dosage.csv line
