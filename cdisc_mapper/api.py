"""The Python API: the stages of the command line as functions for notebooks and pipelines.

Each function takes paths or DataFrames and returns DataFrames with their metadata; files
are written only when asked (:meth:`Datasets.write`, :func:`write_define`). They run the
same stages as the command line (``cdisc_mapper.sdtm.pipeline``, ``cdisc_mapper.adam``,
``cdisc_mapper.define``, ``cdisc_mapper.validate``), so the files are the same bytes.

>>> import cdisc_mapper as cm
>>> study = cm.load_study()  # the bundled ALS-MSC study
>>> study
Study('.../mappings/als_msc': SDTM and ADaM specs)
>>> sdtm = cm.map_sdtm(study, raw="demo-output/raw")  # doctest: +SKIP
>>> sdtm["DM"].head()  # doctest: +SKIP

Progress is logged (``logging``, loggers ``cdisc_mapper.*``, INFO); ``logging.basicConfig
(level=logging.INFO)`` shows it. docs/api.md is the guide.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

import pandas as pd
from pandas.api.types import infer_dtype

from cdisc_mapper.adam import AdamResult, AdamSpecs, build_adam, load_adam_specs, write_adam
from cdisc_mapper.datasetjson import FORMATS as DATASET_FORMATS
from cdisc_mapper.datasetjson import parse_formats, read_dataset_json, write_dataset_json
from cdisc_mapper.define import write_define as _write_define
from cdisc_mapper.define.profile import representatives
from cdisc_mapper.errors import CdiscMapperError, RawDataError, SpecError, XptError
from cdisc_mapper.raw import RawFrames
from cdisc_mapper.sdtm import StudyBundle
from cdisc_mapper.sdtm import load_study as _load_sdtm_specs
from cdisc_mapper.sdtm.pipeline import SdtmResult, build_sdtm, write_sdtm
from cdisc_mapper.spec.sdtm_loader import has_sdtm_specs
from cdisc_mapper.standards.paths import STUDY_PARTS, bundled_path
from cdisc_mapper.validate import ValidationReport
from cdisc_mapper.validate import validate_package as _validate_package
from cdisc_mapper.xlsx import spec_folder
from cdisc_mapper.xpt import XptMetadata, XptVariable, read_xpt, stored_variables, write_xpt

__all__ = [
    "DatasetMetadata",
    "Datasets",
    "Study",
    "derive_adam",
    "load_study",
    "map_sdtm",
    "read_dataset_json",
    "read_xpt",
    "validate_package",
    "write_dataset_json",
    "write_define",
    "write_xpt",
]

Standard = Literal["SDTM", "ADaM"]
Progress = Callable[[str], None] | None
FOLDERS: dict[str, str] = {"SDTM": "sdtm", "ADaM": "adam"}
"""The folder of ``OUT`` each standard's datasets are written to."""

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------- the study


class Study:
    """A study's specs, loaded and checked: ``path`` (the spec folder), ``sdtm`` (the SDTM
    mapping specs, None for an ADaM-only study) and ``adam`` (the ADaM specs, None without
    ``adam/``).

    A spec workbook (``.xlsx``, made by ``cdisc-mapper spec export``) is read into a
    temporary folder that lives as long as the Study (or until :meth:`close`, or the end
    of a ``with`` block); errors name the workbook's sheet, row and column meanwhile.
    """

    def __init__(self, path: Path, sdtm: StudyBundle | None, adam: AdamSpecs | None):
        self.path = Path(path)
        self.sdtm = sdtm
        self.adam = adam
        self._resources = contextlib.ExitStack()
        self._finalizer = weakref.finalize(self, self._resources.close)

    def __repr__(self) -> str:
        parts = [p for p, s in (("SDTM", self.sdtm), ("ADaM", self.adam)) if s is not None]
        return f"Study({str(self.path)!r}: {' and '.join(parts) or 'no'} specs)"

    def close(self) -> None:
        """Remove the temporary folder of a workbook's specs (nothing for a folder)."""
        self._finalizer()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def require(self, standard: Standard) -> None:
        """A SpecError naming the study when it has no specs for ``standard``."""
        if (self.sdtm if standard == "SDTM" else self.adam) is None:
            folder = "study.yaml and sdtm/" if standard == "SDTM" else "adam/"
            raise SpecError(
                f"the study has no {standard} specs ({folder})",
                where=str(self.path),
                hint="give the study folder (or workbook) holding them",
            )


