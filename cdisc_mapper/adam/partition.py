"""Subject-partitioned derivation: the subjects cut into parts, each part's datasets built
on its own (in worker processes, or on a Dask cluster), the parts merged back.

Every derivation works within one subject: ADSL has one record per subject, a BDS or
OCCDS record belongs to one subject (ADaMIG v1.3 sections 3.2, 3.3; ASEQ is unique within
USUBJID, section 3.3.1), baselines, changes, windows, flags and summary records are
derived per subject (their ``by`` groupings start with USUBJID), and lookups join on
USUBJID. So a part that holds all the records of its subjects derives them as the whole
study would. What crosses subjects runs once, on the merged datasets: the storage lengths
(the longest value of the study), the key order and the key check across parts, and the
reports (:func:`~cdisc_mapper.adam.summary.progression_summary` and its figures).

The parts are contiguous ranges of the sorted subject identifiers, balanced by the
records of the SDTM domains the specs read (:mod:`cdisc_mapper.parts`), so the same
input always gives the same parts. Each dataset's keys start with USUBJID or a value
before it (STUDYID), so the parts' finished datasets, each sorted by the keys, follow one
another in key order: the merged datasets are byte for byte those of the serial run (this
is checked at every boundary between parts). A spec whose groupings cross subjects (a
``by`` without USUBJID), a part that fails, or parts that disagree (a variable whose type
only the data tell, typed differently) make the caller derive serially, which reports any
error as it always does.

The parent reads each SDTM file the specs need once (the reader reads whole files) and
sends each worker its subjects' records (the trial design and the SUPP-- files whole), so
a cluster needs no shared file system for the data; workers load the study's specs from
the same path. Workers send back their finished datasets, whose text is Arrow-backed
(:func:`~cdisc_mapper.adam.storage.stored_series`): buffers, not one object per value.
This is :func:`~cdisc_mapper.adam.build_adam`'s way (it returns the datasets' records);
:func:`~cdisc_mapper.adam.run_adam` writes files and takes :mod:`cdisc_mapper.adam.stream`'s,
whose memory does not grow with the study.
"""

from __future__ import annotations

import hashlib
import logging
import math
import sys
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.derive._keys import lexsort, sort_keys
from cdisc_mapper.adam.engine import build_all, sdtm_needs
from cdisc_mapper.adam.model import AdamDataset, AdamVariable
from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS
from cdisc_mapper.adam.sdtm import SdtmInput, SdtmRecords
from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.parts import balanced_starts, concat_parts, part_numbers
from cdisc_mapper.spec.adam_loader import AdamSpecs, load_adam_specs
from cdisc_mapper.xpt.fastread import LayoutError
from cdisc_mapper.xpt.rows import XptRows

Progress = Callable[[str], None]
Built = dict[str, AdamDataset]

PART_SUBJECTS = 1250
"""Subjects per part at most, so a worker's memory stays bounded whatever the study's size:
about 1.2 GB per worker at 1,250 subjects of the bundled study, against 2.2 GB at 2,500
(measured at 10,000 subjects, docs/performance.md)."""

WORKER_RECORDS = 1_000_000
"""The fewest SDTM records (rows of the domains the specs read, SUPP-- files and the trial
design left out) worth starting worker processes: a smaller study is derived in this
process, its process pool unused (no process started), since starting the workers, their
imports and handing the parts over cost more than the second core saves (measured on the
bundled study: about 375 records a subject, so about 2,700 subjects). A Dask cluster's
workers are running already: its parts are always handed out."""

log = logging.getLogger(__name__)


class PartsDisagree(ValueError):
    """The parts' datasets cannot be merged into the serial run's (the caller derives
    serially)."""


_LOADED: dict[tuple[str, str], AdamSpecs] = {}
"""The specs this process loaded, by study folder and the digest of its files."""


def worker_specs(study_dir: Path) -> AdamSpecs:
    """The study's ADaM specs, loaded once per process (a worker derives part after part,
    and draws reports): again when a file of the study folder changed (by content). The
    derivations only read the specs."""
    folder = Path(study_dir).resolve()
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    key = (str(folder), digest.hexdigest())
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = load_adam_specs(Path(study_dir), DERIVATIONS, RECORD_BUILDERS)
    return _LOADED[key]


