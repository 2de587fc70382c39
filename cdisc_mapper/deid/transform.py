"""The rules applied to one dataset: a new frame and the list of what changed.

Every change is counted per dataset and variable (cells changed, records removed) with
its action and reason, so the report accounts for everything; nothing else is altered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdisc_mapper.deid.dates import shift_dtc, shift_numeric
from cdisc_mapper.deid.key import DeidKey
from cdisc_mapper.deid.rules import SUBJECT_IDS, Rule, default_rule
from cdisc_mapper.deid.spec import DeidSpec
from cdisc_mapper.xpt import XptMetadata


def _numeric(values: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(values))


REDACTED = "[REDACTED]"
TS_DATE_PARAMETERS = re.compile(r"^[A-Z0-9]*DTC$")


@dataclass(frozen=True)
class Change:
    """One de-identified variable of one dataset."""

    dataset: str
    variable: str
    action: str
    reason: str
    cells: int
    records_removed: int = 0


def _text(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str)


def _subjects(frame: pd.DataFrame) -> pd.Series:
    if "USUBJID" in frame.columns:
        return _text(frame["USUBJID"])
    return pd.Series("", index=frame.index, dtype=object)


def _offsets(frame: pd.DataFrame, key: DeidKey) -> np.ndarray:
    """Each record's date offset: its subject's, else (a record of no known subject) the
    study offset."""
    offsets = _subjects(frame).map(key.offsets).fillna(key.study_offset)
    return offsets.to_numpy(dtype=np.int64)


def _coded(values: pd.Series, codes: dict[str, str]) -> pd.Series:
    """Each non-blank text through ``codes`` (REDACTED when it has no code); blanks kept."""
    return values.map(codes).fillna(REDACTED).where(values != "", values)


def _blank(column: pd.Series) -> pd.Series:
    """A text column of blanks, the length of ``column``."""
    return pd.Series("", index=column.index, dtype=object)


def _recode(frame: pd.DataFrame, name: str, key: DeidKey) -> pd.Series:
    values = _text(frame[name])
    if name == "SUBJID":
        by_usubjid = {old: new.rsplit("-", 1)[-1] for old, new in key.subjects.items()}
        # the subject's new number, else the SUBJID's own code
        new = _subjects(frame).map(by_usubjid).fillna(_coded(values, key.subjids))
        return new.where(values != "", values).astype(object)
    codes = key.pools if name == "POOLID" else key.subjects | key.pools  # RSUBJID: either
    return _coded(values, codes)


def _cap_age(frame: pd.DataFrame, name: str, spec: DeidSpec) -> pd.Series:
    """AGE above the cap -> set_to; an AGEGRn(N) group holding only such ages -> the
    group label (AGEGRnN: the lowest number of the merged groups)."""
    if "AGE" not in frame.columns:
        return frame[name]
    age = pd.to_numeric(frame["AGE"], errors="coerce")
    above = (age > spec.age.cap).to_numpy()
    if name == "AGE":
        return frame[name].where(~above, float(spec.age.set_to))
    group = frame[name] if _numeric(frame[name]) else _text(frame[name])
    merged = [g for g in pd.unique(group[above]) if bool((age[group == g] > spec.age.cap).all())]
    hit = group.isin(merged).to_numpy()
    if not hit.any():
        return frame[name]
    if name.endswith("N"):
        return frame[name].where(~hit, float(pd.to_numeric(pd.Series(merged)).min()))
    return frame[name].where(~hit, spec.age.group_label)


def _redact_words(values: pd.Series, words: tuple[str, ...]) -> pd.Series:
    if not words:
        return values
    pattern = re.compile("|".join(rf"\b{re.escape(w)}\b" for w in words), re.IGNORECASE)
    return _text(values).str.replace(pattern, REDACTED, regex=True)


def _dates(frame: pd.DataFrame, name: str, key: DeidKey) -> tuple[pd.Series, int]:
    days = _offsets(frame, key)
    if not _numeric(frame[name]):
        return shift_dtc(frame[name], days, end=name.endswith("ENDTC"))
    return shift_numeric(frame[name], days, seconds=name.endswith("DTM")), 0


def apply_rule(
    frame: pd.DataFrame, name: str, rule: Rule, key: DeidKey, spec: DeidSpec
) -> tuple[pd.Series, int]:
    """The new values of ``name`` under ``rule``, and how many values were lost."""
    column = frame[name]
    numeric = _numeric(column)
    if rule.action == "recode":
        return _recode(frame, name, key), 0
    if rule.action == "mask":
        codes = key.sites if name == "SITEID" else key.investigators
        return _coded(_text(column), codes), 0
    if rule.action == "remove":
        return (pd.Series(np.nan, index=frame.index) if numeric else _blank(column)), 0
    if rule.action == "offset":
        return _dates(frame, name, key)
    if rule.action == "cap":
        return _cap_age(frame, name, spec), 0
    if rule.action == "replace" and rule.source in frame.columns:
        return _text(frame[rule.source]), 0
    if rule.action == "replace":
        return _blank(column), 0
    if rule.action == "redact" and spec.redact_words:
        return _redact_words(column, spec.redact_words), 0
    if rule.action == "redact":  # no list of words: the whole text
        text = _text(column)
        return text.where(text == "", REDACTED), 0
    return column, 0


def _count_changed(old: pd.Series, new: pd.Series) -> int:
    if not (_numeric(old) and _numeric(new)):
        return int((_text(old) != _text(new)).sum())
    a, b = old.astype(float).to_numpy(), new.astype(float).to_numpy()
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return int((~same).sum())


def _supp_rows(frame: pd.DataFrame, key: DeidKey, spec: DeidSpec, ds: str) -> list[Change]:
    """SUPP--/RELREC: IDVARVAL recoded where IDVAR is a subject identifier; QNAMs the
    spec lists removed with their records."""
    changes: list[Change] = []
    if {"IDVAR", "IDVARVAL"} <= set(frame.columns):
        hit = _text(frame["IDVAR"]).isin(SUBJECT_IDS).to_numpy()
        if hit.any():
            sub = frame.loc[hit, ["IDVARVAL"]].rename(columns={"IDVARVAL": "USUBJID"})
            frame.loc[hit, "IDVARVAL"] = _recode(sub, "USUBJID", key).to_numpy()
            changes.append(
                Change(ds, "IDVARVAL", "recode", "subject identifier in IDVARVAL", int(hit.sum()))
            )
    return changes


def drop_supp_qnams(
    frame: pd.DataFrame, spec: DeidSpec, ds: str
) -> tuple[pd.DataFrame, list[Change]]:
    """Records of a SUPP-- whose QNAM the spec lists under ``supp_remove``, removed."""
    if "QNAM" not in frame.columns or not spec.supp_remove:
        return frame, []
    drop = _text(frame["QNAM"]).isin(spec.supp_remove).to_numpy()
    if not drop.any():
        return frame, []
    change = Change(
        ds, "QVAL", "remove", "free text (spec supp_remove)", int(drop.sum()), int(drop.sum())
    )
    return frame.loc[~drop].reset_index(drop=True), [change]


#: TS date parameters that bound every subject's dates from above (the study's end, the
#: data cut-off) or from below (its start).
TS_END_DATES = frozenset({"DCUTDTC", "SENDTC"})
TS_START_DATES = frozenset({"SSTDTC"})


def _ts_offsets(parameters: pd.Series, key: DeidKey) -> np.ndarray:
    """The offset of each TS date: the latest subject offset for an end or cut-off date and
    the earliest for the start date, so that every subject's moved dates stay within them
    as the originals were (TM0011 on a cut-off moved by another subject's offset); the
    study offset for the others."""
    subject = list(key.offsets.values()) or [key.study_offset]
    latest, earliest = max(subject), min(subject)
    return np.array(
        [
            latest if p in TS_END_DATES else earliest if p in TS_START_DATES else key.study_offset
            for p in parameters
        ]
    )


def _ts_dates(frame: pd.DataFrame, key: DeidKey, spec: DeidSpec, ds: str) -> list[Change]:
    """TS date parameters (SSTDTC, SENDTC, DCUTDTC, ...), moved (:func:`_ts_offsets`)."""
    if ds != "TS" or not {"TSPARMCD", "TSVAL"} <= set(frame.columns):
        return []
    hit = (
        _text(frame["TSPARMCD"]).str.match(TS_DATE_PARAMETERS).to_numpy()
        & (_text(frame["TSVAL"]) != "").to_numpy()
    )
    if not hit.any():
        return []
    values = frame.loc[hit, "TSVAL"]
    if spec.dates.method == "remove":
        new = _blank(values)
    else:
        offsets = _ts_offsets(_text(frame.loc[hit, "TSPARMCD"]), key)
        new, _lost = shift_dtc(values, offsets)
    frame.loc[hit, "TSVAL"] = new.to_numpy()
    if "TSVALNF" in frame.columns and spec.dates.method == "remove":
        frame.loc[hit, "TSVALNF"] = "MSK"  # ISO 21090 null flavor: masked
    return [
        Change(
            ds,
            "TSVAL",
            "offset" if spec.dates.method == "offset" else "remove",
            "trial dates (TS --DTC parameters) moved: the start by the earliest subject "
            "offset, the end and data cut-off by the latest, the others by the study offset",
            int(hit.sum()),
        )
    ]


def deidentify_frame(
    frame: pd.DataFrame, meta: XptMetadata, key: DeidKey, spec: DeidSpec
) -> tuple[pd.DataFrame, list[Change]]:
    """``frame`` with every rule applied (the subject columns last, since the other
    rules look subjects up by their original USUBJID)."""
    ds = meta.dataset.upper()
    frame, changes = drop_supp_qnams(frame.copy(), spec, ds)
    columns = frozenset(frame.columns)
    rules = {v.name: default_rule(ds, v, columns, spec) for v in meta.variables}
    new: dict[str, pd.Series] = {}
    for name, rule in rules.items():
        if rule.action == "keep" or name not in frame.columns:
            continue
        values, lost = apply_rule(frame, name, rule, key, spec)
        cells = _count_changed(frame[name], values)
        if cells:
            reason = rule.reason + (f"; {lost} value(s) not movable, removed" if lost else "")
            changes.append(Change(ds, name, rule.action, reason, cells))
        new[name] = values
    changes += _supp_rows(frame, key, spec, ds)
    changes += _ts_dates(frame, key, spec, ds)
    for name, values in new.items():
        frame[name] = values.astype(float) if _numeric(frame[name]) else _text(values).to_numpy()
    return _in_subject_order(frame), changes


def _in_subject_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Records ordered by the new USUBJID, each subject's records in their old order:
    the keys start with USUBJID (SDTMIG 3.4 section 3.2.1.1), and recoding changes the
    order of the subjects, not of one subject's records (P21 SD0111)."""
    if "USUBJID" not in frame.columns:
        return frame
    return frame.sort_values("USUBJID", kind="stable").reset_index(drop=True)