def load_study(path: str | Path | None = None) -> Study:
    """Load and check a study's specs: a spec folder (``study.yaml``, ``sdtm/``,
    ``adam/``, ``define.yaml``), a spec workbook (``.xlsx``), or the bundled ALS-MSC
    study when ``path`` is None. Every problem is a SpecError naming the spec file and
    line (or the workbook's sheet, row and column).

    >>> study = load_study()
    >>> sorted(study.sdtm.domains)[:3], sorted(study.adam.datasets)[:2]
    (['AE', 'CM', 'DM'], ['ADAE', 'ADLB'])
    """
    if path is None:
        return _load(bundled_path(*STUDY_PARTS), contextlib.ExitStack())
    resources = contextlib.ExitStack()
    try:
        folder = resources.enter_context(spec_folder(Path(path)))
        return _load(folder, resources)
    except BaseException:
        resources.close()
        raise


def _load(folder: Path, resources: contextlib.ExitStack) -> Study:
    sdtm = _load_sdtm_specs(folder) if has_sdtm_specs(folder) else None
    adam = load_adam_specs(folder) if (folder / "adam").is_dir() else None
    study = Study(folder, sdtm, adam)
    study._resources.enter_context(resources)
    return study


def _study(study: Study | str | Path | None) -> Study:
    return study if isinstance(study, Study) else load_study(study)


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class DatasetMetadata:
    """What a dataset's file says about it: name, label, key variables and each variable's
    name, label, type (``Char``/``Num``), stored length and SAS format, in file order."""

    name: str
    label: str
    keys: tuple[str, ...]
    variables: tuple[XptVariable, ...]

    def variable(self, name: str) -> XptVariable:
        """The metadata of variable ``name`` (KeyError when the dataset has none)."""
        for variable in self.variables:
            if variable.name == name:
                return variable
        raise KeyError(name)


@dataclass
class Datasets:
    """SDTM or ADaM datasets in memory: ``datasets`` (name -> DataFrame, in file order),
    their :attr:`metadata`, the SDTM ``reconciliation`` (one row per raw form and domain:
    rows read = mapped + excluded, with the reasons) or the ADaM ``reports``, and the
    stage's own ``result`` (``SdtmResult``/``AdamResult``: what define.xml is built from).

    ``data["DM"]`` is the DM DataFrame; :meth:`write` writes the files.
    """

    standard: Standard
    datasets: dict[str, pd.DataFrame]
    result: SdtmResult | AdamResult
    declared: dict[str, tuple[str, tuple[str, ...], tuple[XptVariable, ...]]]
    reconciliation: pd.DataFrame | None = None
    reports: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.datasets[name.upper()]

    def __iter__(self) -> Iterator[str]:
        return iter(self.datasets)

    def __len__(self) -> int:
        return len(self.datasets)

    def __repr__(self) -> str:
        names = ", ".join(f"{n} ({len(f)})" for n, f in self.datasets.items())
        return f"<{self.standard} datasets: {names}>"

    @cached_property
    def metadata(self) -> dict[str, DatasetMetadata]:
        """Per dataset, its metadata with the lengths the data give (as written)."""
        out = {}
        for name, (label, keys, variables) in self.declared.items():
            stored = _stored(self.datasets[name], name, label, variables)
            out[name] = DatasetMetadata(name, label, keys, stored)
        return out

    def folder(self, out: str | Path) -> Path:
        """The folder of ``out`` the datasets are written to (``out/sdtm`` or ``out/adam``)."""
        return Path(out) / FOLDERS[self.standard]

    def write(self, out: str | Path, format: str | Sequence[str] = "xpt") -> list[Path]:
        """Write the datasets into ``out/sdtm`` (with ``reconciliation.csv``) or
        ``out/adam`` (with the reports in ``out/reports``), as the command line does:
        all files of a folder at once, replacing the stage's own files there. ``format``:
        one of :data:`FORMATS` or several; returns the files written."""
        formats = [format] if isinstance(format, str) else list(format)
        unknown = [f for f in formats if f not in FORMATS]
        if unknown or not formats:
            raise CdiscMapperError(
                f"unknown dataset format(s) {unknown or formats}",
                where="format=",
                hint=f"use one or more of {', '.join(FORMATS)}",
            )
        log.info("writing %d %s datasets to %s", len(self), self.standard, Path(out))
        written = _write_files(self, Path(out), formats)
        self.files = written
        return written


FORMATS: tuple[str, ...] = DATASET_FORMATS
"""The dataset file formats :meth:`Datasets.write` writes."""