def crossing_groupings(specs: AdamSpecs) -> list[str]:
    """The spec places whose ``by`` grouping leaves out USUBJID (a grouping across
    subjects, which parts cannot derive). A ``by`` that adds USUBJID itself (a derived
    parameter's time point) does not cross."""
    places: list[tuple[str, tuple[str | int, ...], object]] = [
        (name, ("variables", var), args) for (name, var), args in specs.op_args.items()
    ]
    places += [(name, ("records", i), args) for (name, i), args in specs.record_args.items()]
    out = []
    for name, path, args in places:
        by = getattr(args, "by", None)
        group = getattr(args, "group", by)
        if isinstance(by, list) and "USUBJID" not in (group or ()):
            out.append(specs.where(name, path))
    return out


def sdtm_records(sdtm_dir: Path, needs: dict[str, dict[str, str]]) -> int:
    """The records of the SDTM domains the specs read (``needs``, as
    :func:`~cdisc_mapper.adam.engine.sdtm_needs` gives them) that have USUBJID, from
    their files' headers (a file that cannot be told so counts as large)."""
    sdtm = SdtmInput(sdtm_dir)
    total = 0
    for domain in sorted(needs):
        path = sdtm.path(domain)
        if not sdtm.has(path):
            continue
        try:
            file = XptRows.open(path)
        except (LayoutError, CdiscMapperError):
            return sys.maxsize
        if any(v.name == "USUBJID" for v in file.metadata.variables):
            total += file.rows
    return total


def worth_workers(
    executor: Executor, specs: AdamSpecs, sdtm_dir: Path, parts: int, least: int
) -> bool:
    """Whether ``executor`` is worth its ``parts`` (> 1) parts: a process pool (whose
    processes start on the first task) when the study has at least ``least`` SDTM
    records (:func:`sdtm_records`), any other executor (a Dask cluster's, whose workers
    run already) always; the reason is logged when not."""
    if parts < 2:
        return False
    if not isinstance(executor, ProcessPoolExecutor) or least <= 0:
        return True
    records = sdtm_records(sdtm_dir, sdtm_needs(specs))
    if records < least:
        log.debug("%d SDTM records, fewer than %d: deriving in this process", records, least)
        return False
    return True


def read_needed(sdtm_dir: Path, needs: dict[str, dict[str, str]]) -> SdtmRecords:
    """The records of the SDTM files the specs read (``needs``, as
    :func:`~cdisc_mapper.adam.engine.sdtm_needs` gives them): each domain's variables the
    specs name, with USUBJID and --SEQ, and its SUPP-- file whole. Each file is read
    once, here, so workers need no shared file system."""
    sdtm = SdtmInput(sdtm_dir)
    out: SdtmRecords = {}
    for domain in sorted(needs):
        path, supp = sdtm.path(domain), sdtm.path(f"SUPP{domain}")
        if sdtm.has(path):
            wanted = ["USUBJID", f"{domain}SEQ", *sorted(needs[domain])]
            out[path.name] = sdtm.whole(path, dict.fromkeys(wanted))
        if sdtm.has(supp):
            out[supp.name] = sdtm.whole(supp)
    return out


def subject_starts(records: SdtmRecords, parts: int, most: int = PART_SUBJECTS) -> list[str]:
    """The first subject of each part after the first: ``parts`` parts, or more so that
    none has more than about ``most`` subjects, balanced by the records of the
    domains (:func:`~cdisc_mapper.parts.balanced_starts`)."""
    counts = [
        frame["USUBJID"].value_counts()
        for name, (frame, _) in records.items()
        if "USUBJID" in frame.columns and not name.lower().startswith("supp")
    ]
    total = pd.concat(counts).groupby(level=0, sort=False).sum()
    total = total.reindex(sorted(total.index, key=str))
    return balanced_starts(total, max(parts, math.ceil(len(total) / most)))


def split_records(records: SdtmRecords, starts: list[str]) -> list[SdtmRecords]:
    """The records cut into the parts ``starts`` begins (a file's records emptied from
    ``records`` as it is cut). A file without USUBJID (the trial design) and the SUPP--
    files (whose QNAMs every part must know) go whole to every part."""
    split: list[SdtmRecords] = [{} for _ in range(len(starts) + 1)]
    for name in list(records):
        frame, variables = records.pop(name)
        if "USUBJID" not in frame.columns or name.lower().startswith("supp"):
            for target in split:
                target[name] = (frame, variables)
            continue
        part_of = part_numbers(frame["USUBJID"], starts)
        for k, target in enumerate(split):
            target[name] = (frame[part_of == k].reset_index(drop=True), variables)
    return split


