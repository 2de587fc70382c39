"""``deidentify`` on the bundled study's package (cdisc_mapper.deid.pipeline and the
command): it validates as cleanly as the original, no original identifier, date or free
text survives anywhere in its bytes, study days and every ADaM result are unchanged,
define.xml follows the data, and the risk figures agree with a plain pandas groupby."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from lxml import etree

from cdisc_mapper.adam import run_adam
from cdisc_mapper.cli import main
from cdisc_mapper.datasetjson import dataset_files, read_dataset, read_dataset_json, write_dataset
from cdisc_mapper.define import validate_define_schema, write_define
from cdisc_mapper.define.html import stylesheet_path
from cdisc_mapper.deid import run_deidentify
from cdisc_mapper.validate import validate_package
from tests.conftest import STUDY

SECRET = "a test secret"
# Offsets of 22 to 25 years back: every moved date falls before every original one, so a
# scan can tell an original date that survived from a moved date that happens to be
# another subject's original date.
SPEC = "dates: {method: offset, offset_days: [-9000, -8000]}\nsupp_remove: [DSCAUSE]\n"
FREE_TEXT = ("AETERM", "MHTERM", "DSTERM", "CMINDC", "SVUPDES")
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}


@pytest.fixture(scope="module")
def package(demo_sdtm, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's SDTM and ADaM with their define.xml, as the demo publishes them."""
    out, _ = demo_sdtm
    pkg = tmp_path_factory.mktemp("deid") / "package"
    shutil.copytree(out / "sdtm", pkg / "sdtm")
    run_adam(STUDY, pkg / "sdtm", pkg)
    write_define(STUDY, pkg)
    return pkg


@pytest.fixture(scope="module")
def shared(package: Path) -> tuple[Path, Path]:
    """(the de-identified package, its key)."""
    spec = package.parent / "deid.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    out, key = package.parent / "shared", package.parent / "private" / "key.json"
    run_deidentify(package, out, key, spec_path=spec, secret=SECRET)
    return out, key


def _frames(folder: Path) -> dict[str, pd.DataFrame]:
    return {p.stem.upper(): read_dataset(p)[0] for p in dataset_files(folder)}


def _all(pkg: Path) -> dict[str, pd.DataFrame]:
    return _frames(pkg / "sdtm") | _frames(pkg / "adam")


def _new_ids(key: Path) -> dict[str, str]:
    return {s["USUBJID"]: s["new_USUBJID"] for s in json.loads(key.read_text())["subjects"]}


def test_it_validates_as_cleanly_as_the_original(package: Path, shared: tuple[Path, Path]):
    def counts(pkg: Path) -> Counter[tuple[str, str]]:
        report = validate_package(pkg, define=[pkg / "sdtm/define.xml", pkg / "adam/define.xml"])
        return Counter((f.check_id, str(f.severity)) for f in report.findings)

    before, after = counts(package), counts(shared[0])
    # RC findings read reconciliation.csv, a run record not carried over (the report says so)
    assert {k: n for k, n in before.items() if not k[0].startswith("RC")} == after
    report = (shared[0] / "reports" / "deidentification.html").read_text(encoding="utf-8")
    assert "sdtm/reconciliation.csv" in report
    # SUPPDS held one record, the DSCAUSE the spec removes: the dataset is left out
    assert not (shared[0] / "sdtm" / "suppds.xpt").exists()
    assert 'Name="SUPPDS"' not in (shared[0] / "sdtm" / "define.xml").read_text("utf-8")


