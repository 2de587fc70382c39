"""Spec workbook -> spec files: write a study's YAML specs back from a workbook made by
:mod:`.exporter` (see :mod:`cdisc_mapper.xlsx`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.define import DEFINE_FILE
from cdisc_mapper.spec.study import StudySpec, UnscheduledSpec
from cdisc_mapper.spec.yamlio import dump_yaml
from cdisc_mapper.standards import load_sdtmig
from cdisc_mapper.xlsx import layout as L
from cdisc_mapper.xlsx.adam_sheets import read_adam
from cdisc_mapper.xlsx.define_sheets import STUDY_ATTRIBUTES as DEFINE_ATTRIBUTES
from cdisc_mapper.xlsx.define_sheets import read_define
from cdisc_mapper.xlsx.design_sheets import read_design
from cdisc_mapper.xlsx.provenance import WorkbookLocator
from cdisc_mapper.xlsx.sdtm_sheets import read_sdtm
from cdisc_mapper.xlsx.sheet import Sheet, cell_str, close_hint, open_workbook, parse_cell

#: Study rows that belong to other spec files, by file kind (``define``, ``adam``,
#: ``conventions``, ``unscheduled``): (row, attribute, value).
OtherRows = dict[str, list[tuple[int, str, str]]]


def import_workbook(xlsx: Path, study_dir: Path) -> list[Path]:
    """Write the spec files of ``study_dir`` from ``xlsx``: ``study.yaml``,
    ``sdtm/<domain>.yaml``, ``adam/*.yaml`` and ``define.yaml`` (those the workbook has);
    return the files written.

    Every problem is a :class:`SpecError` naming the sheet, row and column. Spec files of
    ``study_dir`` that the workbook does not hold are left alone.
    """
    return [Path(study_dir) / rel for rel in read_workbook(xlsx, study_dir)[0]]


def read_workbook(xlsx: Path, study_dir: Path) -> tuple[list[str], WorkbookLocator]:
    """:func:`import_workbook`, returning the files written (relative to ``study_dir``)
    and the :class:`WorkbookLocator` that maps their values back to workbook cells."""
    xlsx = Path(xlsx)
    sheets = read_sheets(xlsx)
    other: OtherRows = {}
    study = _read_study(sheets, other)
    domains = read_sdtm(sheets)
    adam = read_adam(sheets, _method_texts(sheets), other.get("conventions", []))
    define = read_define(sheets, other.get("define", []), _variable_test(sheets))

    if study is None and domains:
        raise SpecError(
            "the workbook has SDTM datasets but no study attributes (studyid, title, ...): "
            "SDTM specs need study.yaml",
            where=sheets[L.STUDY].where(1, None),
            hint="give the study's rows in the Study sheet, or remove the SDTM rows",
        )
    files: dict[str, Any] = {} if study is None else {"study.yaml": study}
    files.update({f"sdtm/{code.lower()}.yaml": data for code, data in domains.items()})
    files.update(adam)
    if define is not None:
        files[DEFINE_FILE] = define
    study_dir = Path(study_dir)
    for rel, data in files.items():
        path = study_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_yaml(data), encoding="utf-8")
    return list(files), WorkbookLocator(xlsx, sheets)


def read_sheets(xlsx: Path) -> dict[str, Sheet]:
    """The sheets the import reads (:data:`layout.READ_SHEETS`), checked: no unknown
    sheet, none missing."""
    wb = open_workbook(xlsx, "spec workbook")
    try:
        names = list(wb.sheetnames)
        for name in names:
            if name not in L.SHEETS and name != L.LISTS:
                raise SpecError(
                    f"unknown sheet {name!r}",
                    where=f"{xlsx}: sheet {name}",
                    hint=close_hint(name, list(L.SHEETS)),
                )
        missing = [n for n in L.READ_SHEETS if n not in names]
        if missing:
            raise SpecError("missing sheet(s): " + ", ".join(missing), where=str(xlsx))
        return {name: Sheet(xlsx, name, wb[name]) for name in L.READ_SHEETS}
    finally:
        wb.close()


# ------------------------------------------------------------------------ study.yaml
def _read_study(sheets: dict[str, Sheet], other: OtherRows | None = None) -> dict[str, Any] | None:
    """study.yaml from the Study and Comments sheets (None when the workbook gives none of
    its keys: an ADaM-only study); the rows of other spec files (``define.*``, ``adam.*``
    attributes) are collected in ``other`` by prefix."""
    other = {} if other is None else other
    sheet = sheets[L.STUDY]
    data, seen = _read_study_rows(sheet, other)
    for key, value in read_design(sheets, other.get("unscheduled", [])).items():
        if key in data:
            raise sheet.error(
                f"{key} is given both as a YAML text in the Study sheet and in its own sheet(s)",
                seen.get(key, 1),
                "Attribute",
                hint="remove the Study row",
            )
        data[key] = value
    comments = _read_comments(sheets[L.COMMENTS])
    if data == {"subjects": {}}:  # no study.yaml key at all: an ADaM-only study
        if comments:
            raise sheets[L.COMMENTS].error(
                "comments belong to study.yaml, which this workbook does not hold (the Study "
                "sheet gives no studyid): an ADaM-only study states its comments in the ADaM "
                "conventions",
                next(r for r, _ in sheets[L.COMMENTS].rows),
                "ID",
                hint="move them to `comments:` of the adam.conventions Study row, or give the "
                "study's attributes",
            )
        return None
    if comments:
        data["comments"] = comments
    data = {key: data[key] for key in StudySpec.model_fields if key in data}
    try:
        StudySpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = ".".join(str(x) for x in err["loc"]) or "(study)"
        raise _design_error(sheets, f"{path}: {err['msg']}", data) from None
    return data


#: Study rows of other spec files: attribute -> file kind.
_OTHER_FILES = {**dict.fromkeys(DEFINE_ATTRIBUTES, "define"),
                **dict.fromkeys(L.ADAM_BLOBS, "adam")}  # fmt: skip
_UNSCHEDULED = {f"unscheduled.{k}" for k in UnscheduledSpec.model_fields}


def _read_study_rows(sheet: Sheet, other: OtherRows) -> tuple[dict[str, Any], dict[str, int]]:
    """study.yaml's keys given in the Study sheet (``subjects`` always), and the row of
    each attribute; rows of other spec files go to ``other``."""
    data: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {"subjects": {}, "numbers": {}, "export": {}}
    csv: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for r, row in sheet.rows:
        attr = cell_str(row, "Attribute")
        value = cell_str(row, "Value")
        if attr is None:
            raise sheet.error("a value without an attribute", r, "Attribute")
        if attr in seen:
            raise sheet.error(f"attribute {attr!r} given twice (first at row {seen[attr]})",
                              r, "Attribute")  # fmt: skip
        seen[attr] = r
        if value is None:
            continue
        kind = _other_file(attr)
        if kind is not None:
            other.setdefault(kind, []).append((r, attr, value))
        elif attr in L.STUDY_ATTRIBUTES:
            data[L.STUDY_ATTRIBUTES[attr]] = value
        elif attr.partition(".")[0] in sections and attr.partition(".")[2]:
            section, _, key = attr.partition(".")
            sections[section][key] = value
        elif attr.startswith("csv.files.") and "." in attr.removeprefix("csv.files."):
            file, key = attr.removeprefix("csv.files.").rsplit(".", 1)
            csv.setdefault("files", {}).setdefault(file, {})[key] = value
        elif attr in ("csv.delimiter", "csv.encoding"):
            csv[attr.removeprefix("csv.")] = value
        elif attr in L.STUDY_BLOBS:
            data[attr] = parse_cell(sheet, r, "Value", value, "yaml")
        else:
            known = [
                *L.STUDY_ATTRIBUTES, "subjects.<key>", "numbers.<key>", "export.<key>",
                "csv.delimiter",
                "csv.encoding", "csv.files.<file>.<key>", *sorted(_UNSCHEDULED),
                *_OTHER_FILES,
            ]  # fmt: skip
            hint = close_hint(attr, known, "known: " + ", ".join(known))
            raise sheet.error(f"unknown attribute {attr!r}", r, "Attribute", hint=hint)
    data["subjects"] = sections.pop("subjects")
    data.update({name: given for name, given in sections.items() if given})
    if csv:
        data["csv"] = csv
    return data, seen


def _other_file(attr: str) -> str | None:
    """The kind of spec file (other than study.yaml) a Study attribute belongs to."""
    if attr in _OTHER_FILES:
        return _OTHER_FILES[attr]
    if attr.startswith(L.CONVENTIONS_PREFIX):
        return "conventions"
    if attr in _UNSCHEDULED:
        return "unscheduled"
    return None


def _read_comments(sheet: Sheet) -> dict[str, str]:
    """The Comments sheet: ID -> text."""
    comments: dict[str, str] = {}
    for r, row in sheet.rows:
        cid = cell_str(row, "ID")
        if cid is None:
            raise sheet.error("a comment without an ID", r, "ID")
        if cid in comments:
            raise sheet.error(f"comment ID {cid!r} given twice", r, "ID")
        comments[cid] = cell_str(row, "Description") or ""
    return comments


def _design_error(sheets: dict[str, Sheet], message: str, data: dict[str, Any]) -> SpecError:
    """A study-level check that failed, at the design-sheet row it is about when the
    message names one (``arms[0] names element ...``, duplicate ``visitnum``)."""
    found = re.search(r"arms\[(\d+)\]", message)
    if found and L.ARMS in sheets and int(found[1]) < len(sheets[L.ARMS].rows):
        r = sheets[L.ARMS].rows[int(found[1])][0]
        return sheets[L.ARMS].error(message, r, "elements")
    if "visitnum values must be unique" in message and L.VISITS in sheets:
        seen: set[Any] = set()
        for r, row in sheets[L.VISITS].rows:
            number = row.get("visitnum")
            if number in seen:
                return sheets[L.VISITS].error(message, r, "visitnum")
            seen.add(number)
    return SpecError(message, where=sheets[L.STUDY].where(1, None))


# ------------------------------------------------------------------- for the others
def _method_texts(sheets: dict[str, Sheet]) -> dict[str, str]:
    return {
        mid: cell_str(row, "Description") or ""
        for _, row in sheets[L.METHODS].rows
        if (mid := cell_str(row, "ID")) is not None
    }


def _variable_test(sheets: dict[str, Sheet]) -> Callable[[str, str], bool]:
    """Whether a dataset of the workbook has a variable: a Variables-sheet row, or for an
    SDTM domain a variable the SDTMIG / SDTM model allows (e.g. --SEQ, added by the tool)."""
    sdtmig = load_sdtmig()
    datasets = {cell_str(row, "Dataset") for _, row in sheets[L.DATASETS].rows}
    named = {
        (cell_str(row, "Dataset"), cell_str(row, "Variable")) for _, row in sheets[L.VARIABLES].rows
    }

    def has(dataset: str, variable: str) -> bool:
        if dataset not in datasets:
            return False
        if (dataset, variable) in named:
            return True
        return not dataset.startswith("AD") and bool(sdtmig.variable_allowed(dataset, variable))

    return has
