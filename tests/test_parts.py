"""Parts of the subjects (cdisc_mapper.parts): balanced ranges, membership, concatenation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_mapper.parts import balanced_starts, concat_parts, part_numbers


def test_starts_cut_the_sorted_subjects_at_equal_records():
    # records: A 3, B 1, C 2, D 2 (8): half (4) is reached after B, so C starts part 2
    counts = pd.Series([3, 1, 2, 2], index=["A", "B", "C", "D"])
    assert balanced_starts(counts, 2) == ["C"]
    # thirds: 8/3 = 2.7 reached at A (3) -> B starts; 5.3 reached at C (6) -> D starts
    assert balanced_starts(counts, 3) == ["B", "D"]


def test_more_parts_than_subjects_gives_one_subject_a_part():
    counts = pd.Series([1, 1], index=["S1", "S2"])
    assert balanced_starts(counts, 8) == ["S2"]


def test_one_subject_or_one_part_is_not_cut():
    assert balanced_starts(pd.Series([5], index=["S1"]), 4) == []
    assert balanced_starts(pd.Series([1, 1], index=["S1", "S2"]), 1) == []


def test_part_numbers_follow_the_starts_by_code_point_and_a_missing_id_is_blank():
    ids = pd.Series(["A", "C", "B", "a", "", None], dtype="str")
    # code points: "" < "A" < "B" < "C" < "a": parts [.., B) [B, a) [a, ..)
    assert part_numbers(ids, ["B", "a"]).tolist() == [0, 1, 1, 2, 0, 0]
    assert part_numbers(ids.astype(object), ["B", "a"]).tolist() == [0, 1, 1, 2, 0, 0]
    assert part_numbers(ids, []).tolist() == [0] * 6


def test_concat_keeps_part_order_and_skips_empty_parts():
    a = pd.DataFrame({"X": [1.0, 2.0]})
    empty = pd.DataFrame({"X": np.array([], dtype="float64")})
    b = pd.DataFrame({"X": [3.0]})
    assert concat_parts([a, empty, b])["X"].tolist() == [1.0, 2.0, 3.0]
    assert concat_parts([a, empty]) is a
    assert concat_parts([empty, empty]) is empty
