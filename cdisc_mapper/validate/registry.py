"""The check registry: each check is a small function registered under a stable ID.

IDs never change meaning once released: ``SD`` structure, ``CT`` terminology, ``TM``
dates and timing, ``ID`` identity, ``SP`` SUPPQUAL, ``AD`` ADaM, ``DD`` define/data
consistency, ``RC`` reconciliation, ``VX`` the validator itself.

A dataset-scoped check is ``func(ctx, ds)``; a package-scoped one (``scope(package=True)``)
is ``func(ctx)``. Checks report through ``ctx.flag(...)`` (a mask over the records) and
``ctx.note(...)`` (one finding), and may call ``ctx.skip(reason)``. Other modules add checks
with the same decorator::

    from cdisc_mapper.validate import ERROR, check, scope

    @check("DD0100", ERROR, "define", "define.xml is schema-valid", scope=scope(package=True))
    def define_schema(ctx):
        if ctx.define_path is None:
            ctx.skip("no define.xml given")
        ...
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from cdisc_mapper.validate.model import CheckSpec, Scope, Severity

F = TypeVar("F", bound=Callable[..., Any])

_REGISTRY: dict[str, CheckSpec] = {}
_ID_RE = re.compile(r"^[A-Z]{2}\d{4}$")


def check(
    check_id: str,
    severity: Severity,
    category: str,
    description: str,
    *,
    scope: Scope | None = None,
    explanation: str = "",
    reference: str = "",
) -> Callable[[F], F]:
    """Register the decorated function as check ``check_id`` (e.g. ``SD0001``).

    Raises:
        ValueError: the ID is malformed or already registered to another function.
    """
    if not _ID_RE.match(check_id):
        raise ValueError(f"check ID {check_id!r} must be two capitals and four digits")

    def register(func: F) -> F:
        existing = _REGISTRY.get(check_id)
        if existing is not None and existing.func.__qualname__ != func.__qualname__:
            raise ValueError(f"check ID {check_id} is already registered ({existing.func})")
        _REGISTRY[check_id] = CheckSpec(
            id=check_id,
            severity=severity,
            category=category,
            description=description,
            scope=scope or Scope(),
            func=func,
            explanation=" ".join(explanation.split()),
            reference=reference,
        )
        return func

    return register


def registered_checks() -> list[CheckSpec]:
    """Every registered check, in ID order (the built-in ones register when
    :mod:`cdisc_mapper.validate.checks` is imported, as the package does)."""
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get_check(check_id: str) -> CheckSpec:
    """The check registered as ``check_id``; ``KeyError`` if none."""
    return _REGISTRY[check_id]
