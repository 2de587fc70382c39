"""What the parts of :mod:`cdisc_mapper.adam.stream` keep on disk, and how it is read back
and written: each part's datasets as their XPT files store the records (appended to the
``.xpt`` file as they are, or each value padded with blanks when another part's values
are longer), the records whole when Dataset-JSON files are written (with their column
profiles), and the records the reports read, apart (:func:`report_needs`).

A part encodes its own records (in its worker): the main process then only copies bytes.
"""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdisc_mapper.adam.model import AdamDataset
from cdisc_mapper.datasetjson import (
    SUFFIX,
    DatasetJsonAppender,
    StudyContext,
    creation_stamp,
    dataset_metadata,
    define_file,
    parse_formats,
)
from cdisc_mapper.datasetjson.convert import number_data_type, number_values
from cdisc_mapper.spec.adam import ProgressionSummarySpec
from cdisc_mapper.spec.adam_loader import AdamSpecs
from cdisc_mapper.xpt import XptAppender, XptVariable
from cdisc_mapper.xpt.append import RecordsAppender, record_widths, write_records


@dataclass(frozen=True)
class Keeping:
    """What a part keeps of each dataset on disk for the writing and the reports."""

    frames: bool = False
    """The records whole (for Dataset-JSON files) and their :class:`Profile`."""
    records: bool = True
    """The records as the XPT file stores them
    (:func:`~cdisc_mapper.xpt.append.write_records`), appended to the ``.xpt`` file as
    they are."""
    reports: dict[str, set[str] | None] = field(default_factory=dict)
    """The records the reports read (:func:`report_needs`), apart."""


@dataclass
class Profile:
    """What a dataset's Dataset-JSON column metadata is made of (see
    :func:`~cdisc_mapper.datasetjson.convert.columns_for`): each ``--DTC`` text variable's
    distinct values, the numeric variables with a value that is not whole."""

    dates: dict[str, set[str]] = field(default_factory=dict)
    fractions: set[str] = field(default_factory=set)

    def add(self, frame: pd.DataFrame, ds: AdamDataset) -> None:
        for v in ds.variables:
            if v.type == "Char" and v.name.upper().endswith("DTC"):
                values = pd.unique(frame[v.name].astype(object).to_numpy())
                self.dates.setdefault(v.name, set()).update(str(u).rstrip(" ") for u in values)
            elif v.type == "Num" and not _whole(frame[v.name]):
                self.fractions.add(v.name)

    def join(self, other: Profile) -> None:
        for name, values in other.dates.items():
            self.dates.setdefault(name, set()).update(values)
        self.fractions |= other.fractions

    def frame(self, ds: AdamDataset) -> pd.DataFrame:
        """A few records with the metadata of all the records, padded with missing
        values."""
        rows = max([1, *(len(values) for values in self.dates.values())])
        out: dict[str, pd.Series] = {}
        for v in ds.variables:
            if v.type == "Char":
                values = sorted(self.dates.get(v.name, ()))
                out[v.name] = pd.Series(values + [""] * (rows - len(values)), dtype=object)
            else:
                numbers = np.full(rows, np.nan)
                numbers[0] = 0.5 if v.name in self.fractions else np.nan
                out[v.name] = pd.Series(numbers)
        return pd.DataFrame(out)


def _whole(values: pd.Series) -> bool:
    """Whether every number is whole (Dataset-JSON ``integer``, not ``double``)."""
    return number_data_type(number_values(values), None)[0] == "integer"


@dataclass
class PartDataset:
    """A part's finished dataset, kept on disk: its metadata (no records), where its
    records are, how many, its first and last keys, its profile."""

    dataset: AdamDataset
    path: Path | None
    """The records whole (pickled), when kept (:attr:`Keeping.frames`)."""
    rows: int
    first: pd.DataFrame
    last: pd.DataFrame
    profile: Profile
    records: Path | None = None
    """The records as the XPT file stores them, when kept."""
    last_blank: bool = False
    """Whether the last of ``records`` is entirely blank."""
    report: Path | None = None
    """The records the reports read (pickled, labelled by their rows in this part)."""


RECORDS_AT_ONCE = 1 << 16
"""Records encoded at a time (the encoded columns of a block are held together)."""


