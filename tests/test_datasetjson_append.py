"""Dataset-JSON appended block by block (DatasetJsonAppender): the bytes of
write_dataset_json for the same records, no file on failure."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdisc_mapper.datasetjson import (
    DatasetJsonAppender,
    DatasetJsonError,
    dataset_metadata,
    write_dataset_json,
)
from cdisc_mapper.xpt import XptVariable

VARIABLES = [
    XptVariable("USUBJID", "Unique Subject Identifier", "Char"),
    XptVariable("AESEQ", "Sequence Number", "Num"),
]


def frame_of(rows: list[tuple[str, float | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["USUBJID", "AESEQ"])
    frame["USUBJID"] = frame["USUBJID"].astype(object)
    frame["AESEQ"] = frame["AESEQ"].astype(float)
    return frame


def test_two_blocks_write_the_rows_worked_by_hand(tmp_path):
    whole = frame_of([("A", 1.0), ("B", None)])
    meta = dataset_metadata(whole, "AE", "Adverse Events", VARIABLES)
    path = tmp_path / "ae.json"
    with DatasetJsonAppender(path, meta, 2) as out:
        out.append(whole.iloc[:1])
        out.append(whole.iloc[1:])
    text = path.read_text(encoding="utf-8")
    assert text.endswith(',"rows":[["A",1],["B",null]]}')
    assert '"records":2' in text
    nd = tmp_path / "ae.ndjson"
    with DatasetJsonAppender(nd, meta, 2) as out:
        out.append(whole.iloc[:0])
        out.append(whole)
    assert nd.read_text(encoding="utf-8").splitlines()[1:] == ['["A",1]', '["B",null]']


@settings(
    deadline=None, max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.text(alphabet="AB-1é ", max_size=6),
            st.one_of(st.none(), st.integers(-1000, 1000).map(lambda x: x / 4)),
        ),
        max_size=20,
    ),
    cut=st.integers(0, 20),
    suffix=st.sampled_from([".json", ".ndjson"]),
)
def test_any_split_gives_the_whole_frame_bytes(tmp_path, rows, cut, suffix):
    whole = frame_of(rows)
    meta = dataset_metadata(whole, "AE", "Adverse Events", VARIABLES)
    write_dataset_json(whole, meta, tmp_path / f"whole{suffix}")
    with DatasetJsonAppender(tmp_path / f"parts{suffix}", meta, len(whole)) as out:
        out.append(whole.iloc[:cut])
        out.append(whole.iloc[cut:])
    assert (tmp_path / f"parts{suffix}").read_bytes() == (tmp_path / f"whole{suffix}").read_bytes()


def test_a_failure_leaves_no_file(tmp_path):
    whole = frame_of([("A", 1.0)])
    meta = dataset_metadata(whole, "AE", "Adverse Events", VARIABLES)
    path = tmp_path / "ae.json"
    writer = DatasetJsonAppender(path, meta, 1)
    with pytest.raises(DatasetJsonError, match="columns AESEQ are declared but not in the"), writer:
        writer.append(whole.drop(columns="AESEQ"))
    assert not list(tmp_path.iterdir())
    with pytest.raises(DatasetJsonError, match=r"unknown Dataset-JSON suffix '\.txt'"):
        DatasetJsonAppender(tmp_path / "ae.txt", meta, 1)
    assert not list(tmp_path.iterdir())