def _originals(package: Path) -> tuple[set[str], set[str], set[str], set[str]]:
    """USUBJIDs, SUBJIDs, full dates (YYYY-MM-DD) and free texts of the original."""
    frames = _all(package)
    usubjids = set(frames["DM"]["USUBJID"])
    subjids = set(frames["DM"]["SUBJID"])
    dates: set[str] = set()
    for name, frame in frames.items():
        for column in frame.columns:
            if column.endswith("DTC") or (name == "TS" and column == "TSVAL"):
                dates |= {v[:10] for v in frame[column] if len(v) >= 10 and v[4] == "-"}
    # a verbatim that is (part of) a dictionary or CT term kept in the package (MedDRA
    # LLT "Common cold", "Low back pain"; DSDECOD "COMPLETED") says nothing of its own
    coded = {
        str(v).casefold()
        for frame in frames.values()
        for c in frame.columns
        if c not in FREE_TEXT and frame[c].dtype == object
        for v in set(frame[c])
    }
    texts = {
        v
        for frame in frames.values()
        for column in FREE_TEXT
        if column in frame.columns
        for v in set(frame[column])
        if len(v) > 5 and not any(v.casefold() in c for c in coded)
    }
    texts |= set(frames["SUPPDS"].loc[frames["SUPPDS"]["QNAM"] == "DSCAUSE", "QVAL"])
    # a text the study's own spec writes (the original define.xml's method and comment
    # texts, e.g. SVUPDES "Unscheduled visit") is the sponsor's, not a subject's
    spec_text = "".join((package / p / "define.xml").read_text("utf-8") for p in ("sdtm", "adam"))
    texts = {t for t in texts if t not in spec_text}
    return usubjids, subjids, dates, texts


def test_no_original_identifier_date_or_free_text_survives(
    package: Path, shared: tuple[Path, Path]
):
    usubjids, subjids, dates, texts = _originals(package)
    assert len(usubjids) == 20 and len(dates) > 300 and len(texts) > 15  # the scan is real
    files = [p for p in shared[0].rglob("*") if p.is_file()]
    assert len(files) == 39  # 29 datasets (SUPPDS left out), 2 x 3 define files, aCRF, 3 reports
    stylesheet = stylesheet_path().read_bytes()
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".xsl":  # the shipped stylesheet (dated 2016-11-15), no data
            assert data == stylesheet
            continue
        for needle in sorted(usubjids | dates | texts):
            assert needle.encode("utf-8") not in data, (path.name, needle)
    # SUBJIDs are three digits, found inside any number: compared as whole values
    for name, frame in _all(shared[0]).items():
        for column in ("SUBJID", "USUBJID", "RSUBJID", "IDVARVAL"):
            if column in frame.columns:
                assert not set(frame[column]) & subjids, (name, column)


def _by_subject(frame: pd.DataFrame, ids: dict[str, str] | None, seq: str) -> pd.DataFrame:
    frame = frame.copy()
    if ids is not None:
        frame["USUBJID"] = frame["USUBJID"].map(ids)
    return frame.sort_values(["USUBJID", seq], kind="stable").reset_index(drop=True)


def test_study_days_and_every_adam_result_are_unchanged(package: Path, shared):
    before, after, ids = _all(package), _all(shared[0]), _new_ids(shared[1])
    compared = 0
    for name, frame in before.items():
        if "USUBJID" not in frame.columns:
            continue
        seq = next((c for c in frame.columns if c.endswith("SEQ")), "USUBJID")
        old = _by_subject(frame, ids, seq)
        if name.startswith("SUPP"):
            continue
        new = _by_subject(after[name], None, seq)
        assert len(old) == len(new)
        numbers = [
            c
            for c in frame.columns
            if c.endswith("DY")
            or c in ("AVAL", "BASE", "CHG", "PCHG", "PCTIMPR", "NASMT", "AVALC", "PARAMCD")
            or (name == "ADSL" and c in ("ONTRTM", "ONSCRM", "DELTAFS", "BLALS", "BLFVCPP"))
        ]
        for column in numbers:
            pd.testing.assert_series_equal(old[column], new[column], check_names=False)
            compared += 1
    assert compared > 40
    # slopes of ADPROG (ALSFRS-R points per month) in particular
    slopes = before["ADPROG"]["PARAMCD"].str.contains("SLP|SLOPE", regex=True)
    assert slopes.any()


