"""Parts' datasets kept on disk (cdisc_mapper.sdtm.spill): the order the blocks are read
back in, overlapping subject ranges sorted together, parts that disagree."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm.finalize import Dataset
from cdisc_mapper.sdtm.spill import Block, PartsDisagree, Spill, block_order, key_groups, no_records

KEYS = ["STUDYID", "USUBJID", "AESEQ"]
VARIABLES = [
    SimpleNamespace(name="STUDYID", label="Study Identifier", type="Char"),
    SimpleNamespace(name="USUBJID", label="Unique Subject Identifier", type="Char"),
    SimpleNamespace(name="AESEQ", label="Sequence Number", type="Num"),
    SimpleNamespace(name="AETERM", label="Reported Term", type="Char"),
]


def ae(subjects: list[str], seqs: list[float], terms: list[str] | None = None) -> Dataset:
    frame = pd.DataFrame(
        {
            "STUDYID": ["S"] * len(subjects),
            "USUBJID": subjects,
            "AESEQ": np.asarray(seqs, dtype=float),
            "AETERM": terms or ["x"] * len(subjects),
        }
    )
    return Dataset("AE", "Adverse Events", frame, VARIABLES, KEYS)


def block(first: str | None, last: str | None, rows: int = 1) -> Block:
    return Block(
        Path(f"{first}.pkl"),
        rows,
        None if first is None else ("S", first),
        None if last is None else ("S", last),
    )


def test_block_order_is_the_first_and_last_subject_after_constant_keys():
    assert block_order(ae(["A", "A", "B"], [1, 2, 1]).frame, KEYS) == (("S", "A"), ("S", "B"))
    varying = ae(["A", "B"], [1, 1]).frame.assign(STUDYID=["S", "T"])
    assert block_order(varying, KEYS) == (None, None)  # STUDYID varies: no subject order
    assert block_order(ae(["A"], [1]).frame, ["STUDYID", "AESEQ"]) == (None, None)


def test_blocks_in_subject_order_overlapping_ones_together():
    p1, p2, p3 = block("C", "D"), block("A", "B"), block("D", "E")
    # A-B first; C-D and D-E share subject D: read together, in part order
    assert key_groups([p1, p2, p3]) == [[p2], [p1, p3]]
    assert key_groups([p2, block("B2", "C")]) == [[p2], [block("B2", "C")]]  # "B" < "B2"
    unordered = block(None, None)
    assert key_groups([p1, unordered, p2]) == [[p1, unordered, p2]]  # all read and sorted
    assert key_groups([block("A", "A", rows=0)]) == []


def test_spilled_parts_read_back_in_key_order(tmp_path):
    spill = Spill(tmp_path)
    spill.add(0, ae(["C", "D"], [1, 1], ["c", "d"]))
    spill.add(1, ae(["A", "B"], [1, 1], ["a", "b"]))
    spill.add(2, ae([], []))
    frames = list(spill.frames("AE"))
    assert [list(f["AETERM"]) for f in frames] == [["a", "b"], ["c", "d"]]
    whole = spill.whole("AE").frame
    assert list(whole["USUBJID"]) == ["A", "B", "C", "D"]
    assert list(whole.index) == [0, 1, 2, 3]
    assert spill.datasets["AE"].rows == 4
    # the longest AETERM of every block, and of the record-less template (0)
    assert [n["AETERM"] for n in spill.datasets["AE"].lengths] == [0, 1, 1]


def test_overlapping_parts_are_sorted_by_the_keys(tmp_path):
    spill = Spill(tmp_path)
    spill.add(0, ae(["A", "C"], [1, 1], ["a1", "c1"]))
    spill.add(1, ae(["B", "C"], [1, 2], ["b1", "c2"]))
    (merged,) = spill.frames("AE")
    assert list(merged["AETERM"]) == ["a1", "b1", "c1", "c2"]


def test_overlapping_parts_sharing_keys_are_an_error(tmp_path):
    spill = Spill(tmp_path)
    spill.add(0, ae(["A", "C"], [1, 1]))
    spill.add(1, ae(["C"], [1]))
    with pytest.raises(MappingError, match=r"AE: 2 records share key values"):
        list(spill.frames("AE"))


def test_parts_with_other_variables_disagree(tmp_path):
    spill = Spill(tmp_path)
    spill.add(0, ae(["A"], [1]))
    other = ae(["B"], [1])
    other.variables = VARIABLES[:3]
    other.frame = other.frame.drop(columns="AETERM")
    with pytest.raises(PartsDisagree, match="AE: part 2 has other variables"):
        spill.add(1, other)


def test_a_template_keeps_the_types_but_none_of_the_records_memory():
    frame = pd.DataFrame(
        {
            "USUBJID": pd.array(["S1", "S2"] * 50_000, dtype=pd.StringDtype("pyarrow")),
            "AESEQ": [1.0, 2.0] * 50_000,
            "X": ["a", "b"] * 50_000,
        }
    )
    empty = no_records(frame)
    assert list(empty.columns) == ["USUBJID", "AESEQ", "X"]
    assert list(empty.dtypes) == list(frame.dtypes)
    assert len(empty) == 0
    held = empty["USUBJID"].array._pa_array  # an empty slice would hold 100,000 values
    assert sum(b.size for c in held.chunks for b in c.buffers() if b is not None) < 64
