"""Risk figures (cdisc_mapper.deid.risk) on a table counted by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_mapper.deid.risk import rare_values, risk_figures

# Classes on (AGE, SEX, RACE), counted by hand: (50 M WHITE) x2, (50 F WHITE) x1,
# (60 F ASIAN) x2, (61 F ASIAN) x1 -> 4 classes, smallest 1, 2 unique records of 6.
TABLE = pd.DataFrame(
    {
        "USUBJID": ["S1", "S2", "S3", "S4", "S5", "S6"],
        "AGE": [50.0, 50.0, 50.0, 60.0, 60.0, 61.0],
        "SEX": ["M", "M", "F", "F", "F", "F"],
        "RACE": ["WHITE", "WHITE", "WHITE", "ASIAN", "ASIAN", "ASIAN"],
    }
)


def test_k_anonymity_and_unique_share_on_three_quasi_identifiers() -> None:
    r = risk_figures(TABLE, "DM", ("AGE", "SEX", "RACE", "COUNTRY"))
    assert r.quasi_identifiers == ("AGE", "SEX", "RACE")  # COUNTRY is not in the table
    assert (r.records, r.classes, r.k_anonymity, r.unique_records) == (6, 4, 1, 2)
    assert r.unique_share == 2 / 6


def test_fewer_quasi_identifiers_give_larger_classes() -> None:
    # (M WHITE) x2, (F WHITE) x1, (F ASIAN) x3
    r = risk_figures(TABLE, "DM", ("SEX", "RACE"))
    assert (r.classes, r.k_anonymity, r.unique_records) == (3, 1, 1)
    # WHITE x3, ASIAN x3: 3-anonymous, nobody unique
    r = risk_figures(TABLE, "DM", ("RACE",))
    assert (r.classes, r.k_anonymity, r.unique_records, r.unique_share) == (2, 3, 0, 0.0)


def test_a_missing_value_is_a_value_of_its_own() -> None:
    table = TABLE.assign(AGE=[50.0, np.nan, 50.0, 60.0, 60.0, 61.0])
    # (50 M WHITE) and (missing M WHITE) now apart: 5 classes, 4 unique (S1, S2, S3, S6)
    r = risk_figures(table, "DM", ("AGE", "SEX", "RACE"))
    assert (r.classes, r.unique_records) == (5, 4)


def test_rare_values_count_subjects_not_records() -> None:
    doubled = pd.concat([TABLE, TABLE.iloc[:1]])  # S1 twice: still 3 WHITE subjects
    assert rare_values(doubled, "RACE", 3) == set()
    assert rare_values(doubled, "RACE", 4) == {"WHITE", "ASIAN"}
    assert rare_values(doubled, "SEX", 3) == {"M"}
    assert rare_values(doubled, "ETHNIC", 3) == set()
