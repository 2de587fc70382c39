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
