"""The aCRF pages: fields cut into pages by fixed line counts, worked out by hand."""

from __future__ import annotations

from cdisc_mapper.acrf.annotate import Annotation, FieldCrf, FormCrf
from cdisc_mapper.acrf.layout import BODY_LINES, CONTENTS_LINES, block, contents_pages, lay_out


def _field(column: str, *notes: tuple[str, str]) -> FieldCrf:
    return FieldCrf(column, column, tuple(Annotation(d, t) for d, t in notes))


def test_a_field_takes_its_longest_column_plus_a_blank_line() -> None:
    assert block(_field("A", ("VS", "VSDTC"))).lines == 2
    assert block(_field("B")).lines == 2  # NOT SUBMITTED: one line
    three = _field("C", ("DM", "RFICDTC"), ("DS", "DSSTDTC"), ("VS", "VSDTC"))
    assert block(three).lines == 4
    # an annotation longer than a line wraps (46 characters a line)
    long = "QSORRES when QSTESTCD = ALSR05B and more words to wrap here"
    assert block(_field("D", ("QS", long))).annotations == (
        ("QS", "QSORRES when QSTESTCD = ALSR05B and more words"),
        ("QS", "to wrap here"),
    )
    assert block(FieldCrf("E", "q " * 40, ())).lines == 3  # 80-character question: 2 lines


def test_forms_start_on_new_pages_after_the_contents() -> None:
    one = FormCrf("one", "one.csv", ("VS",), (_field("A", ("VS", "VSDTC")),))
    # 30 fields of 2 lines: 22 fit in 44 lines, 8 on the next page
    many = FormCrf(
        "many",
        "many.csv",
        ("AE", "SUPPAE"),
        tuple(_field(f"F{i}", ("AE", "AETERM")) for i in range(30)),
    )
    layout = lay_out([one, many], "Study X")
    assert BODY_LINES == 44
    assert layout.contents_pages == 1
    assert [(p.number, p.form.name, len(p.blocks), p.part, p.parts) for p in layout.pages] == [
        (2, "one", 1, 1, 1),
        (3, "many", 22, 1, 2),
        (4, "many", 8, 2, 2),
    ]
    pages = layout.form_pages()
    assert pages["one"].pages == "2"
    assert pages["many"].pages == "3 4"
    assert pages["many"].fields["F0"] == "3"
    assert pages["many"].fields["F29"] == "4"
    assert layout.domain_pages() == {"AE": [3, 4], "VS": [2]}
    assert layout.total == 4


def test_contents_take_a_line_per_form_and_domain() -> None:
    assert CONTENTS_LINES == 46
    forms = [FormCrf(f"f{i}", "f.csv", (f"D{i}",), ()) for i in range(22)]
    # 2 headings + 22 forms + 22 domains = 46 lines: one page; one more form: two
    assert contents_pages(forms) == 1
    assert contents_pages([*forms, FormCrf("x", "x.csv", ("DX",), ())]) == 2


def test_contents_lines_name_domains() -> None:
    form = FormCrf("vitals", "vitals.csv", ("VS",), (_field("PULSE", ("VS", "VSORRES")),))
    layout = lay_out([form], "Study X")
    assert layout.contents({"VS": "Vital Signs"}) == [
        (0, "Forms", ""),
        (1, "vitals (vitals.csv)", "2"),
        (0, "Domains", ""),
        (1, "VS (Vital Signs)", "2"),
    ]


def test_a_study_without_forms_gets_the_contents_page_only() -> None:
    from cdisc_mapper.acrf.render import render_pdf

    layout = lay_out([], "Study X")
    assert (layout.contents_pages, layout.pages, layout.total) == (1, (), 1)
    assert render_pdf(layout, {}).startswith(b"%PDF-")
