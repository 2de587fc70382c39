"""Compare the CDISC CORE engine's report with ours on one SDTM package (not a test).

Usage::

    /work/shared/tools/core/run-core PKG/sdtm --define PKG/sdtm/define.xml --out core.json
    python benchmarks/compare_core.py --core core.json                 # validates the pilot
    python benchmarks/compare_core.py --core core.json --ours reports/validation.json

Reads both reports (nothing is hard-coded but which of our checks verify what a CORE rule
verifies) and prints, per CORE rule that reported issues (an "issue category"), CORE's
count, the datasets, our checks that verify the same thing and what they found on those
datasets: ``found``, ``missed`` (we have a check but it found nothing there) or ``not
covered`` (no check of ours). Then our checks with findings that no CORE rule with issues
matches (found by us only; ``CORE passed`` when the matching CORE rule ran and found none).

A check of ours matches a CORE rule when its ``reference`` names the CORE ID
(``CORE-000356``) or one of the rule's CDISC or FDA rule IDs (``CG0014``, ``FB3102``), or
when :data:`EQUIVALENT` pairs them (checks whose reference cites the IG section only).
Without ``--ours`` the script validates ``--package`` (default: the CDISC pilot's SDTM
with its define.xml, WINDOWS-1252) itself.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PILOT_SDTM = ROOT.parent / "shared" / "reference" / "cdisc-pilot-msg2" / "sdtm"
RULE_ID = re.compile(r"\b(?:CORE-\d{6}|CG\d{4}|FB\d{4}|TIG\d{4}|SEND\d+)\b")

#: CORE rule -> our checks verifying the same rule, for checks whose ``reference`` does
#: not (yet) cite a CORE/CDISC rule ID. By meaning, from both rules' texts.
EQUIVALENT: dict[str, tuple[str, ...]] = {
    "CORE-000356": ("SD0002",),  # CG0014 Required variable null
    "CORE-000334": ("SD0003",),  # CG0016 Expected variable missing
    "CORE-001082": ("SD0004",),  # CG0012 variable type differs from the IG
    "CORE-000550": ("SD0013",),  # CG0013 variable not allowed for the class
    "CORE-000238": ("ID0007",),  # CG0147 RFXENDTC vs last EX date
}


def ours_report(args: argparse.Namespace) -> dict[str, Any]:
    """Our validation.json as data: read, or made by validating ``args.package``."""
    if args.ours is not None:
        data: dict[str, Any] = json.loads(Path(args.ours).read_text(encoding="utf-8"))
        return data
    from cdisc_mapper.validate import report_dict, validate_package

    define = args.package / "define.xml"
    report = validate_package(
        args.package, define=define if define.is_file() else None, encoding=args.encoding
    )
    return report_dict(report)


def matches(core_rule: dict[str, Any], checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Our checks that verify what ``core_rule`` verifies (see the module docstring)."""
    ids = {core_rule["core_id"], *core_rule["cdisc_rule_ids"], *core_rule["fda_rule_ids"]}
    paired = set(EQUIVALENT.get(core_rule["core_id"], ()))
    return [
        c
        for c in checks
        if c["id"] in paired or ids & set(RULE_ID.findall(c.get("reference") or ""))
    ]


def found_on(check: dict[str, Any], datasets: set[str]) -> int:
    """Findings of one of our checks on these datasets (all of them when none named)."""
    by_dataset: dict[str, int] = check.get("findings_by_dataset") or {}
    if not datasets:
        return int(check["findings"])
    return sum(n for name, n in by_dataset.items() if name in datasets)


def compare(core: dict[str, Any], ours: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per CORE rule with issues: counts both sides and the verdict."""
    rows = []
    for rule in core["rules"]:
        if not rule.get("issues"):
            continue
        datasets = {d for d, status in rule["datasets"].items() if status == "ISSUE REPORTED"}
        mine = matches(rule, ours["checks"])
        ours_count = sum(found_on(c, datasets) for c in mine)
        verdict = "not covered" if not mine else ("found" if ours_count else "missed")
        rows.append(
            {
                "core": rule["core_id"],
                "ids": ", ".join(rule["cdisc_rule_ids"] + rule["fda_rule_ids"]),
                "message": rule["message"],
                "datasets": ", ".join(sorted(datasets)),
                "core_count": rule["issues"],
                "ours": ", ".join(c["id"] for c in mine),
                "ours_count": ours_count,
                "verdict": verdict,
            }
        )
    return rows


def ours_only(core: dict[str, Any], ours: dict[str, Any]) -> list[dict[str, Any]]:
    """Our checks with findings that no CORE rule with issues matches."""
    with_issues = [r for r in core["rules"] if r.get("issues")]
    covered = {c["id"] for r in with_issues for c in matches(r, ours["checks"])}
    rows = []
    for check in ours["checks"]:
        if not check["findings"] or check["id"] in covered:
            continue
        passed = [r["core_id"] for r in core["rules"] if check in matches(r, [check])]
        rows.append(
            {
                "ours": check["id"],
                "message": check["description"],
                "ours_count": check["findings"],
                "core": ", ".join(passed) + " (CORE passed)" if passed else "no CORE rule",
            }
        )
    return rows


def markdown(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(v).replace("|", "/") for v in row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--core", type=Path, required=True, help="run-core's report JSON")
    parser.add_argument("--ours", type=Path, help="our validation.json (else validate)")
    parser.add_argument("--package", type=Path, default=PILOT_SDTM)
    parser.add_argument("--encoding", default="WINDOWS-1252")
    args = parser.parse_args()
    core = json.loads(args.core.read_text(encoding="utf-8"))
    ours = ours_report(args)
    rows = compare(core, ours)
    print(f"CORE: {core.get('summary_line', '')}")
    print(
        f"ours: {ours['summary']['error']} errors, {ours['summary']['warning']} warnings, "
        f"{ours['summary']['info']} notes\n"
    )
    print(
        markdown(
            [
                "CORE rule",
                "CDISC/FDA IDs",
                "CORE message",
                "datasets",
                "CORE",
                "our checks",
                "ours",
                "verdict",
            ],
            [
                [
                    r["core"],
                    r["ids"],
                    r["message"],
                    r["datasets"],
                    r["core_count"],
                    r["ours"],
                    r["ours_count"],
                    r["verdict"],
                ]
                for r in rows
            ],
        )
    )
    verdicts = [r["verdict"] for r in rows]
    print(
        f"\n{len(rows)} CORE issue categories: {verdicts.count('found')} found by ours too, "
        f"{verdicts.count('missed')} covered but missed, {verdicts.count('not covered')} "
        "not covered\n"
    )
    only = ours_only(core, ours)
    print(
        markdown(
            ["our check", "description", "ours", "CORE"],
            [[r["ours"], r["message"], r["ours_count"], r["core"]] for r in only],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
