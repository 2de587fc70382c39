"""Trial design domains TA, TE, TV, TI and TS, from the study spec alone
(SDTMIG 3.4 chapter 7)."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from cdisc_mapper.errors import SpecError
from cdisc_mapper.sdtm import ctutil
from cdisc_mapper.spec.study import StudySpec

log = logging.getLogger(__name__)

#: What define.xml says of how each trial design dataset is built (from study.yaml).
TRIAL_DESIGN_METHODS = {
    "TA": "TA: one record per planned element per arm (SDTMIG 3.4 section 7.2.1).",
    "TE": "TE: one record per planned element (SDTMIG 3.4 section 7.3.2).",
    "TV": (
        "TV: one record per planned visit per arm (SDTMIG 3.4 section 7.3.1). ARMCD is "
        "blank when the visit applies to every arm."
    ),
    "TI": "TI: one record per inclusion/exclusion criterion (SDTMIG 3.4 section 7.4.1).",
    "TS": (
        "TS: trial summary parameters (SDTMIG 3.4 section 7.6.1). TSPARM is the decode of "
        "TSPARMCD from CDISC CT; TSSEQ numbers repeated parameters."
    ),
}


def build_te(study: StudySpec) -> pd.DataFrame:
    """TE: one record per planned element (SDTMIG 3.4 section 7.3.2)."""
    rows = [
        {
            "STUDYID": study.studyid,
            "DOMAIN": "TE",
            "ETCD": e.etcd,
            "ELEMENT": e.element,
            "TESTRL": e.start_rule,
            "TEENRL": e.end_rule,
            "TEDUR": e.duration or "",
        }
        for e in study.elements
    ]
    return pd.DataFrame(rows)


def build_ta(study: StudySpec) -> pd.DataFrame:
    """TA: one record per planned element per arm (SDTMIG 3.4 section 7.2.1)."""
    epochs = {e.etcd: e.epoch for e in study.elements}
    names = {e.etcd: e.element for e in study.elements}
    rows = []
    for arm in study.arms:
        for order, etcd in enumerate(arm.elements, start=1):
            rows.append(
                {
                    "STUDYID": study.studyid,
                    "DOMAIN": "TA",
                    "ARMCD": arm.armcd,
                    "ARM": arm.arm,
                    "TAETORD": float(order),
                    "ETCD": etcd,
                    "ELEMENT": names[etcd],
                    "TABRANCH": arm.branch.get(etcd, ""),
                    "TATRANS": arm.transition.get(etcd, ""),
                    "EPOCH": epochs[etcd],
                }
            )
    return pd.DataFrame(rows)


def build_tv(study: StudySpec) -> pd.DataFrame:
    """TV: one record per planned visit per arm (SDTMIG 3.4 section 7.3.1). ARMCD is
    blank when the visit applies to every arm."""
    rows = []
    for v in study.visits:
        for armcd in v.arms or [""]:
            rows.append(
                {
                    "STUDYID": study.studyid,
                    "DOMAIN": "TV",
                    "VISITNUM": float(v.visitnum),
                    "VISIT": v.visit,
                    "VISITDY": float(v.visitdy) if v.visitdy is not None else float("nan"),
                    "ARMCD": armcd,
                    "TVSTRL": v.start_rule,
                    "TVENRL": v.end_rule or "",
                }
            )
    return pd.DataFrame(rows)


def build_ti(study: StudySpec) -> pd.DataFrame:
    """TI: one record per inclusion/exclusion criterion (SDTMIG 3.4 section 7.4.1)."""
    rows = [
        {
            "STUDYID": study.studyid,
            "DOMAIN": "TI",
            "IETESTCD": c.ietestcd,
            "IETEST": c.ietest,
            "IECAT": c.iecat,
            "TIVERS": c.tivers,
        }
        for c in study.criteria
    ]
    return pd.DataFrame(rows)


def actual_subjects(dm: pd.DataFrame | None) -> str:
    """ACTSUB (FDA Study Data Technical Conformance Guide, TS parameters): the subjects in
    DM apart from screen failures (ARMCD SCRNFAIL, in any case), as text."""
    if dm is None or "USUBJID" not in dm:
        raise SpecError(
            "trial_summary: derive: actual_subjects needs the DM domain",
            where="study.yaml",
            hint="map DM, or give ACTSUB's tsval",
        )
    if "ARMCD" in dm:
        dm = dm[dm["ARMCD"].astype(str).str.upper() != "SCRNFAIL"]
    return str(dm["USUBJID"].nunique())


def last_participation(dm: pd.DataFrame | None) -> str | None:
    """The latest DM.RFPENDTC (its date part: the last subject's end of participation),
    for DCUTDTC of a completed study; None when DM has no complete RFPENDTC (TS then
    states the null flavor UNK, with a warning)."""
    dates = (
        dm["RFPENDTC"].astype(str).str[:10]
        if dm is not None and "RFPENDTC" in dm
        else pd.Series(dtype=str)
    )
    dates = dates[dates.str.fullmatch(r"\d{4}-\d{2}-\d{2}")]
    return None if dates.empty else str(dates.max())


def _ts_values(p: Any, dm: pd.DataFrame | None) -> tuple[list[str], str]:
    """TSVAL's values and TSVALNF: as given, or derived from ``dm``."""
    if p.derive == "actual_subjects":
        return [actual_subjects(dm)], ""
    if p.derive == "last_participation":
        last = last_participation(dm)
        if last is None:
            log.warning(
                "TS %s: no complete DM.RFPENDTC to derive it from; TSVALNF is UNK", p.tsparmcd
            )
            return [""], "UNK"
        return [last], ""
    if p.tsval is None:  # a null flavor alone
        return [""], p.tsvalnf or ""
    return (p.tsval if isinstance(p.tsval, list) else [p.tsval]), p.tsvalnf or ""


def build_ts(study: StudySpec, terminology: Any, dm: pd.DataFrame | None = None) -> pd.DataFrame:
    """TS: trial summary parameters (SDTMIG 3.4 section 7.6.1). TSPARM is the decode of
    TSPARMCD from CDISC CT; TSSEQ numbers repeated parameters; a derived TSVAL (ACTSUB)
    is computed from ``dm``."""
    parm = terminology.get("TSPARMCD")
    parm_names = terminology.get("TSPARM")
    rows = []
    for p in study.trial_summary:
        term = parm.term(p.tsparmcd)
        if term is None:
            raise SpecError(
                f"trial_summary: {p.tsparmcd} is not a TSPARMCD term in CDISC CT",
                where="study.yaml",
            )
        name = ctutil.decode(parm, parm_names, term) or term.preferred_term
        values, null_flavor = _ts_values(p, dm)
        for seq, value in enumerate(values, start=1):
            rows.append(
                {
                    "STUDYID": study.studyid,
                    "DOMAIN": "TS",
                    "TSSEQ": float(seq),
                    "TSGRPID": p.tsgrpid or "",
                    "TSPARMCD": p.tsparmcd,
                    "TSPARM": name,
                    "TSVAL": value,
                    "TSVALNF": null_flavor,
                    "TSVALCD": _value_code(p, value, terminology),
                    "TSVCDREF": p.tsvcdref or ("CDISC CT" if p.codelist else ""),
                    "TSVCDVER": p.tsvcdver or (_ct_version(p, terminology) if p.codelist else ""),
                }
            )
    return pd.DataFrame(rows)


def _value_code(p: Any, value: str, terminology: Any) -> str:
    """The NCI code of TSVAL in the parameter's CDISC codelist (TSVCDREF "CDISC CT")."""
    if not p.codelist:
        return ""
    term = terminology.get(p.codelist).term(value)
    if term is None or not term.code:
        raise SpecError(
            f"trial_summary: {p.tsparmcd} value {value!r} is not a term of {p.codelist}",
            where="study.yaml",
        )
    return term.code


def _ct_version(p: Any, terminology: Any) -> str:
    return str(getattr(terminology.get(p.codelist), "version", "") or "")


def build_trial_design(
    study: StudySpec, terminology: Any, dm: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """TA, TE, TV (and TI, TS when the study gives them); ``dm`` feeds derived TS values."""
    out = {"TA": build_ta(study), "TE": build_te(study), "TV": build_tv(study)}
    if study.criteria:
        out["TI"] = build_ti(study)
    if study.trial_summary:
        out["TS"] = build_ts(study, terminology, dm)
    return out