def test_dates_move_by_the_subject_offset_in_key(package: Path, shared):
    before, after = _all(package), _all(shared[0])
    key = json.loads(shared[1].read_text())
    offsets = {s["new_USUBJID"]: s["offset_days"] for s in key["subjects"]}
    ids = _new_ids(shared[1])
    old = _by_subject(before["ADSL"], ids, "USUBJID")
    new = _by_subject(after["ADSL"], None, "USUBJID")
    expected = old["TRTSDT"] + new["USUBJID"].map(offsets)
    pd.testing.assert_series_equal(new["TRTSDT"], expected, check_names=False)
    first = new["USUBJID"].iloc[0]
    moved = pd.to_datetime(old["RFICDT"].iloc[0], unit="D", origin="1960-01-01")
    moved += pd.Timedelta(days=offsets[first])
    dm = after["DM"].set_index("USUBJID")
    assert dm.loc[first, "RFICDTC"][:10] == moved.strftime("%Y-%m-%d")
    assert (after["DM"]["BRTHDTC"] == "").all()


def test_risk_figures_agree_with_a_pandas_groupby(package: Path, shared):
    with open(shared[0] / "reports" / "deidentification_risk.csv", newline="") as f:
        rows = {(r["when"], r["dataset"]): r for r in csv.DictReader(f)}
    assert set(rows) == {(w, d) for w in ("before", "after") for d in ("DM", "ADSL")}
    for when, pkg in (("before", package), ("after", shared[0])):
        frames = _all(pkg)
        for name in ("DM", "ADSL"):
            qi = ["AGE", "SEX", "RACE", "ETHNIC", "COUNTRY"]
            sizes = frames[name].groupby(qi, dropna=False).size()
            row = rows[(when, name)]
            assert int(row["k_anonymity"]) == sizes.min()
            assert int(row["classes"]) == len(sizes)
            assert int(row["unique_records"]) == (sizes == 1).sum()
            assert float(row["unique_share"]) == pytest.approx((sizes == 1).sum() / 20, abs=1e-4)
    # RACE: the demo's rare races (fewer than 5 subjects) are now OTHER
    race = _all(shared[0])["DM"]["RACE"].value_counts()
    assert (race >= 5).all() or set(race[race < 5].index) == {"OTHER"}


def test_every_changed_variable_is_in_the_report(package: Path, shared):
    with open(shared[0] / "reports" / "deidentification.csv", newline="") as f:
        reported = {(r["dataset"], r["variable"]) for r in csv.DictReader(f)}
    before, after = _all(package), _all(shared[0])
    for name, frame in before.items():
        for column in frame.columns:
            old = sorted(map(str, frame[column].tolist()))
            new = sorted(map(str, after.get(name, frame.iloc[:0])[column].tolist()))
            changed = old != new
            if name == "SUPPDS":
                continue  # every record removed (reported under QVAL), the dataset left out
            assert changed == ((name, column) in reported), (name, column)


def test_define_xml_is_valid_and_follows_the_data(shared):
    out = shared[0]
    for part in ("sdtm", "adam"):
        define = out / part / "define.xml"
        assert validate_define_schema(define) == []
        root = etree.parse(str(define)).getroot()
        mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
        frames_meta = {p.stem.upper(): read_dataset(p)[1] for p in dataset_files(out / part)}
        for name, meta in frames_meta.items():
            group = mdv.find(f"odm:ItemGroupDef[@Name='{name}']", NS)
            for ref in group.iterfind("odm:ItemRef", NS):
                item = mdv.find(f"odm:ItemDef[@OID='{ref.get('ItemOID')}']", NS)
                var = meta.variable(item.get("Name"))
                if item.get("Length") and var.type == "Char":
                    assert int(item.get("Length")) == var.length, (name, var.name)
    dm = etree.parse(str(out / "sdtm" / "define.xml")).getroot()
    comment = dm.find(".//def:CommentDef[@OID='COM.DEID.DM.USUBJID']", NS)
    assert "De-identified: recode" in "".join(comment.itertext())
    item = dm.find(".//odm:ItemDef[@OID='IT.DM.USUBJID']", NS)
    assert item.get("{http://www.cdisc.org/ns/def/v2.1}CommentOID") == "COM.DEID.DM.USUBJID"


