"""One check run over the datasets of a package: which datasets it applies to, running it
on one of them (a skip stops it, a crash becomes a VX0001 finding), shared by the serial
run (:mod:`.engine`) and the run in several processes (:mod:`.parallel`)."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path

from cdisc_mapper.validate.context import Context, SkipCheck
from cdisc_mapper.validate.errors import ValidationInputError
from cdisc_mapper.validate.model import CheckSpec
from cdisc_mapper.validate.package import Dataset


def applies(spec: CheckSpec, ds: Dataset) -> bool:
    """Whether the dataset-scoped check ``spec`` runs on ``ds`` (its standard, classes,
    datasets)."""
    sc = spec.scope
    if sc.standard not in ("any", ds.standard):
        return False
    if sc.classes is not None and ds.class_ not in sc.classes:
        return False
    return sc.datasets is None or ds.name in sc.datasets or ds.domain in sc.datasets


@dataclass
class Run:
    """One check over the package: whether it ran, and why it stopped (SkipCheck)."""

    spec: CheckSpec
    ran: bool = False
    notes: list[str] = field(default_factory=list)
    stopped: bool = False


def run_on(ctx: Context, run: Run, ds: Dataset, internal: CheckSpec) -> None:
    """``run``'s check on ``ds``: ran, or stopped by a skip (noted), or crashed (a VX0001
    finding of ``internal`` naming the check and where it failed).

    Raises:
        ValidationInputError: a file changed since it was read (not a check's bug).
    """
    ctx.current = run.spec
    try:
        run.spec.func(ctx, ds)
        run.ran = True
    except SkipCheck as skip:
        run.notes.append(str(skip))
        run.stopped = True
    except ValidationInputError:  # a file changed since it was read: not a check's bug
        raise
    except Exception as exc:  # a validator bug must not hide the other checks
        report_crash(ctx, internal, run.spec, ds, exc)
        run.ran = True


def report_crash(
    ctx: Context, internal: CheckSpec, spec: CheckSpec, ds: Dataset | None, exc: Exception
) -> None:
    """A VX0001 finding: check ``spec`` crashed on ``ds`` (None: the package) with
    ``exc``, raised at the file and line named."""
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    ctx.current = internal
    ctx.note(
        f"check {spec.id} crashed: {type(exc).__name__}: {exc} "
        f"({Path(frame.filename).name}:{frame.lineno})",
        dataset=ds.name if ds is not None else "",
    )
    ctx.current = spec
