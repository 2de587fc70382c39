"""cdisc_mapper.adam.engine (working variables): variables never written, the sort position of
missing key values (conventions ``missing_keys``) and the duplicate-key message; and the
spec loader's checks and messages for them (cdisc_mapper.spec.adam_loader)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cdisc_mapper.adam import adam_metadata, load_adam_specs
from cdisc_mapper.adam.engine import finish
from cdisc_mapper.adam.model import AdamVariable
from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.spec.adam import DatasetSpec
from tests.adam_ops_context import CONVENTIONS, context, day, reported_line, study_with, tbl

SAFFL = "  SAFFL: {derive: value, source: ADSL.SAFFL}\n"


def _advs_with(tmp_path: Path, extra: str) -> tuple[Path, int]:
    study, line = study_with(tmp_path, "advs.yaml", SAFFL, SAFFL + extra)
    return study, line + 1


# --------------------------------------------------------------------------- working variables
def test_working_variables_are_usable_but_not_described(tmp_path: Path) -> None:
    """A leading underscore or keep: false: derived for later derivations, but not in the
    dataset's define.xml metadata (nor, hence, its XPT); no label needed."""
    study, _ = _advs_with(
        tmp_path,
        "  _TRTSDT: {derive: value, source: ADSL.TRTSDT}\n"
        "  PREFL: {derive: flag, where: {variable: ADT, lt: {variable: _TRTSDT}}, keep: false}\n"
        "  PRETRTFL:\n"
        "    derive: flag\n"
        "    where: {variable: PREFL, equals: 'Y'}\n"
        "    label: Pre-treatment Record Flag\n",
    )
    specs = load_adam_specs(study)
    written = specs.datasets["ADVS"].written()
    assert "PRETRTFL" in written and "_TRTSDT" not in written and "PREFL" not in written
    names = [v.name for v in adam_metadata(specs)["ADVS"].variables]
    assert "PRETRTFL" in names and "_TRTSDT" not in names and "PREFL" not in names


def test_finish_writes_only_the_declared_variables() -> None:
    ctx = context("ADXX")
    ctx.specs.datasets["ADXX"] = _dataset(keys=["USUBJID", "ADT"])
    frame = tbl("USUBJID ADT _W", ("S2", day("2020-01-02"), 1.0), ("S1", day("2020-01-01"), 2.0))
    out = finish(ctx, "ADXX", frame, _variables())
    assert list(out.columns) == ["USUBJID", "ADT"]
    assert out["USUBJID"].tolist() == ["S1", "S2"]


def test_working_variable_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="key _W is a working variable"):
        DatasetSpec.model_validate(
            {**_dataset_data(keys=["USUBJID", "_W"]), "variables": {"USUBJID": {}, "_W": {}}}
        )
    with pytest.raises(ValueError, match="not a valid SAS V5 name"):
        DatasetSpec.model_validate({**_dataset_data(), "variables": {"USUBJID": {}, "_w": {}}})
    # another dataset's working variable is not kept: reading it is a spec error at its line
    study, _ = study_with(
        tmp_path,
        "adsl.yaml",
        "  RFICDT: {derive: date, source: DM.RFICDTC}\n",
        "  RFICDT: {derive: date, source: DM.RFICDTC}\n  _CONSENT: {derive: value, source: "
        "DM.RFICDTC}\n",
    )
    (study / "adam" / "advs.yaml").write_text(
        (study / "adam" / "advs.yaml")
        .read_text()
        .replace(SAFFL, SAFFL + "  XCONS: {derive: value, source: _CONSENT, label: Consent}\n")
    )
    with pytest.raises(SpecError) as err:
        load_adam_specs(study)
    assert "ADSL._CONSENT, a working variable of ADSL" in str(err.value)
    assert "advs.yaml" in str(err.value)


# --------------------------------------------------------------------------- sort and keys
def _dataset_data(keys: list[str] | None = None) -> dict[str, Any]:
    return {
        "dataset": "ADXX",
        "label": "Test",
        "structure": "BDS",
        "keys": keys or ["USUBJID"],
        "records": [{"op": "subjects"}],
        "variables": {"USUBJID": {}, "ADT": {}},
    }


def _dataset(keys: list[str]) -> DatasetSpec:
    return DatasetSpec.model_validate(_dataset_data(keys))


def _variables() -> list[AdamVariable]:
    return [
        AdamVariable(name="USUBJID", label="Subject", type="Char"),
        AdamVariable(name="ADT", label="Analysis Date", type="Num", format="DATE9."),
    ]


@pytest.mark.parametrize(
    ("missing_keys", "expected"),
    [("first", [np.nan, day("2020-01-01")]), ("last", [day("2020-01-01"), np.nan])],
)
def test_missing_keys_sort_first_or_last(missing_keys: str, expected: list[float]) -> None:
    """SAS sorts a missing key first (the default), R last (missing_keys: last)."""
    ctx = context("ADXX", conventions={**CONVENTIONS, "missing_keys": missing_keys})
    ctx.specs.datasets["ADXX"] = _dataset(keys=["USUBJID", "ADT"])
    frame = tbl("USUBJID ADT", ("S1", day("2020-01-01")), ("S1", None))
    out = finish(ctx, "ADXX", frame, _variables())
    np.testing.assert_array_equal(out["ADT"].to_numpy(), np.array(expected))
    # text keys too: a blank USUBJID (text null) goes first or last
    ctx.specs.datasets["ADXX"] = _dataset(keys=["USUBJID"])
    text = finish(ctx, "ADXX", tbl("USUBJID ADT", ("S1", 1.0), ("", 2.0)), _variables())
    assert text["USUBJID"].tolist() == (["", "S1"] if missing_keys == "first" else ["S1", ""])


def test_duplicate_keys_show_dates_as_iso_dates() -> None:
    ctx = context("ADXX")
    ctx.specs.datasets["ADXX"] = _dataset(keys=["USUBJID", "ADT"])
    frame = tbl("USUBJID ADT", ("S1", day("2014-01-02")), ("S1", day("2014-01-02")))
    with pytest.raises(MappingError) as err:
        finish(ctx, "ADXX", frame, _variables())
    text = str(err.value)
    assert "'ADT': '2014-01-02'" in text and "19" not in text.split("e.g.")[1]


# --------------------------------------------------------------------------- loader messages
def test_a_misspelt_sdtm_source_is_named_with_close_names(tmp_path: Path) -> None:
    """DM.RFICDT (for DM.RFICDTC): not "a sponsor variable needs a label"."""
    old = "  RFICDT: {derive: date, source: DM.RFICDTC}\n"
    study, line = study_with(
        tmp_path, "adsl.yaml", old, old + "  CONSENT: {derive: value, source: DM.RFICDT}\n"
    )
    with pytest.raises(SpecError) as err:
        load_adam_specs(study)
    text = str(err.value)
    assert "CONSENT: DM has no variable RFICDT" in text and "close: RFICDTC" in text
    assert "sponsor variable" not in text.split("(")[0]
    assert reported_line(text, "adsl.yaml") == line + 1
