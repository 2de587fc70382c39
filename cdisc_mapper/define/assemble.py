"""From dataset descriptions (:mod:`.info`) and the written data to a DefineModel.

Standard-independent: SDTM and ADaM builders both end here. What the data decide is
decided here, the same way for both: data types (:mod:`.datatypes`), lengths (the XPT
length; for value-level items the longest value of their records), ``HasNoData``, the
terms of each code list and their decodes (the paired variable in the data: ``xxTESTCD``
-> ``xxTEST``, ``PARAMCD`` -> ``PARAM``, ``AVISITN`` -> ``AVISIT``), and which where
clauses exist (only those that select at least one record).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from cdisc_mapper.condition import Records
from cdisc_mapper.define import datatypes
from cdisc_mapper.define.codelists import CodelistBuilder
from cdisc_mapper.define.datatypes import as_text, text_table
from cdisc_mapper.define.describe_common import method_type
from cdisc_mapper.define.info import (
    CodelistRef,
    CommentInfo,
    DatasetInfo,
    MethodInfo,
    ValueLevelInfo,
    VarInfo,
)
from cdisc_mapper.define.model import (
    Comment,
    DatasetDef,
    DefineModel,
    ItemDef,
    ItemRef,
    Method,
    Origin,
    ValueList,
    oid_part,
)
from cdisc_mapper.define.stated_item import (
    ItemAttrs,
    StatedItem,
    as_stated,
    mandatory_note,
    unwritten_lengths,
)
from cdisc_mapper.define.where import clause_mask, clause_oid_part, where_clause
from cdisc_mapper.oids import item_group_oid
from cdisc_mapper.oids import item_oid as oid_of_item
from cdisc_mapper.spec.define import DefineExtras
from cdisc_mapper.xpt import XptVariable, parse_format
from cdisc_mapper.xpt.model import temporal_kind


class _Texts:
    """``as_text`` of a frame's columns, computed on first use, and the frame as the
    where clauses see it."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.records = Records(frame)
        self._cache: dict[str, pd.Series] = {}
        self._tables: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._decodes: dict[str, dict[str, str]] = {}

    def __getitem__(self, column: str) -> pd.Series:
        if column not in self._cache:
            codes, table = self._table(column)
            values = table[codes] if len(codes) else []
            self._cache[column] = pd.Series(values, index=self.frame.index, dtype=object)
        return self._cache[column]

    def _table(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        if column not in self._tables:
            codes, table = text_table(self.frame[column])
            narrow = codes.astype(np.min_scalar_type(max(len(table) - 1, 0)))  # kept: small
            self._tables[column] = narrow, table
        return self._tables[column]

    def decodes(self, column: str) -> dict[str, str]:
        """:func:`pair_decodes` of ``column`` (each value-level item of a variable asks
        again), computed once."""
        if column not in self._decodes:
            self._decodes[column] = pair_decodes(self.frame, column, self)
        return dict(self._decodes[column])

    def blank(self, column: str) -> np.ndarray:
        """Which records have no value in ``column`` (its text is empty), asked once per
        distinct text; for numbers, the missing ones (no number written as text)."""
        values = self.frame[column]
        if column not in self._tables and values.dtype.kind == "f":
            return np.isnan(values.to_numpy())
        codes, table = self._table(column)
        return (table == "")[codes] if len(table) else np.zeros(len(codes), dtype=bool)


def decode_partner(name: str, columns: pd.Index) -> str | None:
    """The variable holding the decode of coded variable ``name``, if the data has one."""
    candidates = []
    if name.endswith("CD") and len(name) > 2:
        candidates.append(name[:-2])
    if name.endswith("N") and len(name) > 1:
        candidates.append(name[:-1])
    return next((c for c in candidates if c in columns), None)


def pair_decodes(frame: pd.DataFrame, name: str, texts: _Texts | None = None) -> dict[str, str]:
    """Code -> decode from the data, when each code has exactly one decode."""
    partner = decode_partner(name, frame.columns)
    if partner is None:
        return {}
    texts = texts or _Texts(frame)
    pairs = pd.DataFrame({"c": texts[name], "d": texts[partner]})
    pairs = pairs[(pairs.c != "") & (pairs.d != "")].drop_duplicates()
    if pairs.c.duplicated().any():
        return {}
    return dict(zip(pairs.c, pairs.d, strict=True))


def _mask(texts: _Texts, where: tuple[tuple[str, str, tuple[str, ...]], ...]) -> np.ndarray:
    """The records every condition of ``where`` selects (:mod:`.where`)."""
    return clause_mask(texts.records, where)


def _where_text(where: tuple[tuple[str, str, tuple[str, ...]], ...]) -> str:
    """A where clause as a reader writes it: ``VSTESTCD EQ TEMP AND VSPOS EQ SUPINE``."""
    return " AND ".join(f"{v} {c} {', '.join(vals)}" for v, c, vals in where)


class Assembler:
    """Adds datasets to a DefineModel; :meth:`finish` adds code lists and standards."""

    def __init__(self, model: DefineModel, extras: DefineExtras, standard_oid: str) -> None:
        self.model = model
        self.extras = extras
        self.standard_oid = standard_oid
        self.codelists = CodelistBuilder(extras)
        self._by_text: dict[tuple, str] = {}
        self.generated: set[str] = set()  # MethodDefs made from text (not named ones)
        self.notes: list[str] = []  # where stated attributes differ from the data
        self._iso_lengths: list[str] = []

    # ------------------------------------------------------------------ shared defs
    def _method(self, info: MethodInfo | None, default_oid: str, default_name: str) -> str | None:
        """The OID of a method; an unnamed method with the same text as one already made
        for the same variable (value-level items) shares its MethodDef."""
        if info is None:
            return None
        key = (default_name, info.description, info.type, info.document, info.expression)
        if info.oid is None and key in self._by_text:
            return self._by_text[key]
        oid = info.oid or default_oid
        if info.oid is None:
            self._by_text[key] = oid
            self.generated.add(oid)
        if oid not in self.model.methods:
            self.model.methods[oid] = Method(
                oid=oid,
                name=info.name or f"Algorithm to derive {default_name}",
                description=info.description,
                type=info.type if info.oid else method_type(info.description),
                document=info.document,
                expression=info.expression,
            )
        return oid

    def _comment(self, info: CommentInfo | None, default_oid: str) -> str | None:
        if info is None:
            return None
        oid = info.oid or default_oid
        if oid not in self.model.comments:
            self.model.comments[oid] = Comment(oid=oid, text=info.text, document=info.document)
        return oid

    def _codelist(
        self,
        ref: CodelistRef | None,
        text: pd.Series,
        numeric: bool,
        decodes: dict[str, str],
    ) -> str | None:
        if ref is None:
            return None
        if ref.dictionary:
            return self.codelists.external(ref.dictionary)
        values = [v for v in text.unique() if v != ""]
        if not ref.explicit and ref.codelist is not None:
            terms = set(ref.codelist.submission_values)
            others = [v for v in values if not datatypes.is_term(v, terms, numeric)]
            if not values or (others and not (ref.extend and _extended(ref.codelist, others))):
                return None
        return self.codelists.use(ref.codelist, values, numeric=numeric, decodes=decodes)

    # ------------------------------------------------------------------ items
    def _typed(
        self, xvar: XptVariable, vi: VarInfo, raw: pd.Series, text: pd.Series, value_level: bool
    ) -> tuple[str, int | None, int | None]:
        """DataType, Length and SignificantDigits of a variable (or value-level item)."""
        if xvar.type == "Num":
            data_type, digits = datatypes.numeric_type(pd.Series(raw.unique()))
            return data_type, xvar.length, digits
        if not value_level and not vi.iso8601:
            return "text", xvar.length, None  # the data decide neither type nor length
        present = [v for v in text.unique() if v != ""]
        length = xvar.length
        if value_level:
            length = max(1, max((len(v.encode("utf-8")) for v in present), default=1))
        if vi.iso8601:
            iso = datatypes.char_iso_type(present)
            if iso is not None:
                return iso, None, None
            if not present:
                return "partialDatetime", None, None
        if value_level and present and all(datatypes.fits(v, "float") for v in present):
            data_type, digits = datatypes.numeric_type(pd.Series(present, dtype=object))
            return data_type, length, digits
        return "text", length, None

    def _display_format(self, xvar: XptVariable, vi: VarInfo) -> str | None:
        if vi.display_format:
            return vi.display_format
        if xvar.type == "Num" and xvar.format:
            try:
                if temporal_kind(parse_format(xvar.format)) is not None:
                    return xvar.format
            except ValueError:
                return None
        return None

    def _item(
        self,
        oid: str,
        name: str,
        label: str,
        xvar: XptVariable,
        vi: VarInfo,
        texts: _Texts,
        mask: np.ndarray | None,
        codelist: CodelistRef | None,
        origin: Origin | None,
        comment: CommentInfo | None,
        stated: StatedItem | None = None,
        what: str = "",
    ) -> ItemDef:
        raw = texts.frame[xvar.name]
        typed = vi
        if stated is not None and stated.data_type in datatypes.ISO_TYPES:
            typed = replace(vi, iso8601=xvar.type == "Char")  # is it one? the data tell
        text_used = mask is not None or codelist is not None or xvar.type == "Char"
        text = texts[xvar.name] if text_used else pd.Series(dtype=object)  # never read
        if mask is not None:
            raw, text = raw[mask], text[mask]
        data_type, length, digits = self._typed(xvar, typed, raw, text, mask is not None)
        display_format = self._display_format(xvar, vi)
        if stated is not None:
            found = ItemAttrs(label, data_type, length, digits, display_format)
            kept = as_stated(stated, what, found, self.notes, self._iso_lengths)
            label, data_type, length = kept.label, kept.data_type, kept.length
            digits, display_format = kept.significant_digits, kept.display_format
        numeric = data_type in datatypes.NUM_TYPES
        decodes = texts.decodes(xvar.name) if codelist is not None else {}
        item = ItemDef(
            oid=oid,
            name=name,
            label=label,
            data_type=data_type,
            length=length if data_type in datatypes.LENGTH_TYPES else None,
            significant_digits=digits if data_type == "float" else None,
            display_format=display_format,
            codelist_oid=self._codelist(codelist, text, numeric, decodes),
            origin=origin,
            comment_oid=self._comment(comment, f"COM.{oid[3:]}"),
        )
        return self.model.add_item(item)

    # ------------------------------------------------------------------ datasets
    def add_dataset(self, info: DatasetInfo) -> DatasetDef:
        name = info.name
        ds = DatasetDef(
            oid=item_group_oid(name),
            name=name,
            domain=info.domain,
            label=info.meta.label,
            structure=info.structure,
            class_=info.class_,
            subclass=info.subclass,
            purpose=info.purpose,
            repeating=info.repeating,
            reference_data=info.reference_data,
            standard_oid=self.standard_oid,
            href=info.path.name,
            comment_oid=self._comment(info.comment, f"COM.{oid_part(name)}"),
            non_standard=info.non_standard,
            domain_description=info.domain_description,
        )
        texts = _Texts(info.frame)
        keys = {k: i for i, k in enumerate((k for k in info.keys if k in info.frame.columns), 1)}
        for pos, xvar in enumerate(info.meta.variables, start=1):
            vi = info.variables.get(xvar.name) or VarInfo(xvar.name, origin=None)
            item_oid = oid_of_item(name, xvar.name)
            item = self._item(
                item_oid,
                xvar.name,
                xvar.label,
                xvar,
                vi,
                texts,
                None,
                vi.codelist,
                vi.origin,
                vi.comment,
                vi.stated,
                f"{name}.{xvar.name}",
            )
            method_oid = None
            if vi.origin is not None and vi.origin.type == "Derived":
                method_oid = self._method(
                    vi.method, f"MT.{oid_part(name)}.{oid_part(xvar.name)}", f"{name}.{xvar.name}"
                )
            if vi.value_levels:
                self._value_list(info, texts, xvar, vi, item)
            blank = texts.blank(xvar.name)
            empty = len(info.frame) > 0 and bool(blank.all())
            note = mandatory_note(vi.stated, f"{name}.{xvar.name}", int(blank.sum()))
            self.notes.extend([note] if note else [])
            ds.item_refs.append(
                ItemRef(
                    item_oid=item.oid,
                    order=pos,
                    mandatory=vi.mandatory,
                    key_sequence=keys.get(xvar.name),
                    method_oid=method_oid,
                    role=vi.role,
                    has_no_data=empty,
                    non_standard=vi.non_standard,
                )
            )
        self.model.datasets.append(ds)
        return ds

    def _where(self, ds: str, where: tuple[tuple[str, str, tuple[str, ...]], ...]) -> str:
        clause = where_clause(ds, where)
        return self.model.where_clauses.setdefault(clause.oid, clause).oid

    def _value_list(
        self, info: DatasetInfo, texts: _Texts, xvar: XptVariable, vi: VarInfo, parent: ItemDef
    ) -> None:
        name = info.name
        refs: list[ItemRef] = []
        for vl in vi.value_levels:
            mask = _mask(texts, vl.where)
            if not mask.any():
                continue  # a where clause must select records
            suffix = ".".join(
                ("NOT." if c in ("NE", "NOTIN") else "") + "_".join(oid_part(x) for x in vals)
                for _, c, vals in vl.where
            )
            oid = f"{parent.oid}.{suffix}"
            if oid in self.model.items:  # two clauses testing the same values: name them all
                oid = f"{parent.oid}.{clause_oid_part(vl.where)}"
            item = self._item(
                oid,
                vl.name or xvar.name,
                vl.label or xvar.label,
                xvar,
                vi,
                texts,
                mask,
                vl.codelist if vl.codelist is not None else vi.codelist,
                vl.origin or vi.origin,
                vl.comment,
                vl.stated,
                f"{name}.{xvar.name} [{_where_text(vl.where)}]",
            )
            method_oid = None
            if item.origin is not None and item.origin.type == "Derived":
                default = f"MT.{oid_part(name)}.{oid_part(xvar.name)}"
                if vl.method is not None and vl.method.oid is None and vl.method != vi.method:
                    default = f"MT.{oid[3:]}"
                method_oid = self._method(vl.method or vi.method, default, f"{name}.{xvar.name}")
            blanks = int((texts[xvar.name][mask] == "").sum())
            stated = vl.stated.mandatory if vl.stated is not None else None
            note = mandatory_note(
                vl.stated, f"{name}.{xvar.name} [{_where_text(vl.where)}]", blanks
            )
            self.notes.extend([note] if note else [])
            refs.append(
                ItemRef(
                    item_oid=item.oid,
                    order=len(refs) + 1,
                    mandatory=blanks == 0 if stated is None else stated,
                    method_oid=method_oid,
                    where_oids=(self._where(name, vl.where),),
                )
            )
        if refs:
            oid = f"VL.{oid_part(name)}.{oid_part(xvar.name)}"
            self.model.value_lists[oid] = ValueList(oid=oid, item_refs=refs)
            parent.valuelist_oid = oid

    # ------------------------------------------------------------------ finish
    def finish(self) -> list[str]:
        """Add code lists and CT standards; return warnings (e.g. a missing dictionary
        version)."""
        codelists, standards = self.codelists.build()
        self.model.codelists = codelists
        for item in self.model.items.values():
            if item.codelist_oid and item.codelist_oid not in codelists:
                item.codelist_oid = None
        known = {s.oid for s in self.model.standards}
        self.model.standards.extend(s for s in standards if s.oid not in known)
        return list(self.codelists.warnings) + self.notes + unwritten_lengths(self._iso_lengths)


def _extended(codelist: Any, values: list[str]) -> bool:
    """Whether values outside an IG codelist are sponsor terms added to it (written with
    def:ExtendedValue="Yes", SDTMIG 3.4 section 4.3.2): the list is extensible and the
    values are text, not numbers (the IG's lists of result variables, e.g. LBSTRESC,
    describe the qualitative results only; a numeric result is no term)."""
    return bool(getattr(codelist, "extensible", False)) and not any(
        datatypes.fits(v, "float") for v in values
    )


__all__ = ["Assembler", "ValueLevelInfo", "as_text", "decode_partner", "pair_decodes"]
