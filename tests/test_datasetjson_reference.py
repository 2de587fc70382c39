"""Dataset-JSON output against the CDISC v1.1 schema, the official examples, an
independent reader (dsjframe) and the demo with --format xpt,json."""

from __future__ import annotations

import json
import math
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from lxml import etree

from cdisc_mapper.datasetjson import dataset_metadata, read_dataset_json, write_dataset_json
from cdisc_mapper.xpt import XptVariable

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "dataset-json-1.1"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is absent")
EXAMPLES = sorted((SHARED / "examples").rglob("*.*json")) if SHARED.is_dir() else []

VARIABLES = [
    XptVariable("STUDYID", "Study Identifier", "Char"),
    XptVariable("USUBJID", "Unique Subject Identifier", "Char"),
    XptVariable("AETERM", "Reported Term", "Char"),
    XptVariable("AESTDTC", "Start Date/Time", "Char"),
    XptVariable("AVAL", "Analysis Value", "Num"),
    XptVariable("AESEQ", "Sequence Number", "Num"),
    XptVariable("ADT", "Analysis Date", "Num", format="DATE9."),
]
FRAME = pd.DataFrame(
    {
        "STUDYID": ["S1"] * 3,
        "USUBJID": ["S1-1", "S1-2", "S1-3"],
        "AETERM": ["HEADACHE", "頭痛", ""],
        "AESTDTC": ["2020-01-02T10:11:12", "2020-01-03T00:00", ""],
        "AVAL": [1 / 3, np.nan, 1e300],
        "AESEQ": [1.0, 2.0, 3.0],
        "ADT": [21916.0, np.nan, -1.0],
    }
)


def _written(tmp_path: Path, suffix: str) -> Path:
    meta = dataset_metadata(FRAME, "AE", "Adverse Events", VARIABLES, keys=["USUBJID", "AESEQ"])
    return write_dataset_json(FRAME, meta, tmp_path / f"ae{suffix}")


def _validator():  # jsonschema is a test dependency
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SHARED / "schema" / "dataset.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft201909Validator(schema)


@needs_shared
@pytest.mark.parametrize("suffix", [".json", ".ndjson"])
def test_output_is_valid_against_the_v11_schema(tmp_path: Path, suffix: str) -> None:
    path = _written(tmp_path, suffix)
    if suffix == ".json":
        document = json.loads(path.read_text(encoding="utf-8"))
    else:  # the examples' README: line 1 is the metadata, each other line a row
        lines = path.read_text(encoding="utf-8").splitlines()
        document = {**json.loads(lines[0]), "rows": [json.loads(x) for x in lines[1:]]}
    errors = sorted(str(e.message) for e in _validator().iter_errors(document))
    assert errors == []


@needs_shared
def test_a_defect_fails_the_schema(tmp_path: Path) -> None:
    document = json.loads(_written(tmp_path, ".json").read_text(encoding="utf-8"))
    document["columns"][0]["dataType"] = "text"  # Define-XML's name, not Dataset-JSON's
    assert list(_validator().iter_errors(document))


