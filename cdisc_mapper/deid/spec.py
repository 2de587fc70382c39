"""The de-identification spec (``DEID.yaml``): pydantic models, loaded with line numbers.

Every key is optional; what is not given follows the defaults of :mod:`.rules` (the
PHUSE De-Identification Standard for CDISC SDTM 3.2 per variable class). ``variables``
overrides the rule of any variable, by name (``AETERM``) or by dataset and name
(``ADAE.AETERM``)::

    dates: {method: offset, offset_days: [-1095, -366]}
    age: {cap: 89, set_to: 90, group_label: ">=90"}
    subject_prefix: S
    site_prefix: SITE
    quasi_identifiers: [AGE, SEX, RACE, ETHNIC, COUNTRY]
    group_rare: {RACE: {k: 5, into: OTHER}}
    redact_words: [Hadassah]
    supp_remove: [DSCAUSE]
    variables:
      CMINDC: remove
      ADAE.AETERM: {action: replace, source: AEDECOD}
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.base import validate_model
from cdisc_mapper.spec.yamlio import load_spec_yaml

Action = Literal["keep", "remove", "replace", "redact", "offset", "recode", "mask", "cap"]
"""What a rule does to a variable: keep it; remove (blank) it; replace it by another
variable of the record; redact the listed words; offset a date; recode a subject
identifier; mask a site or investigator; cap an age."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DateRule(_Model):
    """Dates: shifted by a per-subject offset (days, drawn uniformly from the inclusive
    range ``offset_days``), or removed."""

    method: Literal["offset", "remove"] = "offset"
    offset_days: tuple[int, int] = (-1095, -366)

    @field_validator("offset_days")
    @classmethod
    def _ordered(cls, value: tuple[int, int]) -> tuple[int, int]:
        if value[0] > value[1]:
            raise ValueError(
                "offset_days is [lowest, highest]: the first may not exceed the second"
            )
        return value


class AgeRule(_Model):
    """Ages above ``cap`` become ``set_to``; an age group holding only ages above the cap
    becomes ``group_label`` (HIPAA Safe Harbor 164.514(b)(2)(i)(C), as PHUSE applies it)."""

    cap: int = 89
    set_to: int = 90
    group_label: str = ">=90"


class GroupRule(_Model):
    """Values of a quasi-identifier held by fewer than ``k`` subjects become ``into``."""

    k: int = Field(5, ge=2)
    into: str = "OTHER"


class VariableRule(_Model):
    """The rule of one variable, overriding the default of its class."""

    action: Action
    source: str | None = None

    @model_validator(mode="after")
    def _source_for_replace(self) -> VariableRule:
        if self.action == "replace" and not self.source:
            raise ValueError("action replace needs `source:` (the variable whose value is used)")
        return self


class DeidSpec(_Model):
    """A whole de-identification spec."""

    dates: DateRule = DateRule()
    age: AgeRule = AgeRule()
    subject_prefix: str = Field("S", pattern=r"^[A-Za-z][A-Za-z0-9]{0,7}$")
    site_prefix: str = Field("SITE", pattern=r"^[A-Za-z][A-Za-z0-9]{0,7}$")
    quasi_identifiers: tuple[str, ...] = ("AGE", "SEX", "RACE", "ETHNIC", "COUNTRY")
    group_rare: dict[str, GroupRule] = Field(default_factory=lambda: {"RACE": GroupRule()})
    redact_words: tuple[str, ...] = ()
    supp_remove: tuple[str, ...] = ()
    variables: dict[str, Action | VariableRule] = Field(default_factory=dict)

    def override(self, dataset: str, name: str) -> VariableRule | None:
        """The rule the spec gives ``dataset.name`` (or ``name`` in any dataset), if any."""
        given = self.variables.get(f"{dataset}.{name}", self.variables.get(name))
        if given is None or isinstance(given, VariableRule):
            return given
        return VariableRule(action=given)


def load_deid_spec(path: Path | None) -> DeidSpec:
    """The spec at ``path`` (the defaults when None); SpecError at the line of a bad key
    or value."""
    if path is None:
        return DeidSpec()
    doc = load_spec_yaml(Path(path))
    spec: DeidSpec = validate_model(DeidSpec, doc.data, doc)
    for key in spec.variables:
        if not _is_variable_key(key):
            raise SpecError(
                f"variables: {key!r} is not a variable name (NAME or DATASET.NAME)",
                where=doc.where(("variables", key)),
                hint="e.g. AETERM or ADAE.AETERM, upper case",
            )
    return spec


def _is_variable_key(key: str) -> bool:
    parts = key.split(".")
    return 1 <= len(parts) <= 2 and all(
        p.isupper() and p.replace("_", "").isalnum() and len(p) <= 8 for p in parts
    )
