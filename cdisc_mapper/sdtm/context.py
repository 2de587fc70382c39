"""What a mapping operation may see while it runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cdisc_mapper.errors import Location, MappingError
from cdisc_mapper.spec.study import StudySpec
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

    def data_error(
        self, message: str, frame: pd.DataFrame, mask: pd.Series, *, value_of: pd.Series
    ) -> MappingError:
        """An error listing every offending record (form, row) and value."""
        if SRC not in frame.columns and self.raw is not None and frame.index.equals(self.raw.index):
            frame = self.raw  # a source's records so far: their form and row are the raw's
        bad = frame.loc[mask.to_numpy()] if len(mask) else frame.iloc[0:0]
        values = value_of.loc[mask.to_numpy()] if len(mask) else value_of.iloc[0:0]
        places = []
        for (_, rec), val in zip(bad.iterrows(), values, strict=False):
            src = rec.get(SRC, "")
            row = rec.get(ROW, "")
            places.append(f"{src} row {row}: {val!r}")
        shown = "; ".join(places[:MAX_LISTED])
        more = f"; and {len(places) - MAX_LISTED} more" if len(places) > MAX_LISTED else ""
        spec = f" [spec {self.spec_where}]" if self.spec_where else ""
        return MappingError(
            f"{self.domain}.{self.variable}: {message} in {len(places)} record(s): "
            f"{shown}{more}{spec}"
        )


def _num_text(x: object) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return ""
    if isinstance(x, float):
        return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)
    return str(x)


def as_text(series: pd.Series) -> pd.Series:
    """Values as text: blanks for missing, numbers without a spurious ``.0``."""
    return map_unique(series, lambda u: u.map(_num_text))
