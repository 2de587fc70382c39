"""Hostile specs and workbooks (issue 11): a small file never costs huge resources, and a
malformed spec or workbook is an error at its line or cell, never an internal error.

Alias bombs and self-containing aliases in a spec file, a binary or list-shaped spec,
zip bombs and far-out cells in spec workbooks and raw XLSX forms, a workbook part named
outside the workbook, and an invalid ``SOURCE_DATE_EPOCH``. Every case must finish
within :data:`SECONDS` (an alias bomb used to run past two minutes).
"""

from __future__ import annotations

import re
import shutil
import signal
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from cdisc_mapper.adam import load_adam_specs
from cdisc_mapper.errors import SpecError
from cdisc_mapper.sdtm import load_study
from cdisc_mapper.spec.define import load_define_extras
from cdisc_mapper.spec.metadata import load_metadata
from cdisc_mapper.xlsx import export_workbook, import_workbook
from tests.conftest import STUDY
from tests.hostile.catalogue import Case, Workspace, run_case

#: Most seconds a case may take (each takes one or two).
SECONDS = 30
#: A workbook part of 30 MB of XML that packs to about 30 KB: a zip bomb's shape.
BOMB_BYTES = 30 * 1024 * 1024
_AE_LINES = len((STUDY / "sdtm" / "ae.yaml").read_text(encoding="utf-8").splitlines())
_SDTM = ["sdtm", "--study", "{study}", "--raw", "{raw}", "--out", "{out}"]
_SDTM_XLSX = ["sdtm", "--study", "{tmp}/spec.xlsx", "--raw", "{raw}", "--out", "{out}"]
_IMPORT = ["spec", "import", "--xlsx", "{tmp}/spec.xlsx", "--study", "{tmp}/imported"]


# ------------------------------------------------------------------------ spec files
def alias_bomb(levels: int = 9) -> str:
    """Top-level keys ``l0``..: each a list of nine aliases of the one before (9**9
    values in under 1 KB)."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _append(rel: str, text: str) -> Callable[[Workspace], None]:
    def prepare(ws: Workspace) -> None:
        path = ws.study / rel
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")

    return prepare


def _replace(rel: str, data: bytes) -> Callable[[Workspace], None]:
    def prepare(ws: Workspace) -> None:
        (ws.study / rel).write_bytes(data)

    return prepare


# ------------------------------------------------------------------------- workbooks
@cache
def _exported() -> bytes:
    """The bundled study as a spec workbook (made once)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.xlsx"
        export_workbook(STUDY, path)
        return path.read_bytes()


def rezip(
    source: Path | bytes,
    target: Path,
    change: dict[str, Callable[[bytes], bytes]] | None = None,
    add: dict[str, bytes] | None = None,
) -> None:
    """Copy a workbook's parts to ``target``, changing some, adding others (deflated)."""
    change = change or {}
    data = source.read_bytes() if isinstance(source, Path) else source
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src.xlsx"
        src.write_bytes(data)
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
            for info in zin.infolist():
                part = zin.read(info.filename)
                z.writestr(info.filename, change.get(info.filename, lambda b: b)(part))
            for name, part in (add or {}).items():
                z.writestr(name, part)


def padded(xml: bytes) -> bytes:
    """A sheet's XML with a comment of :data:`BOMB_BYTES` blanks (same cells)."""
    return xml.replace(b"</worksheet>", b"<!--" + b" " * BOMB_BYTES + b"--></worksheet>")


def far_cell(ref: str) -> Callable[[bytes], bytes]:
    """A sheet's XML with one more cell at ``ref`` (e.g. ``XFD1048576``)."""
    row = "".join(ch for ch in ref if ch.isdigit())
    cell = f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row>'
    return lambda xml: xml.replace(b"</sheetData>", cell.encode() + b"</sheetData>")


def _spec_workbook(
    change: dict[str, Callable[[bytes], bytes]] | None = None, add: dict[str, bytes] | None = None
) -> Callable[[Workspace], None]:
    def prepare(ws: Workspace) -> None:
        rezip(_exported(), ws.tmp / "spec.xlsx", change, add)

    return prepare


def _raw_vitals_xlsx(change: Callable[[bytes], bytes]) -> Callable[[Workspace], None]:
    """The vitals form as ``vitals.xlsx`` (damaged by ``change``), named by vs.yaml."""

    def prepare(ws: Workspace) -> None:
        frame = pd.read_csv(ws.raw / "vitals.csv", dtype=str, keep_default_na=False)
        book = Workbook()
        sheet = book.active
        sheet.title = "vitals"
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append(list(row))
        plain = ws.tmp / "plain.xlsx"
        book.save(plain)
        rezip(plain, ws.raw / "vitals.xlsx", {"xl/worksheets/sheet1.xml": change})
        spec = ws.study / "sdtm" / "vs.yaml"
        text = spec.read_text(encoding="utf-8")
        spec.write_text(
            text.replace("  - form: vitals\n", "  - form: vitals\n    file: vitals.xlsx\n")
        )

    return prepare


