"""What a check sees: the package, the standards, the define.xml files given (a thin view
over :mod:`cdisc_mapper.define.reader`), and vectorised ways to report findings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdisc_mapper import iso8601
from cdisc_mapper.define.reader import Dataset as ItemGroup
from cdisc_mapper.define.reader import DefineDocument, Item
from cdisc_mapper.standards import Standard, Terminology
from cdisc_mapper.validate.errors import ValidationInputError
from cdisc_mapper.validate.model import CheckSpec, Finding
from cdisc_mapper.validate.package import Dataset, blank, codes_in, comparable, distinct
from cdisc_mapper.validate.unreadable import Unreadable


@dataclass(frozen=True)
class DefineDataset:
    """What the define checks read of one ItemGroupDef: the define reader's dataset with
    its ItemDefs (by variable name) and key variables joined, and the document it is in
    (code lists, value lists, where clauses)."""

    group: ItemGroup
    variables: dict[str, Item]
    keys: tuple[str, ...]
    source: Path
    document: DefineDocument | None = None

    @property
    def label(self) -> str:
        return self.group.label

    @property
    def file(self) -> str:
        """The dataset's file (def:leaf xlink:href), or ``""``."""
        return self.group.href

    @property
    def standard(self) -> str:
        return self.group.standard


@dataclass(frozen=True)
class DefineTerms:
    """The terms define.xml gives one variable: every CodedValue of its codelists (those
    of its ItemDef and of its value-level ItemDefs), and those marked
    ``def:ExtendedValue="Yes"``, the sponsor's declared extensions of a CDISC codelist."""

    listed: frozenset[str] = frozenset()
    extended: frozenset[str] = frozenset()
    cdisc: tuple[tuple[str, frozenset[str]], ...] = ()
    """(NCI code, terms not marked extended) of each codelist that define.xml says is a
    CDISC codelist (Alias Context="nci:ExtCodeID")."""


def _terms(doc: DefineDocument, item: Item) -> DefineTerms:
    """What ``item``'s codelists (its own and its value-level ones) list and extend."""
    oids = [item.codelist_oid]
    for ref in doc.value_lists.get(item.valuelist_oid or "", ()):
        value_item = doc.items.get(ref.item_oid)
        if value_item is not None:
            oids.append(value_item.codelist_oid)
    lists = [doc.codelists[oid] for oid in oids if oid and oid in doc.codelists]
    return DefineTerms(
        frozenset(v for cl in lists for v in cl.values),
        frozenset(v for cl in lists for v in cl.extended),
        tuple((cl.nci_code, frozenset(cl.values) - cl.extended) for cl in lists if cl.nci_code),
    )


@dataclass(frozen=True)
class PackageDefine:
    """The define.xml files given (one per standard), looked up as one; ``unreadable``
    are those that are not Define-XML, with the reason (reported by DD0008); ``terms``
    the codelist terms each (dataset, variable) has there (:class:`DefineTerms`)."""

    paths: tuple[Path, ...]
    datasets: dict[str, DefineDataset]
    unreadable: tuple[tuple[Path, str], ...] = ()
    terms: dict[tuple[str, str], DefineTerms] = field(default_factory=dict)

    @classmethod
    def of(
        cls, documents: Sequence[DefineDocument], unreadable: tuple[tuple[Path, str], ...] = ()
    ) -> PackageDefine:
        """One view of the documents read by :func:`cdisc_mapper.define.reader.read_define`.

        Raises:
            ValidationInputError: two documents describe the same dataset.
        """
        datasets: dict[str, DefineDataset] = {}
        terms: dict[tuple[str, str], DefineTerms] = {}
        for doc in documents:
            for name, group in doc.datasets.items():
                if not name:
                    continue
                if name in datasets:
                    raise ValidationInputError(
                        f"dataset {name} is described in {datasets[name].source} and {doc.path}",
                        hint="give one define.xml per standard",
                    )
                variables = doc.variables(group)
                datasets[name] = DefineDataset(group, variables, doc.keys(group), doc.path, doc)
                for variable, item in variables.items():
                    terms[(name, variable)] = _terms(doc, item)
        return cls(tuple(doc.path for doc in documents), datasets, unreadable, terms)

    def terms_of(self, dataset: str, variable: str) -> DefineTerms:
        """The codelist terms define.xml gives ``dataset.variable`` (none when absent)."""
        return self.terms.get((dataset.upper(), variable), DefineTerms())

    def dataset(self, name: str) -> DefineDataset | None:
        """The ItemGroupDef called ``name`` (case-insensitive), or None."""
        return self.datasets.get(name.upper())

    @property
    def standards(self) -> frozenset[str]:
        """The standards (SDTM, ADaM) whose datasets the files describe."""
        return frozenset(d.standard for d in self.datasets.values())


