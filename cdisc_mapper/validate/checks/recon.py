"""Reconciliation checks (RC): raw rows read, mapped and excluded vs the datasets."""

from __future__ import annotations

from collections import defaultdict

from cdisc_mapper.validate.context import Context
from cdisc_mapper.validate.model import ERROR, INFO, scope
from cdisc_mapper.validate.registry import check

_PACKAGE = scope("SDTM", package=True)


def _rows(ctx: Context) -> list[dict[str, object]]:
    if ctx.reconciliation is None and ctx.reconciliation_error is None:
        ctx.skip("no reconciliation.csv (written by `cdisc-mapper sdtm`)")
    return ctx.reconciliation or []


@check(
    "RC0000",
    ERROR,
    "reconciliation",
    "reconciliation.csv cannot be read",
    scope=_PACKAGE,
    explanation="The SDTM step writes sdtm/reconciliation.csv with the columns domain, "
    "form, file, rows_read, rows_mapped, rows_excluded, exclusion_reasons, "
    "records_written, empty_items_not_recorded.",
)
def readable(ctx: Context) -> None:
    _rows(ctx)
    if ctx.reconciliation_error:
        ctx.note(ctx.reconciliation_error, value="reconciliation.csv")


@check(
    "RC0001",
    ERROR,
    "reconciliation",
    "Raw rows read are not all accounted for (read != mapped + excluded)",
    scope=_PACKAGE,
    explanation="Every raw row read from a form is either mapped or excluded with a "
    "reason; nothing is dropped silently.",
)
def rows_accounted(ctx: Context) -> None:
    for row in _rows(ctx):
        read, mapped, excluded = row["rows_read"], row["rows_mapped"], row["rows_excluded"]
        if read != mapped + excluded:  # type: ignore[operator]
            ctx.note(
                f"form {row['form']}: {read} rows read but {mapped} mapped + {excluded} excluded",
                dataset=str(row["domain"]),
                value=row["file"],
                record=row["line"],  # type: ignore[arg-type]
            )


@check(
    "RC0002",
    ERROR,
    "reconciliation",
    "Records written per domain differ from the records in the dataset",
    scope=_PACKAGE,
    explanation="The sum of records_written over a domain's forms equals the number of "
    "records in that domain's XPT file.",
)
def records_match(ctx: Context) -> None:
    written: dict[str, int] = defaultdict(int)
    for row in _rows(ctx):
        if row["domain"]:
            written[str(row["domain"])] += int(row["records_written"])  # type: ignore[call-overload]
    for domain, count in sorted(written.items()):
        ds = ctx.get(domain)
        if ds is None:
            if count:
                ctx.note(
                    f"reconciliation says {count} records were written but there is no "
                    f"{domain} dataset",
                    dataset=domain,
                )
            continue
        if ds.n != count:
            ctx.note(
                f"reconciliation says {count} records were written; the dataset has {ds.n}",
                dataset=domain,
                value=ds.n,
            )


@check(
    "RC0003",
    INFO,
    "reconciliation",
    "Raw rows were excluded from mapping (with reasons)",
    scope=_PACKAGE,
    explanation="Excluded rows are expected when the mapping spec says so (e.g. IE keeps "
    "only criteria not met; exact duplicate form entries are dropped). Review each reason "
    "in the reconciliation table.",
)
def exclusions(ctx: Context) -> None:
    for row in _rows(ctx):
        if row["rows_excluded"]:
            ctx.note(
                f"form {row['form']}: {row['rows_excluded']} of {row['rows_read']} rows "
                f"excluded: {row['exclusion_reasons'] or 'no reason given'}",
                dataset=str(row["domain"]),
                value=row["file"],
                record=row["line"],  # type: ignore[arg-type]
            )


@check(
    "RC0004",
    ERROR,
    "reconciliation",
    "Raw rows were excluded without a reason",
    scope=_PACKAGE,
    explanation="Every exclusion of raw rows carries a reason in exclusion_reasons.",
)
def exclusions_explained(ctx: Context) -> None:
    for row in _rows(ctx):
        if row["rows_excluded"] and not row["exclusion_reasons"]:
            ctx.note(
                f"form {row['form']}: {row['rows_excluded']} rows excluded without a reason",
                dataset=str(row["domain"]),
                value=row["file"],
                record=row["line"],  # type: ignore[arg-type]
            )
