"""The Python API (cdisc_mapper.api, re-exported by cdisc_mapper): its names, what each
function returns, in-memory inputs giving what files give, its errors, and the guide's
examples (docs/api.md) run end to end."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import cdisc_mapper
from cdisc_mapper import api
from cdisc_mapper.errors import CdiscMapperError, MappingError, RawDataError, SpecError, XptError
from cdisc_mapper.xpt import read_xpt
from tests.conftest import REPO, STUDY

API_NAMES = {
    "DatasetMetadata",
    "Datasets",
    "Study",
    "derive_adam",
    "load_study",
    "map_sdtm",
    "read_dataset_json",
    "read_xpt",
    "validate_package",
    "write_dataset_json",
    "write_define",
    "write_xpt",
}


# ------------------------------------------------------------------------------ names


def test_all_lists_the_api_and_the_version():
    assert set(api.__all__) == API_NAMES
    assert set(cdisc_mapper.__all__) == API_NAMES | {"__version__"}
    assert len(cdisc_mapper.__all__) == len(set(cdisc_mapper.__all__))


def test_every_name_is_the_api_s_object():
    for name in API_NAMES:
        assert getattr(cdisc_mapper, name) is getattr(api, name), name
    assert set(dir(cdisc_mapper)) >= API_NAMES
    namespace: dict[str, object] = {}
    exec("from cdisc_mapper import *", namespace)
    assert API_NAMES | {"__version__"} <= set(namespace)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="'cdisc_mapper' has no attribute 'map_sdmt'"):
        _ = cdisc_mapper.map_sdmt  # type: ignore[attr-defined]


def test_importing_the_package_imports_nothing_heavy():
    """``import cdisc_mapper`` stays fast: the API (and pandas) load on first use."""
    code = (
        "import sys, cdisc_mapper; "
        "print(sorted(m for m in ('cdisc_mapper.api', 'pandas', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    code = "import sys, cdisc_mapper as cm; cm.load_study; print('cdisc_mapper.api' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_every_public_function_has_typed_arguments_and_a_docstring():
    import inspect

    for name in API_NAMES:
        obj = getattr(api, name)
        assert (obj.__doc__ or "").strip(), name
        if inspect.isfunction(obj):
            hints = inspect.signature(obj).parameters
            assert all(p.annotation is not inspect.Parameter.empty for p in hints.values()), name


# ------------------------------------------------------------------------------ study


@pytest.fixture(scope="module")
def study() -> api.Study:
    return api.load_study(STUDY)


def test_load_study_loads_both_specs(study):
    assert study.path == STUDY
    assert {"DM", "AE", "VS"} <= set(study.sdtm.domains)
    assert {"ADSL", "ADQS"} <= set(study.adam.datasets)
    assert repr(study) == f"Study({str(STUDY)!r}: SDTM and ADaM specs)"


def test_load_study_without_a_path_is_the_bundled_study():
    bundled = api.load_study()
    assert sorted(bundled.sdtm.domains) == sorted(api.load_study(STUDY).sdtm.domains)


def test_a_bad_spec_folder_is_a_located_error(tmp_path):
    (tmp_path / "study.yaml").write_text("study: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        api.load_study(tmp_path)
    assert "study.yaml" in str(info.value)


def test_a_study_without_adam_specs_refuses_derive_adam(tmp_path):
    plain = api.Study(tmp_path, None, None)
    with pytest.raises(SpecError, match=r"the study has no ADaM specs \(adam/\)"):
        api.derive_adam(plain, sdtm=tmp_path)
    with pytest.raises(SpecError, match=r"no SDTM specs"):
        api.map_sdtm(plain, raw=tmp_path)


def test_a_workbook_study_lives_until_closed(tmp_path):
    from cdisc_mapper.xlsx import export_workbook

    xlsx = tmp_path / "spec.xlsx"
    export_workbook(STUDY, xlsx)
    with api.load_study(xlsx) as study:
        folder = study.path
        assert (folder / "study.yaml").is_file()
        assert sorted(study.sdtm.domains) == sorted(api.load_study(STUDY).sdtm.domains)
    assert not folder.exists()


# ------------------------------------------------------------------------------ SDTM


@pytest.fixture(scope="module")
def sdtm(study, demo_raw) -> api.Datasets:
    return api.map_sdtm(study, raw=demo_raw)


def test_map_sdtm_writes_what_the_command_writes(sdtm, demo_sdtm, tmp_path):
    out, _ = demo_sdtm
    files = sdtm.write(tmp_path)
    assert sdtm.files == files
    expected = sorted(p.name for p in (out / "sdtm").iterdir() if p.suffix in (".xpt", ".csv"))
    assert sorted(p.name for p in files) == expected
    for path in files:
        assert path.read_bytes() == (out / "sdtm" / path.name).read_bytes(), path.name


def test_sdtm_datasets_hold_frames_metadata_and_reconciliation(sdtm, demo_sdtm):
    out, _ = demo_sdtm
    assert sdtm.standard == "SDTM"
    assert list(sdtm)[:3] == ["AE", "CM", "DM"]
    assert sdtm["dm"] is sdtm.datasets["DM"]
    assert len(sdtm["DM"]) == 20
    _, meta = read_xpt(out / "sdtm" / "dm.xpt")
    dm = sdtm.metadata["DM"]
    assert (dm.name, dm.label) == ("DM", "Demographics")
    assert dm.keys == ("STUDYID", "USUBJID")
    assert dm.variables == meta.variables  # names, labels, types, stored lengths, formats
    longest = max(len(v) for v in sdtm["DM"]["USUBJID"])
    assert dm.variable("USUBJID").length == longest
    assert (dm.variable("AGE").type, dm.variable("AGE").length) == ("Num", 8)
    recon = sdtm.reconciliation
    enrolment = recon[(recon["domain"] == "DM")].iloc[0]
    assert (enrolment["file"], enrolment["rows_read"], enrolment["records_written"]) == (
        "enrollment.csv",
        20,
        20,
    )
    assert (recon["rows_read"] == recon["rows_mapped"] + recon["rows_excluded"]).all()
    assert repr(sdtm).startswith("<SDTM datasets: AE (")


def _raw_frames(raw: Path) -> dict[str, pd.DataFrame]:
    return {
        p.name: pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(raw.glob("*.csv"))
    }


def test_raw_frames_in_memory_give_the_same_sdtm(study, sdtm, demo_raw):
    frames = _raw_frames(demo_raw)
    in_memory = api.map_sdtm(study, raw=frames)
    assert list(in_memory) == list(sdtm)
    for name in sdtm:
        pd.testing.assert_frame_equal(in_memory[name], sdtm[name], obj=name)
    recon = in_memory.reconciliation
    files = recon.loc[recon["domain"] == "DM", "file"].tolist()
    assert files == ["raw['enrollment.csv']"]
    columns = ["rows_read", "rows_mapped", "rows_excluded", "records_written"]
    assert recon[columns].equals(sdtm.reconciliation[columns])


def test_raw_frames_by_form_name_and_an_unused_frame(study, sdtm, demo_raw):
    frames = {Path(k).stem: v for k, v in _raw_frames(demo_raw).items()}
    frames["notes"] = pd.DataFrame({"A": ["x", "y", ""], "B": ["1", "", ""]})
    result = api.map_sdtm(study, raw=frames)
    pd.testing.assert_frame_equal(result["VS"], sdtm["VS"])
    last = result.reconciliation.iloc[-1]
    assert (last["form"], last["file"], last["rows_read"], last["rows_excluded"]) == (
        "notes",
        "raw['notes']",
        2,  # the blank third row is not a record
        2,
    )
    assert last["exclusion_reasons"] == "form not used by any domain spec: 2"


def test_a_missing_raw_frame_names_the_form_and_what_was_given(study):
    with pytest.raises(RawDataError) as info:
        api.map_sdtm(study, raw={"vitals": pd.DataFrame({"A": ["1"]})})
    text = str(info.value)
    assert "raw form 'enrollment' (file 'enrollment.csv') is not among the DataFrames given" in text
    assert "(given: 'vitals')" in text and "study.yaml" in text


def test_a_bad_value_in_a_raw_frame_names_the_frame_and_row(study, demo_raw):
    frames = _raw_frames(demo_raw)
    enrolment = frames["enrollment.csv"].copy()
    enrolment.loc[2, "GENDER"] = "Mle"  # the frame's third row
    frames["enrollment.csv"] = enrolment
    with pytest.raises(MappingError) as info:
        api.map_sdtm(study, raw=frames)
    assert "raw['enrollment.csv'] row 3: 'Mle'" in str(info.value)


def test_a_raw_value_that_is_not_a_frame_is_refused(study):
    with pytest.raises(RawDataError, match="not so for vitals"):
        api.map_sdtm(study, raw={"vitals": [1, 2]})  # type: ignore[dict-item]


# ------------------------------------------------------------------------------ ADaM


@pytest.fixture(scope="module")
def adam(study, sdtm) -> api.Datasets:
    return api.derive_adam(study, sdtm=sdtm)


def test_adam_from_memory_equals_adam_from_the_files(study, adam, demo_sdtm):
    out, _ = demo_sdtm
    from_files = api.derive_adam(study, sdtm=out / "sdtm")
    assert list(adam) == list(from_files) == ["ADSL", *sorted(set(adam) - {"ADSL"})]
    for name in adam:
        pd.testing.assert_frame_equal(adam[name], from_files[name], obj=name)
        assert adam.metadata[name] == from_files.metadata[name]


def test_adam_from_read_xpt_pairs_and_plain_frames(study, adam, demo_sdtm):
    out, _ = demo_sdtm
    pairs = {p.stem.upper(): read_xpt(p) for p in sorted((out / "sdtm").glob("*.xpt"))}
    from_pairs = api.derive_adam(study, sdtm=pairs)
    plain = api.derive_adam(study, sdtm={name: frame for name, (frame, _) in pairs.items()})
    for name in adam:
        pd.testing.assert_frame_equal(from_pairs[name], adam[name], obj=name)
        pd.testing.assert_frame_equal(plain[name], adam[name], obj=name)


@pytest.fixture(scope="module")
def package(sdtm, adam, study, tmp_path_factory) -> tuple[Path, list[Path]]:
    """A package written by the API: SDTM, ADaM and define.xml; the ADaM files."""
    out = tmp_path_factory.mktemp("api-package")
    sdtm.write(out)
    files = adam.write(out)
    api.write_define(study, out, adam=adam)
    return out, files


def test_adam_writes_what_the_command_writes(package, demo_sdtm, tmp_path):
    from cdisc_mapper.adam import run_adam

    out, files = package
    expected = run_adam(STUDY, demo_sdtm[0] / "sdtm", tmp_path).files
    assert [p.relative_to(out) for p in files] == [p.relative_to(tmp_path) for p in expected]
    for mine, theirs in zip(files, expected, strict=True):
        assert mine.read_bytes() == theirs.read_bytes(), mine.name


def test_adam_datasets_carry_metadata_and_reports(adam):
    assert adam.standard == "ADaM"
    adsl = adam.metadata["ADSL"]
    assert adsl.label == "Subject-Level Analysis Dataset"
    assert adsl.keys == ("STUDYID", "USUBJID")
    assert adsl.variable("TRTSDT").format == "DATE9."
    assert adsl.variable("TRTSDT").type == "Num"
    assert adam.reconciliation is None
    assert set(adam.reports) == {r.name for r in adam.result.specs.reports.progression_summaries}


def test_derive_adam_refuses_adam_as_its_sdtm(study, adam):
    with pytest.raises(CdiscMapperError, match="derive_adam needs SDTM datasets, not ADaM"):
        api.derive_adam(study, sdtm=adam)


def test_a_non_ascii_value_in_sdtm_given_in_memory_is_a_located_error(study, demo_sdtm):
    out, _ = demo_sdtm
    pairs = {p.stem.upper(): read_xpt(p) for p in sorted((out / "sdtm").glob("*.xpt"))}
    frame, meta = pairs["DM"]
    frame = frame.copy()
    frame.loc[1, "SITEID"] = "Hôpital"
    pairs["DM"] = (frame, meta)
    with pytest.raises(XptError) as info:
        api.derive_adam(study, sdtm=pairs)
    text = str(info.value)
    assert "dm.xpt" in text and "SITEID" in text and "record 2" in text and "'ô'" in text


def test_an_unknown_format_is_refused(sdtm, tmp_path):
    with pytest.raises(CdiscMapperError, match=r"unknown dataset format\(s\) \['sas'\]"):
        sdtm.write(tmp_path, format="sas")
    assert not (tmp_path / "sdtm").exists()


# ------------------------------------------------------------------------------ define, validate


def test_define_and_validation_of_a_package_written_by_the_api(package):
    out, _ = package
    defines = sorted(p.relative_to(out).as_posix() for p in out.glob("*/define.*"))
    assert defines == [
        "adam/define.html",
        "adam/define.xml",
        "sdtm/define.html",
        "sdtm/define.xml",
    ]
    report = api.validate_package(out)
    assert report.define is not None  # both define.xml found and checked against the data
    assert report.exit_code("error") == 0
    assert re.match(r"validated 30 datasets \(\d+ records\)", report.summary_line())
    bare = api.validate_package(out, define=None, checks=["SD0001"])
    assert bare.define is None
    ran = {r.spec.id for r in bare.checks}
    assert "SD0001" in ran and not any(c.startswith("DD") for c in ran)


# ------------------------------------------------------------------------------ the guide


def test_the_docstring_examples_run():
    import doctest

    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    failed, tried = doctest.testmod(api, optionflags=flags, raise_on_error=False)
    assert (failed, tried >= 5) == (0, True)


def _examples(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.S)


def test_the_guide_s_examples_run_end_to_end(tmp_path, monkeypatch):
    """docs/api.md's examples, run in order in an empty folder (the README's Python
    section is the first one)."""
    blocks = _examples((REPO / "docs" / "api.md").read_text(encoding="utf-8"))
    assert len(blocks) == 2
    # the README's Python API example is this guide's first, word for word
    assert blocks[0] in _examples((REPO / "README.md").read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "docs/api.md", "exec"), namespace)
    report = namespace["report"]
    assert report.exit_code("error") == 0  # type: ignore[attr-defined]
    for name in ("sdtm/dm.xpt", "sdtm/define.xml", "adam/adsl.xpt", "adam/define.xml"):
        assert (tmp_path / "api-output" / name).is_file(), name
    assert namespace["age"].type == "Num"  # type: ignore[attr-defined]
    from_folder = namespace["sdtm"]
    exec(compile(blocks[1], "docs/api.md", "exec"), namespace)
    from_frames = namespace["sdtm"]
    assert from_frames is not from_folder
    for name in from_folder:  # type: ignore[attr-defined]
        pd.testing.assert_frame_equal(from_frames[name], from_folder[name])  # type: ignore[index]
    assert len(namespace["adam"]["ADSL"]) == 20  # type: ignore[index]
