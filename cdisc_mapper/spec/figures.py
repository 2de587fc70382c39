"""The figures of a progression report's HTML (``reports.yaml``, ``figures:``): which
row the paired plot and the waterfall draw, which records mark events on the per-subject
trajectories and how the time axis is labelled. Nothing here knows a study: the study's
words (e.g. "injections", "the first injection") are the spec's."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from cdisc_mapper.condition import Condition
from cdisc_mapper.spec.base import Strict

#: Keys of earlier versions of the format and what replaced them.
RENAMED = {
    "injections": "`markers` (the condition choosing the records whose APERSDT is drawn as "
    "a dashed line), with `markers_label` (what they are, e.g. injections) and "
    "`origin_label` (what the time axis counts from, e.g. the first injection)",
}


class TrajectorySpec(Strict):
    """One per-subject trajectory figure: the source values over time with the fitted
    progression lines of a parameter of the summarised dataset."""

    paramcd: str = Field(description="PARAMCD of the summarised dataset whose lines are drawn")
    dataset: str = Field(
        pattern=r"^AD[A-Z0-9]{1,6}$", description="BDS dataset of the values (e.g. ADQS)"
    )
    source_paramcd: str = Field(description="PARAMCD of the values (e.g. ALSRTOT)")
    where: Condition | None = Field(
        default=None, description="condition choosing the value records (default: all)"
    )
    fit_where: Condition | None = Field(
        default=None,
        description="condition choosing the summarised dataset's records drawn as lines "
        "(each from ASTDT to AENDT with slope AVAL per month, through the mean of the "
        "period's values: the least-squares line); default: all with AVAL",
    )
    label: str = Field(description="the values' axis label")


class FiguresSpec(Strict):
    """The figures of the HTML report."""

    row: str = Field(
        description="label of the row (in `rows`) drawn in the paired plot and the waterfall"
    )
    markers: Condition | None = Field(
        default=None,
        description="condition choosing the summarised dataset's records whose start date "
        "(APERSDT) is marked on the trajectories (dashed vertical lines; e.g. the starts of "
        "the treatment periods: the doses); each subject's time axis counts from its first "
        "marker (from its first value when it has none); default: none marked, time from "
        "each subject's first value",
    )
    markers_label: str = Field(
        default="markers",
        min_length=1,
        max_length=60,
        description="what the dashed lines are, in the axis title (e.g. injections)",
    )
    origin_label: str = Field(
        default="the first marker",
        min_length=1,
        max_length=60,
        description="what the time axis counts from, the first marker, in the axis title "
        "(e.g. the first injection): 'months from <origin_label> (dashed: <markers_label>)'",
    )
    trajectories: list[TrajectorySpec] = Field(
        default_factory=list, description="per-subject trajectory figures"
    )
    threshold: float = Field(
        default=25, description="the responder threshold drawn on the waterfall (percent)"
    )
    clip: float = Field(
        default=300,
        gt=0,
        description="the waterfall's axis ends at +/- this percent; longer bars are cut "
        "and labelled with their value",
    )
    max_subjects: int = Field(
        default=30,
        ge=1,
        le=200,
        description="subjects drawn in a trajectory figure (first by USUBJID)",
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: Any) -> Any:
        """A key of an earlier format: say what replaced it (rather than 'unknown key')."""
        if isinstance(data, dict):
            for old, new in RENAMED.items():
                if old in data:
                    raise ValueError(f"`{old}` was renamed: give {new}")
        return data

    def time_axis_title(self) -> str:
        """The trajectories' time axis title, from the spec's words."""
        if self.markers is None:
            return "months from each subject's first value"
        return f"months from {self.origin_label} (dashed: {self.markers_label})"
