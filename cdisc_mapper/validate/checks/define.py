"""Define/data consistency checks (DD): define.xml against the datasets.

Without ``--define`` the checks are skipped and DD0000 says so. define.xml is read by
:func:`cdisc_mapper.define.reader.read_define` (see :class:`.context.PackageDefine`);
DD0008 validates it against the Define-XML schema with
:func:`cdisc_mapper.define.schema.validate_define_schema`; DD0009 reports a DOCTYPE and
entities, which the hardened parser never loads or expands.
"""

from __future__ import annotations

from pathlib import Path

from cdisc_mapper.define.reader import (
    CHAR_TYPES,
    NUM_TYPES,
    DefineReadError,
    doctype_problems,
    parse_tree,
)
from cdisc_mapper.define.schema import validate_define_schema
from cdisc_mapper.validate.context import Context, DefineDataset
from cdisc_mapper.validate.model import ERROR, INFO, WARNING, scope
from cdisc_mapper.validate.package import Dataset
from cdisc_mapper.validate.registry import check


def _covered(ctx: Context, ds: Dataset) -> bool:
    """Whether a define.xml given describes the dataset's standard (SDTM/ADaM)."""
    if ctx.define is None:
        ctx.skip("no define.xml given")
    assert ctx.define is not None
    return ds.standard in ctx.define.standards


def _define_for(ctx: Context, ds: Dataset) -> DefineDataset | None:
    if not _covered(ctx, ds):
        return None
    assert ctx.define is not None
    return ctx.define.dataset(ds.name)


@check(
    "DD0000",
    INFO,
    "define",
    "No define.xml given: define/data consistency not checked",
    scope=scope(package=True),
    explanation="Pass --define PATH (validate_package(define=...)) to compare define.xml "
    "with the datasets (DD0001-DD0008).",
)
def define_given(ctx: Context) -> None:
    if ctx.define is None:
        ctx.note("define.xml not given; DD checks skipped")


@check(
    "DD0001",
    ERROR,
    "define",
    "Dataset is not described in define.xml",
    explanation="Every submitted dataset has an ItemGroupDef in the define.xml of its "
    "standard (SDTM datasets in the SDTM define.xml, ADaM in the ADaM one; a standard "
    "without a define.xml given is not checked).",
    reference="Define-XML v2.1 §4.3.1",
)
def dataset_in_define(ctx: Context, ds: Dataset) -> None:
    if _covered(ctx, ds) and _define_for(ctx, ds) is None:
        ctx.note("no ItemGroupDef for this dataset", dataset=ds.name)


@check(
    "DD0002",
    WARNING,
    "define",
    "define.xml describes a dataset that is not in the package",
    scope=scope(package=True),
    explanation="An ItemGroupDef without a dataset file: either the file is missing from "
    "the package or define.xml describes more than was submitted (a file that cannot be "
    "read is SD0017's).",
    reference="Define-XML v2.1 §4.3.1",
)
def define_dataset_present(ctx: Context) -> None:
    if ctx.define is None:
        ctx.skip("no define.xml given")
    assert ctx.define is not None
    unread = {item.name for item in ctx.unreadable}  # reported by SD0017
    for name, meta in sorted(ctx.define.datasets.items()):
        if name not in ctx.datasets and name not in unread:
            ctx.note(
                f"define.xml describes {name} ({meta.file or 'no file'}) but there is no such "
                "dataset",
                dataset=name,
            )


@check(
    "DD0003",
    ERROR,
    "define",
    "Variable is in the dataset but not in define.xml",
    explanation="Every variable of a dataset is referenced (ItemRef) by its ItemGroupDef.",
    reference="Define-XML v2.1 §4.3.1",
)
def variable_in_define(ctx: Context, ds: Dataset) -> None:
    meta = _define_for(ctx, ds)
    if meta is None:
        return
    for col in ds.columns:
        if col not in meta.variables:
            ctx.note("variable is not in define.xml", dataset=ds.name, variable=col)


@check(
    "DD0004",
    ERROR,
    "define",
    "Variable is in define.xml but not in the dataset",
    explanation="define.xml lists (ItemRef) a variable the dataset does not have.",
    reference="Define-XML v2.1 §4.3.1",
)
def define_variable_present(ctx: Context, ds: Dataset) -> None:
    meta = _define_for(ctx, ds)
    if meta is None:
        return
    for name in meta.variables:
        if name not in ds.df.columns:
            ctx.note(
                "define.xml lists this variable but the dataset has none",
                dataset=ds.name,
                variable=name,
            )