class SkipCheck(Exception):
    """Raised by :meth:`Context.skip`: the check cannot run on this input."""


def fmt_value(value: object) -> str:
    """A value as report text: ``''`` for missing, ``1`` for ``1.0``, else ``str``."""
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        number = float(value)
        if np.isnan(number):
            return ""
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return repr(number)
    return str(value)


class Context:
    """The state of one validation run, passed to every check.

    Attributes:
        root: the package folder.
        datasets: every dataset read, by name, in name order.
        sdtmig, adamig, terminology: the standards metadata.
        define: the define.xml files given, read, or None when none was given.
        define_path: the (first) define.xml given, or None.
        define_paths: every define.xml given.
        reconciliation: rows of ``reconciliation.csv`` or None.
        unreadable: the files of the package that could not be read (SD0017).
        limit: the most findings kept per check and dataset (the rest are counted).
    """

    def __init__(
        self,
        root: Path,
        datasets: dict[str, Dataset],
        *,
        sdtmig: Standard,
        adamig: Standard,
        terminology: Terminology,
        define: PackageDefine | None = None,
        define_path: Path | None = None,
        define_paths: tuple[Path, ...] = (),
        reconciliation: list[dict[str, object]] | None = None,
        reconciliation_error: str | None = None,
        limit: int = 1000,
        unreadable: Sequence[Unreadable] = (),
    ) -> None:
        self.root = root
        self.datasets = datasets
        self.sdtmig = sdtmig
        self.adamig = adamig
        self.terminology = terminology
        self.define = define
        self.define_path = define_path
        self.define_paths = define_paths or ((define_path,) if define_path else ())
        self.reconciliation = reconciliation
        self.reconciliation_error = reconciliation_error
        self.limit = limit
        self.unreadable = tuple(unreadable)
        self.findings: list[Finding] = []
        self.counts: Counter[str] = Counter()
        self.suppressed: Counter[str] = Counter()
        self.current: CheckSpec | None = None
        self.cache: dict[tuple[str, ...], Any] = {}
        """What checks compute once and share; what concerns one dataset is keyed
        ``(kind, dataset name, ...)`` and dropped once its checks ran (:meth:`forget`)."""
        self._kept: Counter[tuple[str, str]] = Counter()
        self.found: Counter[tuple[str, str]] = Counter()
        """Findings per (check ID, dataset), suppressed ones included."""

    def forget(self, dataset: str) -> None:
        """Drop what checks cached about ``dataset`` (:attr:`cache` keys
        ``(kind, dataset, ...)``): the run has moved past it, and per-record arrays
        would otherwise keep every dataset in memory."""
        for key in [k for k in self.cache if len(k) > 1 and k[1] == dataset]:
            del self.cache[key]

    def absorb(
        self, findings: Sequence[Finding], found: Iterable[tuple[tuple[str, str], int]]
    ) -> None:
        """Findings reported by a run of a check elsewhere (another process), taken as if
        reported here, after those reported so far: ``found`` how many that run found per
        (check ID, dataset), ``findings`` those it kept, in order (at least those this
        context keeps: the first of each (check ID, dataset), up to :attr:`limit`)."""
        wanted = dict(found)
        room = {key: max(self.limit - self._kept[key], 0) for key in wanted}
        kept: Counter[tuple[str, str]] = Counter()
        for finding in findings:
            key = (finding.check_id, finding.dataset)
            if kept[key] < room[key]:
                kept[key] += 1
                self.findings.append(finding)
        for key, count in wanted.items():
            self._kept[key] += kept[key]
            self.found[key] += count
            self.counts[key[0]] += count
            self.suppressed[key[0]] += count - kept[key]

    # ----------------------------------------------------------------- lookups
    def standard_for(self, ds: Dataset) -> Standard:
        """SDTMIG or ADaMIG, by the dataset's standard."""
        return self.adamig if ds.standard == "ADaM" else self.sdtmig

    def sdtm(self) -> list[Dataset]:
        """SDTM datasets."""
        return [d for d in self.datasets.values() if d.standard == "SDTM"]

    def adam(self) -> list[Dataset]:
        """ADaM datasets."""
        return [d for d in self.datasets.values() if d.standard == "ADaM"]

    def domain(self, code: str) -> list[Dataset]:
        """SDTM datasets of one domain (a domain may be split: ``QSPH``, ``QSSL``)."""
        return [d for d in self.sdtm() if d.domain == code and not d.is_supp]

    def get(self, name: str) -> Dataset | None:
        """A dataset by name, or None."""
        return self.datasets.get(name)

    @cached_property
    def subjects(self) -> pd.DataFrame | None:
        """DM facts per subject (index USUBJID): RFSTDTC, its day number, DTHDTC...

        None when the package has no DM (or DM has no USUBJID).
        """
        dm = self.get("DM")
        if dm is None or "USUBJID" not in dm.df.columns:
            return None
        cols = [
            c
            for c in ("RFSTDTC", "RFXSTDTC", "RFXENDTC", "DTHDTC", "DTHFL", "ARMCD", "ACTARMCD")
            if c in dm.df.columns
        ]
        frame = dm.df[["USUBJID", *cols]].astype(object).drop_duplicates("USUBJID")
        frame = frame.set_index("USUBJID")
        frame["_rf_day"] = (
            iso8601.to_sas_date(frame["RFSTDTC"], date_portion=True)
            if "RFSTDTC" in frame.columns
            else np.nan
        )
        return frame

    @cached_property
    def dm_subjects(self) -> frozenset[str] | None:
        """Every USUBJID in DM, or None without DM."""
        dm = self.get("DM")
        if dm is None or "USUBJID" not in dm.df.columns:
            return None
        return frozenset(str(v) for v in distinct(dm.df["USUBJID"]))

    def per_record(self, ds: Dataset, values: pd.Series, missing: Any = np.nan) -> np.ndarray:
        """``values`` (indexed by USUBJID) looked up for each record of ``ds``."""
        positions = codes_in(ds.df["USUBJID"], pd.Index(values.index))
        if isinstance(missing, float):  # numbers: no object round trip
            looked_up = np.append(values.to_numpy(dtype=float), [missing])
        else:
            looked_up = np.append(values.to_numpy(dtype=object), [missing])
        return looked_up[np.where(positions >= 0, positions, len(values))]

    # --------------------------------------------------------------- reporting
    def skip(self, reason: str) -> None:
        """Stop the current check: it cannot run on this input (shown in the report)."""
        raise SkipCheck(reason)

    def _room(self, dataset: str, wanted: int) -> int:
        assert self.current is not None
        key = (self.current.id, dataset)
        room = max(self.limit - self._kept[key], 0)
        take = min(room, wanted)
        self._kept[key] += take
        self.found[key] += wanted
        self.counts[self.current.id] += wanted
        self.suppressed[self.current.id] += wanted - take
        return take

    def note(
        self,
        message: str,
        *,
        dataset: str = "",
        variable: str = "",
        value: object = "",
        usubjid: object = "",
        record: int | None = None,
        seq: object = None,
    ) -> None:
        """Report one finding of the current check."""
        assert self.current is not None
        if not self._room(dataset, 1):
            return
        seq_value = None if seq is None or fmt_value(seq) == "" else float(seq)  # type: ignore[arg-type]
        self.findings.append(
            Finding(
                check_id=self.current.id,
                dataset=dataset,
                record=record,
                variable=variable,
                message=message,
                severity=self.current.severity,
                usubjid=fmt_value(usubjid),
                seq=seq_value,
                value=fmt_value(value),
            )
        )

    def flag(
        self,
        ds: Dataset,
        mask: np.ndarray | pd.Series,
        message: str | pd.Series | np.ndarray | Callable[[np.ndarray], Sequence[str]],
        *,
        variable: str = "",
        value: pd.Series | np.ndarray | None = None,
    ) -> int:
        """Report every record of ``ds`` where ``mask`` is true; returns how many.

        ``message`` is one text, one per record (aligned with ``ds.df``), or a function
        of the flagged row positions returning their messages (so that texts are built
        for flagged records only); ``value`` defaults to ``ds.df[variable]``. Only the
        first :attr:`limit` records per check and dataset become findings; the others
        are counted.
        """
        assert self.current is not None
        flags = np.asarray(mask, dtype=bool)
        if flags.shape[0] != ds.n:
            raise ValueError(f"mask has {flags.shape[0]} entries for {ds.n} records")
        rows = np.flatnonzero(flags)
        if rows.size == 0:
            return 0
        take = self._room(ds.name, int(rows.size))
        rows = rows[:take]
        if value is None and variable in ds.df.columns:
            value = ds.df[variable]
        values = _pick(value, rows)
        if isinstance(message, str):
            messages: list | None = [message] * len(rows)
        elif callable(message):
            messages = list(message(rows))
        else:
            messages = _pick(message, rows)
        assert messages is not None
        subj = _pick(ds.df["USUBJID"], rows) if "USUBJID" in ds.df.columns else None
        seqs = _pick(ds.df[ds.seq_var], rows) if ds.seq_var else None
        for i, row in enumerate(rows):
            seq = seqs[i] if seqs is not None else None
            self.findings.append(
                Finding(
                    check_id=self.current.id,
                    dataset=ds.name,
                    record=int(row) + 1,
                    variable=variable,
                    message=str(messages[i]),
                    severity=self.current.severity,
                    usubjid=fmt_value(subj[i]) if subj is not None else "",
                    seq=None if seq is None or fmt_value(seq) == "" else float(seq),
                    value=fmt_value(values[i]) if values is not None else "",
                )
            )
        return int(flags.sum())

    def flag_values(self, ds: Dataset, variable: str, messages: dict[Any, str]) -> int:
        """Report each bad value of ``variable`` once, at its first record, with a count.

        ``messages`` maps each bad value to its message; the number of records holding
        the value is appended. Returns the number of records affected.
        """
        column = ds.df[variable]
        mask = column.isin(list(messages)).to_numpy(dtype=bool)
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            return 0
        hits = column.iloc[rows]
        counts = hits.value_counts(sort=False)
        first = hits.drop_duplicates()
        firsts = np.zeros(ds.n, dtype=bool)
        firsts[ds.df.index.get_indexer(first.index)] = True

        def text(flagged: np.ndarray) -> list[str]:
            out = []
            for r in flagged:
                value = column.iloc[r]
                n = int(counts.get(value, 0))
                out.append(f"{messages.get(value, '')} ({n} record{'' if n == 1 else 's'})")
            return out

        self.flag(ds, firsts, text, variable=variable)
        return int(rows.size)

    def flag_groups(
        self,
        ds: Dataset,
        mask: np.ndarray,
        keys: Sequence[pd.Series],
        message: Callable[[int], str],
        *,
        variable: str = "",
    ) -> int:
        """Report each cause once: the flagged records grouped by ``keys`` (numbers
        compared by :func:`~cdisc_mapper.validate.package.numeric_key`) give one finding
        each, at the group's first record, ``message(row)`` followed by the group's record
        count. Returns the number of findings (groups)."""
        rows = np.flatnonzero(np.asarray(mask, dtype=bool))
        if rows.size == 0:
            return 0
        frame = pd.DataFrame(
            {
                f"k{i}": comparable(key).iloc[rows].astype(object).to_numpy()
                for i, key in enumerate(keys)
            }
        )
        group = frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup().to_numpy()
        _, first = np.unique(group, return_index=True)
        counts = np.bincount(group)
        count_of = dict(zip(rows[first].tolist(), counts[group[first]].tolist(), strict=True))
        firsts = np.zeros(ds.n, dtype=bool)
        firsts[rows[first]] = True

        def text(flagged: np.ndarray) -> list[str]:
            out = []
            for r in flagged.tolist():
                n = count_of[r]
                out.append(f"{message(r)} ({n} record{'' if n == 1 else 's'})")
            return out

        return self.flag(ds, firsts, text, variable=variable)

    def blank(self, ds: Dataset, variable: str) -> np.ndarray:
        """Missing-value mask of a variable (all True when the variable is absent)."""
        if variable not in ds.df.columns:
            return np.ones(ds.n, dtype=bool)
        return blank(ds.df[variable])


def _pick(values: pd.Series | np.ndarray | list | None, rows: np.ndarray) -> list | None:
    if values is None:
        return None
    if isinstance(values, pd.Series):
        return values.iloc[rows].tolist()
    return np.asarray(values, dtype=object)[rows].tolist()
