"""What a mapping operation may see while it runs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cdisc_mapper.errors import Location, MappingError
from cdisc_mapper.spec.study import NumberFormat, StudySpec
from cdisc_mapper.textops import map_unique

SRC = "_SRC"  # raw form a record came from
ROW = "_ROW"  # row number in that form's file
MAX_LISTED = 20


@dataclass
class OpContext:
    """The study, the terminology, the other domains' frames and where we are."""

    study: StudySpec
    terminology: Any
    domain: str
    variable: str
    domains: dict[str, pd.DataFrame]
    raw: pd.DataFrame | None = None
    calendar: pd.DataFrame | None = None
    se: pd.DataFrame | None = None
    spec_where: Location | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    numbers: NumberFormat | None = None
    """How the raw form being mapped writes numbers (its source's ``numbers`` over the
    study's); None: the study's."""
    date_order: str | None = None
    """The order of day, month and year in the raw form being mapped (its source's
    ``date_order``); None: the study's ``subjects.date_order``."""

    def study_line(self, *path: str | int) -> str:
        """Where study.yaml sets ``path`` (e.g. ``subjects.subject_pattern``): its file and
        line when the engine gave them (``extra["study_where"]``), else the key path."""
        where = self.extra.get("study_where")
        dotted = ".".join(str(p) for p in path)
        return f"{where(path)} {dotted}" if where is not None else f"study.yaml {dotted}"

    def data_error(
        self, message: str, frame: pd.DataFrame | None, mask: pd.Series, *, value_of: pd.Series
    ) -> MappingError:
        """An error listing the offending records (form, row) and values: the first
        :data:`MAX_LISTED`, then how many more."""
        hit = mask.to_numpy(dtype=bool) if len(mask) else np.zeros(0, dtype=bool)
        count = int(hit.sum())
        records = frame if frame is not None else pd.DataFrame(index=value_of.index)
        raw = self.raw
        if SRC not in records.columns and raw is not None and records.index.equals(raw.index):
            records = raw  # a source's records so far: their form and row are the raw's
        bad = records.loc[hit].head(MAX_LISTED)
        values = value_of.loc[hit].head(MAX_LISTED)
        places = []
        for (_, rec), val in zip(bad.iterrows(), values, strict=False):
            src = rec.get(SRC, "")
            row = rec.get(ROW, "")
            places.append(f"{src} row {row}: {val!r}")
        shown = "; ".join(places)
        more = f"; and {count - MAX_LISTED} more" if count > MAX_LISTED else ""
        spec = f" [spec {self.spec_where}]" if self.spec_where else ""
        return MappingError(
            f"{self.domain}.{self.variable}: {message} in {count} record(s): {shown}{more}{spec}"
        )


def _num_text(x: object) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, float):
        return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)
    return str(x)


def as_text(series: pd.Series) -> pd.Series:
    """Values as text: blanks for missing, numbers without a spurious ``.0``."""
    return map_unique(series, lambda u: u.map(_num_text))


def put_column(
    frame: pd.DataFrame, name: str, values: pd.Series | np.ndarray, shared: bool = False
) -> None:
    """Set column ``name`` of ``frame`` to an operation's values, by position, without
    converting them: Arrow text stays Arrow text and an object array stays object (pandas
    would convert it to Arrow text, and the next operation reading it back to Python
    strings), its text held once per distinct value (:func:`shared_text`; ``shared``:
    it already is); other arrays as they are."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.StringDtype):
        frame[name] = values.set_axis(frame.index)
        return
    arr = np.asarray(values.to_numpy() if isinstance(values, pd.Series) else values)
    if arr.dtype == object:
        text = arr if shared else shared_text(arr)
        frame[name] = pd.Series(text, index=frame.index, dtype=object, copy=False)
    else:
        frame[name] = arr


def shared_text(arr: np.ndarray) -> np.ndarray:
    """An object array of text with each distinct value held once (one Python string per
    distinct value, not per record: an operation's row-by-row results would otherwise
    keep millions of equal strings alive); anything but all text as it is."""
    if len(arr) == 0 or pd.api.types.infer_dtype(arr, skipna=False) != "string":
        return arr
    codes, uniques = pd.factorize(arr)
    return np.asarray(uniques, dtype=object)[codes]
