"""cdisc_mapper.adam.ops.computed: ``derive: compute`` and the ``derived_parameter``
record builder.

Small input records -> expected records, through the registries, on the in-memory study
of tests/adam_ops_context.py; expected values by hand or from admiral's published tests
(compute_bmi, compute_map, compute_bsa); and a small ADVS spec built end to end (VS
findings + MAP + BMI), whose derived records get their variables like the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from cdisc_mapper.adam import load_adam_specs
from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.engine import build_all
from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS
from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.spec.operations import ColumnMeta
from tests.adam_ops_context import (
    CONVENTIONS,
    MemorySdtm,
    adsl,
    assert_table,
    build,
    col,
    columns,
    context,
    day,
    derive,
    dm,
    ex,
    meta,
    reported_line,
    study_with,
    tbl,
)


# --------------------------------------------------------------------------- compute
def test_compute_date_difference_and_missing() -> None:
    """LDDTHELD = DTHDT - TRTEDT (days from last dose to death); missing when a date is."""
    frame = tbl(
        "USUBJID TRTEDT DTHDT",
        ("S1", day("2014-03-27"), day("2014-06-30")),
        ("S2", day("2014-03-27"), None),
        ("S3", None, day("2014-06-30")),
    )
    out = derive("compute", frame, context(), formula="DTHDT - TRTEDT")
    pd.testing.assert_series_equal(out, col(95, None, None), check_names=False)


def test_compute_age_in_whole_years_and_adsl_variables_in_bds() -> None:
    """AAGE = whole_years(BRTHDT, RFICDT), as admiral's derive_vars_aage (completed
    years); in a BDS dataset a formula reads ADSL variables for the record's subject."""
    frame = tbl(
        "USUBJID BRTHDT RFICDT",
        ("S1", day("1950-05-17"), day("2014-05-16")),
        ("S2", day("1950-05-17"), day("2014-05-17")),
        ("S3", day("2000-02-29"), day("2001-02-28")),
    )
    aage = derive("compute", frame, context(), formula="whole_years(BRTHDT, RFICDT)")
    pd.testing.assert_series_equal(aage, col(63, 64, 0), check_names=False)
    advs = tbl("USUBJID ADT", ("S1", day("2020-02-11")), ("S3", day("2020-01-01")))
    ady = derive("compute", advs, context("ADVS"), formula="ADT - TRTSDT + 1")
    pd.testing.assert_series_equal(ady, col(11, None), check_names=False)


def test_compute_uses_the_conventions_month_length() -> None:
    frame = tbl("USUBJID A B", ("S1", 0, 60))
    conv = {**CONVENTIONS, "month_days": 30}
    out = derive("compute", frame, context(conventions=conv), formula="months(A, B)")
    pd.testing.assert_series_equal(out, col(2), check_names=False)
    assert meta("compute", context(conventions=conv), formula="months(A, B)") == ColumnMeta(
        origin="Derived",
        method="months(A, B); where months(start, end) is (end - start) / 30 between two "
        "dates. Missing when any value it uses is missing or it has no real value.",
        type="Num",
    )


def test_compute_meta_and_date_results() -> None:
    assert meta("compute", None, formula="TRTSDT+27", date=True) == ColumnMeta(
        origin="Derived",
        method="TRTSDT + 27. Missing when any value it uses is missing or it has no real value.",
        type="Num",
        date=True,
    )


def test_compute_errors() -> None:
    with pytest.raises(MappingError, match=r"ADSL: the formula uses SAFFL, which is text \(e.g."):
        derive("compute", adsl(), context(), formula="SAFFL + 1")
    with pytest.raises(ValueError, match="unexpected '\\*' at column 9"):
        derive("compute", adsl(), context(), formula="SYSBP + * DIABP")
    op = DERIVATIONS.require("compute")
    assert op.args_model.model_validate({"formula": "A + whole_years(B, C)"}).inputs() == {
        "A",
        "B",
        "C",
    }


