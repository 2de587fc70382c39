"""The stresc operation converts the bound of an inequality (SDTMIG 3.4 4.5.1.3)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from cdisc_mapper.sdtm.ops.results import StrescArgs, op_stresc
from cdisc_mapper.spec.study import UnitConversion


def _stresc(frame: pd.DataFrame, conversions: list[UnitConversion]) -> list[str]:
    ctx = SimpleNamespace(
        study=SimpleNamespace(units=SimpleNamespace(conversions=conversions)),
        domain="LB",
        variable="LBSTRESC",
        spec_where=None,
    )
    args = StrescArgs(orres="LBORRES", orresu="LBORRESU", stresu="LBSTRESU", testcd="LBTESTCD")
    return op_stresc(frame, args, ctx).tolist()


def test_stresc_op_converts_inequalities_to_the_standard_unit() -> None:
    # SDTMIG 3.4 4.5.1.3 example 1: <0.1 mg/dL bilirubin -> LBSTRESC <1.71 umol/L. The
    # operation converted plain numbers only and left '<0.1' (a mg/dL bound) as the
    # result in umol/L
    conversions = [
        UnitConversion(test="BILI", to="umol/L", factor=17.1, **{"from": "mg/dL"}),
        UnitConversion(to="g/L", factor=10, decimals=0, **{"from": "g/dL"}),
    ]
    frame = pd.DataFrame(
        {
            "LBTESTCD": ["BILI", "BILI", "BILI", "ALB", "CRP", "BILI"],
            "LBORRES": ["<0.1", "1.1", ">=2", "<3.46", "<5", "NOT DONE"],
            "LBORRESU": ["mg/dL", "mg/dL", "mg/dL", "g/dL", "mg/L", ""],
            "LBSTRESU": ["umol/L", "umol/L", "umol/L", "g/L", "mg/L", ""],
        },
        index=np.arange(6),
    )
    assert _stresc(frame, conversions) == ["<1.71", "18.81", ">=34.2", "<35", "<5", "NOT DONE"]
