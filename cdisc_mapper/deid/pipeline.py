"""``deidentify``: read a package, apply the spec, publish the de-identified package,
its define.xml and report, and write the key apart.

The package is read with the one dataset reader (XPT or Dataset-JSON, whichever the
folder holds first) and written in every format it holds. Everything is made in a
working folder beside OUT and published at once (:mod:`cdisc_mapper.publish`); the key
is written before the publication, so a published package always has its key.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from cdisc_mapper.datasetjson import (
    SUFFIX,
    StudyContext,
    creation_stamp,
    dataset_files,
    define_file,
    format_of,
    formats_in,
    read_dataset,
    read_dataset_json,
    write_dataset,
)
from cdisc_mapper.define.html import render_html, write_stylesheet
from cdisc_mapper.deid.define_update import update_define
from cdisc_mapper.deid.key import DeidKey, build_key, check_key_path, new_secret, write_key
from cdisc_mapper.deid.report import write_report
from cdisc_mapper.deid.risk import RiskFigures, rare_values, risk_figures
from cdisc_mapper.deid.spec import DeidSpec, load_deid_spec
from cdisc_mapper.deid.transform import Change, deidentify_frame
from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.publish import publish_folders, scratch
from cdisc_mapper.xpt import XptMetadata, XptVariable

PARTS = ("sdtm", "adam")
DATASET = "(dataset)"
"""The variable name of a change to a whole dataset."""
SUBJECT_LEVEL = ("DM", "ADSL")
DOCUMENT_SUFFIXES = (".pdf",)
"""Files carried over as they are: documents define.xml cites (the blank annotated CRF);
any other non-dataset file (e.g. reconciliation.csv, a run record) is left behind and
listed in the report."""

Dataset = tuple[pd.DataFrame, XptMetadata]


@dataclass
class DeidResult:
    """What a run wrote, its changes and its risk figures."""

    files: list[Path] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    risk: list[tuple[str, RiskFigures]] = field(default_factory=list)
    key: Path | None = None


def _read_part(folder: Path) -> dict[str, Dataset]:
    return {p.stem.upper(): read_dataset(p) for p in dataset_files(folder)}


def _subjects(package: dict[str, dict[str, Dataset]]) -> dict[str, tuple[str, str]]:
    """Every USUBJID of the package -> (STUDYID, SUBJID), DM and ADSL first."""
    found: dict[str, tuple[str, str]] = {}
    ordered = sorted(
        ((n, d) for part in package.values() for n, d in part.items()),
        key=lambda nd: nd[0] not in SUBJECT_LEVEL,
    )
    for _name, (frame, _meta) in ordered:
        if "USUBJID" not in frame.columns:
            continue
        # the first record of each subject is the one the loop below would keep
        first = frame.drop_duplicates("USUBJID")
        study = first["STUDYID"] if "STUDYID" in first.columns else pd.Series("", index=first.index)
        subjid = first["SUBJID"] if "SUBJID" in first.columns else pd.Series("", index=first.index)
        for u, s, j in zip(first["USUBJID"], study, subjid, strict=True):
            if u and u not in found:
                found[str(u)] = (str(s or ""), str(j or ""))
    return found


def _distinct(package: dict[str, dict[str, Dataset]], name: str) -> set[str]:
    return {
        str(v)
        for part in package.values()
        for frame, _meta in part.values()
        if name in frame.columns
        for v in frame[name].dropna()
        if str(v)
    }


def _subject_level(package: dict[str, dict[str, Dataset]]) -> list[tuple[str, pd.DataFrame]]:
    return [(n, part[n][0]) for part in package.values() for n in SUBJECT_LEVEL if n in part]


def _risk(
    package: dict[str, dict[str, Dataset]], spec: DeidSpec, when: str
) -> list[tuple[str, RiskFigures]]:
    return [(when, risk_figures(f, n, spec.quasi_identifiers)) for n, f in _subject_level(package)]


def _grouping(package: dict[str, dict[str, Dataset]], spec: DeidSpec) -> dict[str, set[str]]:
    """Per grouped variable, its rare values, counted on DM (else ADSL) subjects."""
    levels = _subject_level(package)
    if not levels:
        return {}
    frame = levels[0][1]
    return {v: rare_values(frame, v, rule.k) for v, rule in spec.group_rare.items()}


def _group(frame: pd.DataFrame, ds: str, spec: DeidSpec, rare: dict[str, set[str]]) -> list[Change]:
    changes = []
    for name, values in rare.items():
        if name not in frame.columns or not values:
            continue
        hit = frame[name].astype(str).isin(values).to_numpy()
        if hit.any():
            rule = spec.group_rare[name]
            frame.loc[hit, name] = rule.into
            reason = (
                f"quasi-identifier: values of fewer than {rule.k} subjects grouped into {rule.into}"
            )
            changes.append(Change(ds, name, "group", reason, int(hit.sum())))
    return changes


def _variables(frame: pd.DataFrame, meta: XptMetadata, changed: set[str]) -> list[XptVariable]:
    out = []
    for var in meta.variables:
        if var.name in changed and var.type == "Char":
            text = frame[var.name].fillna("").astype(str)
            length = max([1, *(len(v.encode("utf-8")) for v in pd.unique(text))])
            out.append(XptVariable(var.name, var.label, var.type, length, var.format))
        else:
            out.append(var)
    return out


def _define_changes(
    frames: dict[str, Dataset], changes: list[Change]
) -> dict[tuple[str, str], tuple[str, int | None, set[str]]]:
    found: dict[tuple[str, str], tuple[str, int | None, set[str]]] = {}
    for c in changes:
        if c.dataset not in frames or c.variable == DATASET:
            continue
        frame, meta = frames[c.dataset]
        var = next(v for v in meta.variables if v.name == c.variable)
        text = f"{c.action}, {c.reason}"
        previous = found.get((c.dataset, c.variable))
        if previous:
            text = f"{previous[0]}; {text}"
        values = set(frame[c.variable].dropna().astype(str)) - {""} if var.type == "Char" else set()
        found[(c.dataset, c.variable)] = (text, var.length if var.type == "Char" else None, values)
    return found


def _json_header(source: Path, name: str) -> tuple[StudyContext | None, tuple[str, ...]]:
    """The study context and keys of the dataset's Dataset-JSON file in ``source``, if
    there is one (the new file keeps them; its creation time is this run's)."""
    for fmt in ("json", "ndjson"):
        path = source / f"{name.lower()}{SUFFIX[fmt]}"
        if path.is_file():
            _frame, meta = read_dataset_json(path)
            keyed = sorted((c.key_sequence, c.name) for c in meta.columns if c.key_sequence)
            study = replace(meta.study, created=creation_stamp())
            return study, tuple(n for _, n in keyed)
    return None, ()


def _write_part(
    source: Path, target: Path, frames: dict[str, Dataset], changes: list[Change]
) -> tuple[list[Path], list[str]]:
    """The datasets in every format of ``source``, its define(s) updated, documents."""
    target.mkdir(parents=True, exist_ok=True)
    formats = formats_in(source)
    files: list[Path] = []
    for name, (frame, meta) in sorted(frames.items()):
        study, keys = _json_header(source, name)
        files += write_dataset(
            frame, target, dataset=name, label=meta.label, variables=meta.variables,
            formats=formats, study=study, keys=keys,
        )  # fmt: skip
    wanted = _define_changes(frames, changes)
    removed = {c.dataset for c in changes if c.variable == DATASET}
    not_copied: list[str] = []
    defines = {define_file(f, formats) for f in formats}
    for path in sorted(source.iterdir()):
        if path.name in defines and path.is_file():
            files.append(update_define(path, target / path.name, wanted, removed))
            files.append(render_html(target / path.name, target / f"{path.stem}.html"))
        elif path.is_file() and path.suffix.lower() in DOCUMENT_SUFFIXES:
            shutil.copyfile(path, target / path.name)
            files.append(target / path.name)
        elif path.is_file() and format_of(path) is None and not path.name.startswith("define"):
            not_copied.append(f"{source.name}/{path.name}")
    files.append(write_stylesheet(target))
    return files, not_copied


def _transform(
    package: dict[str, dict[str, Dataset]], key: DeidKey, spec: DeidSpec
) -> tuple[dict[str, dict[str, Dataset]], list[Change]]:
    rare = _grouping(package, spec)
    out: dict[str, dict[str, Dataset]] = {}
    changes: list[Change] = []
    for part, datasets in package.items():
        out[part] = {}
        for name, (frame, meta) in datasets.items():
            new, found = deidentify_frame(frame, meta, key, spec)
            found += _group(new, name, spec, rare)
            if len(frame) and not len(new):
                reason = "every record removed: the dataset is left out, with its define.xml entry"
                changes += [*found, Change(name, DATASET, "remove", reason, 0, len(frame))]
                continue
            variables = _variables(new, meta, {c.variable for c in found})
            out[part][name] = (new, replace(meta, variables=tuple(variables), n_records=len(new)))
            changes += found
    return out, changes


def run_deidentify(
    package: Path,
    out: Path,
    key_path: Path,
    *,
    spec_path: Path | None = None,
    secret: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> DeidResult:
    """De-identify the SDTM/ADaM package in ``package`` into ``out``; the key goes to
    ``key_path`` (refused inside either package)."""
    say = progress or (lambda _m: None)
    spec = load_deid_spec(spec_path)
    check_key_path(key_path, out, package)
    parts = [p for p in PARTS if formats_in(package / p)]
    if not parts:
        raise CdiscMapperError(
            "no datasets in sdtm/ or adam/", where=str(package),
            hint="give the folder holding sdtm/ and adam/ (e.g. a demo output)",
        )  # fmt: skip
    source = {p: _read_part(package / p) for p in parts}
    key = build_key(
        secret or new_secret(), spec, _subjects(source),
        _distinct(source, "SITEID"), _distinct(source, "INVID"), _distinct(source, "POOLID"),
    )  # fmt: skip
    count = sum(len(d) for d in source.values())
    say(f"de-identifying {count} datasets of {len(key.subjects)} subjects")
    result = DeidResult(risk=_risk(source, spec, "before"))
    new, result.changes = _transform(source, key, spec)
    result.risk += _risk(new, spec, "after")
    with scratch(out, "deidentify") as work:
        not_copied: list[str] = []
        for part in parts:
            files, skipped = _write_part(package / part, work / part, new[part], result.changes)
            result.files += [out / part / f.name for f in files]
            not_copied += skipped
        reports = write_report(work / "reports", result.changes, result.risk, not_copied)
        result.files += [out / "reports" / f.name for f in reports]
        result.key = write_key(key, key_path)
        publish_folders({out / p: work / p for p in [*parts, "reports"]})
    return result