def test_compute_formula_errors_point_at_the_spec_line(tmp_path: Path) -> None:
    """A formula that cannot be read is a spec error at its line naming the column; a name
    that is no variable is reported when the specs are loaded."""
    old = "  AVAL: {}\n"
    bad = '  AVAL: {}\n  XMAP: {derive: compute, formula: "SYSBP + * DIABP", label: "M"}\n'
    study, line = study_with(tmp_path / "a", "advs.yaml", old, bad)
    with pytest.raises(SpecError) as info:
        load_adam_specs(study)
    msg = str(info.value)
    assert reported_line(msg, "advs.yaml") == line + 1
    assert "formula 'SYSBP + * DIABP': unexpected '*' at column 9" in msg
    unknown = '  AVAL: {}\n  XMAP: {derive: compute, formula: "AVAL / BASEX", label: "M"}\n'
    study, line = study_with(tmp_path / "b", "advs.yaml", old, unknown)
    with pytest.raises(SpecError) as info:
        load_adam_specs(study)
    msg = str(info.value)
    assert reported_line(msg, "advs.yaml") == line + 1
    assert "XMAP: uses BASEX, which is neither a record column nor one of the variables" in msg


# --------------------------------------------------------------------------- derived parameter
VS = tbl(
    "USUBJID VISITNUM _DTC PARAMCD PARAM PARAMN AVAL SRCSEQ DTYPE",
    ("S1", 1, "2020-01-01", "SYSBP", "Systolic", 1, 121, 1, ""),
    ("S1", 1, "2020-01-01", "DIABP", "Diastolic", 2, 51, 2, ""),
    ("S1", 1, "2020-01-01", "PULSE", "Pulse", 3, 59, 3, ""),
    ("S1", 1, "2020-01-01", "HEIGHT", "Height", 4, 180, 4, ""),
    ("S1", 1, "2020-01-01", "WEIGHT", "Weight", 5, 75, 5, ""),
    ("S1", 2, "2020-02-01", "SYSBP", "Systolic", 1, 141, 6, ""),
    ("S1", 2, "2020-02-01", "DIABP", "Diastolic", 2, 61, 7, ""),
    ("S1", 2, "2020-02-01", "WEIGHT", "Weight", 5, 100, 8, ""),
    ("S1", 3, "2020-03-01", "SYSBP", "Systolic", 1, 130, 9, ""),  # no DIABP
    ("S2", 1, "2020-01-10", "SYSBP", "Systolic", 1, 120, 1, ""),
    ("S2", 1, "2020-01-10", "DIABP", "Diastolic", 2, None, 2, ""),  # no value
    ("S2", 1, "2020-01-10", "WEIGHT", "Weight", 5, 60, 3, ""),  # S2 has no HEIGHT
)  # fmt: skip
MAP = {"paramcd": "MAP", "param": "Mean Arterial Pressure (mmHg)", "paramn": 8}


def added(*rows: tuple[object, ...]) -> pd.DataFrame:
    """The records a derived parameter adds (VS's columns; blank where not made)."""
    return tbl("USUBJID VISITNUM _DTC PARAMCD PARAM PARAMN AVAL SRCSEQ DTYPE", *rows)


def test_derived_parameter_one_record_per_time_point_with_every_value() -> None:
    """admiral's derive_param_computed (compute_map's published values 74.333, 87.667):
    one record per subject and by group where every parameter of the formula has a value;
    the by columns are copied, SRCSEQ and DTYPE blank (a new parameter, ADaMIG v1.3
    section 4.2)."""
    args = {**MAP, "formula": "round((2 * DIABP + SYSBP) / 3, 3)"}
    out = build("derived_parameter", VS, context("ADVS"), **args)
    expected = added(
        ("S1", 1, "2020-01-01", "MAP", MAP["param"], 8, 74.333, None, ""),
        ("S1", 2, "2020-02-01", "MAP", MAP["param"], 8, 87.667, None, ""),
    )
    assert_table(out, pd.concat([VS, expected], ignore_index=True))


def test_derived_parameter_map_from_pulse_as_admiral() -> None:
    """compute_map with heart rate: DBP + 0.01 exp(4.14 - 40.74 / HR) (SBP - DBP); 73.039."""
    args = {
        **MAP,
        "formula": "round(DIABP + 0.01 * exp(4.14 - 40.74 / PULSE) * (SYSBP - DIABP), 3)",
    }
    out = build("derived_parameter", VS, context("ADVS"), **args)
    assert out.iloc[len(VS) :]["AVAL"].tolist() == [73.039]


