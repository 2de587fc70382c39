"""What every derivation may read while datasets are built: SDTM, finished (or partly
finished) ADaM datasets, the study conventions and the subjects' period dates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cdisc_mapper.adam.derive import (
    Window,
    derive_nth_date,
    derive_numeric_date,
    derive_period_dates,
)
from cdisc_mapper.adam.sdtm import SdtmInput
from cdisc_mapper.condition import Condition, evaluate
from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.spec.adam import Conventions
from cdisc_mapper.spec.adam_loader import AdamSpecs
from cdisc_mapper.spec.base import is_adam
from cdisc_mapper.spec.operations import ColumnMeta
from cdisc_mapper.textops import take_text


def _pick(frame: pd.DataFrame, order_by: str, select: str) -> pd.DataFrame:
    """Each subject's first or last record by ``order_by``; a record whose ``order_by`` is
    missing or blank is chosen only when the subject has no other."""
    key = frame[order_by]
    if key.dtype == object or pd.api.types.is_string_dtype(key):
        key = key.where(key.astype(str).str.strip() != "")
    order = (
        frame.assign(__key=key)
        .sort_values(
            ["USUBJID", "__key"],
            kind="stable",
            na_position="last" if select == "first" else "first",
        )
        .index
    )
    return frame.loc[order].drop_duplicates(
        ["USUBJID"], keep="first" if select == "first" else "last"
    )


@dataclass
class BuildState:
    """The column metadata and caches collected while one dataset is built."""

    columns: dict[str, ColumnMeta] = field(default_factory=dict)
    cache: dict[Any, Any] = field(default_factory=dict)


@dataclass
class PeriodTable:
    """Per-subject (index USUBJID) start and end dates of every period and phase."""

    periods: dict[int, tuple[pd.Series, pd.Series]]
    phases: dict[int, tuple[pd.Series, pd.Series]]

    def _run(self, periods: list[int]) -> tuple[pd.Series, pd.Series]:
        start = pd.concat([self.periods[n][0] for n in periods], axis=1).min(axis=1)
        end = pd.concat([self.periods[n][1] for n in periods], axis=1).max(axis=1)
        return start, end.where(start.notna())

    def span(
        self, periods: list[int], fallback: list[int] | None = None
    ) -> tuple[pd.Series, pd.Series]:
        """Per subject, the start and end of an interval of periods: from the earliest
        start to the latest end of those of ``periods`` the subject had; a subject who had
        none of them takes those of ``fallback`` instead (same rule); null for a subject
        with neither. The one rule of ADPROG's intervals and of the flags marking the
        records each interval's rate uses."""
        start, end = self._run(periods)
        if fallback:
            other_start, other_end = self._run(fallback)
            none = start.isna()
            start = start.where(~none, other_start)
            end = end.where(~none, other_end)
        return start, end


