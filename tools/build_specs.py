"""Build the project's standards files in ``specs/`` from the CDISC reference exports.

Usage (from the repository root)::

    python tools/build_specs.py --reference ../shared/reference --out specs

The reference folder (``../shared/reference``) is a development-time input only: this
script derives the subsets the project needs and writes them into ``specs/``, which is
committed, so that ``cdisc_mapper`` never reads the reference folder at run time.

Outputs (all UTF-8, ``\\n`` line endings, rows sorted, byte-identical on every run):

- ``sdtmig-3.4/datasets.csv``, ``sdtmig-3.4/variables.csv``: SDTMIG v3.4 metadata of
  every SDTMIG dataset (:data:`SDTM_DATASETS`), CDISC notes left out.
- ``adamig-1.3/datasets.csv``, ``adamig-1.3/variables.csv``: ADaMIG v1.3 structures
  and all ADSL and BDS variables (notes left out). The OCCDS structure row is
  hand-curated here (:data:`OCCDS_STRUCTURE`); its variables are in the hand-curated
  ``adamig-1.3/occds_variables.csv``, which this script does not write.
- ``ct/sdtm-ct-2025-03-28.csv``: every SDTM CT codelist referenced by the selected
  SDTMIG variables plus :data:`EXTRA_SDTM_CODELISTS`.
- ``ct/adam-ct-2025-09-26.csv``, ``ct/define-xml-ct-2025-09-26.csv``: complete.
- ``sdtm-1.8/class_variables.csv``: the SDTM v1.8 model's general observation class
  variables (Identifiers, Interventions, Events, Findings, Findings About, Timing) in
  model order, generic ``--`` names kept (see :func:`build_sdtm_model`).

Sponsor codelists (``sponsor/codelists.yaml``) and ``README.md`` are hand-written.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import openpyxl

#: Every dataset of SDTMIG v3.4 (its Datasets.csv; the build fails when one is missing),
#: so that the validator's structure checks cover any SDTM package, not only the domains
#: cdisc_mapper produces. SUPPQUAL is the SDTMIG name of the generic SUPP--.
# fmt: off
SDTM_DATASETS: tuple[str, ...] = (
    "AE", "AG", "BE", "BS", "CE", "CM", "CO", "CP", "CV", "DA", "DD", "DM", "DS", "DV",
    "EC", "EG", "EX", "FA", "FT", "GF", "HO", "IE", "IS", "LB", "MB", "MH", "MI", "MK",
    "ML", "MS", "NV", "OE", "OI", "PC", "PE", "PP", "PR", "QS", "RE", "RELREC", "RELSPEC",
    "RELSUB", "RP", "RS", "SC", "SE", "SM", "SR", "SS", "SU", "SUPPQUAL", "SV", "TA", "TD",
    "TE", "TI", "TM", "TR", "TS", "TU", "TV", "UR", "VS",
)
#: The domains cdisc_mapper itself produces: the CT definitions of the codelists their
#: variables cite are kept (cut to DEFINITION_MAX); those of codelists cited only by other
#: SDTMIG datasets are left empty (nothing reads them; it keeps the wheel small).
# fmt: off
PRODUCED_DATASETS: frozenset[str] = frozenset({
    "AE", "CM", "CO", "DM", "DS", "EX", "IE", "LB", "MH", "PR", "QS",
    "RE", "SE", "SUPPQUAL", "SV", "TA", "TE", "TI", "TS", "TV", "VS",
})
# fmt: on

#: SDTM CT codelists included even when no selected SDTMIG variable references them
#: (value-level and TS-parameter codelists that conformance checks look at), and a few
#: referenced ones listed again so that the build fails loudly if the IG stops citing them.
EXTRA_SDTM_CODELISTS: dict[str, str] = {
    # test codes / names and units (value level)
    "C71620": "UNIT: --ORRESU/--STRESU, --DOSU, TS DOSU",
    "C65047": "LBTESTCD",
    "C67154": "LBTEST",
    "C66741": "VSTESTCD",
    "C67153": "VSTEST",
    "C66770": "VSRESU",
    "C111106": "RETESTCD (FVC C111361, FVCPP C112381)",
    "C111107": "RETEST",
    "C66738": "TSPARMCD",
    "C67152": "TSPARM",
    # general
    "C99079": "EPOCH",
    "C124301": "MHEDTTYP (MHEVDTYP)",
    "C66789": "ND (--STAT)",
    "C66729": "ROUTE",
    "C66726": "FRM (dose form, TS DOSFRM)",
    "C71113": "FREQ (TS DOSFRQ)",
    "C66742": "NY",
    "C66731": "SEX",
    "C74457": "RACE",
    "C66790": "ETHNIC",
    "C66781": "AGEU",
    "C142179": "ARMNULRS",
    "C66727": "NCOMPLT",
    "C74558": "DSCAT",
    "C114118": "PROTMLST",
    "C66769": "AESEV",
    "C66768": "OUT",
    "C66767": "ACN",
    # TSVAL codelists of the TS parameters named in parentheses
    "C99077": "STYPE (TS STYPE)",
    "C66737": "TPHASE (TS TPHASE)",
    "C66735": "TBLIND (TS TBLIND)",
    "C66785": "TCNTRL (TS TCNTRL)",
    "C66736": "TINDTP (TS TINDTP)",
    "C66739": "TTYPE (TS TTYPE)",
    "C99076": "INTMODEL (TS INTMODEL)",
    "C99078": "INTTYPE (TS INTTYPE)",
    "C66732": "SEXPOP (TS SEXPOP)",
    "C160923": "SDTMVRS (TS SDTMVER)",
    "C160924": "SDTMIGRS (TS SDTIGVER)",
    "C160925": "CTAUGRS (TS CTAUG)",
    "C160926": "FDATSRS (TS FDATCHSP)",
    "C127257": "CONROL (TS CONROLE)",
    "C101848": "RSKASMT (TS PROTRSK)",
    "C187681": "CMSPSTAT (TS CMSPSTAT)",
    "C66788": "DICTNAM (TSVCDREF)",
}

SDTM_CT_DATE = "2025-03-28"
SDTM_CT_FILE = "ct/SDTM_Terminology_2025Q1.txt"
ADAM_CT_DATE = "2025-09-26"
ADAM_CT_FILE = "ct/ADaM_CT_2025-09-26.csv"
DEFINE_CT_DATE = "2025-09-26"
DEFINE_CT_FILE = "ct/Define-XML_CT_2025-09-26.csv"

SDTM_MODEL_FILE = "sdtm-1.8/sdtm_1_8.xlsx"
SDTM_MODEL_VERSION = "SDTM v1.8"
#: Output classes of ``sdtm-1.8/class_variables.csv``, in the order rows are written. The
#: model's "General Observations" table is split by role into Identifiers and Timing.
MODEL_CLASSES: tuple[str, ...] = (
    "Identifiers",
    "Interventions",
    "Events",
    "Findings",
    "Findings About",
    "Timing",
)
MODEL_COLUMNS = ("class", "order", "name", "label", "type", "role", "role_description", "format")

#: Definitions longer than this are cut (with "...") in the SDTM CT subset, to keep it small.
DEFINITION_MAX = 200

#: ADaMIG v1.3 data structure names as used in Variables.csv, by structure code.
ADAM_STRUCTURE_NAMES: dict[str, str] = {
    "Subject-Level Analysis Dataset": "ADSL",
    "Basic Data Structure": "BDS",
}
#: Which structure's variables a structure uses (TTE is a BDS subclass).
ADAM_VARIABLE_STRUCTURE: dict[str, str] = {"ADSL": "ADSL", "BDS": "BDS", "TTE": "BDS"}

#: OCCDS is not in the ADaMIG v1.3 reference export: hand-curated from ADaM OCCDS v1.1.
OCCDS_STRUCTURE: dict[str, str] = {
    "dataset": "OCCDS",
    "label": "Occurrence Data Structure",
    "class": "OCCURRENCE DATA STRUCTURE",
    "subclass": "",
    "structure": "One record per subject per record (occurrence) in the source SDTM domain",
    "variable_structure": "OCCDS",
    "source": "ADaM OCCDS v1.1 (hand-curated in tools/build_specs.py)",
}

CT_COLUMNS = (
    "codelist_code",
    "codelist_name",
    "codelist_short_name",
    "extensible",
    "term_code",
    "submission_value",
    "synonyms",
    "definition",
    "preferred_term",
)


class BuildError(Exception):
    """The reference files are not as expected."""


# ---------------------------------------------------------------------------- io


def read_rows(path: Path, *, delimiter: str = ",") -> list[dict[str, str]]:
    """Read a delimited file (UTF-8, optional BOM) into a list of dicts of stripped text."""
    if not path.is_file():
        raise BuildError(f"reference file not found: {path}")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
        reader = csv.DictReader(fh, delimiter=delimiter, quoting=quoting)
        return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in reader]


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    """Write ``rows`` under a header to ``path`` (``\\n`` endings); return the row count."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return count