def test_derived_parameter_constant_parameter_height() -> None:
    """BMI = WEIGHT / (HEIGHT / 100) ** 2 with HEIGHT measured once per subject (admiral's
    constant_parameters; compute_bmi's published 23.148 and 25): every WEIGHT of S1 gets a
    BMI; S2 has no HEIGHT, so no BMI."""
    args = {
        "paramcd": "BMI",
        "param": "Body Mass Index (kg/m2)",
        "paramn": 9,
        "formula": "round(WEIGHT / (HEIGHT / 100) ** 2, 3)",
        "constant_parameters": ["HEIGHT"],
    }
    vs = VS.copy()
    vs.loc[vs["PARAMCD"].eq("WEIGHT") & vs["VISITNUM"].eq(2), "AVAL"] = 81
    out = build("derived_parameter", vs, context("ADVS"), **args)
    expected = added(
        ("S1", 1, "2020-01-01", "BMI", args["param"], 9, 23.148, None, ""),
        ("S1", 2, "2020-02-01", "BMI", args["param"], 9, 25.0, None, ""),
    )
    assert_table(out, pd.concat([vs, expected], ignore_index=True))


def test_derived_parameter_where_and_keep_missing() -> None:
    """``where`` chooses the records read (here: not the AVERAGE record); keep_missing
    keeps a record whose formula has no value (a division by 0)."""
    frame = tbl(
        "USUBJID VISITNUM _DTC PARAMCD AVAL DTYPE",
        ("S1", 1, "2020-01-01", "A", 4, ""),
        ("S1", 1, "2020-01-01", "A", 9, "AVERAGE"),
        ("S1", 1, "2020-01-01", "B", 2, ""),
        ("S1", 2, "2020-02-01", "A", 1, ""),
        ("S1", 2, "2020-02-01", "B", 0, ""),
    )
    args = {"paramcd": "R", "param": "A/B", "paramn": 3, "formula": "A / B"}
    observed = {"variable": "DTYPE", "present": False}
    out = build("derived_parameter", frame, context("ADVS"), **args, where=observed)
    assert out.iloc[5:][["VISITNUM", "AVAL"]].values.tolist() == [[1.0, 2.0]]
    out = build(
        "derived_parameter", frame, context("ADVS"), **args, where=observed, keep_missing=True
    )
    assert out.iloc[5:]["AVAL"].tolist()[0] == 2.0
    assert pd.isna(out.iloc[6]["AVAL"])
    with pytest.raises(MappingError, match="A has several records in 1 group"):
        build("derived_parameter", frame, context("ADVS"), **args)


def test_derived_parameter_duplicates_are_an_error_listing_them() -> None:
    twice = pd.concat([VS, VS.iloc[[0, 5]]], ignore_index=True)
    with pytest.raises(MappingError) as info:
        build("derived_parameter", twice, context("ADVS"), **MAP, formula="SYSBP + DIABP")
    assert (
        "ADVS: derived parameter MAP: SYSBP has several records in 2 group(s): USUBJID S1, "
        "VISITNUM 1, _DTC 2020-01-01; USUBJID S1, VISITNUM 2, _DTC 2020-02-01"
    ) in str(info.value)
    assert "add to 'by' the columns that tell them apart" in str(info.value)
    heights = pd.concat([VS, VS.iloc[[3]].assign(VISITNUM=2.0)], ignore_index=True)
    with pytest.raises(MappingError, match=r"HEIGHT has several records in 1 group.*USUBJID S1"):
        build(
            "derived_parameter",
            heights,
            context("ADVS"),
            **MAP,
            formula="WEIGHT / HEIGHT",
            constant_parameters=["HEIGHT"],
        )


def test_derived_parameter_by_must_name_record_columns() -> None:
    with pytest.raises(MappingError) as info:
        build("derived_parameter", VS, context("ADVS"), **MAP, formula="SYSBP", by=["ADT"])
    assert "the records have no column ADT (they have: USUBJID, VISITNUM, _DTC," in str(info.value)
    assert "record steps run before the variables" in str(info.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"formula": "MAP + 1"}, "MAP cannot be computed from itself"),
        ({"formula": "A", "constant_parameters": ["H"]}, "constant_parameters: H not in the"),
        ({"formula": "H * 2", "constant_parameters": ["H"]}, "names only constant parameters"),
        ({"formula": "A", "by": ["PARAMCD"]}, "by: PARAMCD cannot group"),
        ({"formula": "A", "constant_by": ["VISIT"]}, "constant_by: VISIT is not USUBJID or"),
        ({"formula": "A + * B"}, "unexpected '\\*' at column 5"),
    ],
)
def test_derived_parameter_argument_errors(args: dict[str, object], message: str) -> None:
    op = RECORD_BUILDERS.require("derived_parameter")
    with pytest.raises(ValueError, match=message):
        op.args_model.model_validate({**MAP, **args})


