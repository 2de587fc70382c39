"""ADaM by parts in bounded memory (cdisc_mapper.adam.stream): each part reads its SDTM rows,
its datasets are kept on disk and appended in key order; the serial run's bytes (XPT,
Dataset-JSON, reports) for any split, the same errors, and the serial run when the study
cannot be split."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdisc_mapper.adam import kept, load_adam_specs, run_adam, stream
from cdisc_mapper.cli import main
from cdisc_mapper.datasetjson import write_dataset
from cdisc_mapper.errors import MappingError
from cdisc_mapper.xpt import read_xpt, write_xpt
from tests.conftest import STUDY

FORMATS = ("xpt", "ndjson")
SAID: list[str] = []


def differing(a: Path, b: Path) -> list[str]:
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    return [n for n in names if (a / n).read_bytes() != (b / n).read_bytes()]


def same_outputs(serial: Path, parts: Path) -> None:
    for folder in ("adam", "reports"):
        assert differing(serial / folder, parts / folder) == [], folder


@pytest.fixture(scope="module")
def sdtm_dir(demo_sdtm) -> Path:
    return demo_sdtm[0] / "sdtm"


@pytest.fixture(scope="module")
def serial(sdtm_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("adam_serial")
    SAID[:] = []
    result = run_adam(STUDY, sdtm_dir, out, progress=SAID.append, formats=FORMATS)
    return out, result


def test_three_parts_in_this_process_write_the_serial_bytes(sdtm_dir, serial, tmp_path, caplog):
    said: list[str] = []
    with caplog.at_level(logging.DEBUG, logger="cdisc_mapper.adam"):
        result = run_adam(STUDY, sdtm_dir, tmp_path, said.append, FORMATS, part_subjects=7)
    messages = [r.getMessage() for r in caplog.records]
    assert "deriving 3 parts of the subjects" in messages  # 20 subjects, at most 7 a part
    assert not [m for m in messages if "serially" in m]
    same_outputs(serial[0], tmp_path)
    assert [m.replace(str(tmp_path), "OUT") for m in said] == [
        m.replace(str(serial[0]), "OUT") for m in SAID
    ]
    # the metadata (lengths of the whole study) as the serial run's; the records are in the files
    alone = serial[1]
    assert list(result.datasets) == list(alone.datasets)
    for name, ds in result.datasets.items():
        assert ds.variables == alone.datasets[name].variables, name
        assert len(ds.frame) == 0
        assert list(ds.frame.columns) == list(alone.datasets[name].frame.columns)
    assert list(result.reports) == ["progression_summary"]
    pd.testing.assert_frame_equal(
        result.reports["progression_summary"], alone.reports["progression_summary"]
    )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # working folder gone


@settings(
    deadline=None, max_examples=3, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_split_of_the_subjects_writes_the_serial_bytes(
    sdtm_dir, serial, tmp_path_factory, data
):
    subjects = sorted(read_xpt(sdtm_dir / "dm.xpt", columns=["USUBJID"])[0]["USUBJID"])
    starts = data.draw(
        st.lists(st.sampled_from(subjects[1:]), min_size=1, max_size=5, unique=True).map(sorted)
    )
    out = tmp_path_factory.mktemp("split")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stream, "balanced_starts", lambda counts, parts: starts)
        run_adam(STUDY, sdtm_dir, out, lambda _: None, FORMATS, part_subjects=7)
    same_outputs(serial[0], out)


def test_the_reports_read_back_only_what_they_need():
    # adam/reports.yaml: ADPROG summarised (whole), EFFFL and TRTSDT from ADSL, the
    # clinical change's ALSRTOT of ADQS, the trajectories' ALSRTOT (ADQS) and FVCPP (ADRE)
    specs = load_adam_specs(STUDY)
    assert stream.report_needs(specs) == {
        "ADPROG": None,
        "ADQS": {"ALSRTOT"},
        "ADRE": {"FVCPP"},
        "ADSL": None,
    }
    rep = specs.reports.progression_summaries[0]
    specs.reports.progression_summaries[0] = rep.model_copy(update={"dataset": "ADQS"})
    assert stream.report_needs(specs)["ADQS"] is None  # summarised: read whole


def test_sdtm_that_is_not_xpt_is_derived_serially_saying_why(sdtm_dir, tmp_path, caplog):
    folder = tmp_path / "sdtm"
    folder.mkdir()
    for path in sorted(sdtm_dir.glob("*.xpt")):
        frame, meta = read_xpt(path)
        write_dataset(frame, folder, dataset=meta.dataset, label=meta.label,
                      variables=meta.variables, formats=("ndjson",))  # fmt: skip
    with caplog.at_level(logging.INFO, logger="cdisc_mapper.adam"):
        run_adam(STUDY, folder, tmp_path, lambda _: None, part_subjects=7)
    assert "deriving ADaM serially: ae.ndjson is not an XPORT file" in [
        r.getMessage() for r in caplog.records
    ]
    assert (tmp_path / "adam" / "adsl.xpt").is_file()


def test_a_grouping_across_subjects_is_derived_serially_saying_why(sdtm_dir, tmp_path):
    specs = load_adam_specs(STUDY)
    aseq = specs.op_args[("ADQS", "ASEQ")]
    specs.op_args[("ADQS", "ASEQ")] = aseq.model_copy(update={"by": ["PARAMCD"]})
    with pytest.raises(stream.NotStreamed, match=r"a grouping across subjects at .*adqs.yaml:66"):
        stream.plan_parts(STUDY, specs, sdtm_dir, tmp_path, (2, 0))


def test_an_error_in_a_part_reads_as_serially(sdtm_dir, tmp_path):
    copy = tmp_path / "sdtm"
    shutil.copytree(sdtm_dir, copy)
    frame, meta = read_xpt(copy / "dm.xpt")
    frame = pd.concat([frame, frame.iloc[-1:]], ignore_index=True)
    write_xpt(frame, copy / "dm.xpt", dataset="DM", label=meta.label, variables=meta.variables)
    with pytest.raises(MappingError) as alone:
        run_adam(STUDY, copy, tmp_path / "serial", lambda _: None)
    with pytest.raises(MappingError) as parted:
        run_adam(STUDY, copy, tmp_path / "parts", lambda _: None, part_subjects=7)
    assert str(parted.value) == str(alone.value)
    assert "dm.xpt" in str(parted.value)


def test_the_command_derives_by_parts_of_its_size(sdtm_dir, serial, tmp_path, caplog):
    args = ["-q", "adam", "--sdtm", str(sdtm_dir), "--out", str(tmp_path)]
    with caplog.at_level(logging.DEBUG, logger="cdisc_mapper.adam"):
        res = CliRunner().invoke(main, [*args, "--part-subjects", "5", "--format", "xpt,ndjson"])
    assert res.exit_code == 0, res.output
    assert "deriving 4 parts of the subjects" in [r.getMessage() for r in caplog.records]
    same_outputs(serial[0], tmp_path)


def test_parts_kept_as_xpt_records_in_small_blocks_write_the_serial_bytes(
    sdtm_dir, tmp_path, monkeypatch
):
    # XPT only: the parts keep their records as the files store them (5 at a time) and
    # the reports' records apart, nothing whole; the serial run's bytes all the same
    run_adam(STUDY, sdtm_dir, tmp_path / "serial", lambda _: None)
    monkeypatch.setattr(kept, "RECORDS_AT_ONCE", 5)
    specs = load_adam_specs(STUDY)
    folder = tmp_path / "kept"
    folder.mkdir()
    streamed = stream.stream_parts(STUDY, specs, sdtm_dir, folder, (None, 1, 7))
    assert sorted({p.suffixes[-1] for p in folder.iterdir()}) == [".pkl", ".rec"]
    assert not [p for p in folder.iterdir() if p.suffix == ".pkl" and "report" not in p.name]
    with pytest.raises(RuntimeError, match="did not keep the records whole"):
        list(streamed.frames("ADSL"))
    # some part's values are shorter than the study's: its records are laid out again
    laid_out = [
        name
        for name, pieces in streamed.parts.items()
        for p in pieces
        if p.rows and p.dataset.variables != streamed.datasets[name].variables
    ]
    assert laid_out
    run_adam(STUDY, sdtm_dir, tmp_path / "parts", lambda _: None, part_subjects=7)
    same_outputs(tmp_path / "serial", tmp_path / "parts")
