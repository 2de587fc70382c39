"""Identity checks (ID): sequence numbers, subjects, DM, arms and exposure."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_mapper import iso8601
from cdisc_mapper.validate.context import Context
from cdisc_mapper.validate.model import ERROR, WARNING, scope
from cdisc_mapper.validate.package import Dataset, blank, distinct, duplicated
from cdisc_mapper.validate.registry import check

#: ACTARMCD values of subjects who received no study treatment (SDTMIG before v3.4, and
#: blank with ARMNRS from v3.4 on); compared with :func:`arm_code_in`, regardless of case.
NOT_TREATED_ARMS = frozenset({"", "SCRNFAIL", "NOTASSGN", "NOTTRT"})
#: Arm codes that are not arms of TA: the above and UNPLAN (treated, but not as planned).
SPECIAL_ARMS = NOT_TREATED_ARMS | {"UNPLAN"}


def arm_code_in(codes: pd.Series, wanted: frozenset[str]) -> np.ndarray:
    """Whether each ARMCD/ACTARMCD value is one of ``wanted`` (upper case), ignoring case
    and surrounding blanks: ``Scrnfail`` is SCRNFAIL (data from other tools use any case);
    a null value is ``""``."""
    text = codes.astype(object).where(~blank(codes), "")
    return text.astype(str).str.strip().str.upper().isin(wanted).to_numpy(dtype=bool)


@check(
    "ID0001",
    ERROR,
    "identity",
    "--SEQ is not unique within a subject",
    explanation="--SEQ (ASEQ in ADaM) identifies a record within a subject and dataset; "
    "no two records of one subject may share it.",
    reference="SDTMIG v3.4 §4.1.9",
)
def seq_unique(ctx: Context, ds: Dataset) -> None:
    if ds.seq_var is None or "USUBJID" not in ds.df.columns:
        return
    seq = ds.df[ds.seq_var]
    dup = duplicated(ds.df, ["USUBJID", ds.seq_var]) & seq.notna().to_numpy()
    ctx.flag(ds, dup, f"{ds.seq_var} is repeated for this subject", variable=ds.seq_var)


@check(
    "ID0002",
    ERROR,
    "identity",
    "USUBJID is not in DM",
    explanation="Every subject in any dataset (including SUPP-- and ADaM) must have its DM record.",
    reference="SDTMIG v3.4 §5.1 (DM)",
)
def subject_in_dm(ctx: Context, ds: Dataset) -> None:
    subjects = ctx.dm_subjects
    if subjects is None:
        ctx.skip("no DM dataset")
    assert subjects is not None
    if ds.name == "DM" or "USUBJID" not in ds.df.columns:
        return
    usubjid = ds.df["USUBJID"]
    missing = ~usubjid.isin(subjects).to_numpy() & ~blank(usubjid)
    ctx.flag(ds, missing, "USUBJID has no DM record", variable="USUBJID")


@check(
    "ID0003",
    ERROR,
    "identity",
    "DM has more than one record for a subject",
    scope=scope("SDTM", datasets=("DM",)),
    explanation="DM has exactly one record per subject.",
    reference="SDTMIG v3.4 §5.1 (DM)",
)
def dm_one_per_subject(ctx: Context, ds: Dataset) -> None:
    if ds.name != "DM" or "USUBJID" not in ds.df.columns:
        return
    dup = ds.df.duplicated("USUBJID", keep=False).to_numpy()
    ctx.flag(ds, dup, "subject has more than one DM record", variable="USUBJID")


def _exposed(ctx: Context) -> frozenset[str] | None:
    exposure = ctx.domain("EX")
    if not exposure:
        return None
    ids: set[str] = set()
    for ex in exposure:
        if "USUBJID" in ex.df.columns:
            ids.update(str(v) for v in distinct(ex.df["USUBJID"]))
    return frozenset(ids)


def _exposed_on_study_days_only(ctx: Context) -> frozenset[str]:
    """Subjects whose exposure is known as study days only: EX records with EXSTDY and
    none with EXSTDTC (relative-day data without dates, SDTMIG v3.4 §4.4.4)."""
    dated: set[str] = set()
    days: set[str] = set()
    for ex in ctx.domain("EX") or []:
        if "USUBJID" not in ex.df.columns:
            continue
        subject = ex.df["USUBJID"].astype(str)
        if "EXSTDTC" in ex.df.columns:
            dated.update(subject[~blank(ex.df["EXSTDTC"])])
        if ex.has_numeric("EXSTDY"):
            days.update(subject[ex.df["EXSTDY"].notna().to_numpy()])
    return frozenset(days - dated)


@check(
    "ID0004",
    ERROR,
    "identity",
    "RFSTDTC or RFXSTDTC is missing for a treated subject",
    scope=scope("SDTM", datasets=("DM",)),
    explanation="A subject with exposure (EX) records was treated: the reference start "
    "date RFSTDTC and first exposure date RFXSTDTC must be populated. A subject whose EX "
    "records have study days (EXSTDY) and no date (relative-day data) has no date to give "
    "and is not flagged (study day 1 is then the day0 event, SDTMIG v3.4 §4.4.4).",
    reference="SDTMIG v3.4 §5.1 (DM assumptions 6, 9), §4.4.4",
)
def treated_reference_dates(ctx: Context, ds: Dataset) -> None:
    exposed = _exposed(ctx)
    if exposed is None:
        ctx.skip("no EX dataset")
    assert exposed is not None
    if ds.name != "DM" or "USUBJID" not in ds.df.columns:
        return
    treated = ds.df["USUBJID"].isin(exposed - _exposed_on_study_days_only(ctx)).to_numpy()
    for col in ("RFSTDTC", "RFXSTDTC"):
        ctx.flag(
            ds,
            treated & ctx.blank(ds, col),
            f"{col} is null but the subject has EX records",
            variable=col,
        )


@check(
    "ID0005",
    ERROR,
    "identity",
    "ACTARMCD is inconsistent with the exposure (EX) records",
    scope=scope("SDTM", datasets=("DM",)),
    explanation="A subject with EX records was treated, so ACTARMCD is an arm code (not "
    "null, SCRNFAIL, NOTASSGN or NOTTRT, in any case); a subject with an actual arm "
    "(UNPLAN included) must have EX records.",
    reference="SDTMIG v3.4 §5.1 (DM assumptions 4-5)",
)
def actarm_vs_ex(ctx: Context, ds: Dataset) -> None:
    exposed = _exposed(ctx)
    if exposed is None:
        ctx.skip("no EX dataset")
    assert exposed is not None
    if ds.name != "DM" or not ds.has("USUBJID", "ACTARMCD"):
        return
    treated = ds.df["USUBJID"].isin(exposed).to_numpy()
    no_arm = arm_code_in(ds.df["ACTARMCD"], NOT_TREATED_ARMS)
    ctx.flag(
        ds,
        treated & no_arm,
        "subject has EX records but ACTARMCD says not treated",
        variable="ACTARMCD",
    )
    ctx.flag(
        ds,
        ~treated & ~no_arm,
        "ACTARMCD is an arm but the subject has no EX records",
        variable="ACTARMCD",
    )


@check(
    "ID0006",
    ERROR,
    "identity",
    "ARMCD/ARM or ACTARMCD/ACTARM is not an arm of TA",
    scope=scope("SDTM", datasets=("DM",)),
    explanation="DM arm codes and names are the (ARMCD, ARM) pairs of the Trial Arms "
    "dataset, except null/SCRNFAIL/NOTASSGN/NOTTRT for subjects without an arm and "
    "UNPLAN for unplanned treatment (matched in any case: Scrnfail is SCRNFAIL).",
    reference="SDTMIG v3.4 §5.1 (DM), §7.2.1 (TA)",
)
def arms_in_ta(ctx: Context, ds: Dataset) -> None:
    ta = ctx.get("TA")
    if ta is None:
        ctx.skip("no TA dataset")
    assert ta is not None
    if ds.name != "DM" or not ta.has("ARMCD", "ARM"):
        return
    arms = set(zip(ta.df["ARMCD"], ta.df["ARM"], strict=True))
    for code, name in (("ARMCD", "ARM"), ("ACTARMCD", "ACTARM")):
        if not ds.has(code, name):
            continue
        pairs = pd.Series(list(zip(ds.df[code], ds.df[name], strict=True)), index=ds.df.index)
        special = arm_code_in(ds.df[code], SPECIAL_ARMS)
        bad = ~pairs.isin(arms).to_numpy() & ~special
        ctx.flag(ds, bad, f"({code}, {name}) is not an arm in TA", variable=code)


@check(
    "ID0007",
    WARNING,
    "identity",
    "RFXSTDTC/RFXENDTC differ from the first/last exposure in EX",
    scope=scope("SDTM", datasets=("DM",)),
    explanation="RFXSTDTC is the date of first exposure and RFXENDTC of last exposure to "
    "study treatment, i.e. the earliest EXSTDTC and the latest EXENDTC (compared by day).",
    reference="SDTMIG v3.4 §5.1 (DM)",
)
def rfx_vs_ex(ctx: Context, ds: Dataset) -> None:
    exposure = [ex for ex in ctx.domain("EX") if ex.has("USUBJID", "EXSTDTC")]
    if not exposure:
        ctx.skip("no EX dataset")
    if ds.name != "DM" or "USUBJID" not in ds.df.columns:
        return
    frames = []
    for ex in exposure:
        start = iso8601.to_sas_date(ex.df["EXSTDTC"], date_portion=True)
        end = (
            iso8601.to_sas_date(ex.df["EXENDTC"], date_portion=True)
            if "EXENDTC" in ex.df.columns
            else start
        )
        end = np.where(np.isnan(end), start, end)
        frames.append(
            pd.DataFrame({"USUBJID": ex.df["USUBJID"].astype(object), "st": start, "en": end})
        )
    days = pd.concat(frames).groupby("USUBJID").agg(first=("st", "min"), last=("en", "max"))
    for col, agg in (("RFXSTDTC", "first"), ("RFXENDTC", "last")):
        if col not in ds.df.columns:
            continue
        want = ctx.per_record(ds, days[agg])
        have = iso8601.to_sas_date(ds.df[col], date_portion=True)
        bad = ~np.isnan(want) & ~np.isnan(have) & (want != have)

        def ex_gives(rows: np.ndarray, want: np.ndarray = want) -> list[str]:
            days = iso8601.from_sas_date(pd.Series(want[rows], dtype=float))
            return [f"EX gives {day}" for day in days]

        ctx.flag(ds, bad, ex_gives, variable=col)


@check(
    "ID0008",
    ERROR,
    "identity",
    "STUDYID differs from the study's identifier",
    explanation="All datasets of a submission carry one STUDYID (DM's, or the most common "
    "one when there is no DM).",
)
def one_study(ctx: Context, ds: Dataset) -> None:
    if "STUDYID" not in ds.df.columns:
        return
    key = ("studyid",)
    if key not in ctx.cache:
        dm = ctx.get("DM")
        source = [dm] if dm is not None and dm.has("STUDYID") else list(ctx.datasets.values())
        counts: dict[str, int] = {}
        for d in source:
            if d.has("STUDYID"):
                for value, n in d.select(["STUDYID"])["STUDYID"].value_counts().items():
                    if value != "" and n:
                        counts[str(value)] = counts.get(str(value), 0) + int(n)
        ctx.cache[key] = max(sorted(counts), key=counts.__getitem__) if counts else None
    study = ctx.cache[key]
    if study is None:
        return
    column = ds.df["STUDYID"]
    ctx.flag(
        ds,
        (column != study).to_numpy() & ~blank(column),
        f"STUDYID is not {study!r}",
        variable="STUDYID",
    )


@check(
    "ID0009",
    ERROR,
    "identity",
    "DTHDTC is populated but DTHFL is not 'Y'",
    scope=scope("SDTM", datasets=("DM",)),
    explanation="DTHFL = 'Y' for every subject who died; a death date implies the flag "
    "(DTHFL may be 'Y' with an unknown DTHDTC).",
    reference="SDTMIG v3.4 §5.1 (DM)",
)
def death_flag(ctx: Context, ds: Dataset) -> None:
    if ds.name != "DM" or "DTHDTC" not in ds.df.columns:
        return
    flag = ds.df["DTHFL"] if "DTHFL" in ds.df.columns else pd.Series("", index=ds.df.index)
    bad = ~blank(ds.df["DTHDTC"]) & (flag != "Y").to_numpy(dtype=bool)
    ctx.flag(ds, bad, "DTHDTC is set but DTHFL is not 'Y'", variable="DTHFL", value=flag)