def require(row: dict[str, str], *columns: str, where: str) -> None:
    """Raise :class:`BuildError` if ``row`` lacks one of ``columns``."""
    missing = [c for c in columns if c not in row]
    if missing:
        raise BuildError(f"{where}: missing column(s) {missing}; found {sorted(row)}")


# -------------------------------------------------------------------- text helpers


def squash(text: str) -> str:
    """Collapse runs of whitespace (including line breaks) to single spaces."""
    return re.sub(r"\s+", " ", text).strip()


def split_list(text: str) -> list[str]:
    """Split a ``;``-separated cell into stripped, non-empty items (order kept)."""
    return [item.strip() for item in text.split(";") if item.strip()]


def shorten(text: str, limit: int | None) -> str:
    """Squash ``text`` and cut it to ``limit`` characters, ending in ``...`` when cut."""
    text = squash(text)
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 3].rstrip() + "..."


# ---------------------------------------------------------------------- SDTMIG


def build_sdtmig(reference: Path, out: Path) -> tuple[set[str], set[str]]:
    """Write SDTMIG 3.4 datasets/variables; return the codelist codes they cite, and those
    cited by the :data:`PRODUCED_DATASETS`."""
    src = reference / "sdtmig-3.4"
    datasets = [r for r in read_rows(src / "Datasets.csv") if r["Dataset Name"] in SDTM_DATASETS]
    found = {r["Dataset Name"] for r in datasets}
    if found != set(SDTM_DATASETS):
        raise BuildError(f"SDTMIG datasets not found: {sorted(set(SDTM_DATASETS) - found)}")
    write_csv(
        out / "sdtmig-3.4" / "datasets.csv",
        ("dataset", "label", "class", "structure"),
        sorted(
            (r["Dataset Name"], r["Dataset Label"], r["Class"], squash(r["Structure"]))
            for r in datasets
        ),
    )

    rows: list[tuple[str, int, str, str, str, str, str, str, str, str]] = []
    codes: set[str] = set()
    produced: set[str] = set()
    for r in read_rows(src / "Variables.csv"):
        require(r, "Dataset Name", "Variable Order", "Core", "Role", where="SDTMIG Variables.csv")
        if r["Dataset Name"] not in SDTM_DATASETS:
            continue
        cl = split_list(r["CDISC CT Codelist Code(s)"])
        codes.update(cl)
        if r["Dataset Name"] in PRODUCED_DATASETS:
            produced.update(cl)
        if r["Type"] not in ("Char", "Num") or r["Core"] not in ("Req", "Exp", "Perm"):
            raise BuildError(f"SDTMIG {r['Dataset Name']}.{r['Variable Name']}: bad type/core")
        rows.append(
            (
                r["Dataset Name"],
                int(r["Variable Order"]),
                r["Variable Name"],
                r["Variable Label"],
                r["Type"],
                r["Core"],
                r["Role"],
                ";".join(cl),
                squash(r["Described Value Domain(s)"]),
                ";".join(split_list(r["Value List"])),
            )
        )
    rows.sort(key=lambda x: (x[0], x[1]))
    write_csv(
        out / "sdtmig-3.4" / "variables.csv",
        (
            "dataset",
            "order",
            "name",
            "label",
            "type",
            "core",
            "role",
            "codelist_codes",
            "described_value_domain",
            "value_list",
        ),
        ((d, str(o), *rest) for d, o, *rest in rows),
    )
    return codes, produced


