"""Tiny SDTM packages written record by record, for validation tests that need a few
records rather than the whole demo: each column is Char when it holds text, else Num."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cdisc_mapper.validate import Finding, ValidationReport, validate_package
from cdisc_mapper.xpt import XptVariable, write_xpt


def write_dataset(
    folder: Path, name: str, records: dict[str, list], *, label: str = "", labels=None
) -> Path:
    """Write ``records`` (column -> values) as ``folder/<name>.xpt`` and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(records)
    labels = labels or {}
    variables = []
    for col in df.columns:
        text = df[col].map(lambda v: isinstance(v, str)).any()
        if text:
            df[col] = df[col].map(lambda v: "" if v is None else str(v))
        variables.append(XptVariable(col, labels.get(col, col.title()), "Char" if text else "Num"))
    path = folder / f"{name.lower()}.xpt"
    write_xpt(df, path, dataset=name, label=label or name.title(), variables=variables)
    return path


def findings(root: Path, check_id: str, **kwargs) -> tuple[ValidationReport, list[Finding]]:
    """Run one check over the package and return the report and that check's findings."""
    report = validate_package(root, checks=[check_id], **kwargs)
    assert report.count("VX0001") == 0, report.by_check("VX0001")
    return report, report.by_check(check_id)


def se_records(subject: str = "S-1") -> dict[str, list]:
    """SE of one subject: SCREENING 2020-01-01..2020-01-10, TREATMENT 2020-01-11..02-28."""
    return {
        "STUDYID": ["ST", "ST"],
        "DOMAIN": ["SE", "SE"],
        "USUBJID": [subject, subject],
        "SESEQ": [1.0, 2.0],
        "ETCD": ["SCRN", "TRT"],
        "ELEMENT": ["Screening", "Treatment"],
        "SESTDTC": ["2020-01-01", "2020-01-11"],
        "SEENDTC": ["2020-01-10", "2020-02-28"],
        "EPOCH": ["SCREENING", "TREATMENT"],
    }


def days_only_package(tmp_path: Path, *, dated: bool, outcomes: list[str], ends: list) -> Path:
    """Relative-day data of subject S-1: DM without reference dates, EX (EXSTDY 1) and AE
    records (AESTDY 6, AEOUT ``outcomes``, AEENDY ``ends``, no AEENDTC) with study days;
    with ``dated`` the EX record has a date (EXSTDTC) as well."""
    sdtm = tmp_path / "pkg" / "sdtm"
    ids = ["S-1"] * len(outcomes)
    write_dataset(
        sdtm,
        "DM",
        {"STUDYID": ["ST"], "DOMAIN": ["DM"], "USUBJID": ["S-1"], "RFSTDTC": [""],
         "RFXSTDTC": [""]},
    )  # fmt: skip
    write_dataset(
        sdtm,
        "EX",
        {"STUDYID": ["ST"], "DOMAIN": ["EX"], "USUBJID": ["S-1"], "EXSEQ": [1.0],
         "EXTRT": ["ACTIVE"], "EXSTDTC": ["2020-01-01" if dated else ""], "EXSTDY": [1.0]},
    )  # fmt: skip
    write_dataset(
        sdtm,
        "AE",
        {"STUDYID": ["ST"] * len(ids), "DOMAIN": ["AE"] * len(ids), "USUBJID": ids,
         "AESEQ": [float(i + 1) for i in range(len(ids))], "AETERM": ["HEADACHE"] * len(ids),
         "AEOUT": outcomes, "AESTDY": [6.0] * len(ids), "AEENDTC": [""] * len(ids),
         "AEENDY": ends},
    )  # fmt: skip
    return sdtm.parent
