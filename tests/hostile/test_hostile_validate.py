"""Hostile packages for `validate`: values that are spreadsheet formulas or markup, a
byte that is not UTF-8, files that are not (complete) XPORT, implausible dates, an empty
package, a define.xml with an external entity or cut short, placeholder labels.

The rules: `validate` checks everything it can read and reports what it cannot as a
located finding (never an internal error, never a stop on the first bad file); reports
opened by people run nothing (CSV cells are not formulas, HTML has no markup from the
data); no file outside the package is ever read through define.xml.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cdisc_mapper.adam import run_adam
from cdisc_mapper.define import write_define
from cdisc_mapper.sdtm.pipeline import run_sdtm
from cdisc_mapper.textops import FORMULA_STARTS
from cdisc_mapper.xpt import read_xpt, write_xpt
from tests.conftest import STUDY, report_text
from tests.hostile.catalogue import Case, Workspace, run_case

_PACKAGE: dict[str, Path] = {}
SECRET = "SECRET-h3-7f3a"
HYPERLINK = '=HYPERLINK("http://evil.example/x","click")'
DDE = "-2+3+cmd|' /C calc'!A0"


@pytest.fixture(scope="session", autouse=True)
def hostile_package(hostile_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SDTM, ADaM and both define.xml of the 5-subject export, made once."""
    out = tmp_path_factory.mktemp("hostile-package") / "out"
    run_sdtm(STUDY, hostile_raw, out)
    run_adam(STUDY, out / "sdtm", out)
    write_define(STUDY, out)
    _PACKAGE["out"] = out
    return out


# ------------------------------------------------------------------------- helpers
def package(ws: Workspace) -> None:
    """A fresh copy of the finished package in ``ws.out``."""
    shutil.copytree(_PACKAGE["out"], ws.out)


def rewrite(
    path: Path,
    change: Callable[[pd.DataFrame], None] = lambda df: None,
    *,
    label: str | None = None,
    labels: dict[str, str] | None = None,
) -> None:
    """Change a dataset's records or labels in place (character lengths recomputed)."""
    df, meta = read_xpt(path)
    change(df)
    variables = [
        dataclasses.replace(
            v,
            label=(labels or {}).get(v.name, v.label),
            length=None if v.type == "Char" else v.length,
        )
        for v in meta.variables
    ]
    write_xpt(
        df,
        path,
        dataset=meta.dataset,
        label=meta.label if label is None else label,
        variables=variables,
    )


def set_value(path: Path, row: int, column: str, value: Any) -> None:
    def change(df: pd.DataFrame) -> None:
        df[column] = df[column].astype(object)
        df.loc[row, column] = value

    rewrite(path, change)


def report(ws: Workspace) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ws.out / "reports" / "validation.json").read_text())
    return data


def findings(ws: Workspace, check_id: str) -> list[dict[str, Any]]:
    return [f for f in report(ws)["findings"] if f["check_id"] == check_id]


