"""Loading SDTMIG 3.4 (with SDTM v1.8 class variables) and ADaMIG 1.3 metadata from ``specs/``."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Literal

from cdisc_mapper.errors import Location, StandardsError
from cdisc_mapper.standards.csvio import read_table, split_codes
from cdisc_mapper.standards.metadata import (
    MODEL_CLASSES,
    ClassVariable,
    DatasetMeta,
    Standard,
    VariableMeta,
)
from cdisc_mapper.standards.paths import resolve_specs_dir

SDTMIG_DIR = "sdtmig-3.4"
ADAMIG_DIR = "adamig-1.3"
#: SDTM model general observation class variables (built from the SDTM v1.8 workbook).
SDTM_MODEL_DIR = "sdtm-1.8"
SDTM_MODEL_VERSION = "SDTM v1.8"
CLASS_VARIABLES_FILE = "class_variables.csv"
#: Hand-curated ADaM OCCDS v1.1 variables (not in the ADaMIG 1.3 reference export).
OCCDS_FILE = "occds_variables.csv"

_VARIABLE_COLUMNS = ("dataset", "order", "name", "label", "type", "core", "codelist_codes")
_CLASS_COLUMNS = ("class", "order", "name", "label", "type", "role")
_MODEL_NAME = re.compile(r"^(--)?[A-Z][A-Z0-9]*$")


def _variable_type(text: str, where: Location) -> Literal["Char", "Num"]:
    if text == "Char":
        return "Char"
    if text == "Num":
        return "Num"
    raise StandardsError(f"type must be Char or Num, not {text!r}", where=where)


def _read_datasets(path: Path, extra: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    """Rows of a ``datasets.csv`` keyed by dataset name."""
    rows: dict[str, dict[str, str]] = {}
    for line, row in read_table(path, ("dataset", "label", "class", "structure", *extra)):
        if row["dataset"] in rows:
            raise StandardsError(
                f"dataset {row['dataset']} listed twice", where=Location(str(path), line)
            )
        rows[row["dataset"]] = row
    return rows


def _read_variables(
    path: Path, datasets: Collection[str], cores: Collection[str]
) -> list[VariableMeta]:
    """Variables of a ``variables.csv``, validated against ``datasets`` and ``cores``."""
    out: list[VariableMeta] = []
    for line, row in read_table(path, _VARIABLE_COLUMNS):
        where = Location(file=str(path), line=line)
        if row["dataset"] not in datasets:
            raise StandardsError(f"unknown dataset {row['dataset']!r}", where=where)
        vtype = _variable_type(row["type"], where)
        if row["core"] not in cores:
            raise StandardsError(
                f"core must be one of {', '.join(cores)}, not {row['core']!r}", where=where
            )
        try:
            order = int(row["order"])
        except ValueError:
            raise StandardsError(f"order {row['order']!r} is not an integer", where=where) from None
        out.append(
            VariableMeta(
                dataset=row["dataset"],
                name=row["name"],
                label=row["label"],
                type=vtype,
                order=order,
                core=row["core"],
                role=row.get("role", ""),
                codelist_codes=split_codes(row["codelist_codes"]),
                described_value_domain=row.get("described_value_domain", ""),
                value_list=split_codes(row.get("value_list", "")),
                variable_set=row.get("variable_set", ""),
            )
        )
    return out


def _read_class_variables(path: Path) -> list[ClassVariable]:
    """SDTM model class variables of ``class_variables.csv``, validated."""
    out: list[ClassVariable] = []
    seen: set[tuple[str, str]] = set()
    for line, row in read_table(path, _CLASS_COLUMNS):
        where = Location(file=str(path), line=line)
        if row["class"] not in MODEL_CLASSES:
            raise StandardsError(
                f"class must be one of {', '.join(MODEL_CLASSES)}, not {row['class']!r}",
                where=where,
            )
        if not _MODEL_NAME.match(row["name"]):
            raise StandardsError(f"bad model variable name {row['name']!r}", where=where)
        if (row["class"], row["name"]) in seen:
            raise StandardsError(f"{row['class']} lists {row['name']} twice", where=where)
        seen.add((row["class"], row["name"]))
        vtype = _variable_type(row["type"], where)
        try:
            order = int(row["order"])
        except ValueError:
            raise StandardsError(f"order {row['order']!r} is not an integer", where=where) from None
        out.append(
            ClassVariable(
                class_=row["class"],
                order=order,
                name=row["name"],
                label=row["label"],
                type=vtype,
                role=row["role"],
                role_description=row.get("role_description", ""),
                format=row.get("format", ""),
            )
        )
    missing = {"Identifiers", "Timing", "Interventions", "Events", "Findings"} - {
        c for c, _ in seen
    }
    if missing:
        raise StandardsError(f"no {', '.join(sorted(missing))} variables", where=str(path))
    return out


def _group(variables: list[VariableMeta]) -> dict[str, list[VariableMeta]]:
    by_dataset: dict[str, list[VariableMeta]] = {}
    for v in variables:
        by_dataset.setdefault(v.dataset, []).append(v)
    return by_dataset


@lru_cache(maxsize=8)
def _load_sdtmig(folder: Path) -> Standard:
    base = folder / SDTMIG_DIR
    rows = _read_datasets(base / "datasets.csv")
    datasets = [
        DatasetMeta(name=n, label=r["label"], class_=r["class"], structure=r["structure"])
        for n, r in rows.items()
    ]
    variables = _read_variables(base / "variables.csv", rows, ("Req", "Exp", "Perm"))
    model = _read_class_variables(folder / SDTM_MODEL_DIR / CLASS_VARIABLES_FILE)
    return Standard(
        "SDTMIG",
        "3.4",
        datasets,
        _group(variables),
        class_variables=model,
        model_version=SDTM_MODEL_VERSION,
    )


@lru_cache(maxsize=8)
def _load_adamig(folder: Path) -> Standard:
    base = folder / ADAMIG_DIR
    rows = _read_datasets(base / "datasets.csv", ("subclass", "variable_structure"))
    structures = {r["variable_structure"] for r in rows.values()}
    cores = ("Req", "Cond", "Perm")
    variables = _read_variables(base / "variables.csv", structures, cores)
    variables += _read_variables(base / OCCDS_FILE, structures, cores)
    by_structure = _group(variables)
    datasets = []
    grouped: dict[str, list[VariableMeta]] = {}
    for name, r in rows.items():
        datasets.append(
            DatasetMeta(
                name=name,
                label=r["label"],
                class_=r["class"],
                structure=r["structure"],
                subclass=r["subclass"],
            )
        )
        source = by_structure.get(r["variable_structure"], [])
        grouped[name] = [v if v.dataset == name else replace(v, dataset=name) for v in source]
    return Standard("ADaMIG", "1.3", datasets, grouped)


def load_sdtmig(specs_dir: Path | str | None = None) -> Standard:
    """SDTMIG v3.4 metadata of the domains this project produces (and SUPPQUAL).

    Includes the SDTM v1.8 general observation class variables
    (``sdtm-1.8/class_variables.csv``) behind :meth:`Standard.allowed_variables`.

    ``specs_dir`` defaults to ``$CDISC_MAPPER_SPECS`` or the bundled ``specs/``.
    Cached per resolved folder. Raises :class:`StandardsError` for missing or bad files.
    """
    return _load_sdtmig(resolve_specs_dir(specs_dir))


def load_adamig(specs_dir: Path | str | None = None) -> Standard:
    """ADaMIG v1.3 metadata per data structure: ADSL, BDS, TTE (BDS variables), OCCDS.

    OCCDS variables are hand-curated from ADaM OCCDS v1.1 (``occds_variables.csv``).
    Cached per resolved folder. Raises :class:`StandardsError` for missing or bad files.
    """
    return _load_adamig(resolve_specs_dir(specs_dir))
