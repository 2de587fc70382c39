"""Structure checks (SD): files, variables, types, lengths, order, names and labels."""

from __future__ import annotations

import bisect
import re

from cdisc_mapper.standards import VariableMeta
from cdisc_mapper.validate.context import Context
from cdisc_mapper.validate.model import ERROR, INFO, WARNING, scope
from cdisc_mapper.validate.package import RELATIONSHIP_DATASETS, Dataset
from cdisc_mapper.validate.registry import check
from cdisc_mapper.xpt import metadata_problems

_SDTM_NAME = re.compile(r"^(SUPP)?[A-Z]{2}[A-Z0-9]{0,2}$")
_ADAM_NAME = re.compile(r"^AD[A-Z0-9]{1,6}$")
_CODE_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def ig_variables(ctx: Context, ds: Dataset) -> list[VariableMeta]:
    """The implementation guide's variables for ``ds`` (empty when it has none)."""
    if ds.ig_name is None:
        return []
    return ctx.standard_for(ds).variables(ds.ig_name)


def _present(ctx: Context, ds: Dataset, meta: VariableMeta) -> bool:
    if meta.name in ds.df.columns:
        return True
    if meta.name.startswith("*") or any(c.islower() for c in meta.name):
        standard = ctx.standard_for(ds)
        return any(
            (found := ds.ig_variable(standard, col)) is not None and found.template == meta.name
            for col in ds.columns
        )
    return False


@check(
    "SD0001",
    ERROR,
    "structure",
    "Required variable is missing from the dataset",
    explanation="SDTMIG/ADaMIG core 'Req' variables must be present in every dataset of "
    "the domain or data structure. For ADaM templates (TRTxxP) any numbered variable counts.",
    reference="SDTMIG v3.4 §4.1.5; ADaMIG v1.3 §3",
)
def required_present(ctx: Context, ds: Dataset) -> None:
    for meta in ig_variables(ctx, ds):
        if meta.core == "Req" and not _present(ctx, ds, meta):
            ctx.note(
                f"required variable {meta.name} ({meta.label}) is missing",
                dataset=ds.name,
                variable=meta.name,
            )


@check(
    "SD0002",
    ERROR,
    "structure",
    "Required variable has a null value",
    explanation="'Req' variables must be populated in every record (SDTMIG §4.1.5: "
    "'Required: must not be null'); for ADaM likewise, except Y/null flags (TRTEMFL) "
    "whose null is a value.",
    reference="SDTMIG v3.4 §4.1.5",
)
def required_not_null(ctx: Context, ds: Dataset) -> None:
    standard = ctx.standard_for(ds)
    for col in ds.columns:
        meta = ds.ig_variable(standard, col)
        if meta is None or meta.core != "Req":
            continue
        if ds.standard == "ADaM" and meta.value_list == ("Y",):
            continue  # a Y/null flag: ADaM 'Req' means present, and null is a value
        ctx.flag(
            ds, ctx.blank(ds, col), f"required variable {col} is null", variable=col, value=None
        )


@check(
    "SD0003",
    WARNING,
    "structure",
    "Expected variable is missing from the dataset",
    scope=scope("SDTM"),
    explanation="'Exp' variables must be included even when not collected (values then "
    "null); a missing Expected variable is a conformance warning.",
    reference="SDTMIG v3.4 §4.1.5",
)
def expected_present(ctx: Context, ds: Dataset) -> None:
    for meta in ig_variables(ctx, ds):
        if meta.core == "Exp" and meta.name not in ds.df.columns:
            ctx.note(
                f"expected variable {meta.name} ({meta.label}) is missing",
                dataset=ds.name,
                variable=meta.name,
            )


@check(
    "SD0004",
    ERROR,
    "structure",
    "Variable type differs from the standard (Char/Num)",
    explanation="The implementation guide fixes each variable's type; e.g. --SEQ and "
    "--DY are numeric, --DTC character; ADaM *DT numeric.",
)
def variable_type(ctx: Context, ds: Dataset) -> None:
    standard = ctx.standard_for(ds)
    for var in ds.meta.variables:
        meta = ds.ig_variable(standard, var.name)
        if meta is not None and meta.type != var.type:
            ctx.note(
                f"{var.name} is {var.type} but {standard.name} {standard.version} says {meta.type}",
                dataset=ds.name,
                variable=var.name,
                value=var.type,
            )


@check(
    "SD0005",
    WARNING,
    "structure",
    "Variable label differs from the SDTMIG label",
    scope=scope("SDTM"),
    explanation="SDTMIG variable labels should be used as published (case-sensitive).",
    reference="SDTMIG v3.4 §2.2",
)
def variable_label(ctx: Context, ds: Dataset) -> None:
    for var in ds.meta.variables:
        meta = ds.ig_variable(ctx.sdtmig, var.name)
        if meta is None or var.label.strip() == meta.label:
            continue
        ctx.note(
            f"label {var.label!r} differs from SDTMIG {meta.label!r}",
            dataset=ds.name,
            variable=var.name,
            value=var.label,
        )