def csv_rows(ws: Workspace) -> list[dict[str, str]]:
    with (ws.out / "reports" / "validation.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def checked(ws: Workspace, *names: str) -> None:
    """The run went on: these datasets were read and no check crashed."""
    data = report(ws)
    assert set(names) <= {d["name"] for d in data["datasets"]}
    assert not findings(ws, "VX0001"), findings(ws, "VX0001")


def with_byte(path: Path, text: bytes, index: int, byte: int) -> int:
    data = bytearray(path.read_bytes())
    offset = data.index(text) + index
    data[offset] = byte
    path.write_bytes(bytes(data))
    return offset


def subject_row(path: Path, usubjid: str) -> int:
    df, _ = read_xpt(path)
    return int((df["USUBJID"] == usubjid).to_numpy().argmax())


# ------------------------------------------------------------------------- formulas
def formula_values(ws: Workspace) -> None:
    package(ws)
    ae = ws.out / "sdtm" / "ae.xpt"
    set_value(ae, 0, "AESEV", HYPERLINK)  # CT0001 lists the value
    set_value(ae, 1, "AESTDTC", DDE)  # TM0001 lists the value
    rewrite(ae, label="@SUM(1+1)*cmd|' /C calc'!A0")  # SD0011 lists the label


def formulas_neutralised(ws: Workspace) -> None:
    rows = csv_rows(ws)
    cells = [cell for row in rows for cell in row.values()]
    assert "'" + HYPERLINK in cells and "'" + DDE in cells
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in cells
    for cell in cells:
        if cell and cell[0] in FORMULA_STARTS:
            float(cell)  # only plain numbers may start with a sign
    values = {f["value"] for f in report(ws)["findings"]}  # JSON is data: unchanged
    assert {HYPERLINK, DDE} <= values
    df, _ = read_xpt(ws.out / "sdtm" / "ae.xpt")  # the data is never touched
    assert df.loc[0, "AESEV"] == HYPERLINK and df.loc[1, "AESTDTC"] == DDE


def formula_file_name(ws: Workspace) -> None:
    (ws.raw / "=HYPERLINK(1).csv").write_text("A\n1\n", encoding="utf-8")


def reconciliation_neutralised(ws: Workspace) -> None:
    with (ws.out / "sdtm" / "reconciliation.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    row = next(r for r in rows if "HYPERLINK" in r["file"])
    assert (row["form"], row["file"]) == ("'=HYPERLINK(1)", "'=HYPERLINK(1).csv")


# --------------------------------------------------------------------------- markup
def markup_everywhere(ws: Workspace) -> None:
    package(ws)
    ae = ws.out / "sdtm" / "ae.xpt"
    set_value(ae, 0, "AESEV", "<script>alert(1)</script>")
    rewrite(
        ae,
        label='<script>alert("label")</script>',
        labels={"AETERM": "<img src=x onerror=alert(2)>"},
    )
    (ws.out / "sdtm" / "x<u>y.xpt").write_bytes(b"<b>not xpt</b>")  # a file name as markup


def html_escaped(ws: Workspace) -> None:
    html = (ws.out / "reports" / "validation.html").read_text(encoding="utf-8")
    for markup in ("<script", "<img", "<u>", "<b>"):
        assert markup not in html, markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "x&lt;u&gt;y.xpt" in html


# ---------------------------------------------------------------------- bad files
def windows_quote(ws: Workspace) -> None:
    package(ws)
    with_byte(ws.out / "sdtm" / "ts.xpt", b"ISO 8601", 3, 0x92)


def byte_located(ws: Workspace) -> None:
    data = (ws.out / "sdtm" / "ts.xpt").read_bytes()
    (finding,) = findings(ws, "SD0017")
    offset = data.index(b"ISO\x928601") + 3
    assert finding["dataset"] == "TS" and finding["value"] == "sdtm/ts.xpt"
    assert f"byte 0x92 at offset {offset}" in finding["message"]
    assert "variable TSVCDREF" in finding["message"] and finding["record"] >= 1
    assert "--encoding WINDOWS-1252" in finding["message"]
    checked(ws, "DM", "AE", "ADSL")


def not_xpt(ws: Workspace) -> None:
    package(ws)
    (ws.out / "sdtm" / "listing.xpt").write_bytes(b"PK\x03\x04" + bytes(300))  # a workbook


def not_xpt_reported(ws: Workspace) -> None:
    (finding,) = findings(ws, "SD0017")
    assert finding["value"] == "sdtm/listing.xpt" and "SAS XPORT" in finding["message"]
    checked(ws, "DM", "AE", "LB", "ADSL")


def truncated(ws: Workspace) -> None:
    package(ws)
    lb = ws.out / "sdtm" / "lb.xpt"
    data = lb.read_bytes()
    lb.write_bytes(data[: len(data) // 2])


def truncated_reported(ws: Workspace) -> None:
    (finding,) = findings(ws, "SD0017")
    assert finding["value"] == "sdtm/lb.xpt" and "truncated" in finding["message"]
    checked(ws, "DM", "AE", "ADLB")


def second_copy(ws: Workspace) -> None:
    package(ws)
    shutil.copy(ws.out / "sdtm" / "ae.xpt", ws.out / "sdtm" / "ae_old.xpt")


def second_copy_reported(ws: Workspace) -> None:
    (finding,) = findings(ws, "SD0017")
    assert finding["value"] == "sdtm/ae_old.xpt"
    assert "already read from sdtm/ae.xpt" in finding["message"]
    checked(ws, "AE", "DM")


# ------------------------------------------------------------------- plausibility
def date_2099(ws: Workspace) -> None:
    package(ws)
    set_value(ws.out / "sdtm" / "ae.xpt", 0, "AESTDTC", "2099-08-04")


def date_2099_reported(ws: Workspace) -> None:
    (finding,) = findings(ws, "TM0011")
    assert (finding["dataset"], finding["record"], finding["value"]) == ("AE", 1, "2099-08-04")
    # the study's TS states its data cut-off (DCUTDTC), the first limit TM0011 applies
    assert "after the data cut-off " in finding["message"]
    assert finding["message"].endswith("(TS DCUTDTC)")


def before_birth(ws: Workspace) -> None:
    package(ws)
    dm, _ = read_xpt(ws.out / "sdtm" / "dm.xpt")
    subject = dm["USUBJID"].iloc[0]
    mh = ws.out / "sdtm" / "mh.xpt"
    set_value(mh, subject_row(mh, subject), "MHSTDTC", "1900-01")


def before_birth_reported(ws: Workspace) -> None:
    (finding,) = findings(ws, "TM0012")
    assert finding["dataset"] == "MH" and finding["value"] == "1900-01"
    assert "before the subject's birth" in finding["message"]


def empty_package(ws: Workspace) -> None:
    package(ws)
    for path in ws.out.glob("*/*.xpt"):
        df, meta = read_xpt(path)
        write_xpt(
            df.iloc[:0], path, dataset=meta.dataset, label=meta.label, variables=meta.variables
        )


def empty_package_checked(ws: Workspace) -> None:
    data = report(ws)
    assert data["summary"]["records"] == 0 and data["summary"]["datasets"] >= 20
    checked(ws, "DM", "EX", "ADSL")
    statuses = {c["id"]: c["status"] for c in data["checks"]}
    assert statuses["ID0007"] in ("passed", "skipped")


# ------------------------------------------------------------------------ define.xml
def external_entity(ws: Workspace) -> None:
    package(ws)
    secret = ws.tmp / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    define = ws.out / "sdtm" / "define.xml"
    text = define.read_text(encoding="utf-8")
    end = text.index("?>") + 2
    doctype = f'\n<!DOCTYPE ODM [<!ENTITY leak SYSTEM "file://{secret}">]>'
    text = text[:end] + doctype + text[end:]
    text = text.replace(">Adverse Events</TranslatedText>", ">&leak;</TranslatedText>", 1)
    define.write_text(text, encoding="utf-8")


def external_entity_reported(ws: Workspace) -> None:
    found = findings(ws, "DD0009")
    assert {f["value"] for f in found} == {"sdtm/define.xml"} and len(found) == 2
    statuses = {c["id"]: c["status"] for c in report(ws)["checks"]}
    assert statuses["DD0008"] == "passed" and statuses["DD0001"] == "passed"
    checked(ws, "AE", "ADSL")
    for path in (ws.out / "reports").iterdir():
        assert SECRET not in report_text(path), path.name


def broken_define(ws: Workspace) -> None:
    package(ws)
    define = ws.out / "adam" / "define.xml"
    define.write_text(define.read_text(encoding="utf-8")[:5000], encoding="utf-8")  # cut


def broken_define_reported(ws: Workspace) -> None:
    (finding,) = findings(ws, "DD0008")
    assert finding["value"] == "adam/define.xml" and "not well-formed XML" in finding["message"]
    statuses = {c["id"]: c["status"] for c in report(ws)["checks"]}
    assert statuses["DD0003"] == "passed"  # the SDTM define.xml is still compared
    checked(ws, "DM", "ADSL")


# -------------------------------------------------------------------------- labels
def placeholder_labels(ws: Workspace) -> None:
    package(ws)
    rewrite(ws.out / "adam" / "adsl.xpt", labels={"TRTSDT": "{Date}"})


def placeholder_reported(ws: Workspace) -> None:
    (finding,) = findings(ws, "SD0018")
    assert (finding["dataset"], finding["variable"], finding["value"]) == (
        "ADSL",
        "TRTSDT",
        "{Date}",
    )


CASES = [
    Case(
        "validate: formula values -> neutralised CSV cells, data and JSON unchanged",
        ["validate", "{out}"],
        prepare=formula_values,
        message="validated",
        after=formulas_neutralised,
    ),
    Case(
        "sdtm: a raw file named like a formula -> neutralised reconciliation.csv",
        ["sdtm", "--study", "{study}", "--raw", "{raw}", "--out", "{out}"],
        prepare=formula_file_name,
        exit_code=0,
        after=reconciliation_neutralised,
    ),
    Case(
        "validate: markup in values, labels and file names -> escaped HTML",
        ["validate", "{out}"],
        prepare=markup_everywhere,
        message="validated",
        after=html_escaped,
    ),
    Case(
        "validate: byte 0x92 in TS -> SD0017 at the offset with --encoding, the rest checked",
        ["validate", "{out}"],
        prepare=windows_quote,
        message="SD0017 x1",
        after=byte_located,
    ),
    Case(
        "validate --encoding that does not exist: a one-line error",
        ["validate", "{out}", "--encoding", "NO-SUCH-CODE"],
        prepare=package,
        message="unknown encoding 'NO-SUCH-CODE'",
    ),
    Case(
        "validate: a workbook named .xpt -> SD0017, the rest checked",
        ["validate", "{out}"],
        prepare=not_xpt,
        message="SD0017 x1",
        after=not_xpt_reported,
    ),
    Case(
        "validate: a truncated XPT -> SD0017, the rest checked",
        ["validate", "{out}"],
        prepare=truncated,
        message="SD0017 x1",
        after=truncated_reported,
    ),
    Case(
        "validate: a second file of one dataset -> SD0017, the first checked",
        ["validate", "{out}"],
        prepare=second_copy,
        message="SD0017 x1",
        after=second_copy_reported,
    ),
    Case(
        "validate: a date in 2099 -> TM0011",
        ["validate", "{out}", "--fail-on", "warning"],
        prepare=date_2099,
        message="TM0011 x1",
        after=date_2099_reported,
    ),
    Case(
        "validate: a date before birth -> TM0012",
        ["validate", "{out}", "--fail-on", "warning"],
        prepare=before_birth,
        message="TM0012 x1",
        after=before_birth_reported,
    ),
    Case(
        "validate: a package without records (0 subjects) -> every check runs or skips",
        ["validate", "{out}"],
        prepare=empty_package,
        message="(0 records)",
        never=("VX0001", "crashed"),
        after=empty_package_checked,
    ),
    Case(
        "validate: define.xml with an external entity -> DD0009, never read, the rest checked",
        ["validate", "{out}"],
        prepare=external_entity,
        message="DD0009 x2",
        never=(SECRET,),
        after=external_entity_reported,
    ),
    Case(
        "validate: a cut adam/define.xml -> DD0008 at the line, the SDTM one and the data checked",
        ["validate", "{out}"],
        prepare=broken_define,
        message="DD0008 x1",
        after=broken_define_reported,
    ),
    Case(
        "validate: a placeholder label {Date} -> SD0018",
        ["validate", "{out}", "--fail-on", "warning"],
        prepare=placeholder_labels,
        message="SD0018 x1",
        after=placeholder_reported,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hostile_validate(case: Case, workspace: Workspace) -> None:
    assert run_case(case, workspace) == []
