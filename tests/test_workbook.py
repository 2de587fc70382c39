"""Workbooks saved byte-identically (cdisc_mapper.workbook)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
from openpyxl import Workbook

from cdisc_mapper.workbook import save_workbook, text_cell


def book(value: object) -> Workbook:
    wb = Workbook()
    text_cell(wb.active, 1, 1, value)
    return wb


def test_same_workbook_same_bytes(tmp_path: Path):
    a = save_workbook(book("x"), tmp_path / "a.xlsx")
    b = save_workbook(book("x"), tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        assert "2000-01-01T00:00:00Z" in z.read("docProps/core.xml").decode()


def test_a_time_before_1980_is_a_valid_zip_time(tmp_path: Path):
    path = save_workbook(book("x"), tmp_path / "a.xlsx", dt.datetime(1970, 1, 1))
    with zipfile.ZipFile(path) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert "1970-01-01T00:00:00Z" in z.read("docProps/core.xml").decode()


def test_texts_stay_texts(tmp_path: Path):
    path = save_workbook(book('=HYPERLINK("http://x")'), tmp_path / "f.xlsx")
    cell = openpyxl.load_workbook(path).active["A1"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x")', "s")
    path = save_workbook(book("a\x01b\x1fc"), tmp_path / "c.xlsx")
    assert openpyxl.load_workbook(path).active["A1"].value == "a\\x01b\\x1fc"
    path = save_workbook(book(3), tmp_path / "n.xlsx")
    assert openpyxl.load_workbook(path).active["A1"].value == 3