@dataclass
class BuildContext:
    specs: AdamSpecs
    sdtm: SdtmInput = None  # type: ignore[assignment]  # None: metadata only, no data
    datasets: dict[str, pd.DataFrame] = field(default_factory=dict)
    state: BuildState = field(default_factory=BuildState)
    dataset: str = ""
    _periods: PeriodTable | None = None
    _subjects: pd.Index | None = None

    @property
    def conventions(self) -> Conventions:
        return self.specs.conventions

    # ------------------------------------------------------------------ subjects
    @property
    def subjects(self) -> pd.Index:
        """Every subject of DM, sorted."""
        if self._subjects is None:
            dm = self.sdtm.frame("DM", ["USUBJID"])
            ids = dm["USUBJID"]
            if ids.duplicated().any():
                raise MappingError(
                    f"DM has {int(ids.duplicated().sum())} duplicate USUBJID values, e.g. "
                    f"{ids[ids.duplicated()].iloc[0]}",
                    where=str(self.sdtm.path("DM")),
                )
            self._subjects = pd.Index(sorted(ids), name="USUBJID")
        return self._subjects

    # ------------------------------------------------------------------ lookups
    def table(self, name: str, variables: list[str]) -> pd.DataFrame:
        """Records of an SDTM domain or a built ADaM dataset."""
        if is_adam(name):
            if name not in self.datasets:
                raise SpecError(f"{self.dataset} reads {name}, which is not built yet")
            frame = self.datasets[name]
            missing = [v for v in variables if v not in frame.columns]
            if missing:
                raise SpecError(
                    f"{self.dataset} reads {name}.{missing[0]}, which {name} does not have "
                    "(yet): list it in that dataset's spec, before anything that needs it"
                )
            return frame
        return self.sdtm.frame(name, variables)

    def per_subject(
        self,
        source: str,
        variable: str,
        *,
        where: Condition | None = None,
        select: str = "only",
        order_by: str | None = None,
    ) -> pd.Series:
        """One value per subject (index USUBJID) of ``source.variable``: the only record,
        or the first/last by ``order_by``, among records where ``where`` holds."""
        needed = [variable, "USUBJID"] + ([order_by] if order_by else [])
        if where is not None:
            needed += sorted(where.variables())
        frame = self.table(source, needed)
        if where is not None:
            frame = frame[evaluate(where, frame).to_numpy()]
        if select == "only":
            dup = frame["USUBJID"].duplicated()
            if dup.any():
                raise MappingError(
                    f"{self.dataset}: {source}.{variable} has several records for subject "
                    f"{frame.loc[dup, 'USUBJID'].iloc[0]}; the spec must narrow them with "
                    "'where' or choose one with 'select: first|last' and 'order_by'"
                )
            picked = frame
        else:
            if not order_by:
                raise SpecError(f"select: {select} needs order_by")
            picked = _pick(frame, order_by, select)
        return picked.set_index("USUBJID")[variable]

    def row_positions(self, frame: pd.DataFrame) -> np.ndarray:
        """Position of each row's subject in :attr:`subjects` (-1 if not there); cached
        for the frame of the dataset being built (its rows no longer change)."""
        if frame is self.state.cache.get("__frame"):
            pos = self.state.cache.get("__rowpos")
            if pos is None or len(pos) != len(frame):
                pos = self._positions(frame["USUBJID"])
                self.state.cache["__rowpos"] = pos
            return pos
        return self._positions(frame["USUBJID"])

    def _positions(self, usubjid: pd.Series) -> np.ndarray:
        """Position of each value's subject in :attr:`subjects` (-1 if not there), each
        distinct subject looked up once."""
        codes, distinct = pd.factorize(usubjid, use_na_sentinel=True)
        found = self.subjects.get_indexer(pd.Index(np.asarray(distinct, dtype=object)))
        return np.append(found, -1)[codes]

    def to_rows(self, frame: pd.DataFrame, values: pd.Series) -> pd.Series:
        """Per-subject ``values`` (index USUBJID, unique) on the rows of ``frame``."""
        if values.index.has_duplicates:
            raise ValueError("per-subject values have a duplicate USUBJID")
        pos = self.row_positions(frame)
        same = values.index is self.subjects or values.index.equals(self.subjects)
        arr = (values if same else values.reindex(self.subjects)).to_numpy()
        numeric = pd.api.types.is_numeric_dtype(values)
        if numeric:
            arr = arr.astype("float64")
            out = np.where(pos >= 0, arr[np.maximum(pos, 0)] if len(arr) else np.nan, np.nan)
            return pd.Series(out, index=frame.index)
        arr = np.asarray(arr, dtype=object)
        missing = pd.isna(arr)
        if missing.any():
            arr = arr.copy()
            arr[missing] = ""
        if pd.api.types.infer_dtype(arr, skipna=False) in ("string", "empty"):
            # text: the subjects' values taken to the rows in Arrow ("" for no subject)
            taken = take_text([*arr, ""], np.where(pos >= 0, pos, len(arr)))
            return taken.set_axis(frame.index)
        out = np.where(pos >= 0, arr[np.maximum(pos, 0)] if len(arr) else "", "").astype(object)
        return pd.Series(out, index=frame.index)

    def adsl(self, variable: str) -> pd.Series:
        """An ADSL variable indexed by USUBJID."""
        return self.table("ADSL", [variable]).set_index("USUBJID")[variable]

    # ------------------------------------------------------------------ periods
    def event_dates(self, name: str, occurrence: int | str) -> pd.Series:
        key = ("event", name, occurrence)
        if key not in self.state.cache:
            ev = self.conventions.events[name]
            needed = ["USUBJID", ev.variable] + (sorted(ev.where.variables()) if ev.where else [])
            frame = self.sdtm.frame(ev.domain, needed)
            if ev.where is not None:
                frame = frame[evaluate(ev.where, frame).to_numpy()]
            dates = derive_numeric_date(frame[ev.variable])
            nth = derive_nth_date(frame["USUBJID"], dates, occurrence)  # type: ignore[arg-type]
            self.state.cache[key] = nth.reindex(self.subjects)
        return self.state.cache[key]

    @property
    def period_table(self) -> PeriodTable:
        if self._periods is None:
            conv = self.conventions
            periods: dict[int, tuple[pd.Series, pd.Series]] = {}
            for p in conv.periods:
                start = self.event_dates(p.start.event, p.start.occurrence)
                ends = [self.event_dates(e.event, e.occurrence) for e in p.end]
                s, e = derive_period_dates(start, ends, closed=p.closed)
                bad = (e < s).to_numpy()
                if bad.any():
                    who = s.index[bad][0]
                    raise MappingError(
                        f"period {p.aperiod} ({p.aperiodc}) of subject {who} ends before it "
                        "starts; check the SDTM dates of its events",
                        where=self.specs.where("conventions", ("periods",)),
                    )
                periods[p.aperiod] = (s, e)
            phases: dict[int, tuple[pd.Series, pd.Series]] = {}
            for ph in conv.phases:
                first = pd.concat([periods[n][0] for n in ph.periods], axis=1).min(axis=1)
                last = pd.concat([periods[n][1] for n in ph.periods], axis=1).max(axis=1)
                phases[ph.aphasen] = (first, last)
            self._periods = PeriodTable(periods, phases)
        return self._periods

    def windows(self, name: str) -> list[Window]:
        return [
            Window(w.avisitn, w.avisit, w.reference, w.target, w.lo, w.hi)
            for w in self.conventions.windows[name]
        ]
