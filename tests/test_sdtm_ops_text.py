"""cdisc_mapper/sdtm/ops/text.py: upper, lower, strip, squish, extract and replace; one
small table per rule and option, through the operation registry."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cdisc_mapper.errors import Location, MappingError, SpecError
from cdisc_mapper.sdtm import OPERATIONS
from tests.sdtm_ops_helpers import make_ctx, operations_of, raw_form, records, run_op, values

TEXT_OPS = ("upper", "lower", "strip", "squish", "extract", "replace")


def test_every_operation_of_text_py_is_tested_here() -> None:
    assert operations_of("text") == set(TEXT_OPS)


@pytest.mark.parametrize(
    ("name", "origin"),
    [
        ("upper", "Collected"),
        ("lower", "Collected"),
        ("strip", "Collected"),
        ("squish", "Collected"),
        ("extract", "Derived"),
        ("replace", "Derived"),
    ],
)
def test_registered_with_origin_and_traits(name, origin) -> None:
    op = OPERATIONS.require(name)
    assert (op.origin, op.raw, op.row_local, op.needs_all) == (origin, False, True, False)
    assert op.method.strip() != "" and op.example is not None


def text_op(name: str, *terms: str, **args) -> list:
    """``name`` of raw column TERM holding ``terms`` (ae.csv rows 2, 3, ...)."""
    raw = raw_form("ae.csv", ["TERM"], *[[t] for t in terms])
    return values(run_op(name, {"column": "TERM", **args}, ctx=make_ctx("AE", "AETERM", raw=raw)))


# ------------------------------------------------------------------ case and blanks


def test_upper_and_lower_change_only_the_case() -> None:
    terms = ("Application Site Erythema", "mild  Adverse event ", "")
    assert text_op("upper", *terms) == ["APPLICATION SITE ERYTHEMA", "MILD  ADVERSE EVENT ", ""]
    assert text_op("lower", *terms) == ["application site erythema", "mild  adverse event ", ""]


def test_strip_removes_surrounding_blanks_only() -> None:
    assert text_op("strip", "  Vitamin  D\t", "Riluzole") == ["Vitamin  D", "Riluzole"]


def test_squish_also_makes_each_run_of_inner_whitespace_one_space() -> None:
    assert text_op("squish", "  Vitamin \t D\n", "a\u00a0 b", "Riluzole") == [
        "Vitamin D",
        "a b",
        "Riluzole",
    ]


@pytest.mark.parametrize("name", ["upper", "lower", "strip", "squish"])
def test_blank_in_blank_out(name) -> None:
    assert text_op(name, "", "   ", "\t") == ["", "", ""]


def test_text_of_a_variable_at_domain_level_numbers_as_written() -> None:
    frame = records("vs.csv", ["_POS", "VISITNUM"], ["Supine", 1.0], [None, 2.5], ["", None])
    ctx = make_ctx("VS", "VSPOS")
    assert values(run_op("upper", {"variable": "_POS"}, frame, ctx)) == ["SUPINE", "", ""]
    assert values(run_op("strip", {"variable": "VISITNUM"}, frame, ctx)) == ["1", "2.5", ""]


def test_text_of_a_variable_mapped_earlier_in_the_source() -> None:
    raw = raw_form("ae.csv", ["TERM"], ["headache"])
    frame = raw[[]].assign(_T=[" Head  Ache "])
    out = run_op("squish", {"variable": "_T"}, frame, make_ctx("AE", "AETERM", raw=raw))
    assert values(out) == ["Head Ache"]


def test_a_raw_column_at_domain_level_is_an_error_at_the_spec_line() -> None:
    frame = records("ae.csv", ["AETERM"], ["x"])
    ctx = make_ctx("AE", "AETERM", where=Location(file="ae.yaml", line=9))
    with pytest.raises(SpecError, match=r"ae\.yaml:9: AE\.AETERM: column TERM is a raw column"):
        run_op("upper", {"column": "TERM"}, frame, ctx)


@pytest.mark.parametrize("args", [{}, {"column": "A", "variable": "B"}])
@pytest.mark.parametrize("name", TEXT_OPS)
def test_each_takes_exactly_one_input(name, args) -> None:
    extra = {"extract": {"pattern": "x"}, "replace": {"pattern": "x", "with": ""}}.get(name, {})
    with pytest.raises(ValidationError, match="exactly one of column"):
        OPERATIONS.require(name).args_model.model_validate({**args, **extra})


# ------------------------------------------------------------------ extract


def test_extract_group_1_of_a_pattern_searched_anywhere() -> None:
    assert text_op("extract", "701-1015", "701-1023", "", pattern=r"-(\d+)$") == [
        "1015",
        "1023",
        "",
    ]


def test_extract_minutes_of_a_time_point_label() -> None:
    labels = ("After Lying Down For 5 Minutes", "After Standing For 10 minutes")
    assert text_op("extract", *labels, pattern=r"(?i)(\d+) minutes") == ["5", "10"]


def test_extract_searches_the_value_without_its_surrounding_blanks() -> None:
    assert text_op("extract", "701-1015  ", pattern=r"-(\d+)$") == ["1015"]


def test_extract_without_a_group_gives_the_whole_match() -> None:
    assert text_op("extract", "Week 12 visit", pattern=r"\d+") == ["12"]


def test_extract_group_by_number_or_name() -> None:
    pattern = r"^(?P<site>\d+)-(?P<subj>\d+)$"
    assert text_op("extract", "701-1015", pattern=pattern, group=1) == ["701"]
    assert text_op("extract", "701-1015", pattern=pattern, group="subj") == ["1015"]
    assert text_op("extract", "701-1015", pattern=pattern, group="2") == ["1015"]
    assert text_op("extract", "701-1015", pattern=pattern, group=0) == ["701-1015"]


def test_extract_optional_group_without_part_in_the_match_gives_blank() -> None:
    assert text_op("extract", "Week 2", "Week", pattern=r"^Week ?(\d+)?$") == ["2", ""]


def test_extract_unmatched_blank_or_keep() -> None:
    terms = ("Unscheduled 8.2", "Screening 1 ", "")
    pattern = r"^Unscheduled (\d+\.\d+)$"
    assert text_op("extract", *terms, pattern=pattern, unmatched="blank") == ["8.2", "", ""]
    assert text_op("extract", *terms, pattern=pattern, unmatched="keep") == [
        "8.2",
        "Screening 1 ",
        "",
    ]


def test_extract_unmatched_is_an_error_listing_each_record_and_the_spec_line() -> None:
    raw = raw_form("dm.csv", ["PATNUM"], ["701-1015"], ["1023"], [""], ["x-"], first=5)
    ctx = make_ctx("DM", "SUBJID", raw=raw, where=Location(file="dm.yaml", line=12))
    with pytest.raises(MappingError) as err:
        run_op("extract", {"column": "PATNUM", "pattern": r"-(\d+)$"}, ctx=ctx)
    msg = str(err.value)
    assert msg.startswith("DM.SUBJID: value not matched by the pattern '-(\\\\d+)$'")
    assert msg.endswith(
        "in 2 record(s): dm.csv row 6: '1023'; dm.csv row 8: 'x-' [spec dm.yaml:12]"
    )


def test_extract_unmatched_working_variable_at_domain_level_names_file_and_row() -> None:
    frame = records("vs.csv", ["_TPT"], ["After 5 Minutes"], ["Pre-dose"], first=3)
    with pytest.raises(MappingError, match=r"1 record\(s\): vs\.csv row 4: 'Pre-dose'$"):
        run_op("extract", {"variable": "_TPT", "pattern": r"(\d+)"}, frame, make_ctx("VS"))


def test_extract_unmatched_source_variable_names_the_raw_file_and_row() -> None:
    raw = raw_form("vs.csv", ["TPT"], ["After 5 Minutes"], ["Pre-dose"])
    frame = raw[[]].assign(_TPT=["After 5 Minutes", "Pre-dose"])
    ctx = make_ctx("VS", "VSTPTNUM", raw=raw)
    with pytest.raises(MappingError, match=r"1 record\(s\): vs\.csv row 3: 'Pre-dose'$"):
        run_op("extract", {"variable": "_TPT", "pattern": r"(\d+)"}, frame, ctx)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"pattern": "(unclosed"}, r"pattern '\(unclosed' is not a regular expression"),
        ({"pattern": r"-(\d+)$", "group": 2}, r"group 2: pattern .* has 1 group\(s\)"),
        ({"pattern": r"\d+", "group": 1}, r"group 1: pattern .* has 0 group\(s\)"),
        ({"pattern": r"(?P<a>\d)", "group": "b"}, r"no group of that name \(named groups: a\)"),
        ({"pattern": "x", "unmatched": "skip"}, "unmatched"),
    ],
)
def test_extract_impossible_arguments_are_spec_errors(args, message) -> None:
    with pytest.raises(ValidationError, match=message):
        OPERATIONS.require("extract").args_model.model_validate({"column": "A", **args})


# ------------------------------------------------------------------ replace


def test_replace_every_match_with_group_references() -> None:
    out = text_op(
        "replace",
        "Unscheduled 8.2",
        "Week 2",
        "",
        pattern=r"^Unscheduled (?P<n>\d+)\.(\d+)$",
        **{"with": r"UNS \g<n>/\2"},
    )
    assert out == ["UNS 8/2", "Week 2", ""]


def test_replace_all_matches_and_empty_replacement_deletes() -> None:
    assert text_op("replace", "a-b-c", pattern="-", **{"with": ""}) == ["abc"]
    assert text_op("replace", " 1,234,5 ", pattern=",", **{"with": "."}) == ["1.234.5"]


def test_replace_of_a_variable_at_domain_level() -> None:
    frame = records("dm.csv", ["_PAT"], ["701-1015"], [""])
    args = {"variable": "_PAT", "pattern": r"^\d+-", "with": ""}
    assert values(run_op("replace", args, frame, make_ctx("DM", "SUBJID"))) == ["1015", ""]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"pattern": "[", "with": ""}, "is not a regular expression"),
        ({"pattern": r"(\d)", "with": r"\2"}, r"with: '\\\\2' is not a replacement"),
        ({"pattern": r"(\d)", "with": r"\g<x>"}, "is not a replacement"),
        ({"pattern": "x"}, "with"),
    ],
)
def test_replace_impossible_arguments_are_spec_errors(args, message) -> None:
    with pytest.raises(ValidationError, match=message):
        OPERATIONS.require("replace").args_model.model_validate({"column": "A", **args})