def build_part(study_dir: Path, sdtm_dir: Path, records: SdtmRecords) -> tuple[Built, list[str]]:
    """Build every dataset from the records of one part's subjects (in a worker): the
    finished datasets and the progress messages."""
    specs = worker_specs(Path(study_dir))
    sdtm = SdtmInput(Path(sdtm_dir), records)
    said: list[str] = []
    return build_all(BuildContext(specs=specs, sdtm=sdtm), said.append), said


def in_key_order(before: pd.DataFrame, after: pd.DataFrame, keys: list[str], last: bool) -> bool:
    """Whether the last record of ``before`` comes strictly before the first of ``after``
    in the order of ``keys`` (as :func:`~cdisc_mapper.adam.engine.finish` sorts)."""
    pair = pd.concat([before.iloc[-1:][keys], after.iloc[:1][keys]], ignore_index=True)
    if not np.array_equal(lexsort(sort_keys(pair, keys, missing_last=last)), [0, 1]):
        return False
    return not all(_same(pair[k]) for k in keys)


def _same(values: pd.Series) -> bool:
    a, b = values.iloc[0], values.iloc[1]
    both_missing = isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b)
    return bool(both_missing or a == b)


def merged_variables(name: str, parts: list[list[AdamVariable]]) -> list[AdamVariable]:
    """The variables of the parts, with the study's lengths (the longest of any part)."""
    unsized = [[replace(v, length=None) for v in variables] for variables in parts]
    if any(u != unsized[0] for u in unsized[1:]):
        raise PartsDisagree(f"{name}: the parts' variables differ (a type only data tell)")
    return [replace(v, length=max(p[i].length or 0 for p in parts)) for i, v in enumerate(parts[0])]


def merge_dataset(parts: list[AdamDataset], missing_last: bool) -> AdamDataset:
    """One dataset from its parts (in part order), checked to be in key order."""
    first = parts[0]
    filled = [p.frame for p in parts if len(p.frame)]
    for before, after in pairwise(filled):
        if not in_key_order(before, after, first.keys, missing_last):
            raise PartsDisagree(f"{first.name}: the parts are not in the order of the keys")
    variables = merged_variables(first.name, [p.variables for p in parts])
    frame = concat_parts([p.frame for p in parts])
    return replace(first, frame=frame, variables=variables)


def merge_parts(built: list[Built], missing_last: bool) -> Built:
    """The parts' datasets as one study's; each dataset's parts are taken out of
    ``built`` as they are merged (one dataset at a time is held twice)."""
    names = list(built[0])
    if any(list(b) != names for b in built[1:]):
        raise PartsDisagree("the parts built different datasets")
    return {name: merge_dataset([b.pop(name) for b in built], missing_last) for name in names}


def build_partitioned(
    study_dir: Path,
    specs: AdamSpecs,
    sdtm_dir: Path,
    progress: Progress,
    executor: Executor,
    parts: int,
    most: int = PART_SUBJECTS,
    worker_records: int = WORKER_RECORDS,
) -> Built | None:
    """Every dataset, built on parts of the subjects by ``executor``; None when the
    study cannot be split (one part, or groupings across subjects) or is too small for
    workers (fewer than ``worker_records`` SDTM records: :func:`worth_workers`): the
    caller builds it serially. Errors of a part are raised as the part raised them."""
    crossing = crossing_groupings(specs)
    if crossing:
        log.debug("grouping across subjects at %s: deriving serially", crossing[0])
        return None
    if not worth_workers(executor, specs, sdtm_dir, parts, worker_records):
        return None
    records = read_needed(sdtm_dir, sdtm_needs(specs))
    starts = subject_starts(records, parts, most)
    if not starts:
        return None
    log.debug("deriving %d parts of the subjects", len(starts) + 1)
    split = split_records(records, starts)
    n = len(split)
    running = executor.map(build_part, [study_dir] * n, [sdtm_dir] * n, split)
    del split  # each part's records are freed once it is built
    done = list(running)
    messages = done[0][1]
    datasets = merge_parts([b for b, _ in done], specs.conventions.missing_keys == "last")
    del done
    for message in messages:
        progress(message)
    return datasets