def _detached(frame: pd.DataFrame) -> pd.DataFrame:
    """A few records of a frame in new arrays of the same dtypes (a slice of an
    Arrow-backed column would keep the whole column's buffers alive)."""
    return pd.DataFrame(
        {c: pd.Series(frame[c].tolist(), dtype=frame[c].dtype) for c in frame.columns},
        columns=frame.columns,
    )


def _pickled(frame: pd.DataFrame, path: Path) -> Path:
    with path.open("wb") as handle:
        pickle.dump(frame, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def kept_dataset(ds: AdamDataset, folder: Path, index: int, keep: Keeping) -> PartDataset:
    """Part ``index``'s finished dataset kept in ``folder`` as ``keep`` says."""
    frame, keys = ds.frame, ds.keys
    stem = f"{ds.name}.{index:05d}"
    path = records = report = None
    last_blank = False
    if len(frame) and keep.frames:
        path = _pickled(frame, folder / f"{stem}.pkl")
    if len(frame) and keep.records:
        records = folder / f"{stem}.rec"
        variables, where = xpt_variables(ds), Path(f"{ds.name.lower()}.xpt")
        with records.open("wb") as out:
            for start in range(0, len(frame), RECORDS_AT_ONCE):
                block = frame.iloc[start : start + RECORDS_AT_ONCE]
                last_blank = write_records(out, block, variables, path=where, dataset=ds.name)
    if len(frame) and ds.name in keep.reports:
        chosen = _chosen(frame, keep.reports[ds.name])
        read = frame if chosen is None else frame[chosen].set_axis(np.flatnonzero(chosen))
        report = _pickled(read, folder / f"{stem}.report.pkl")
    profile = Profile()
    if keep.frames:
        profile.add(frame, ds)
    first, last = _detached(frame.iloc[:1][keys]), _detached(frame.iloc[-1:][keys])
    template = _detached(frame.iloc[:0])  # no records: the columns and their dtypes
    return PartDataset(replace(ds, frame=template), path, len(frame), first, last, profile,
                       records, last_blank, report)  # fmt: skip


def _chosen(frame: pd.DataFrame, paramcds: set[str] | None) -> np.ndarray | None:
    """Which records have a PARAMCD of ``paramcds`` (None: all, as when the dataset has
    no PARAMCD)."""
    if paramcds is None or "PARAMCD" not in frame.columns:
        return None
    return frame["PARAMCD"].isin(sorted(paramcds)).to_numpy()


@dataclass
class Streamed:
    """Every dataset across the parts: metadata (lengths and types of all the parts),
    its parts on disk in key order, and the joined profile."""

    datasets: dict[str, AdamDataset]
    parts: dict[str, list[PartDataset]]
    profiles: dict[str, Profile]
    studyid: str
    messages: list[str]
    in_workers: bool = False
    """Whether the parts were built by the executor's workers (not this process)."""

    def frames(self, name: str) -> Iterator[pd.DataFrame]:
        """Dataset ``name``'s records, a part at a time, in key order (the parts kept
        them whole: :attr:`Keeping.frames`)."""
        for piece in self.parts[name]:
            if piece.path is not None:
                yield pd.read_pickle(piece.path)
            elif piece.rows:
                raise RuntimeError(f"{name}: the parts did not keep the records whole")

    def records(self, name: str, paramcds: set[str] | None) -> pd.DataFrame:
        """Dataset ``name``'s records whose PARAMCD is one of ``paramcds`` (all when
        None, or when it has no PARAMCD), labelled by their rows in the whole dataset (as
        the serial run's frame, filtered, has them): what the parts kept for the reports
        (:attr:`Keeping.reports`), else chosen from their records kept whole."""
        chosen, offset = [], 0
        for piece in self.parts[name]:
            if piece.report is not None:
                part = pd.read_pickle(piece.report)
                if _chosen(part, paramcds) is not None:
                    part = part.set_axis(offset + part.index.to_numpy())
                chosen.append(part)
            elif piece.path is not None:
                frame = pd.read_pickle(piece.path)
                keep = _chosen(frame, paramcds)
                chosen.append(frame if keep is None
                              else frame[keep].set_axis(offset + np.flatnonzero(keep)))  # fmt: skip
            elif piece.rows:
                raise RuntimeError(f"{name}: the parts did not keep the reports' records")
            offset += piece.rows
        if not chosen:
            return self.datasets[name].frame
        out = pd.concat(chosen, sort=False) if len(chosen) > 1 else chosen[0]
        if paramcds is None or "PARAMCD" not in out.columns:
            out.index = pd.RangeIndex(len(out))
        return out


def report_needs(
    specs: AdamSpecs,
    reports: list[ProgressionSummarySpec] | None = None,
    trajectories: bool = True,
) -> dict[str, set[str] | None]:
    """The records the reports read (``reports``: these of the specs only), by dataset:
    the PARAMCDs of a dataset read only for some parameters (a clinical change's score, a
    trajectory's source, unless ``trajectories`` is False), None for a dataset read whole
    (ADSL, each summarised dataset, any other the reports name)."""
    narrowed: dict[str, set[str]] = {}
    whole: set[str] = {"ADSL"}
    exclude: Any = {
        "clinical_change": {"dataset"},
        "figures": {"trajectories": {"__all__": {"dataset"}}},
    }
    for rep in specs.reports.progression_summaries if reports is None else reports:
        whole |= set(_datasets_named(rep.model_dump(exclude=exclude)))
        cc = rep.clinical_change
        if cc is not None:
            narrowed.setdefault(cc.dataset, set()).add(cc.paramcd)
        shown = rep.figures.trajectories if rep.figures is not None and trajectories else ()
        for traj in shown:
            narrowed.setdefault(traj.dataset, set()).add(traj.source_paramcd)
    return {
        name: None if name in whole else narrowed[name] for name in sorted(whole | set(narrowed))
    }


def _datasets_named(tree: Any) -> Iterator[str]:
    """Every value of a ``dataset`` field anywhere in a spec's dump."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key == "dataset" and isinstance(value, str):
                yield value
            else:
                yield from _datasets_named(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from _datasets_named(item)


# ---------------------------------------------------------------------------- writing
def xpt_variables(ds: AdamDataset) -> list[XptVariable]:
    """The dataset's variables as its XPT file declares them (types settled)."""
    out = []
    for v in ds.variables:
        if v.type is None:
            raise RuntimeError(f"{ds.name}.{v.name}: type not settled before writing")
        out.append(XptVariable(v.name, v.label, v.type, v.length, v.format))
    return out


def write_parts(
    streamed: Streamed,
    name: str,
    folder: Path,
    formats: tuple[str, ...],
    study: StudyContext | None,
) -> list[Path]:
    """Dataset ``name`` as ``folder/<name>.<suffix>`` in each of ``formats``, its parts
    appended in key order (each part read once): the bytes
    :func:`~cdisc_mapper.datasetjson.write_dataset` writes for the whole dataset."""
    ds = streamed.datasets[name]
    variables = xpt_variables(ds)
    pieces = streamed.parts[name]
    rows = sum(p.rows for p in pieces)
    files: list[Path] = []
    with contextlib.ExitStack() as stack:
        writers: list[XptAppender | DatasetJsonAppender] = []
        for fmt in parse_formats(formats):
            path = folder / f"{name.lower()}{SUFFIX[fmt]}"
            if fmt == "xpt" and all(p.records is not None or not p.rows for p in pieces):
                records = RecordsAppender(path, dataset=name, label=ds.label, variables=variables)
                stack.enter_context(records)
                _append_records(records, pieces)
            elif fmt == "xpt":
                writer: XptAppender | DatasetJsonAppender = XptAppender(
                    path, dataset=name, label=ds.label, variables=variables
                )
                stack.enter_context(writer)
                writers.append(writer)
            else:
                base = study or StudyContext(created=creation_stamp())
                context = replace(base, metadata_ref=define_file(fmt, formats))
                profile = streamed.profiles[name].frame(ds)
                meta = dataset_metadata(profile, name, ds.label, variables, study=context,
                                        keys=ds.keys)  # fmt: skip
                writers.append(stack.enter_context(DatasetJsonAppender(path, meta, rows)))
            files.append(path)
        for frame in streamed.frames(name) if writers else ():
            for writer in writers:
                writer.append(frame)
    return files


def _append_records(out: RecordsAppender, pieces: list[PartDataset]) -> None:
    """The records the parts kept, appended in part order."""
    for piece in pieces:
        if piece.records is None:
            continue
        widths = record_widths(xpt_variables(piece.dataset))
        with piece.records.open("rb") as source:
            out.append_records(source, piece.rows, widths, piece.last_blank)