# ---------------------------------------------------------------------- ADaMIG


def adam_in_ig_order(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Reference rows in ADaMIG table order.

    The reference export lists the BDS "Identifier" variable set (STUDYID, USUBJID,
    SUBJID, SITEID, ASEQ) last; ADaMIG v1.3 section 3.3.1 lists it first. Moving it is
    the only reordering (stable otherwise).
    """

    def key(item: tuple[int, dict[str, str]]) -> tuple[bool, int]:
        index, row = item
        bds = row.get("Data Structure Name") == "Basic Data Structure"
        return (not (bds and row.get("Variable Set") == "Identifier"), index)

    return [row for _, row in sorted(enumerate(rows), key=key)]


def build_adamig(reference: Path, out: Path) -> set[str]:
    """Write ADaMIG 1.3 structures and ADSL/BDS variables; return the codelist codes cited."""
    src = reference / "adamig-1.3"
    structures = []
    for r in read_rows(src / "DataStructures.csv"):
        name = r["Data Structure Name"]
        if name not in ADAM_VARIABLE_STRUCTURE:
            raise BuildError(f"ADaMIG structure {name!r} has no variable mapping in this script")
        structures.append(
            {
                "dataset": name,
                "label": r["Data Structure Description"],
                "class": r["Class"],
                "subclass": r["Subclass"],
                "structure": squash(r["CDISC Notes"]),
                "variable_structure": ADAM_VARIABLE_STRUCTURE[name],
                "source": "ADaMIG v1.3",
            }
        )
    structures.append(dict(OCCDS_STRUCTURE))
    columns = ("dataset", "label", "class", "subclass", "structure", "variable_structure", "source")
    write_csv(
        out / "adamig-1.3" / "datasets.csv",
        columns,
        sorted(tuple(s[c] for c in columns) for s in structures),
    )

    rows: list[tuple[str, int, str, str, str, str, str, str, str]] = []
    order: dict[str, int] = {}
    codes: set[str] = set()
    for r in adam_in_ig_order(read_rows(src / "Variables.csv")):
        require(r, "Data Structure Name", "Variable Set", "Core", where="ADaMIG Variables.csv")
        structure = ADAM_STRUCTURE_NAMES.get(r["Data Structure Name"])
        if structure is None:
            raise BuildError(f"unknown ADaMIG data structure {r['Data Structure Name']!r}")
        if r["Type"] not in ("Char", "Num") or r["Core"] not in ("Req", "Cond", "Perm"):
            raise BuildError(f"ADaMIG {structure}.{r['Variable Name']}: bad type/core")
        order[structure] = order.get(structure, 0) + 1
        cl = split_list(r["CDISC CT Codelist Code(s)"])
        codes.update(cl)
        rows.append(
            (
                structure,
                order[structure],
                r["Variable Name"],
                r["Variable Label"],
                r["Type"],
                r["Core"],
                r["Variable Set"],
                ";".join(cl),
                ";".join(split_list(r["Value List Value"])),
            )
        )
    rows.sort(key=lambda x: (x[0], x[1]))
    write_csv(
        out / "adamig-1.3" / "variables.csv",
        (
            "dataset",
            "order",
            "name",
            "label",
            "type",
            "core",
            "variable_set",
            "codelist_codes",
            "value_list",
        ),
        ((d, str(o), *rest) for d, o, *rest in rows),
    )
    return codes


# -------------------------------------------------------------------------- CT


def ct_rows(
    rows: list[dict[str, str]],
    keep: set[str] | None,
    definition_max: int | None,
    *,
    with_definition: set[str] | None = None,
) -> list[tuple[str, ...]]:
    """Turn NCI EVS CT rows (headers have an empty Codelist Code) into flat term rows.

    ``keep`` selects codelists by code (None keeps all); ``with_definition`` those whose
    term definitions are written (None: all; the others get an empty definition). Raises
    :class:`BuildError` when a wanted codelist is missing or a term names an unknown
    codelist.
    """
    headers: dict[str, dict[str, str]] = {}
    for r in rows:
        require(
            r,
            "Code",
            "Codelist Code",
            "Codelist Extensible (Yes/No)",
            "Codelist Name",
            "CDISC Submission Value",
            "CDISC Synonym(s)",
            "CDISC Definition",
            "NCI Preferred Term",
            where="CT file",
        )
        if not r["Codelist Code"]:
            headers[r["Code"]] = r
    if keep is not None and (missing := keep - set(headers)):
        raise BuildError(f"codelists not in the CT package: {sorted(missing)}")
    out: list[tuple[str, ...]] = []
    for r in rows:
        code = r["Codelist Code"]
        if not code or (keep is not None and code not in keep):
            continue
        head = headers.get(code)
        if head is None:
            raise BuildError(f"term {r['Code']} names unknown codelist {code}")
        if head["Codelist Extensible (Yes/No)"] not in ("Yes", "No"):
            raise BuildError(f"codelist {code}: extensible is not Yes/No")
        out.append(
            (
                code,
                head["Codelist Name"],
                head["CDISC Submission Value"],
                head["Codelist Extensible (Yes/No)"],
                r["Code"],
                r["CDISC Submission Value"],
                ";".join(split_list(r["CDISC Synonym(s)"])),
                shorten(r["CDISC Definition"], definition_max)
                if with_definition is None or code in with_definition
                else "",
                squash(r["NCI Preferred Term"]),
            )
        )
    out.sort(key=lambda x: (x[2], x[0], x[5], x[4]))
    return out


#: Codelists SDTMIG v3.4 cites that the CT package no longer has (retired); their
#: variables keep the code, and no term list is written for them.
RETIRED_SDTM_CODELISTS: dict[str, str] = {
    "C85495": "MSRESCAT (Microbiology Susceptibility result category), not in SDTM CT 2025-03-28",
}


def build_ct(reference: Path, out: Path, sdtm_codes: set[str], produced: set[str]) -> None:
    """Write the SDTM CT subset and the complete ADaM and Define-XML CT files."""
    wanted = (sdtm_codes | set(EXTRA_SDTM_CODELISTS)) - set(RETIRED_SDTM_CODELISTS)
    sdtm = read_rows(reference / SDTM_CT_FILE, delimiter="\t")
    write_csv(
        out / "ct" / f"sdtm-ct-{SDTM_CT_DATE}.csv",
        CT_COLUMNS,
        ct_rows(sdtm, wanted, DEFINITION_MAX, with_definition=produced | set(EXTRA_SDTM_CODELISTS)),
    )
    for file, date, stem in (
        (ADAM_CT_FILE, ADAM_CT_DATE, "adam-ct"),
        (DEFINE_CT_FILE, DEFINE_CT_DATE, "define-xml-ct"),
    ):
        rows = read_rows(reference / file)
        stamps = {r.get("Standard and Date", "") for r in rows}
        if not all(s.endswith(date) for s in stamps):
            raise BuildError(f"{file}: expected package date {date}, found {sorted(stamps)}")
        write_csv(out / "ct" / f"{stem}-{date}.csv", CT_COLUMNS, ct_rows(rows, None, None))


# ------------------------------------------------------------------- SDTM model


def read_model_variables(path: Path) -> list[dict[str, str]]:
    """Rows of the ``Variables`` sheet of the SDTM model workbook as dicts of stripped text."""
    if not path.is_file():
        raise BuildError(f"reference file not found: {path}")
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if "Variables" not in workbook.sheetnames:
            raise BuildError(f"{path}: no 'Variables' sheet; found {workbook.sheetnames}")
        rows = workbook["Variables"].iter_rows(values_only=True)
        header = [squash(str(c or "")) for c in next(rows, ())]
        out = []
        for values in rows:
            if all(v is None for v in values):
                continue
            if len(values) != len(header):
                raise BuildError(f"{path}: row of {len(values)} cells under {len(header)} headers")
            out.append(
                {
                    h: squash(str(v)) if v is not None else ""
                    for h, v in zip(header, values, strict=True)
                }
            )
        return out
    finally:
        workbook.close()


def build_sdtm_model(reference: Path, out: Path) -> None:
    """Write the SDTM v1.8 general observation class variables in model order.

    The workbook's ``General Observations`` table (identifiers then timing variables, one
    numbering) becomes the classes ``Identifiers`` and ``Timing``; ``Interventions``,
    ``Events``, ``Findings`` and ``Findings About`` are copied. ``order`` is the model's
    "Variable Order" within its workbook table (so Timing starts after the identifiers'
    numbers); names and labels keep the ``--`` domain-prefix placeholder; ``format`` is the
    model's "Controlled Terms, Codelist or Format" cell (e.g. ``ISO 8601``). Special-purpose,
    trial design, relationship and other dataset-specific tables are left out: their
    domains take their variables from the IG alone.
    """
    rows = read_model_variables(reference / SDTM_MODEL_FILE)
    found: dict[str, list[tuple[int, str, str, str, str, str, str]]] = {}
    for r in rows:
        require(
            r,
            "Version",
            "Variable Order",
            "Class",
            "Dataset Name",
            "Variable Name",
            "Variable Label",
            "Type",
            "Controlled Terms, Codelist or Format",
            "Role",
            "Role Description",
            where="SDTM model Variables sheet",
        )
        where = f"SDTM model {r['Class']}.{r['Variable Name']}"
        if r["Version"] != SDTM_MODEL_VERSION:
            raise BuildError(f"{where}: version {r['Version']!r}, expected {SDTM_MODEL_VERSION}")
        model_class = r["Class"]
        if r["Dataset Name"] or model_class == "Associated Persons":
            continue  # dataset-specific tables (DM, TS, SUPPQUAL, ...); AP identifiers
        if model_class == "General Observations":
            by_role = {"Identifier": "Identifiers", "Timing": "Timing"}
            if r["Role"] not in by_role:
                raise BuildError(f"{where}: role {r['Role']!r} is neither Identifier nor Timing")
            model_class = by_role[r["Role"]]
        if model_class not in MODEL_CLASSES:
            raise BuildError(f"{where}: unexpected general observation class {model_class!r}")
        if not re.fullmatch(r"(--)?[A-Z][A-Z0-9]*", r["Variable Name"]):
            raise BuildError(f"{where}: unexpected variable name")
        if r["Type"] not in ("Char", "Num"):
            raise BuildError(f"{where}: type {r['Type']!r} is not Char or Num")
        try:
            order = int(r["Variable Order"])
        except ValueError:
            raise BuildError(f"{where}: order {r['Variable Order']!r} is not an integer") from None
        found.setdefault(model_class, []).append(
            (
                order,
                r["Variable Name"],
                r["Variable Label"],
                r["Type"],
                r["Role"],
                r["Role Description"],
                r["Controlled Terms, Codelist or Format"],
            )
        )
    for model_class in ("Identifiers", "Interventions", "Events", "Findings", "Timing"):
        if model_class not in found:
            raise BuildError(f"SDTM model: no {model_class} variables")
    for model_class, variables in found.items():
        variables.sort()
        orders = [v[0] for v in variables]
        names = [v[1] for v in variables]
        if len(set(orders)) != len(orders) or len(set(names)) != len(names):
            raise BuildError(f"SDTM model {model_class}: repeated variable order or name")
    if max(v[0] for v in found["Identifiers"]) > min(v[0] for v in found["Timing"]):
        raise BuildError("SDTM model: General Observations identifiers and timing interleave")
    write_csv(
        out / "sdtm-1.8" / "class_variables.csv",
        MODEL_COLUMNS,
        (
            (model_class, str(order), *rest)
            for model_class in MODEL_CLASSES
            for order, *rest in found.get(model_class, [])
        ),
    )


# ------------------------------------------------------------------------ main


def build(reference: Path, out: Path) -> None:
    """Derive every generated file in ``out`` from the reference folder."""
    sdtm_codes, produced = build_sdtmig(reference, out)
    adam_codes = build_adamig(reference, out)
    build_ct(reference, out, sdtm_codes, produced)
    build_sdtm_model(reference, out)
    adam_ct = {r[0] for r in ct_rows(read_rows(reference / ADAM_CT_FILE), None, None)}
    unresolved = adam_codes - adam_ct - sdtm_codes - set(EXTRA_SDTM_CODELISTS)
    if unresolved:
        raise BuildError(f"ADaMIG codelists in neither SDTM nor ADaM CT output: {unresolved}")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reference",
        type=Path,
        required=True,
        help="folder with the CDISC reference exports (../shared/reference)",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (specs)")
    args = parser.parse_args(argv)
    try:
        build(args.reference, args.out)
    except BuildError as exc:
        print(f"build_specs: {exc}", file=sys.stderr)
        return 1
    print(f"build_specs: wrote standards files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
