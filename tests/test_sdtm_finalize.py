"""Shaping a working frame into a dataset (:func:`cdisc_mapper.sdtm.finalize.finalize`):
typed columns, sorted once by the typed keys, text in Arrow."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_mapper.sdtm.finalize import finalize
from cdisc_mapper.sdtm.ops.identifiers import make_usubjid
from cdisc_mapper.standards import load_sdtmig

KEYS = ["STUDYID", "USUBJID", "VSTESTCD", "VISITNUM"]


def _working() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": "ST",
            "DOMAIN": "VS",
            "USUBJID": pd.Series(["S2", "S1", "S1", "S1", None], dtype=object),
            "VSSEQ": [1.0, 3.0, 2.0, 1.0, 1.0],
            "VSTESTCD": ["HR", "HR", "HR", "BP", "HR"],  # Arrow text
            "VSTEST": ["Heart Rate", "Heart Rate", "Heart Rate", "Blood Pressure", "Heart Rate"],
            # numbers as text sort as numbers once typed: 9 before 10
            "VISITNUM": pd.Series(["10", "9", "10", "10", "1"], dtype=object),
            "VSORRES": pd.Series(["70", np.nan, "72", "120", "60"], dtype=object),
            "_SRC": "vitals.csv",
            "_ROW": [2, 3, 4, 5, 6],
        }
    )


def test_records_sorted_by_typed_keys_with_their_origin() -> None:
    main, supp = finalize("VS", _working(), load_sdtmig(), KEYS)
    assert supp is None
    out = main.frame
    # missing USUBJID is "" once typed: first; then S1 BP, S1 HR 9, S1 HR 10, S2 HR 10
    assert out["USUBJID"].tolist() == ["", "S1", "S1", "S1", "S2"]
    assert out["VSTESTCD"].tolist() == ["HR", "BP", "HR", "HR", "HR"]
    assert out["VISITNUM"].tolist() == [1.0, 10.0, 9.0, 10.0, 10.0]
    assert out["VSORRES"].tolist() == ["60", "120", "", "72", "70"]
    assert main.origin is not None
    assert main.origin["_ROW"].tolist() == [6, 5, 3, 4, 2]
    assert out.index.equals(pd.RangeIndex(5))
    for name in ("USUBJID", "VSTESTCD", "VSORRES"):
        assert isinstance(out[name].dtype, pd.StringDtype)
    assert out["VISITNUM"].dtype == np.float64


def test_make_usubjid_fills_the_template_per_record() -> None:
    index = pd.Index([4, 5, 6, 7])
    fields = {
        "SITEID": pd.Series(["01", "02", "01", "01"], index=index),
        "SUBJID": pd.Series(["7", "8", "7", "9"], index=index),
    }
    out = make_usubjid("ALS", fields, "{STUDYID}-{SITEID}-{SUBJID}")
    assert out.tolist() == ["ALS-01-7", "ALS-02-8", "ALS-01-7", "ALS-01-9"]
    assert out.index.equals(index)
    only_study = make_usubjid("ALS", fields, "X{STUDYID}")
    assert only_study.tolist() == ["XALS"] * 4
