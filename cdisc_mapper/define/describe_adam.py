"""ADaM define metadata from the ADaM package's per-variable metadata and the written files.

The ADaM package (:mod:`cdisc_mapper.adam`) records, for every variable it derives, the
define.xml origin (Derived, Assigned, Predecessor...), the derivation text, the source
(``QS.QSSTRESN``, ``ADSL.TRTSDT``), a comment, a code list and value-level metadata by
parameter. This module maps those onto :mod:`.info` records; the data types, lengths and
formats come from the XPT files in ``OUT/adam``. Named methods (``M-<ID>``), comments
(``C-<ID>``, from study.yaml or the ADaM conventions) and code lists are checked against
their definitions, with the ADaM spec line on error.

Value-level metadata: every BDS dataset gets AVAL (and AVALC) by PARAMCD, each parameter
with its own origin and derivation when the ADaM package gives one, else the variable's.
PARAMCD gets a sponsor code list of the dataset's parameters decoded by PARAM.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cdisc_mapper.define.assemble import as_text, pair_decodes
from cdisc_mapper.define.codelists import coded_dictionary
from cdisc_mapper.define.info import (
    CodelistRef,
    CommentInfo,
    DatasetInfo,
    MethodInfo,
    ValueLevelInfo,
    VarInfo,
)
from cdisc_mapper.define.model import Origin
from cdisc_mapper.define.refs import codelist_ref, comment_ref, method_ref
from cdisc_mapper.spec.define import METHOD_ID, DefineExtras
from cdisc_mapper.standards import Codelist, Term
from cdisc_mapper.xpt import XptMetadata

#: ADaM class names (Define-XML def:Class) of the ADaMIG data structures.
CLASSES = {
    "ADSL": "SUBJECT LEVEL ANALYSIS DATASET",
    "BDS": "BASIC DATA STRUCTURE",
    "TTE": "BASIC DATA STRUCTURE",
    "OCCDS": "OCCURRENCE DATA STRUCTURE",
}
VALUE_LEVEL_VARIABLES = ("AVAL", "AVALC")
KEY_WORDS = {"USUBJID": "subject", "PARAMCD": "parameter"}


class AdamDescriber:
    """Turns ADaM datasets (with the package's metadata) into :class:`DatasetInfo`."""

    def __init__(
        self,
        specs: Any,
        study_comments: dict[str, str],
        extras: DefineExtras,
        terminology: Any,
        adamig: Any,
    ) -> None:
        self.specs = specs
        self.comments = {**study_comments, **dict(getattr(specs.conventions, "comments", {}))}
        self.extras = extras
        self.terminology = terminology
        self.adamig = adamig

    # ------------------------------------------------------------------ spec checks
    def check_references(self) -> None:
        """Named methods, comments and code lists of the ADaM specs exist."""
        for name, ds in sorted(self.specs.datasets.items()):
            if ds.comment:
                self.comment(ds.comment, name, ("comment",))
            for var, vspec in ds.variables.items():
                if vspec.working(var):
                    continue  # never written, not described
                if vspec.method:
                    self.method(vspec.method, name, ("variables", var, "method"))
                if vspec.comment:
                    self.comment(vspec.comment, name, ("variables", var, "comment"))
                if vspec.codelist:
                    self.codelist(vspec.codelist, name, ("variables", var, "codelist"))

    def method(self, text: str, dataset: str, loc: tuple) -> MethodInfo:
        return method_ref(text, self.extras, self.specs.where(dataset, loc))

    def comment(self, text: str, dataset: str, loc: tuple) -> CommentInfo:
        return comment_ref(text, self.comments, self.specs.where(dataset, loc),
                           source="study.yaml / ADaM conventions comments")  # fmt: skip

    def codelist(self, wanted: str, dataset: str, loc: tuple) -> CodelistRef:
        where = self.specs.where(dataset, loc)
        return codelist_ref(self.terminology, wanted, where, explicit=False)

    # ------------------------------------------------------------------ variables
    def origin(self, kind: str | None, source: str | None, method: str | None) -> Origin | None:
        if not kind:
            return None
        if kind == "Predecessor":
            return Origin("Predecessor", None, source or "")
        if kind == "Assigned":
            return Origin("Assigned", "Sponsor", " ".join((method or source or "").split()))
        if kind == "Collected":
            return Origin("Collected", "Investigator", f"Source: {source}" if source else "")
        if kind == "Protocol":
            return Origin("Protocol", "Sponsor", " ".join((method or "").split()))
        return Origin(kind, "Sponsor")

    def derivation(
        self, dataset: str, var: str, method: str | None, source: str | None, has_levels: bool
    ) -> MethodInfo:
        if method and METHOD_ID.match(method.strip()):
            return self.method(method, dataset, ("variables", var, "method"))
        text = " ".join((method or "").split())
        if source and source not in text:
            text = f"{text} Source: {source}." if text else f"From {source}."
        if has_levels:
            text = f"{text} Per parameter: see the value-level metadata (PARAMCD).".strip()
        return MethodInfo(description=text or "Derived (no derivation text in the spec).")

    def variable(self, ds: Any, v: Any, frame: pd.DataFrame, structure: str) -> VarInfo:
        name = ds.name
        levels = self.value_levels(ds, v, frame)
        origin = self.origin(v.origin, v.source, v.method)
        method = None
        if origin is not None and origin.type == "Derived":
            method = self.derivation(name, v.name, v.method, v.source, bool(levels))
        codelist = None
        if v.codelist:
            codelist = self.codelist(v.codelist, name, ("variables", v.name, "codelist"))
        elif v.name == "PARAMCD" and "PARAMCD" in frame.columns:
            codelist = CodelistRef(codelist=parameter_codelist(name, frame))
        elif coded_dictionary(v.name, self.extras) is not None:
            codelist = CodelistRef(dictionary=coded_dictionary(v.name, self.extras))
        comment = None
        if v.comment:
            comment = self.comment(v.comment, name, ("variables", v.name, "comment"))
        ig = self.adamig.variable(structure, v.name) if self.adamig.has_dataset(structure) else None
        return VarInfo(
            name=v.name,
            origin=origin,
            method=method,
            comment=comment,
            codelist=codelist,
            mandatory=(v.core or (ig.core if ig is not None else "")) == "Req",
            display_format=v.format if v.type == "Num" and v.format else None,
            iso8601=v.type == "Char" and v.name.endswith("DTC"),
            value_levels=levels,
        )

    def value_levels(self, ds: Any, v: Any, frame: pd.DataFrame) -> list[ValueLevelInfo]:
        """``v`` by PARAMCD in a BDS dataset (AVAL, AVALC), or the package's own levels."""
        given = {tuple(sorted(vl.where.items())): vl for vl in getattr(v, "value_level", ()) or ()}
        by_param = (
            v.name in VALUE_LEVEL_VARIABLES
            and "PARAMCD" in frame.columns
            and CLASSES.get(ds.structure) == "BASIC DATA STRUCTURE"
        )
        levels: list[ValueLevelInfo] = []
        if by_param:
            decodes = pair_decodes(frame, "PARAMCD")
            for code in sorted(c for c in pd.unique(as_text(frame["PARAMCD"])) if c != ""):
                vl = given.pop((("PARAMCD", code),), None)
                levels.append(self._level(ds, v, {"PARAMCD": code}, vl, decodes.get(code)))
        for key in sorted(given):
            levels.append(self._level(ds, v, dict(key), given[key], None))
        return levels

    def _level(
        self, ds: Any, v: Any, where: dict[str, str], vl: Any | None, decode: str | None
    ) -> ValueLevelInfo:
        if vl is not None:
            kind, source, text = vl.origin, vl.source, vl.method
        elif v.origin == "Derived" and not v.method and v.source:
            # the variable is Derived because some parameters are; the others are taken
            # over from the source unchanged
            kind, source, text = "Predecessor", v.source, None
        else:
            kind, source, text = v.origin, v.source, v.method
        origin = self.origin(kind, source, text)
        method = None
        if origin is not None and origin.type == "Derived":
            method = self.derivation(ds.name, v.name, text, source, False)
        label = f"{v.label} ({decode})" if decode else None
        return ValueLevelInfo(
            where=tuple((k, "EQ", (val,)) for k, val in sorted(where.items())),
            origin=origin,
            method=method,
            label=label,
        )

    # ------------------------------------------------------------------ datasets
    def dataset(self, ds: Any, path: Path, frame: pd.DataFrame, meta: XptMetadata) -> DatasetInfo:
        structure = ds.structure
        std = self.adamig.dataset(structure) if self.adamig.has_dataset(structure) else None
        by_name = {v.name: v for v in ds.variables}
        variables = {
            x.name: self.variable(ds, by_name[x.name], frame, structure)
            for x in meta.variables
            if x.name in by_name
        }
        subclass = (std.subclass if std is not None else "") or None
        if subclass is None and structure == "OCCDS" and "AETERM" in frame.columns:
            subclass = "ADVERSE EVENT"
        comment = self.comment(ds.comment, ds.name, ("comment",)) if ds.comment else None
        keys = list(ds.keys)
        one_per_subject = structure == "ADSL"
        return DatasetInfo(
            name=ds.name,
            path=path,
            frame=frame,
            meta=meta,
            domain=None,
            structure=structure_text(keys, std.structure if one_per_subject and std else None),
            class_=ds.class_ or CLASSES.get(structure, "ADAM OTHER"),
            subclass=subclass,
            purpose="Analysis",
            keys=keys,
            variables=variables,
            repeating=not one_per_subject,
            reference_data=False,
            comment=comment,
        )


def structure_text(keys: list[str], given: str | None) -> str:
    """def:Structure: the IG's text for ADSL, else "One record per ..." from the keys."""
    if given:
        return given
    words = [KEY_WORDS.get(k, k) for k in keys if k != "STUDYID"]
    return "One record per " + " per ".join(words)


def parameter_codelist(dataset: str, frame: pd.DataFrame) -> Any:
    """A sponsor code list of the dataset's PARAMCD values, decoded by PARAM."""
    decodes = pair_decodes(frame, "PARAMCD")
    codes = sorted(c for c in pd.unique(as_text(frame["PARAMCD"])) if c != "")
    return Codelist(
        code=None,
        name=f"Parameter Code ({dataset})",
        short_name=f"{dataset}.PARAMCD",
        extensible=False,
        source="sponsor",
        version="",
        terms=tuple(Term(None, c, preferred_term=decodes.get(c, "")) for c in codes),
    )


def dataset_order(info: DatasetInfo) -> tuple[int, str]:
    """ADSL first, then the others by name."""
    return (info.name != "ADSL", info.name)