def _max_bytes(ds: Dataset, name: str) -> int:
    values = [v for v in ds.uniques(name) if isinstance(v, str)]
    if not values:
        return 0
    if "".join(values).isascii():  # one byte per character
        return max(map(len, values))
    return max(len(v.encode("utf-8")) for v in values)


@check(
    "SD0006",
    WARNING,
    "structure",
    "Character variable length is longer than its longest value",
    explanation="FDA Technical Conformance Guide §4.1.5.2: the allotted length of a "
    "character variable should be the longest value in the data (oversized lengths "
    "inflate files). Length 1 for an all-null variable is fine.",
    reference="FDA Study Data Technical Conformance Guide §4.1.5.2",
)
def char_length(ctx: Context, ds: Dataset) -> None:
    for var in ds.meta.variables:
        if var.type != "Char" or var.length is None or ds.n == 0:
            continue
        longest = _max_bytes(ds, var.name)
        if var.length > max(longest, 1):
            ctx.note(
                f"length {var.length} but the longest value has {longest} bytes",
                dataset=ds.name,
                variable=var.name,
                value=var.length,
            )


def _longest_increasing(orders: list[int]) -> set[int]:
    """Indices of one longest strictly increasing subsequence of ``orders``."""
    tails: list[int] = []
    tails_idx: list[int] = []
    prev = [-1] * len(orders)
    for i, value in enumerate(orders):
        pos = bisect.bisect_left(tails, value)
        if pos == len(tails):
            tails.append(value)
            tails_idx.append(i)
        else:
            tails[pos] = value
            tails_idx[pos] = i
        prev[i] = tails_idx[pos - 1] if pos else -1
    keep: set[int] = set()
    i = tails_idx[-1] if tails_idx else -1
    while i >= 0:
        keep.add(i)
        i = prev[i]
    return keep


@check(
    "SD0007",
    WARNING,
    "structure",
    "Variable order differs from the SDTMIG order",
    scope=scope("SDTM"),
    explanation="Variables should appear in the order of the domain specification "
    "(SDTMIG §4.1.4). Listed are the variables that break the order; variables not in "
    "the IG are ignored.",
    reference="SDTMIG v3.4 §4.1.4",
)
def variable_order(ctx: Context, ds: Dataset) -> None:
    standard = ctx.sdtmig
    known = [(col, ds.ig_variable(standard, col)) for col in ds.columns]
    placed = [(col, meta.order) for col, meta in known if meta is not None]
    keep = _longest_increasing([order for _, order in placed])
    ig_order = [m.name for m in ig_variables(ctx, ds) if m.name in ds.df.columns]
    for i, (col, _) in enumerate(placed):
        if i not in keep:
            pos = ig_order.index(col)
            after = ig_order[pos - 1] if pos else "the start"
            ctx.note(
                f"{col} is out of SDTMIG order (it belongs after {after})",
                dataset=ds.name,
                variable=col,
            )


@check(
    "SD0008",
    ERROR,
    "structure",
    "Name, label, length or format breaks the SAS XPORT v5 limits",
    explanation="XPORT v5 (FDA): dataset and variable names up to 8 characters (letter, "
    "then letters/digits/underscores), labels up to 40 ASCII characters, character "
    "lengths 1-200, valid SAS formats.",
    reference="SAS TS-140; FDA Technical Conformance Guide §3.3.1",
)
def xpt_limits(ctx: Context, ds: Dataset) -> None:
    for problem in metadata_problems(ds.meta.dataset or ds.name, ds.meta.label, ds.meta.variables):
        ctx.note(problem.message, dataset=ds.name, variable=problem.variable or "")


@check(
    "SD0009",
    ERROR,
    "structure",
    "Dataset name is not a valid SDTM/ADaM dataset name",
    explanation="SDTM datasets are named by their two-letter domain code (optionally "
    "split: QSPH), SUPP-- after the parent domain, or RELREC/RELSUB/RELSPEC; ADaM "
    "dataset names start with AD and have at most 8 characters.",
    reference="SDTMIG v3.4 §4.1.7; ADaMIG v1.3 §2.3.1",
)
def dataset_name(ctx: Context, ds: Dataset) -> None:
    if ds.standard == "ADaM":
        ok = bool(_ADAM_NAME.match(ds.name))
    else:
        ok = ds.name in RELATIONSHIP_DATASETS or bool(_SDTM_NAME.match(ds.name))
    if not ok:
        ctx.note(f"{ds.name!r} is not a valid {ds.standard} dataset name", dataset=ds.name)