def _nothing_imported(ws: Workspace) -> None:
    assert not list(ws.tmp.joinpath("imported").rglob("*.yaml"))


def _nothing_written(ws: Workspace) -> None:
    assert not ws.out.exists() or not list(ws.out.rglob("*.xpt"))


_STUDY_SHEET = "xl/worksheets/sheet1.xml"  # the Study sheet, first in the workbook
_BOMB = f"part {_STUDY_SHEET} unpacks to 30 MB from"

CASES = [
    Case(
        "alias bomb in a domain spec",
        _SDTM,
        prepare=_append("sdtm/ae.yaml", alias_bomb()),
        message=f"ae.yaml:{_AE_LINES + 6}: aliases repeat more than 100000 values",
        after=_nothing_written,
    ),
    Case(
        "an alias inside its own anchor",
        _SDTM,
        prepare=_append("sdtm/ae.yaml", "loop: &loop {again: [*loop]}\n"),
        message=f"ae.yaml:{_AE_LINES + 1}: alias *loop is inside the value of its own anchor",
    ),
    Case(
        "binary file named .yaml",
        _SDTM,
        prepare=_replace("sdtm/ae.yaml", bytes(range(256)) * 4),
        message="ae.yaml:2: spec file is not UTF-8 text (byte 129",
    ),
    Case(
        "spec file that is a list",
        _SDTM,
        prepare=_replace("sdtm/dm.yaml", b"- domain: DM\n- keys: [USUBJID]\n"),
        message="dm.yaml:1: a spec file is a mapping of keys to values at the top, not a list",
    ),
    Case(
        "SOURCE_DATE_EPOCH=abc",
        _SDTM,
        env={"SOURCE_DATE_EPOCH": "abc"},
        message="environment variable SOURCE_DATE_EPOCH: SOURCE_DATE_EPOCH='abc' must be a "
        "whole number of seconds since 1970-01-01",
        after=lambda ws: None if not ws.out.exists() else pytest.fail("output written"),
    ),
    Case(
        "zip bomb spec workbook: spec import",
        _IMPORT,
        prepare=_spec_workbook({_STUDY_SHEET: padded}),
        message=_BOMB,
        after=_nothing_imported,
    ),
    Case(
        "zip bomb spec workbook: sdtm --study",
        _SDTM_XLSX,
        prepare=_spec_workbook({_STUDY_SHEET: padded}),
        message=_BOMB,
        after=_nothing_written,
    ),
    Case(
        "zip bomb raw XLSX form",
        _SDTM,
        prepare=_raw_vitals_xlsx(padded),
        message=f"vitals.xlsx: part {_STUDY_SHEET} unpacks to 30 MB from",
        after=_nothing_written,
    ),
    Case(
        "workbook part named ../..",
        _IMPORT,
        prepare=_spec_workbook(add={"../../evil.xml": b"<x/>"}),
        message="holds a part named '../../evil.xml', outside the workbook",
        after=_nothing_imported,
    ),
    Case(
        "spec workbook cell at XFD1048576",
        _IMPORT,
        prepare=_spec_workbook({_STUDY_SHEET: far_cell("XFD1048576")}),
        message="spec.xlsx: sheet Study: the used range is 1048576 rows x 16384 columns "
        "(17179869184 cells), more than the 10000000 cells a sheet may have",
        after=_nothing_imported,
    ),
    Case(
        "raw XLSX row past the last row of a sheet",
        _SDTM,
        prepare=_raw_vitals_xlsx(far_cell("A5000000")),
        message="vitals.xlsx: sheet vitals: row 5000000 is past the last row a sheet has",
        after=_nothing_written,
    ),
]


@contextmanager
def within(seconds: int) -> Iterator[None]:
    """Fail the test when the block runs longer than ``seconds``."""

    def expire(*_: object) -> None:
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hostile_spec(case: Case, workspace: Workspace) -> None:
    with within(SECONDS):
        assert run_case(case, workspace) == []


# ------------------------------------------------------------- every loader, every input
def _load_all(study: Path) -> None:
    """Every spec loader on the study folder (each file is read by one of them)."""
    load_study(study)
    load_adam_specs(study)
    load_define_extras(study)


_MALFORMED: dict[str, bytes] = {
    "binary": bytes(range(256)) * 4,
    "utf-16": "domain: AE\n".encode("utf-16"),
    "50 MB line": b"a: " + b"x" * (50 * 1024 * 1024),
    "deep nesting": b"a: " + b"[" * 100_000,
    "list key": b"? [a, b]\n: 1\n",
    "list": b"- a\n- b\n",
    "tabs": b"domain:\tAE\n\tvariables: {}\n",
    "unknown top-level key": b"",  # appended to the file
    "alias bomb": alias_bomb().encode(),
    "control character": b"a: \x01\n",
    "two documents": b"a: 1\n---\nb: 2\n",
}