@needs_shared
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.relative_to(SHARED).as_posix() for p in EXAMPLES])
def test_reader_on_the_official_examples(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    if "rows" not in raw:
        lines = path.read_text(encoding="utf-8").splitlines()
        raw["rows"] = [json.loads(x) for x in lines[1:]]
    frame, meta = read_dataset_json(path)
    assert meta.name == raw["name"] and meta.records == raw["records"] == len(frame)
    assert meta.names == [c["name"] for c in raw["columns"]]
    for k, column in enumerate(raw["columns"]):
        values = [row[k] for row in raw["rows"]]
        got = frame[column["name"]].tolist()
        if column.get("targetDataType") == "integer" and column["dataType"] == "date":
            want = [
                math.nan if v is None else float((date.fromisoformat(v) - date(1960, 1, 1)).days)
                for v in values
            ]
        elif column["dataType"] in ("integer", "float", "double", "decimal"):
            want = [math.nan if v is None else float(v) for v in values]
        else:
            want = ["" if v is None else v for v in values]
        assert (
            got == pytest.approx(want, nan_ok=True)
            if want and isinstance(want[0], float)
            else got == want
        ), column["name"]


@needs_shared
def test_japanese_text_is_read_as_written() -> None:
    path = SHARED / "examples" / "i18n" / "ae.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    k = [c["name"] for c in raw["columns"]].index("AETERM")
    frame, _ = read_dataset_json(path)
    assert frame["AETERM"].tolist() == [r[k] or "" for r in raw["rows"]]
    assert any(not v.isascii() for v in frame["AETERM"])


@pytest.mark.parametrize("suffix", [".json", ".ndjson"])
def test_independent_reader_dsjframe_agrees(tmp_path: Path, suffix: str) -> None:
    dsjframe = pytest.importorskip("dsjframe")
    path = _written(tmp_path, suffix)
    table, meta = dsjframe.read_dataset(str(path), out_metadata=True)
    assert table.column_names == list(FRAME.columns)
    assert list(meta.column_labels) == [v.label for v in VARIABLES]
    fields = {f.name: {k.decode(): v.decode() for k, v in f.metadata.items()} for f in table.schema}
    assert [fields[n]["dataType"] for n in FRAME.columns] == [
        "string", "string", "string", "datetime", "double", "integer", "date"
    ]  # fmt: skip
    assert fields["ADT"]["targetDataType"] == "integer"
    values = table.to_pydict()
    assert values["AETERM"] == ["HEADACHE", "頭痛", None]
    assert values["AESTDTC"][1] is not None and values["AESTDTC"][2] is None
    assert values["AVAL"][0] == 1 / 3 and values["AVAL"][1] is None and values["AVAL"][2] == 1e300
    assert values["AESEQ"] == [1, 2, 3]
    assert [str(d) if d is not None else None for d in values["ADT"]] == [
        "2020-01-02", None, "1959-12-31"  # SAS day 21916; day -1
    ]  # fmt: skip


# ------------------------------------------------------------------ the demo, both formats


@pytest.fixture(scope="module")
def demo_both(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cdisc_mapper.cli import main

    out = tmp_path_factory.mktemp("demo") / "out"
    result = CliRunner().invoke(
        main, ["-q", "demo", "--out", str(out), "--subjects", "6", "--format", "xpt,json"]
    )
    assert result.exit_code == 0, result.output
    return out


def _leaves(define: Path) -> dict[str, str]:
    ns = {
        "odm": "http://www.cdisc.org/ns/odm/v1.3",
        "def": "http://www.cdisc.org/ns/def/v2.1",
        "xlink": "http://www.w3.org/1999/xlink",
    }
    tree = etree.parse(str(define))
    return {
        g.get("Name"): g.find("def:leaf", ns).get("{http://www.w3.org/1999/xlink}href")
        for g in tree.iterfind(".//odm:ItemGroupDef", ns)
    }


def test_demo_writes_both_formats_each_named_by_a_define(demo_both: Path) -> None:
    for kind in ("sdtm", "adam"):
        folder = demo_both / kind
        xpt = _leaves(folder / "define.xml")
        js = _leaves(folder / "define-json.xml")
        assert xpt and set(xpt) == set(js)
        for name in xpt:
            assert xpt[name] == f"{name.lower()}.xpt" and (folder / xpt[name]).is_file()
            assert js[name] == f"{name.lower()}.json" and (folder / js[name]).is_file()


def test_demo_item_oids_match_define(demo_both: Path) -> None:
    ns = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
    tree = etree.parse(str(demo_both / "sdtm" / "define-json.xml"))
    for group in tree.iterfind(".//odm:ItemGroupDef", ns):
        _, meta = read_dataset_json(demo_both / "sdtm" / f"{group.get('Name').lower()}.json")
        assert meta.item_group_oid == group.get("OID")
        assert [c.item_oid for c in meta.columns] == [
            ref.get("ItemOID") for ref in group.iterfind("odm:ItemRef", ns)
        ]
        assert meta.study.metadata_ref == "define-json.xml"


def test_validate_gives_identical_findings_on_either_format(
    demo_both: Path, tmp_path: Path
) -> None:
    from cdisc_mapper.cli import main

    reports = {}
    for fmt in ("xpt", "json"):
        package = tmp_path / fmt / "package"
        shutil.copytree(demo_both, package)
        result = CliRunner().invoke(main, ["-q", "validate", str(package), "--format", fmt])
        assert result.exit_code == 0, result.output
        report = json.loads((package / "reports" / "validation.json").read_text())
        text = json.dumps(report, sort_keys=True).replace(str(package), "PKG")
        text = text.replace("define-json.xml", "define.xml")
        reports[fmt] = text.replace(".json", ".X").replace(".xpt", ".X")
    assert reports["xpt"] == reports["json"]


def test_sd0010_expects_the_dataset_json_file_name(demo_both: Path, tmp_path: Path) -> None:
    from cdisc_mapper.validate import validate_package

    sdtm = tmp_path / "sdtm"
    sdtm.mkdir()
    shutil.copy(demo_both / "sdtm" / "dm.json", sdtm / "demog.json")  # seeded defect
    shutil.copy(demo_both / "sdtm" / "ae.json", sdtm / "ae.json")  # clean
    report = validate_package(tmp_path, checks=["SD0010"], dataset_format="json")
    found = [(f.dataset, f.message) for f in report.findings if f.check_id == "SD0010"]
    assert found == [("DM", "file demog.json holds dataset DM; expected file name dm.json")]