def _stored(
    frame: pd.DataFrame, name: str, label: str, variables: tuple[XptVariable, ...]
) -> tuple[XptVariable, ...]:
    """``variables`` with the lengths :func:`write_xpt` would store ``frame`` with. A
    length and every value check depend only on which values a column holds, so they are
    taken on the records that first hold each value of some column (a few per column,
    in file order); a value that fails a check is named by the run on the whole frame
    (its record number and how many records hold it). Object columns that hold anything
    but text (where ``1`` and ``True`` would count as one value) take the whole frame."""
    columns = [v.name for v in variables if v.name in frame.columns]
    if len(columns) == len(frame.columns) and all(map(_one_kind, frame.items())):
        firsts = representatives(frame, [frozenset([c]) for c in columns])
        try:
            return stored_variables(frame[firsts], dataset=name, label=label, variables=variables)
        except XptError:
            pass
    return stored_variables(frame, dataset=name, label=label, variables=variables)


def _one_kind(item: tuple[object, pd.Series]) -> bool:
    """Whether equal values of the column are the same stored value (a typed column, or
    object text)."""
    column = item[1]
    return column.dtype != object or infer_dtype(column, skipna=True) in ("string", "empty")


def _write_files(data: Datasets, out: Path, formats: Sequence[str] = ("xpt",)) -> list[Path]:
    """The stage's writer: ``out/sdtm`` or ``out/adam`` (and ``out/reports``) published at
    once, each dataset in ``formats`` (XPT, Dataset-JSON .json / .ndjson)."""
    ordered = parse_formats(tuple(formats))
    if isinstance(data.result, SdtmResult):
        return write_sdtm(data.result, out, ordered)
    return write_adam(data.result, data.result.specs, out, ordered)


def _sdtm_datasets(result: SdtmResult) -> Datasets:
    declared = {
        name: (
            ds.label,
            tuple(ds.keys),
            tuple(XptVariable(v.name, v.label, v.type) for v in ds.variables),
        )
        for name, ds in result.datasets.items()
    }
    return Datasets(
        standard="SDTM",
        datasets={name: ds.frame for name, ds in result.datasets.items()},
        result=result,
        declared=declared,
        reconciliation=pd.DataFrame(result.reconciliation),
    )


def _adam_datasets(result: AdamResult) -> Datasets:
    declared = {}
    for name, ds in result.datasets.items():
        variables = tuple(
            XptVariable(v.name, v.label, v.type or "Char", v.length, v.format) for v in ds.variables
        )
        declared[name] = (ds.label, tuple(ds.keys), variables)
    return Datasets(
        standard="ADaM",
        datasets={name: ds.frame for name, ds in result.datasets.items()},
        result=result,
        declared=declared,
        reports=dict(result.reports),
    )


# ---------------------------------------------------------------------------- stages


def map_sdtm(
    study: Study | str | Path | None,
    raw: str | Path | Mapping[str, pd.DataFrame],
    *,
    progress: Progress = None,
) -> Datasets:
    """Map raw EDC forms to SDTM with the study's specs; nothing is written.

    ``raw`` is the raw folder (the forms as the EDC exported them), or the forms as
    DataFrames by file or form name (``{"vitals": df, ...}``; read CSV files with
    ``dtype=str`` to keep the export's text exactly, see :mod:`cdisc_mapper.raw.memory`).
    Errors are those of ``cdisc-mapper sdtm``, naming the file (or ``raw['vitals']``),
    row and column, or the spec line.

    >>> import pandas as pd
    >>> map_sdtm(None, raw={"vitals": pd.DataFrame()})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cdisc_mapper.errors.RawDataError: ...raw form 'enrollment' (file 'enrollment.csv') is not...
    """
    spec = _study(study)
    spec.require("SDTM")
    source = RawFrames(raw) if isinstance(raw, Mapping) else Path(raw)
    assert spec.sdtm is not None
    return _sdtm_datasets(build_sdtm(spec.sdtm, source, progress))


