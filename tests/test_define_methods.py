"""Methods as define.xml says them: operation templates filled into sentences (optional
parts, case lists) and one MethodDef per text shared by every variable it serves."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc_mapper.condition import Condition
from cdisc_mapper.define.describe_common import operation_text, resolve_optional
from cdisc_mapper.define.methods import share_methods
from cdisc_mapper.define.model import (
    DatasetDef,
    DefineModel,
    ItemDef,
    ItemRef,
    Method,
    ValueList,
)
from cdisc_mapper.sdtm import OPERATIONS

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- templates
def _args(op: str, **values):
    return OPERATIONS.require(op).args_model.model_validate(values)


def test_optional_parts_follow_the_arguments_given():
    by_column = _args("map", column="SEV", values={"Mild": "MILD"})
    by_variable = _args("map", variable="AESEV", values={"Mild": "MILD"}, default="OTHER")
    template = OPERATIONS.require("map").method
    assert operation_text(template, by_column, frozenset()) == (
        "Raw SEV recoded: 'Mild' -> 'MILD'.",
        "",
    )
    assert operation_text(template, by_variable, frozenset({"AESEV"}))[0] == (
        "AESEV recoded: 'Mild' -> 'MILD'; any other value: 'OTHER'."
    )
    kept = _args("map", column="SEV", values={"Mild": "MILD"}, keep_unlisted=True)
    assert operation_text(template, kept, frozenset())[0] == (
        "Raw SEV recoded: 'Mild' -> 'MILD'; values not listed are kept as they are."
    )


def test_a_part_naming_two_arguments_needs_both():
    args = _args("subject_first", domain="EX", variable="EXSTDTC")
    assert resolve_optional("A[ {domain} and {where}] B", args) == "A B"
    assert resolve_optional("A[ {domain} {variable}] B", args) == "A {domain} {variable} B"


def test_a_case_list_reads_if_then_otherwise_and_a_flag_its_value():
    cases = _args(
        "case",
        cases=[{"when": {"variable": "RFXSTDTC", "empty": False}, "value": "MSC"}],
        default="",
    )
    text, detail = operation_text(OPERATIONS.require("case").method, cases, frozenset())
    assert (text, detail) == ("If RFXSTDTC is not empty then 'MSC'; otherwise ''.", "")
    flag = _args("flag", when=Condition.model_validate({"variable": "ONGOING", "equals": "Yes"}))
    assert operation_text(OPERATIONS.require("flag").method, flag, frozenset())[0] == (
        "'Y' when ONGOING = 'Yes'; otherwise null."
    )


def test_study_day_names_its_dates():
    args = _args("study_day", dtc="AESTDTC")
    assert operation_text(OPERATIONS.require("study_day").method, args, frozenset())[0] == (
        "Study day of AESTDTC: AESTDTC - DM.RFSTDTC + 1 when on or after DM.RFSTDTC, else "
        "AESTDTC - DM.RFSTDTC (no day 0); null when either date is partial (SDTMIG 3.4 "
        "section 4.4.4)."
    )


@pytest.mark.parametrize("name", OPERATIONS.names())
def test_no_template_points_at_an_internal_file(name):
    method = OPERATIONS.require(name).method
    assert ".yaml" not in method and ".py" not in method, name


# --------------------------------------------------------------------------- sharing
def _model() -> DefineModel:
    return DefineModel(
        which="sdtm", file_oid="F", study_oid="S", study_name="S", study_description="S",
        protocol_name="P", mdv_oid="M", mdv_name="M", mdv_description="M",
        creation_datetime="2000-01-01T00:00:00", originator="o", source_system_version="0",
    )  # fmt: skip


def _dataset(model: DefineModel, name: str, methods: dict[str, str]) -> DatasetDef:
    ds = DatasetDef(
        oid=f"IG.{name}", name=name, domain=name, label=name, structure="s", class_="c",
        purpose="Tabulation", repeating=True, reference_data=False, standard_oid="STD",
        href=f"{name.lower()}.xpt",
    )  # fmt: skip
    for order, (var, text) in enumerate(methods.items(), start=1):
        item = model.add_item(
            ItemDef(oid=f"IT.{name}.{var}", name=var, label=var, data_type="text")
        )
        oid = f"MT.{name}.{var}"
        model.methods[oid] = Method(
            oid=oid, name=f"Algorithm to derive {name}.{var}", description=text
        )
        ds.item_refs.append(
            ItemRef(item_oid=item.oid, order=order, mandatory=False, method_oid=oid)
        )
    model.datasets.append(ds)
    return ds


def test_variables_with_the_same_text_share_one_method_named_from_them():
    model = _model()
    ae = _dataset(model, "AE", {"USUBJID": "Template.", "AESTDY": "Day of AESTDTC."})
    cm = _dataset(model, "CM", {"USUBJID": "Template.", "CMSTDY": "Day of CMSTDTC."})
    share_methods(model, set(model.methods))
    assert sorted(model.methods) == ["MT.AE.AESTDY", "MT.CM.CMSTDY", "MT.USUBJID"]
    shared = model.methods["MT.USUBJID"]
    assert (shared.name, shared.description) == ("Algorithm to derive USUBJID", "Template.")
    assert ae.item_refs[0].method_oid == cm.item_refs[0].method_oid == "MT.USUBJID"
    assert ae.item_refs[1].method_oid == "MT.AE.AESTDY"


def test_a_pair_of_variables_shares_one_method_over_datasets_and_value_levels():
    model = _model()
    text = "AVISIT (and its number AVISITN) is the analysis window containing ADT."
    adqs = _dataset(model, "ADQS", {"AVISIT": text, "AVISITN": text})
    advs = _dataset(model, "ADVS", {"AVISITN": text, "PARAMCD": "Given."})
    # a value-level item of ADVS.AVAL with the same text
    parent = model.add_item(ItemDef(oid="IT.ADVS.AVAL", name="AVAL", label="A", data_type="float"))
    parent.valuelist_oid = "VL.ADVS.AVAL"
    level = model.add_item(ItemDef(oid="IT.ADVS.AVAL.X", name="AVAL", label="A", data_type="float"))
    model.methods["MT.ADVS.AVAL.X"] = Method(oid="MT.ADVS.AVAL.X", name="n", description=text)
    vl_ref = ItemRef(item_oid=level.oid, order=1, mandatory=True, method_oid="MT.ADVS.AVAL.X")
    model.value_lists["VL.ADVS.AVAL"] = ValueList(oid="VL.ADVS.AVAL", item_refs=[vl_ref])
    advs.item_refs.append(ItemRef(item_oid=parent.oid, order=3, mandatory=True))
    share_methods(model, set(model.methods))
    assert sorted(model.methods) == ["MT.ADVS.PARAMCD", "MT.AVAL.AVISIT.AVISITN"]
    assert (
        model.methods["MT.AVAL.AVISIT.AVISITN"].name == "Algorithm to derive AVAL, AVISIT, AVISITN"
    )
    refs = [*adqs.item_refs, advs.item_refs[0], vl_ref]
    assert {r.method_oid for r in refs} == {"MT.AVAL.AVISIT.AVISITN"}


def test_named_methods_keep_their_oid_and_a_taken_oid_falls_back_to_the_first_user():
    model = _model()
    _dataset(model, "AE", {"AGE": "Years.", "USUBJID": "Template."})
    _dataset(model, "DM", {"AGE": "Years.", "USUBJID": "Template."})
    model.methods["MT.AGE"] = Method(oid="MT.AGE", name="named", description="Other.")
    generated = set(model.methods) - {"MT.AGE"}
    share_methods(model, generated)
    # MT.AGE is the spec's named method: the shared AGE method takes its first user's OID
    assert model.methods["MT.AGE"].description == "Other."
    assert model.methods["MT.AE.AGE"].description == "Years."
    assert model.methods["MT.AE.AGE"].name == "Algorithm to derive AGE"
    assert sorted(model.methods) == ["MT.AE.AGE", "MT.AGE", "MT.USUBJID"]


def test_the_same_text_with_another_type_is_not_shared():
    model = _model()
    _dataset(model, "AE", {"ASTDT": "Date."})
    _dataset(model, "CM", {"ASTDT": "Date."})
    model.methods["MT.CM.ASTDT"] = Method(
        oid="MT.CM.ASTDT", name="n", description="Date.", type="Imputation"
    )
    share_methods(model, set(model.methods))
    assert sorted(model.methods) == ["MT.AE.ASTDT", "MT.CM.ASTDT"]
