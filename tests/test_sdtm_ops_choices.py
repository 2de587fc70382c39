"""Several raw columns to one value (cdisc_mapper.sdtm.ops.choices): one_hot (RACE
MULTIPLE and SUPPDM RACE1..n, SDTMIG 3.4 DM assumption 6) and best_of (the best FVC
effort of a visit)."""

from __future__ import annotations

import pytest

from cdisc_mapper.errors import MappingError
from tests.sdtm_ops_helpers import make_ctx, raw_form, run_op, values

RACES = {
    "Race_Asian": "ASIAN",
    "Race_Black_African_American": "BLACK OR AFRICAN AMERICAN",
    "Race_Caucasian": "WHITE",
}
FLAGS = [["1", "", ""], ["", "", "1"], ["1", "", "1"], ["", "", ""], ["1", "YES", "x"]]


def _race(rows: list[list[str]], **args: object) -> list:
    raw = raw_form("Demographics.csv", list(RACES), *rows)
    ctx = make_ctx("DM", "RACE", raw=raw)
    return values(run_op("one_hot", {"columns": RACES, **args}, ctx=ctx))


def test_one_race_set_is_that_race_several_are_multiple() -> None:
    assert _race(FLAGS) == ["ASIAN", "WHITE", "MULTIPLE", "", "MULTIPLE"]


def test_nth_race_of_a_subject_with_several_for_suppdm() -> None:
    assert _race(FLAGS, nth=1) == ["", "", "ASIAN", "", "ASIAN"]
    assert _race(FLAGS, nth=2) == ["", "", "WHITE", "", "BLACK OR AFRICAN AMERICAN"]
    assert _race(FLAGS, nth=3) == ["", "", "", "", "WHITE"]


def test_unset_values_count_as_not_set() -> None:
    assert _race([["0", "No", "1"]]) == ["WHITE"]


def test_a_flag_neither_set_nor_unset_names_its_records() -> None:
    with pytest.raises(MappingError) as err:
        _race([["1", "", ""], ["maybe", "", ""]])
    msg = str(err.value)
    assert msg.startswith("DM.RACE: raw Race_Asian: a flag that is neither set")
    assert "in 1 record(s): Demographics.csv row 3: 'maybe'" in msg


def _best(rows: list[list[str]], pick: str = "max") -> list:
    columns = ["Trial_1", "Trial_2", "Trial_3"]
    raw = raw_form("Fvc.csv", columns, *rows)
    ctx = make_ctx("RE", "REORRES", raw=raw)
    return values(run_op("best_of", {"columns": columns, "pick": pick}, ctx=ctx))


def test_best_of_is_the_largest_effort_as_written() -> None:
    rows = [["3.30", "4.32", "2.53"], ["2.9", "", "3.05"], ["", "", ""], ["4", "4.0", "3"]]
    assert _best(rows) == ["4.32", "3.05", "", "4"]  # a tie keeps the first effort
    assert _best(rows, pick="min") == ["2.53", "2.9", "", "3"]


def test_best_of_a_result_that_is_no_number_names_its_records() -> None:
    with pytest.raises(MappingError) as err:
        _best([["3.1", "2.2", "1.0"], ["3.1", "<1", "2"]])
    msg = str(err.value)
    assert "raw Trial_2: an effort's result that is not a number" in msg
    assert "Fvc.csv row 3: '<1'" in msg