def test_the_same_secret_gives_the_same_bytes(package: Path, shared):
    spec = package.parent / "deid.yaml"
    again = package.parent / "again"
    run_deidentify(package, again, package.parent / "k2.json", spec_path=spec, secret=SECRET)
    first = {p.relative_to(shared[0]): p.read_bytes() for p in shared[0].rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first == second
    assert shared[1].read_bytes() == (package.parent / "k2.json").read_bytes()


def test_dataset_json_is_written_where_the_input_has_it(package: Path, tmp_path: Path):
    pkg = tmp_path / "pkg"
    shutil.copytree(package / "sdtm", pkg / "sdtm")
    frame, meta = read_dataset(pkg / "sdtm" / "ts.xpt")
    write_dataset(frame, pkg / "sdtm", dataset="TS", label=meta.label,
                  variables=meta.variables, formats=("json",))  # fmt: skip
    run_deidentify(pkg, tmp_path / "out", tmp_path / "key.json", secret=SECRET)
    for xpt in dataset_files(tmp_path / "out" / "sdtm"):
        from_json, _ = read_dataset(xpt.with_suffix(".json"))
        pd.testing.assert_frame_equal(read_dataset(xpt)[0], from_json, check_dtype=False)
    _, header = read_dataset_json(tmp_path / "out" / "sdtm" / "dm.json")
    assert header.name == "DM"


def test_the_command_refuses_a_key_inside_the_output(package: Path, tmp_path: Path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["deidentify", str(package), "--out", str(out), "--key-out", str(out / "k.json")]
    )
    assert result.exit_code == 1
    assert f"--key-out {out / 'k.json'}: the key file is inside the output package" in (
        result.output
    )
    assert not out.exists() or not any((out).rglob("*.xpt"))


def test_the_command_names_the_line_of_a_bad_spec(package: Path, tmp_path: Path):
    spec = tmp_path / "deid.yaml"
    spec.write_text("age:\n  cap: 89\n  set_too: 90\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["deidentify", str(package), "--spec", str(spec), "--out", str(tmp_path / "o"),
         "--key-out", str(tmp_path / "k.json")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert f"{spec}:3: age.set_too: unknown key" in result.output


def test_define_update_adds_new_terms_and_lengths_and_stays_valid(package: Path, tmp_path):
    from cdisc_mapper.deid.define_update import update_define

    target = tmp_path / "define.xml"
    change = ("group, values of fewer than 5 subjects grouped", 7, {"WHITE", "SAMARIA"})
    update_define(package / "sdtm" / "define.xml", target, {("DM", "RACE"): change}, {"TV"})
    assert validate_define_schema(target) == []
    root = etree.parse(str(target)).getroot()
    item = root.find(".//odm:ItemDef[@OID='IT.DM.RACE']", NS)
    assert item.get("Length") == "7"
    codelist = root.find(".//odm:CodeList[@OID='CL.RACE']", NS)
    values = [i.get("CodedValue") for i in codelist if i.get("CodedValue")]
    assert values[-1] == "SAMARIA" and "WHITE" in values and values.count("WHITE") == 1
    assert root.find(".//odm:ItemGroupDef[@Name='TV']", NS) is None
    assert root.find(".//odm:ItemGroupDef[@Name='TA']", NS) is not None
    comment = root.find(".//def:CommentDef[@OID='COM.DEID.DM.RACE']", NS)
    assert "".join(comment.itertext()).strip() == (
        "De-identified: group, values of fewer than 5 subjects grouped."
    )


def test_the_command_takes_the_secret_from_a_file_and_keeps_the_key_private(
    package: Path, tmp_path: Path
):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    key = tmp_path / "private" / "key.json"
    result = CliRunner().invoke(
        main,
        ["-q", "deidentify", str(package), "--out", str(tmp_path / "o"), "--key-out", str(key),
         "--secret-file", str(secret)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(key.read_text())["secret"] == SECRET
    assert key.stat().st_mode & 0o777 == 0o600
    assert f"key: {key}" in result.output
