"""How finished ADaM datasets are held (cdisc_mapper.adam.storage): text as pandas' str."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_mapper.adam.storage import compact_text


def test_text_columns_are_held_as_str_and_anything_else_as_it_is():
    frame = pd.DataFrame(
        {
            "T": pd.Series(["a", "", "bc"], dtype=object),
            "M": pd.Series(["a", 1, ""], dtype=object),  # not all text: the writer reports it
            "N": [1.0, np.nan, 2.0],
        }
    )
    out = compact_text(frame)
    assert out["T"].dtype == "str" and out["T"].tolist() == ["a", "", "bc"]
    assert out["M"].dtype == object and out["M"].tolist() == ["a", 1, ""]
    assert out["N"].dtype == "float64"
    assert frame["T"].dtype == object  # the given frame is left as it was
