"""What every spec model shares: the strict base model, SAS names, and validation that
reports the spec line.

Spec formats are public interfaces: every model forbids unknown keys (a typo is an
error, never ignored) and is immutable once loaded.
"""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.yamlio import SpecDocument

#: A SAS V5 variable name as ADaM specs write it (upper case, at most 8 characters).
NAME_PATTERN = r"^[A-Z][A-Z0-9_]{0,7}$"

#: Where raw form names and files are (the ``--raw`` option of the commands).
RAW_FOLDER = "the raw folder"


class Strict(BaseModel):
    """Base of the spec models: unknown keys are errors; loaded specs are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def relative_path(value: str, folder: str) -> str:
    r"""``value`` if it is a path inside ``folder`` as written: not empty, not absolute
    (``/x``, ``C:\x``, ``\\server\x``) and without a ``..`` part (``/`` and ``\`` both
    separate parts, as on Windows); ValueError otherwise. Symbolic links are checked
    where the file is opened, once the folder is known."""
    if not value.strip() or not PurePosixPath(value).parts:
        raise ValueError(f"{value!r} names no file in {folder}")
    for pure in (PurePosixPath(value), PureWindowsPath(value)):
        if pure.anchor:
            raise ValueError(
                f"{value!r} is an absolute path; give a path relative to {folder}, "
                "which must hold the file"
            )
        if ".." in pure.parts:
            raise ValueError(
                f"{value!r} goes up with '..'; give a path inside {folder}, which must "
                "hold the file"
            )
    return value


def split_source(source: str) -> tuple[str | None, str]:
    """``"DM.AGE"`` -> ``("DM", "AGE")``; ``"AVAL"`` -> ``(None, "AVAL")``."""
    if "." in source:
        dom, var = source.split(".", 1)
        return dom.upper(), var.upper()
    return None, source


def is_adam(name: str | None) -> bool:
    """Whether a dataset name is an ADaM dataset (``AD...``) rather than an SDTM domain."""
    return bool(name) and str(name).startswith("AD")


def _loc_without_args(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """An error location as a path in the spec file: without the ``args`` level the
    loaders add, nor the ``<tag>`` of a discriminated union (e.g. ``<range checks>``)."""
    return tuple(x for x in loc if x != "args" and not (isinstance(x, str) and x[:1] == "<"))


def validate_model(
    model: type[BaseModel], data: Any, doc: SpecDocument, prefix: tuple[Any, ...] = ()
) -> Any:
    """Validate ``data`` with ``model``; raise SpecError at the line of the most telling
    error (an unknown key, usually a typo, before a missing one), naming the others."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")

        def describe(err: Any) -> tuple[tuple[Any, ...], str]:
            loc = (*prefix, *_loc_without_args(tuple(err["loc"])))
            path = ".".join(str(x) for x in loc) or "(top)"
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key (not part of the spec format; check the spelling)"
            elif err["type"] == "missing":
                msg = "required key missing"
            return loc, f"{path}: {msg}"

        loc, first = describe(errors[0])
        others = [describe(e)[1] for e in errors[1:4]]
        more = f" (also: {'; '.join(others)})" if others else ""
        raise SpecError(first + more, where=doc.where(loc)) from None