def test_derived_parameter_columns_metadata() -> None:
    args = {
        "paramcd": "BMI",
        "param": "BMI",
        "paramn": 9,
        "formula": "WEIGHT/(HEIGHT/100)**2",
        "constant_parameters": ["HEIGHT"],
    }
    assert columns("derived_parameter", **args) == {
        "AVAL": ColumnMeta(
            origin="Derived",
            type="Num",
            value_level=(
                (
                    "PARAMCD",
                    "BMI",
                    "Derived",
                    None,
                    "WEIGHT / (HEIGHT / 100) ** 2, where WEIGHT is the AVAL of the "
                    "parameter's record with the same USUBJID, VISITNUM, _DTC and HEIGHT is "
                    "the AVAL of the parameter's record with the same USUBJID; one record per "
                    "USUBJID, VISITNUM, _DTC where each has a value and the formula has a "
                    "value.",
                ),
            ),
        )
    }
    op = RECORD_BUILDERS.require("derived_parameter")
    assert not op.first and op.later
    parsed = op.args_model.model_validate(
        {**args, "where": {"variable": "DTYPE", "present": False}}
    )
    assert parsed.inputs() == {"USUBJID", "VISITNUM", "_DTC", "PARAMCD", "AVAL", "DTYPE"}


# --------------------------------------------------------------------------- end to end
ADSL_SPEC = {
    "dataset": "ADSL",
    "label": "Subject-Level Analysis Dataset",
    "structure": "ADSL",
    "keys": ["USUBJID"],
    "records": [{"op": "subjects"}],
    "variables": {"USUBJID": {}, "AGE": {"derive": "value", "source": "DM.AGE"}},
}
PARAMETERS = [
    {"paramcd": c, "param": p, "paramn": i + 1, "tests": [c]}
    for i, (c, p) in enumerate(
        [
            ("SYSBP", "Systolic Blood Pressure (mmHg)"),
            ("DIABP", "Diastolic Blood Pressure (mmHg)"),
            ("HEIGHT", "Height (cm)"),
            ("WEIGHT", "Weight (kg)"),
        ]
    )
]
ADVS_SPEC = {
    "dataset": "ADVS",
    "label": "Vital Signs Analysis Dataset",
    "structure": "BDS",
    "keys": ["USUBJID", "PARAMCD", "ADT"],
    "records": [
        {
            "op": "findings",
            "domain": "VS",
            "test": "VSTESTCD",
            "value": "VSSTRESN",
            "dtc": "VSDTC",
            "seq": "VSSEQ",
            "keep": ["VISITNUM"],
            "parameters": PARAMETERS,
        },
        {
            "op": "derived_parameter",
            **MAP,
            "formula": "(SYSBP + 2 * DIABP) / 3",
            "by": ["VISITNUM", "_DTC"],
        },
        {
            "op": "derived_parameter",
            "paramcd": "BMI",
            "param": "Body Mass Index (kg/m2)",
            "paramn": 9,
            "formula": "WEIGHT / (HEIGHT / 100) ** 2",
            "constant_parameters": ["HEIGHT"],
        },
    ],
    "variables": {
        "USUBJID": {},
        "PARAMCD": {},
        "PARAM": {},
        "PARAMN": {},
        "ADT": {"derive": "date", "source": "_DTC"},
        "AVAL": {},
        "AGE": {"derive": "value", "source": "ADSL.AGE"},
        "VISITNUM": {},
        "SRCSEQ": {},
    },
}


class _Sdtm(MemorySdtm):
    """The in-memory SDTM as the whole engine reads it (no XPT files: nothing declared)."""

    def declared(self, domain: str, variable: str) -> None:
        return None

    def release(self, domain: str) -> None:
        return None


