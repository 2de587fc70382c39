"""The SDTM domain specs (``sdtm/<domain>.yaml``): the raw forms a domain is made from and
the mapping operation of each variable, with its define.xml metadata.

A variable entry names an operation (``op``) of the SDTM registry; the other keys are
that operation's arguments, checked by the operation's own model when the spec is loaded
(:mod:`cdisc_mapper.spec.sdtm_loader`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from cdisc_mapper.condition import Condition
from cdisc_mapper.spec.base import RAW_FOLDER, Strict, relative_path
from cdisc_mapper.spec.study import NumberFormat


class VariableSpec(Strict):
    """One target variable: a mapping operation and its define.xml metadata.

    ``op`` names an operation in the registry (``cdisc_mapper.sdtm.ops``); the other
    keys are that operation's arguments, checked by the operation's own model.
    """

    op: str
    args: dict[str, Any] = Field(default_factory=dict)
    origin: Literal["Collected", "Derived", "Assigned", "Protocol", "Predecessor"] | None = None
    method: str | None = Field(default=None, description="derivation text for define.xml")
    comment: str | None = None
    codelist: str | None = None
    supp: SuppSpec | None = None


class SuppSpec(Strict):
    """Declares a non-standard variable, written to SUPP-- (QNAM = the variable name)."""

    label: str = Field(max_length=40)
    qorig: Literal["CRF", "Derived", "Assigned", "Protocol", "eDT"] = "CRF"
    qeval: str = ""
    idvar: str | None = Field(default=None, description="default: the domain's --SEQ")


class MeltItem(Strict):
    test: str
    value: str
    unit: str | None = None
    unit_column: str | None = None

    @model_validator(mode="after")
    def _one_unit(self) -> MeltItem:
        if self.unit is not None and self.unit_column is not None:
            raise ValueError("give unit or unit_column, not both")
        return self


class MeltSpec(Strict):
    """Turn one wide form row into one record per item (test)."""

    items: list[MeltItem]
    keep_empty_when: Condition | None = Field(
        default=None, description="keep an empty item (e.g. not done) when this holds"
    )


class ExclusionSpec(Strict):
    where: Condition
    reason: str


class SourceSpec(Strict):
    """A raw form a domain reads: ``file`` (default ``<form>.<raw_format>``) is a path
    inside the raw folder, checked here as written and again, symbolic links resolved,
    when the file is opened."""

    form: str
    file: str | None = Field(default=None, description="default: <form>.<raw_format>")
    required_columns: list[str] = Field(default_factory=list)
    drop_duplicates: bool = Field(
        default=False, description="exclude exact repeats of a row (duplicate form entry)"
    )
    exclude: list[ExclusionSpec] = Field(default_factory=list)
    melt: MeltSpec | None = None
    numbers: NumberFormat | None = Field(
        default=None,
        description="how this form writes numbers, over study.yaml `numbers` (e.g. a "
        "central lab that groups thousands)",
    )
    variables: dict[str, VariableSpec] = Field(default_factory=dict)

    @field_validator("form", "file")
    @classmethod
    def _inside_the_raw_folder(cls, v: str | None) -> str | None:
        return v if v is None else relative_path(v, RAW_FOLDER)


class DomainSpec(Strict):
    domain: str = Field(pattern=r"^[A-Z]{2}$")
    label: str | None = Field(default=None, max_length=40)
    keys: list[str]
    sources: list[SourceSpec] = Field(default_factory=list)
    variables: dict[str, VariableSpec] = Field(default_factory=dict)
    comment: str | None = None

    @field_validator("keys")
    @classmethod
    def _keys_nonempty(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("keys must list the domain's key variables")
        return v


VariableSpec.model_rebuild()