def derive_adam(
    study: Study | str | Path | None,
    sdtm: str | Path | Datasets | Mapping[str, pd.DataFrame | tuple[pd.DataFrame, XptMetadata]],
    *,
    progress: Progress = None,
) -> Datasets:
    """Derive the study's ADaM datasets from SDTM; nothing is written.

    ``sdtm`` is a folder of SDTM ``.xpt`` files, what :func:`map_sdtm` returned, or the
    domains as DataFrames by name (``{"DM": df, ...}``; a value may be what
    :func:`read_xpt` returns, a (DataFrame, metadata) pair, to keep the files' lengths). A
    DataFrame without metadata is stored with the types its columns have (numbers: Num,
    anything else: Char). SDTM given in memory is read as the files would be: it is
    written as XPORT into a temporary folder first, so it meets the same checks (ASCII,
    200 bytes) and gives the same ADaM as the files.
    """
    spec = _study(study)
    spec.require("ADaM")
    if isinstance(sdtm, str | Path):
        return _adam_datasets(build_adam(spec.path, Path(sdtm), progress))
    with tempfile.TemporaryDirectory(prefix="cdisc-mapper-sdtm-") as tmp:
        if isinstance(sdtm, Datasets):
            _written_sdtm(sdtm, Path(tmp))
        else:
            _write_frames(sdtm, Path(tmp) / "sdtm")
        return _adam_datasets(build_adam(spec.path, Path(tmp) / "sdtm", progress))


def _written_sdtm(data: Datasets, out: Path) -> None:
    if data.standard != "SDTM":
        raise CdiscMapperError(
            f"derive_adam needs SDTM datasets, not {data.standard}",
            where="sdtm=",
            hint="pass what map_sdtm returned, or a folder of SDTM .xpt files",
        )
    _write_files(data, out)


def _write_frames(
    frames: Mapping[str, pd.DataFrame | tuple[pd.DataFrame, XptMetadata]], folder: Path
) -> None:
    """``frames`` as ``folder/<name>.xpt``, with their metadata or the columns' types."""
    folder.mkdir(parents=True)
    for name, value in frames.items():
        if isinstance(value, tuple):
            frame, meta = value
            variables, label = meta.variables, meta.label
        elif isinstance(value, pd.DataFrame):
            frame, label = value, name.upper()
            variables = tuple(
                XptVariable(str(c), str(c), "Num" if _numeric(frame[c]) else "Char")
                for c in frame.columns
            )
        else:
            raise RawDataError(
                f"sdtm[{name!r}] is a {type(value).__name__}, not a DataFrame",
                where="sdtm=",
                hint="pass {'DM': DataFrame, ...} or (DataFrame, metadata) pairs",
            )
        write_xpt(
            frame, folder / f"{name.lower()}.xpt", dataset=name.upper(), label=label,
            variables=variables,
        )  # fmt: skip


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def write_define(
    study: Study | str | Path | None,
    out: str | Path,
    *,
    adam: Datasets | None = None,
    which: Sequence[str] = ("sdtm", "adam"),
    progress: Progress = None,
) -> list[Path]:
    """Write ``out/sdtm/define.xml`` and ``out/adam/define.xml`` (Define-XML 2.1, with
    define.html beside each) for the datasets written there (:meth:`Datasets.write`);
    return the files. ``adam``, what :func:`derive_adam` returned for them, saves
    rebuilding the ADaM metadata. Warnings (e.g. no MedDRA version) are logged and
    issued as ``DefineWarning``."""
    spec = _study(study)
    adam_result = adam.result if adam is not None else None
    return _write_define(spec.path, Path(out), which=which, progress=progress,
                         adam_result=adam_result)  # fmt: skip


def validate_package(
    package: str | Path,
    *,
    define: str | Path | Sequence[str | Path] | None = "auto",
    encoding: str | None = None,
    checks: Sequence[str] | None = None,
) -> ValidationReport:
    """Check an SDTM/ADaM package (``package/sdtm``, ``package/adam`` or a folder of
    ``.xpt`` files) as ``cdisc-mapper validate`` does, against ``define``: by default
    (``"auto"``) the package's ``sdtm/define.xml`` and ``adam/define.xml`` when they
    exist, as the command does; None for none. Returns the report (``report.findings``,
    each with ``as_dict()``; ``report.summary_line()``); nothing is written
    (``cdisc_mapper.validate.write_reports`` writes the reports).

    Named ``validate_package``, not ``validate``: ``cdisc_mapper.validate`` is the
    package of the checks.
    """
    root = Path(package)
    if define == "auto":
        found = [root / kind / "define.xml" for kind in ("sdtm", "adam")]
        defines = [p for p in found if p.is_file()]
    elif define is None:
        defines = []
    else:
        given = [define] if isinstance(define, str | Path) else list(define)
        defines = [Path(p) for p in given]
    return _validate_package(
        root,
        define=defines or None,
        encoding=encoding,
        checks=list(checks) if checks is not None else None,
    )