@check(
    "SD0010",
    WARNING,
    "structure",
    "File name does not match the dataset name",
    explanation="Each dataset is submitted as <lowercase dataset name>.xpt holding one "
    "member of that name (FDA Technical Conformance Guide §3.3.1).",
    reference="FDA Study Data Technical Conformance Guide §3.3.1",
)
def file_name(ctx: Context, ds: Dataset) -> None:
    suffix = ds.path.suffix.lower()
    expected = ds.name.lower() + (suffix if suffix in (".json", ".ndjson") else ".xpt")
    actual = ds.path.name
    if actual != expected:
        ctx.note(
            f"file {actual} holds dataset {ds.name}; expected file name {expected}",
            dataset=ds.name,
            value=actual,
        )


@check(
    "SD0011",
    WARNING,
    "structure",
    "Dataset label is empty or differs from the standard's label",
    explanation="Dataset labels should be the SDTMIG domain label (SUPP--: 'Supplemental "
    "Qualifiers for XX'); ADaM dataset labels must not be empty. Split datasets may add "
    "a qualifier in parentheses.",
    reference="SDTMIG v3.4 §4.1.7",
)
def dataset_label(ctx: Context, ds: Dataset) -> None:
    label = ds.meta.label.strip()
    if not label:
        ctx.note("dataset label is empty", dataset=ds.name)
        return
    if ds.standard != "SDTM" or ds.ig_name is None:
        return
    expected = ctx.sdtmig.dataset(ds.name if ds.is_supp else ds.ig_name).label
    if label != expected and not (ds.name != ds.domain and label.startswith(expected)):
        ctx.note(f"label {label!r} differs from SDTMIG {expected!r}", dataset=ds.name, value=label)


@check(
    "SD0012",
    ERROR,
    "structure",
    "DOMAIN value differs from the dataset's domain code",
    scope=scope("SDTM"),
    explanation="DOMAIN holds the two-letter domain code, also in split datasets (QSPH "
    "has DOMAIN QS).",
    reference="SDTMIG v3.4 §4.1.2.2",
)
def domain_value(ctx: Context, ds: Dataset) -> None:
    if "DOMAIN" not in ds.df.columns or ds.is_supp:
        return
    expected = ds.domain
    ctx.flag(
        ds,
        (ds.df["DOMAIN"] != expected).to_numpy(dtype=bool),
        f"DOMAIN must be {expected}",
        variable="DOMAIN",
    )


@check(
    "SD0013",
    WARNING,
    "structure",
    "Variable is not defined by the SDTMIG for this domain",
    scope=scope("SDTM"),
    explanation="Only SDTMIG domain variables, and SDTM model variables of the domain's "
    "class, may be added to a standard domain; anything else belongs in SUPP--. SDTM v1.8 "
    "class variables (SPDEVID, --LNKGRP, --STDY...) and variables that another SDTMIG "
    "domain of the same class defines (VISITNUM in EX) are accepted.",
    reference="SDTMIG v3.4 §2.7, §8.4",
)
def non_standard_variable(ctx: Context, ds: Dataset) -> None:
    if ds.ig_name is None or ds.is_supp:
        return
    allowed_names, allowed_suffixes = _class_variables(ctx, ds.class_)
    for col in ds.columns:
        if ds.ig_variable(ctx.sdtmig, col) is not None:
            continue
        if ctx.sdtmig.variable_allowed(ds.ig_name, col) is not None:
            continue  # an SDTM v1.8 class variable of the domain's class (SPDEVID, --LNKGRP)
        if col in allowed_names or (col.startswith(ds.prefix) and col[2:] in allowed_suffixes):
            continue
        ctx.note(
            f"{col} is not an SDTMIG {ds.ig_name} variable nor used by another SDTMIG "
            f"{ds.class_} domain",
            dataset=ds.name,
            variable=col,
        )


_GENERAL_CLASSES = ("Interventions", "Events", "Findings")


def _class_variables(ctx: Context, class_: str) -> tuple[frozenset[str], frozenset[str]]:
    """Names and ``--`` suffixes the SDTMIG uses in any domain of a general class.

    Complements the SDTM model's class variables (:meth:`Standard.variable_allowed`): a
    variable such as VISITNUM in EX is allowed because another domain of the same class
    defines it.
    """
    key = ("class-vars", class_)
    if key not in ctx.cache:
        names: set[str] = set()
        suffixes: set[str] = set()
        if class_ in _GENERAL_CLASSES:
            for name in ctx.sdtmig.dataset_names:
                if ctx.sdtmig.dataset(name).class_ != class_:
                    continue
                for meta in ctx.sdtmig.variables(name):
                    if meta.name.startswith(name):
                        suffixes.add(meta.name[len(name) :])
                    else:
                        names.add(meta.name)
        ctx.cache[key] = (frozenset(names), frozenset(suffixes))
    return ctx.cache[key]