@check(
    "DD0005",
    WARNING,
    "define",
    "Label differs between define.xml and the dataset",
    explanation="Dataset (ItemGroupDef Description) and variable (ItemDef Description) "
    "labels in define.xml match the labels stored in the XPT file.",
    reference="Define-XML v2.1 §4.3.1, §4.3.2",
)
def labels_match(ctx: Context, ds: Dataset) -> None:
    meta = _define_for(ctx, ds)
    if meta is None:
        return
    if meta.label and meta.label != ds.meta.label.strip():
        ctx.note(
            f"dataset label {ds.meta.label!r}; define.xml {meta.label!r}",
            dataset=ds.name,
            value=ds.meta.label,
        )
    for var in ds.meta.variables:
        item = meta.variables.get(var.name)
        if item is not None and item.label and item.label != var.label.strip():
            ctx.note(
                f"label {var.label!r}; define.xml {item.label!r}",
                dataset=ds.name,
                variable=var.name,
                value=var.label,
            )


@check(
    "DD0006",
    ERROR,
    "define",
    "Type differs between define.xml and the dataset",
    explanation="Character variables have a text/date/time DataType in define.xml, "
    "numeric ones integer/float.",
    reference="Define-XML v2.1 §4.3.2",
)
def types_match(ctx: Context, ds: Dataset) -> None:
    meta = _define_for(ctx, ds)
    if meta is None:
        return
    for var in ds.meta.variables:
        item = meta.variables.get(var.name)
        if item is None or not item.data_type:
            continue
        allowed = CHAR_TYPES if var.type == "Char" else NUM_TYPES
        if item.data_type not in allowed:
            ctx.note(
                f"{var.type} in the dataset but DataType {item.data_type!r} in define.xml",
                dataset=ds.name,
                variable=var.name,
                value=item.data_type,
            )


@check(
    "DD0007",
    WARNING,
    "define",
    "Length differs between define.xml and the dataset",
    explanation="For character variables the define.xml Length is the variable's length "
    "in the dataset.",
    reference="Define-XML v2.1 §4.3.2",
)
def lengths_match(ctx: Context, ds: Dataset) -> None:
    meta = _define_for(ctx, ds)
    if meta is None:
        return
    for var in ds.meta.variables:
        item = meta.variables.get(var.name)
        if var.type != "Char" or item is None or item.length is None:
            continue
        if item.length != var.length:
            ctx.note(
                f"length {var.length} in the dataset, {item.length} in define.xml",
                dataset=ds.name,
                variable=var.name,
                value=var.length,
            )


@check(
    "DD0008",
    ERROR,
    "define",
    "define.xml is not valid against the Define-XML schema",
    scope=scope(package=True),
    explanation="Validates each define.xml given against the schema of its own Define-XML "
    "version, 2.0 or 2.1, told by the namespace and value of def:DefineVersion (the XSDs "
    "shipped with odmlib; for 2.1 with the ARM 1.0 extension when the file uses it); "
    "skipped when no define.xml is given. A file of another version, or that is not XML "
    "or not ODM, is reported here, and the other define checks run without it.",
    reference="Define-XML v2.0 and v2.1 schemas",
)
def define_schema(ctx: Context) -> None:
    if not ctx.define_paths:
        ctx.skip("no define.xml given")
    unreadable = dict(ctx.define.unreadable) if ctx.define is not None else {}
    for path in ctx.define_paths:
        if path in unreadable:  # not XML, or not ODM: no schema to check it against
            problems = [f"{unreadable[path]}; the define checks did not use this file"]
        else:
            try:
                problems = validate_define_schema(path)
            except DefineReadError as exc:
                problems = [exc.message]
        for problem in problems:
            ctx.note(problem, value=_relative(ctx, path))


@check(
    "DD0009",
    ERROR,
    "define",
    "define.xml declares a DOCTYPE or uses entities",
    scope=scope(package=True),
    explanation="Define-XML has no DTD: a DOCTYPE, entity declarations and entity "
    "references have no place in it, and an external entity is the classic way to make "
    "an XML reader fetch a local file or a URL. cdisc-mapper never loads a DTD or expands "
    "an entity, so text written as an entity reference is read as missing; the other "
    "define checks still run on the rest of the document.",
    reference="Define-XML v2.1 §2; OWASP XML External Entity Prevention",
)
def define_doctype(ctx: Context) -> None:
    if not ctx.define_paths:
        ctx.skip("no define.xml given")
    for path in ctx.define_paths:
        try:
            problems = doctype_problems(parse_tree(path))
        except DefineReadError:
            continue  # DD0008 reports a file that is not XML
        for problem in problems:
            ctx.note(problem, value=_relative(ctx, path))


def _relative(ctx: Context, path: Path) -> str:
    try:
        return path.resolve().relative_to(ctx.root.resolve()).as_posix()
    except ValueError:
        return path.name
