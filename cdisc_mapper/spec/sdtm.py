"""The SDTM domain specs (``sdtm/<domain>.yaml``): the raw forms a domain is made from and
the mapping operation of each variable, with its define.xml metadata.

A variable entry names an operation (``op``) of the SDTM registry; the other keys are
that operation's arguments, checked by the operation's own model when the spec is loaded
(:mod:`cdisc_mapper.spec.sdtm_loader`).
"""

from __future__ import annotations

import re
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


#: Columns every melted record has: the item's test, value and unit.
MELT_TEST, MELT_VALUE, MELT_UNIT = "_TEST", "_VALUE", "_UNIT"
#: Names an item's ``columns``/``values`` cannot take (the melt's own and the record's
#: raw form and row).
MELT_RESERVED = (MELT_TEST, MELT_VALUE, MELT_UNIT, "_SRC", "_ROW")
_ITEM_NAME = re.compile(r"^_[A-Za-z][A-Za-z0-9_]*$")


class MeltItem(Strict):
    """One item (test) of a wide form: the raw column of its result and what else each of
    its records carries."""

    test: str = Field(description="the item's test, in `_TEST` (e.g. SYSBP)")
    value: str = Field(description="raw column holding the item's result, in `_VALUE`")
    unit: str | None = Field(default=None, description="the unit of the item's results, in `_UNIT`")
    unit_column: str | None = Field(
        default=None, description="raw column holding the unit of the item's results"
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="more raw columns of this item, by the name its records give them "
        "(e.g. {_STAT: SYSBP_ND, _REASND: SYSBP_REASON}); read as `column: _STAT`",
    )
    values: dict[str, str] = Field(
        default_factory=dict,
        description="constants of this item, by the name its records give them (e.g. "
        "{_CAT: BLOOD PRESSURE}); read as `column: _CAT`",
    )

    @field_validator("values", mode="before")
    @classmethod
    def _numbers_as_text(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        return {
            k: str(x) if isinstance(x, int | float) and not isinstance(x, bool) else x
            for k, x in v.items()
        }

    @field_validator("columns", "values")
    @classmethod
    def _working_names(cls, v: dict[str, str]) -> dict[str, str]:
        for name in v:
            if not _ITEM_NAME.fullmatch(name):
                raise ValueError(
                    f"{name!r}: the name of an item's column or constant starts with _ "
                    "followed by a letter (e.g. _STAT), so that it is never a raw column"
                )
            if name in MELT_RESERVED:
                raise ValueError(
                    f"{name!r} is the melt's own column; give another name "
                    f"(not {', '.join(MELT_RESERVED)})"
                )
        return v

    @model_validator(mode="after")
    def _one_unit(self) -> MeltItem:
        if self.unit is not None and self.unit_column is not None:
            raise ValueError("give unit or unit_column, not both")
        both = sorted(set(self.columns) & set(self.values))
        if both:
            raise ValueError(f"{', '.join(both)}: give a name in columns or values, not both")
        return self

    def raw_columns(self) -> list[str]:
        """The raw columns this item reads."""
        named = [self.value, self.unit_column, *self.columns.values()]
        return [c for c in named if c]


class MeltSpec(Strict):
    """Turn one wide form row into one record per item (test): `_TEST`, `_VALUE` and
    `_UNIT` hold the item's test, result and unit (blank where the result is blank: a unit
    belongs to a recorded result), and each `_NAME` an item gives in `columns` or
    `values` holds its column's text or its constant (blank for an item without it)."""

    items: list[MeltItem] = Field(
        min_length=1,
        description="the form's items (tests), in the order their records are read",
    )
    keep_empty_when: Condition | None = Field(
        default=None,
        description="an item left empty on the form row (e.g. not done) is kept as a "
        "record with a blank `_VALUE` when this holds for that record, which may test raw "
        "columns, `_TEST` and the items' `_NAME`s; else an empty item makes no record",
    )

    def names(self) -> list[str]:
        """The ``_NAME``s the items give (columns and constants), in order."""
        seen: dict[str, None] = {}
        for item in self.items:
            seen.update(dict.fromkeys([*item.columns, *item.values]))
        return list(seen)

    def raw_columns(self, name: str) -> list[str]:
        """The raw columns a melted record's column ``name`` comes from (``name`` itself
        when it is no column of the melt)."""
        if name == MELT_VALUE:
            return [item.value for item in self.items]
        if name == MELT_UNIT:
            return [item.unit_column for item in self.items if item.unit_column]
        if name in self.names():
            found = [item.columns[name] for item in self.items if name in item.columns]
            return list(dict.fromkeys(found))
        return [name]

    @model_validator(mode="after")
    def _known_names(self) -> MeltSpec:
        if self.keep_empty_when is None:
            return self
        known = {MELT_TEST, MELT_VALUE, MELT_UNIT, *self.names()}
        unknown = sorted(
            n for n in self.keep_empty_when.variables() if n.startswith("_") and n not in known
        )
        if unknown:
            raise ValueError(
                f"keep_empty_when reads {', '.join(unknown)}, which no item gives (the "
                f"melted records have {', '.join(sorted(known))})"
            )
        return self


class ExclusionSpec(Strict):
    """Rows of a form left out of the domain, counted per reason in the reconciliation."""

    where: Condition = Field(
        description="condition on the row's raw columns (e.g. `{column: STATUS, equals: "
        "Deleted}`) under which it is excluded"
    )
    reason: str = Field(
        description="why, as the reconciliation reports it (rows_excluded, per reason)"
    )


class SourceSpec(Strict):
    """A raw form a domain reads: ``file`` (default ``<form>.<raw_format>``) is a path
    inside the raw folder, checked here as written and again, symbolic links resolved,
    when the file is opened."""

    form: str = Field(
        description="the form's name, as the reconciliation reports it; also its file, "
        "`<form>.<raw_format>` in the raw folder, unless `file` names another"
    )
    file: str | None = Field(
        default=None,
        description="path of the form's file inside the raw folder (--raw); default: "
        "<form>.<raw_format>",
    )
    required_columns: list[str] = Field(
        default_factory=list,
        description="raw columns the file must have, besides those the variables read "
        "(a file without one is an error naming it)",
    )
    drop_duplicates: bool = Field(
        default=False,
        description="exclude exact repeats of a row (duplicate form entry), counted in "
        "the reconciliation",
    )
    exclude: list[ExclusionSpec] = Field(
        default_factory=list, description="rows to leave out, each with its reason"
    )
    melt: MeltSpec | None = Field(
        default=None,
        description="a wide form: one record per item (test) of each row, the row's "
        "blank items giving none; `_TEST`, `_VALUE`, `_UNIT` and the items' `_NAME`s "
        "hold each item's values for the variables to read as columns",
    )
    numbers: NumberFormat | None = Field(
        default=None,
        description="how this form writes numbers, over study.yaml `numbers` (e.g. a "
        "central lab that groups thousands)",
    )
    date_order: Literal["DMY", "MDY", "YMD"] | None = Field(
        default=None,
        description="the order of day, month and year in this form's numeric dates, over "
        "study.yaml `subjects.date_order` (e.g. a form exported month first)",
    )
    variables: dict[str, VariableSpec] = Field(
        default_factory=dict,
        description="the variables mapped from each row (or melted record), in order: "
        "`NAME: {op: ..., <arguments>}` (operations above); a `_NAME` is a working column",
    )

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
