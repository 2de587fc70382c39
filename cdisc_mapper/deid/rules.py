"""The default rule of each variable, by class, after the PHUSE De-Identification
Standard for CDISC SDTM 3.2 (PhUSE De-Identification Working Group, 2015; the rules
spreadsheet ``PHUSE_STDM_redaction.xls``), extended to the same variables in ADaM; a
spec's ``variables:`` overrides any of them.

The standard gives each SDTMIG variable a primary rule among "Recode subject ID",
"Recode ID variable", "Offset", "Derive Age", "Elevate to continent", "Remove", "Remove
dataset", "Keep", "No further de-identification" and "Review and only redact values with
personal information" (the rule names as the spreadsheet gives them; the spreadsheet is
for PHUSE members, so the classes below follow those rules by variable class, and each
reason names the rule). The classes and their rules:

* subject identifiers (USUBJID, SUBJID, RSUBJID, POOLID; SUPP-- and RELREC IDVARVAL when
  IDVAR names one): direct identifiers, **recoded** consistently in every dataset;
* sites and investigators (SITEID, INVID): quasi-identifiers, **masked** by codes;
  investigator names (INVNAM): direct identifiers, **removed**;
* date of birth (BRTHDTC, BRTHDT): **removed** (AGE stays as the usable fact);
* every other date (--DTC, --STDTC, --ENDTC, RF*DTC, DTHDTC; ADaM numeric --DT and
  --DTM): **offset** by the subject's random number of days, keeping study days (or
  removed when ``dates.method`` is ``remove``); times of day (--TM) are kept;
* age (AGE): ages above 89 **capped** at 90, age groups holding only such ages merged
  (HIPAA Safe Harbor, which the standard follows);
* verbatim terms (--TERM of the events classes): free text a site typed, **replaced**
  by the coded term (--DECOD) of the same record, or removed when there is none;
* other free text (COVAL, --INDC, SVUPDES): **removed**;
* everything else is **kept** (coded values, results, study days, analysis values).

Not applied by default: "Elevate to continent" for COUNTRY (a single-country study
gains nothing from it, and a continent is not a CDISC COUNTRY value); declare COUNTRY
under ``group_rare`` to group rare countries, or ``variables: {COUNTRY: remove}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdisc_mapper.deid.spec import Action, DeidSpec
from cdisc_mapper.xpt import XptVariable

SUBJECT_IDS = frozenset({"USUBJID", "SUBJID", "RSUBJID", "POOLID"})
SITE_IDS = frozenset({"SITEID", "INVID"})
DIRECT_NAMES = frozenset({"INVNAM"})
BIRTH_DATES = frozenset({"BRTHDTC", "BRTHDT", "BRTHDTM"})
FREE_TEXT = frozenset({"SVUPDES", "CMINDC"})
TRIAL_DESIGN = frozenset({"TS", "TA", "TE", "TV", "TI", "TD", "TM"})
AGE_GROUP = re.compile(r"^AGEGR[0-9]+N?$")
_NUMERIC_DATE = re.compile(r"^[A-Z0-9]*(DT|DTM)$")


@dataclass(frozen=True)
class Rule:
    """What happens to one variable, and why (cited in the report and define.xml)."""

    action: Action
    reason: str
    source: str | None = None


def _date_rule(spec: DeidSpec, what: str) -> Rule:
    if spec.dates.method == "remove":
        return Rule("remove", f"{what}: dates removed (spec dates.method)")
    return Rule("offset", f"{what}: moved by the subject's random offset; study days kept")


def default_rule(dataset: str, var: XptVariable, columns: frozenset[str], spec: DeidSpec) -> Rule:
    """The rule of ``dataset.var`` (the spec's override first)."""
    given = spec.override(dataset, var.name)
    if given is not None:
        return Rule(given.action, "set in the de-identification spec", given.source)
    return _class_rule(dataset, var, columns, spec)


def _class_rule(dataset: str, var: XptVariable, columns: frozenset[str], spec: DeidSpec) -> Rule:
    name = var.name
    if name in SUBJECT_IDS:
        return Rule("recode", "direct identifier (PHUSE rule: Recode subject ID)")
    if name in SITE_IDS:
        return Rule("mask", "quasi-identifier (PHUSE rule: Recode ID variable)")
    if name in DIRECT_NAMES:
        return Rule("remove", "direct identifier (PHUSE rule: Remove)")
    if name in BIRTH_DATES:
        return Rule("remove", "date of birth (PHUSE rule: Remove; AGE kept)")
    if var.type == "Char" and name.endswith("DTC") and dataset not in TRIAL_DESIGN:
        return _date_rule(spec, "date (PHUSE rule: Offset)")
    if var.type == "Num" and _NUMERIC_DATE.match(name) and not name.endswith("DY"):
        return _date_rule(spec, "ADaM numeric date (PHUSE rule: Offset, applied to ADaM)")
    if name == "AGE" or AGE_GROUP.match(name):
        return Rule("cap", "quasi-identifier (PHUSE rule: Derive Age; above 89 set to 90)")
    return _text_rule(dataset, name, columns)


def _text_rule(dataset: str, name: str, columns: frozenset[str]) -> Rule:
    if name.endswith("TERM") and len(name) == 6 and dataset not in TRIAL_DESIGN:
        decod = name[:2] + "DECOD"
        if decod in columns:
            return Rule(
                "replace",
                f"verbatim free text (PHUSE rule: Review and only redact; replaced by {decod})",
                decod,
            )
        return Rule(
            "remove",
            "verbatim free text (PHUSE rule: Review and only redact; no coded term: removed)",
        )
    if name in FREE_TEXT or name.startswith("COVAL"):
        return Rule("remove", "free text (PHUSE rule: Remove)")
    return Rule("keep", "")