def _vs() -> pd.DataFrame:
    return tbl(
        "USUBJID VSSEQ VSTESTCD VSSTRESN VSDTC VISITNUM",
        ("S1", 1, "HEIGHT", 180, "2020-01-01", 1),
        ("S1", 2, "WEIGHT", 81, "2020-01-01", 1),
        ("S1", 3, "SYSBP", 120, "2020-01-01", 1),
        ("S1", 4, "DIABP", 81, "2020-01-01", 1),
        ("S1", 5, "WEIGHT", 72.9, "2020-02-01", 2),
        ("S1", 6, "SYSBP", 130, "2020-02-01", 2),
        ("S2", 1, "SYSBP", 110, "2020-01-10", 1),
        ("S2", 2, "DIABP", 80, "2020-01-10", 1),
        ("S2", 3, "WEIGHT", 60, "2020-01-10", 1),
    )


def _study(root: Path, advs: dict[str, Any]) -> Path:
    folder = root / "adam"
    folder.mkdir(parents=True)
    (folder / "conventions.yaml").write_text(yaml.safe_dump(CONVENTIONS))
    (folder / "adsl.yaml").write_text(yaml.safe_dump(ADSL_SPEC))
    (folder / "advs.yaml").write_text(yaml.safe_dump(advs, sort_keys=False))
    return root


def test_derived_parameters_flow_through_the_dataset_variables(tmp_path: Path) -> None:
    """ADVS from VS findings plus MAP and BMI records: the derived records get ADT, AGE
    and the other variables as the findings records do; sorted by the keys."""
    specs = load_adam_specs(_study(tmp_path, ADVS_SPEC))
    sdtm = _Sdtm({"DM": dm(), "EX": ex(), "VS": _vs()})
    ctx = BuildContext(specs=specs, sdtm=sdtm)
    out = build_all(ctx, lambda _: None)["ADVS"].frame
    got = out[["USUBJID", "PARAMCD", "ADT", "AVAL", "AGE", "SRCSEQ"]]
    jan1, feb1, jan10 = day("2020-01-01"), day("2020-02-01"), day("2020-01-10")
    expected = tbl(
        "USUBJID PARAMCD ADT AVAL AGE SRCSEQ",
        ("S1", "BMI", jan1, 25, 61, None),
        ("S1", "BMI", feb1, 22.5, 61, None),
        ("S1", "DIABP", jan1, 81, 61, 4),
        ("S1", "HEIGHT", jan1, 180, 61, 1),
        ("S1", "MAP", jan1, 94, 61, None),
        ("S1", "SYSBP", jan1, 120, 61, 3),
        ("S1", "SYSBP", feb1, 130, 61, 6),
        ("S1", "WEIGHT", jan1, 81, 61, 2),
        ("S1", "WEIGHT", feb1, 72.9, 61, 5),
        ("S2", "DIABP", jan10, 80, 49, 2),
        ("S2", "MAP", jan10, 90, 49, None),
        ("S2", "SYSBP", jan10, 110, 49, 1),
        ("S2", "WEIGHT", jan10, 60, 49, 3),
    )
    assert_table(got.round(9), expected)
    params = dict(zip(out["PARAMCD"], out["PARAM"], strict=True))
    assert params["MAP"] == "Mean Arterial Pressure (mmHg)"
    assert params["BMI"] == "Body Mass Index (kg/m2)"


def test_a_parameter_no_earlier_step_makes_is_a_spec_error(tmp_path: Path) -> None:
    """The formula's names are PARAMCD values of earlier steps' records, checked when the
    specs are loaded (a misspelt DIABP would otherwise make no records)."""
    steps = [*ADVS_SPEC["records"]]
    steps[1] = {**steps[1], "formula": "(SYSBP + 2 * DIAPB) / 3"}
    with pytest.raises(SpecError) as info:
        load_adam_specs(_study(tmp_path, {**ADVS_SPEC, "records": steps}))
    msg = str(info.value)
    assert "advs.yaml:" in msg
    assert (
        "records[1]: no earlier step makes the parameter(s) DIAPB (made: DIABP, HEIGHT, "
        "SYSBP, WEIGHT)" in msg
    )
    # a derived parameter may use an earlier one
    steps = [*ADVS_SPEC["records"]]
    steps[2] = {**steps[2], "formula": "MAP * WEIGHT / (HEIGHT / 100) ** 2"}
    load_adam_specs(_study(tmp_path / "ok", {**ADVS_SPEC, "records": steps}))
