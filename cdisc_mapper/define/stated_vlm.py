"""Value-level metadata stated in ``define.yaml`` (``value_level:``).

The builders find value-level metadata from the specs and the data (results by test
code, AVAL by PARAMCD, QVAL by QNAM). Where a study states it instead, e.g. ADRE.AVAL
for the best-effort records (``PARAMCD EQ FVC`` and ``DTYPE EQ MAXIMUM``), the stated list
replaces the one found for that variable. Define-XML 2.1 section 5.3.12 (def:ValueListDef)
and 5.3.13 (def:WhereClauseDef): every condition of a clause must hold (several
RangeChecks are ANDed), and each condition names a variable of the same dataset.
"""

from __future__ import annotations

from typing import Any

from cdisc_mapper.condition import range_checks
from cdisc_mapper.define.assemble import _mask, _Texts
from cdisc_mapper.define.info import (
    CodelistRef,
    CommentInfo,
    DatasetInfo,
    MethodInfo,
    ValueLevelInfo,
)
from cdisc_mapper.define.model import Origin
from cdisc_mapper.define.refs import codelist_ref, comment_ref, method_ref
from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.define import DefineExtras, ValueLevelSpec

_ORIGIN_SOURCE = {
    "Collected": "Investigator",
    "Derived": "Sponsor",
    "Assigned": "Sponsor",
    "Protocol": "Sponsor",
}


def standard_of(dataset: str) -> str:
    """``adam`` for an analysis dataset (ADaMIG: names start with AD), else ``sdtm``."""
    return "adam" if dataset.startswith("AD") else "sdtm"


def level_origin(level: ValueLevelSpec) -> Origin | None:
    """def:Origin of a stated level (Define-XML 2.1 section 5.3.11.2)."""
    if level.origin is None:
        return None
    if level.origin == "Predecessor":
        return Origin("Predecessor", None, level.source or "")
    text = " ".join((level.source or "").split())
    if level.origin == "Collected" and text and not text.startswith("Source:"):
        text = f"Source: {text}"
    return Origin(level.origin, _ORIGIN_SOURCE[level.origin], text)


class StatedLevels:
    """Resolves ``define.yaml`` value-level entries against the datasets being described."""

    def __init__(
        self, extras: DefineExtras, comments: dict[str, str], terminology: Any, which: str
    ) -> None:
        self.extras = extras
        self.comments = comments
        self.terminology = terminology
        self.which = which

    def _where(self, *loc: str | int) -> str:
        return self.extras.where(("value_level", *loc))

    def _method(self, key: str, i: int, text: str) -> MethodInfo:
        where = self._where(key, i, "method")
        return method_ref(text, self.extras, where, f"value_level: {key}: ")

    def _comment(self, key: str, i: int, text: str) -> CommentInfo:
        where = self._where(key, i, "comment")
        return comment_ref(text, self.comments, where, what=f"value_level: {key}: ")

    def _codelist(self, key: str, i: int, wanted: str) -> CodelistRef:
        where = self._where(key, i, "codelist")
        what = f"value_level: {key}: "
        return codelist_ref(self.terminology, wanted, where, what=what, hint="")

    def level(self, key: str, i: int, spec: ValueLevelSpec) -> ValueLevelInfo:
        return ValueLevelInfo(
            where=range_checks(spec.condition) or (),
            origin=level_origin(spec),
            method=self._method(key, i, spec.method) if spec.method else None,
            codelist=self._codelist(key, i, spec.codelist) if spec.codelist else None,
            label=spec.label,
            comment=self._comment(key, i, spec.comment) if spec.comment else None,
        )

    def apply(self, infos: list[DatasetInfo]) -> list[str]:
        """Replace the found value-level metadata of every stated variable; return
        warnings (a stated clause that selects no record is left out of define.xml).

        Raises SpecError at the define.yaml line for a dataset or variable that is not in
        the package, or a where condition on a variable the dataset does not have.
        """
        by_name = {info.name: info for info in infos}
        notes: list[str] = []
        for key, levels in self.extras.spec.value_level.items():
            dataset, variable = key.split(".")
            if standard_of(dataset) != self.which:
                continue
            info = by_name.get(dataset)
            if info is None:
                raise SpecError(
                    f"value_level: dataset {dataset} is not in the {self.which.upper()} "
                    f"package (datasets: {', '.join(sorted(by_name))})",
                    where=self._where(key),
                )
            if variable not in info.variables:
                raise SpecError(
                    f"value_level: {dataset} has no variable {variable}",
                    where=self._where(key),
                )
            texts = _Texts(info.frame)
            stated = []
            for i, spec in enumerate(levels):
                for j, (variable_tested, _, _) in enumerate(range_checks(spec.condition) or ()):
                    if variable_tested not in info.frame.columns:
                        raise SpecError(
                            f"value_level: {key} entry {i + 1}: the where clause tests "
                            f"{variable_tested}, which is not a variable of {dataset}",
                            where=self._where(key, i, "where", j, "variable"),
                        )
                level = self.level(key, i, spec)
                if not _mask(texts, level.where).any():
                    notes.append(
                        f"define.yaml value_level {key} entry {i + 1} selects no record of "
                        f"{dataset}; it is left out"
                    )
                stated.append(level)
            info.variables[variable].value_levels = stated
        return notes