@pytest.mark.parametrize("rel", ["study.yaml", "sdtm/ae.yaml", "adam/adsl.yaml", "define.yaml"])
@pytest.mark.parametrize("kind", list(_MALFORMED))
def test_every_loader_gives_a_spec_error_at_a_line(tmp_path: Path, rel: str, kind: str) -> None:
    study = tmp_path / "study"
    shutil.copytree(STUDY, study)
    path = study / rel
    if kind == "unknown top-level key":
        path.write_text(path.read_text(encoding="utf-8") + "bogus_key: 1\n", encoding="utf-8")
    else:
        path.write_bytes(_MALFORMED[kind])
    with within(SECONDS), pytest.raises(SpecError) as info:
        _load_all(study)
    text = str(info.value)
    assert text.startswith(str(path)), text
    assert kind == "50 MB line" or re.match(rf"{re.escape(str(path))}:\d+: ", text), text


@pytest.mark.parametrize("kind", list(_MALFORMED))
def test_metadata_yaml_gives_a_spec_error_at_a_line(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "metadata.yaml"
    path.write_bytes(_MALFORMED[kind] or b"bogus_key: 1\n")
    with within(SECONDS), pytest.raises(SpecError, match=re.escape(str(path))):
        load_metadata(path)


# ----------------------------------------------------------------------- workbook damage
def _edited(tmp_path: Path, edit: Callable[[Any], None]) -> Path:
    """The bundled spec workbook after ``edit(workbook)`` (openpyxl, saved again)."""
    source = tmp_path / "source.xlsx"
    source.write_bytes(_exported())
    book = load_workbook(source)
    edit(book)
    path = tmp_path / "spec.xlsx"
    book.save(path)
    return path


def _merge_header(book: Any) -> None:
    book["Variables"].merge_cells("A1:B1")


def _formula(book: Any) -> None:
    book["Variables"]["D2"] = "=1+1"


def _long_cell(book: Any) -> None:
    book["Variables"]["D2"] = "x" * 100_000


def _drop_sheet(book: Any) -> None:
    del book["Methods"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_drop_sheet, "spec.xlsx: missing sheet(s): Methods"),
        (_merge_header, "spec.xlsx: sheet Variables, row 1, column B: a column without a title"),
        (_formula, "row 2, column D: the cell holds a formula whose value was never saved"),
        (_long_cell, None),
    ],
    ids=["missing sheet", "merged header", "formula cell", "100k-character cell"],
)
def test_a_damaged_workbook_imports_or_gives_a_located_error(
    tmp_path: Path, edit: Callable[[Any], None], message: str | None
) -> None:
    """A formula cell without a saved value is refused at its cell (it was read as
    empty); a 100,000-character cell may import or be refused at its cell; nothing else
    escapes."""
    path = _edited(tmp_path, edit)
    try:
        with within(SECONDS):
            import_workbook(path, tmp_path / "imported")
    except SpecError as exc:
        assert message is None or message in str(exc), str(exc)
        assert re.search(r"spec\.xlsx: (sheet \w+, row \d+|missing sheet)", str(exc)), str(exc)
    else:
        assert message is None, "accepted"


def test_unreadable_sheet_xml_is_a_spec_error_naming_the_sheet(tmp_path: Path) -> None:
    path = tmp_path / "spec.xlsx"
    rezip(_exported(), path, {_STUDY_SHEET: lambda xml: xml.replace(b'r="A2"', b'r="2A"', 1)})
    with pytest.raises(SpecError, match=r"spec\.xlsx: sheet Study: cannot read the sheet"):
        import_workbook(path, tmp_path / "imported")


def _claim(ref: str) -> dict[str, Callable[[bytes], bytes]]:
    """Every sheet of the bundled workbook declaring the dimension ``ref``."""
    claim = f'<dimension ref="{ref}"/>'.encode()
    return {
        f"xl/worksheets/sheet{i}.xml": lambda xml: re.sub(rb"<dimension [^>]*/>", claim, xml)
        for i in range(1, 26)
    }


@pytest.mark.parametrize("ref", ["A1", "A1:B2", "A1:XFD1048576"])
def test_a_declared_dimension_is_not_trusted(tmp_path: Path, ref: str) -> None:
    """Sheets are read as their cells are, whatever dimension they declare: openpyxl would
    leave out every cell outside it (some tools write ``A1``), and pad every row to it."""
    original = tmp_path / "original.xlsx"
    original.write_bytes(_exported())
    expected = import_workbook(original, tmp_path / "expected")
    path = tmp_path / "spec.xlsx"
    rezip(_exported(), path, _claim(ref))
    with within(SECONDS):
        written = import_workbook(path, tmp_path / "imported")
    assert [p.relative_to(tmp_path / "imported") for p in written] == [
        p.relative_to(tmp_path / "expected") for p in expected
    ]
    for file in expected:
        rel = file.relative_to(tmp_path / "expected")
        assert (tmp_path / "imported" / rel).read_text() == file.read_text(), rel