@check(
    "SD0014",
    INFO,
    "structure",
    "Dataset is not described by the loaded standards metadata",
    explanation="specs/ holds every SDTMIG v3.4 dataset and the ADaMIG structures ADSL, "
    "BDS, TTE and ADAE (OCCDS); for other datasets (custom domains, other ADaM structures) "
    "only the generic checks (identity, dates, terminology of shared variables) run.",
)
def unknown_dataset(ctx: Context, ds: Dataset) -> None:
    if ds.ig_name is None:
        ctx.note(
            f"no {ds.standard} metadata for {ds.name} (class {ds.class_ or 'unknown'}); "
            "variable-level structure checks skipped",
            dataset=ds.name,
        )


@check(
    "SD0015",
    ERROR,
    "structure",
    "Value breaks the standard's format for short names and labels",
    explanation="--TESTCD, PARAMCD, TSPARMCD and IETESTCD are at most 8 characters, "
    "start with a letter or underscore and hold only letters, digits and underscores; "
    "--TEST, TSPARM and QLABEL are at most 40 characters (IETEST 200).",
    reference="SDTMIG v3.4 §4.5.3.1, §8.4.1; ADaMIG v1.3 §3.3.4",
)
def short_name_format(ctx: Context, ds: Dataset) -> None:
    codes: list[str] = []
    labels: list[tuple[str, int]] = []
    if ds.standard == "SDTM":
        for col in ds.columns:
            if (col.endswith("TESTCD") and len(col) == 8) or col == "TSPARMCD":
                codes.append(col)
            elif (col.endswith("TEST") and len(col) == 6) or col in ("TSPARM", "QLABEL"):
                labels.append((col, 200 if col == "IETEST" else 40))
    elif "PARAMCD" in ds.df.columns:
        codes.append("PARAMCD")
    for col in codes:
        bad = {v for v in ds.uniques(col) if isinstance(v, str) and v and not _code_ok(v)}
        if bad:
            ctx.flag(
                ds,
                ds.df[col].isin(bad).to_numpy(dtype=bool),
                f"{col} must be 1-8 characters: a letter or underscore, then letters, "
                "digits or underscores",
                variable=col,
            )
    for col, limit in labels:
        bad = {v for v in ds.uniques(col) if isinstance(v, str) and len(v) > limit}
        if bad:
            ctx.flag(
                ds,
                ds.df[col].isin(bad).to_numpy(dtype=bool),
                f"{col} is longer than {limit} characters",
                variable=col,
            )


def _code_ok(value: str) -> bool:
    return len(value) <= 8 and bool(_CODE_NAME.match(value))


@check(
    "SD0016",
    WARNING,
    "structure",
    "Dataset has no records",
    explanation="Empty datasets should not be submitted (FDA Technical Conformance Guide "
    "§4.1.1.3); leave the dataset out and explain its absence in the reviewer's guide.",
)
def empty_dataset(ctx: Context, ds: Dataset) -> None:
    if ds.n == 0:
        ctx.note("dataset has no records", dataset=ds.name)


@check(
    "SD0017",
    ERROR,
    "structure",
    "Dataset file cannot be read",
    scope=scope(package=True),
    explanation="A .xpt file of the package is not a complete SAS XPORT file, holds text "
    "that does not decode in the encoding given (UTF-8 unless --encoding says otherwise; "
    "files written by SAS on Windows are often WINDOWS-1252), or holds a dataset another "
    "file already holds. The file is not checked; the rest of the package is. The "
    "message names the byte offset of text that does not decode.",
    reference="SAS TS-140; FDA Technical Conformance Guide §3.3.1",
)
def unreadable_file(ctx: Context) -> None:
    for item in ctx.unreadable:
        ctx.note(
            item.message,
            dataset=item.name,
            variable=item.variable,
            value=item.file,
            record=item.record,
        )


_PLACEHOLDER = re.compile(r"[{}]")


@check(
    "SD0018",
    WARNING,
    "structure",
    "Label holds a brace: an unfilled placeholder such as {Date}",
    explanation="Dataset and variable labels are plain text for reviewers. A label with "
    "'{' or '}' (e.g. '{Relative Start Day}') is a template placeholder that was never "
    "filled in; give the variable its real label.",
    reference="SDTMIG v3.4 §4.1.7; ADaMIG v1.3 §3",
)
def placeholder_label(ctx: Context, ds: Dataset) -> None:
    if _PLACEHOLDER.search(ds.meta.label):
        ctx.note(
            f"dataset label {ds.meta.label!r} holds a placeholder",
            dataset=ds.name,
            value=ds.meta.label,
        )
    for var in ds.meta.variables:
        if _PLACEHOLDER.search(var.label):
            ctx.note(
                f"label {var.label!r} holds a placeholder",
                dataset=ds.name,
                variable=var.name,
                value=var.label,
            )
