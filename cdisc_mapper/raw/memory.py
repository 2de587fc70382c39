"""Raw forms given in memory (a notebook's DataFrames) instead of a raw folder.

A study's spec names each form's file (``vitals.csv``, or ``<form>.<raw_format>``); given
in memory, a form is the DataFrame under that file name, its name without the suffix
(``vitals``) or the form's name. Its cells become text as a SAS7BDAT file's do
(:func:`~cdisc_mapper.raw.reader.text_frame`: missing values empty, whole numbers without
a decimal point, every value stripped; read a CSV with ``dtype=str`` to keep the export's
text exactly), a row without any value is not a record, and rows are numbered from 1 (the
frame's first row is row 1); errors and the reconciliation name a frame
``raw['vitals']``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path, PurePath

import numpy as np
import pandas as pd

from cdisc_mapper.errors import Location, RawDataError
from cdisc_mapper.raw.reader import RawForm, text_frame


def shown_name(key: str) -> str:
    """How errors name the frame given as ``raw[key]``."""
    return f"raw[{key!r}]"


class RawFrames:
    """The raw forms of a study as DataFrames, by file or form name."""

    def __init__(self, frames: Mapping[str, pd.DataFrame]):
        bad = [str(k) for k, v in frames.items() if not isinstance(v, pd.DataFrame)]
        if bad or not all(isinstance(k, str) for k in frames):
            raise RawDataError(
                "raw forms given in memory must map names to DataFrames; not so for "
                f"{', '.join(bad) or 'a key that is not text'}",
                where="raw=",
                hint="pass raw={'vitals': DataFrame, ...}, or the raw folder's path",
            )
        self.frames = dict(frames)

    def key(self, name: str, written: str) -> str | None:
        """The key of the frame the spec's ``written`` file (form ``name``) is: the file
        name, the file name without its suffix, or the form name."""
        for candidate in (written, PurePath(written).stem, name):
            if candidate in self.frames:
                return candidate
        return None

    def open(self, name: str, written: str, *, where: Location | str | None = None) -> RawForm:
        """The form the spec names ``written`` (form ``name``); ``where`` is the spec line
        naming it."""
        key = self.key(name, written)
        if key is None:
            given = ", ".join(repr(k) for k in sorted(self.frames)) or "none"
            raise RawDataError(
                f"raw form {name!r} (file {written!r}) is not among the DataFrames given "
                f"(given: {given})",
                where=where,
                hint=f"pass it as raw={{{PurePath(written).stem!r}: DataFrame, ...}}",
            )
        return frame_form(name, key, self.frames[key])

    def unused(self, used: Iterable[str]) -> list[RawForm]:
        """The frames no spec read (``used``: the :attr:`RawForm.file` of the forms read),
        in name order."""
        seen = set(used)
        forms = (frame_form(k, k, self.frames[k]) for k in sorted(self.frames))
        return [form for form in forms if form.file not in seen]


def frame_form(name: str, key: str, frame: pd.DataFrame) -> RawForm:
    """The raw form ``name`` given as the DataFrame ``raw[key]``."""
    path = Path(shown_name(key))
    data = text_frame(frame, path)
    has_value = np.asarray(data.to_numpy(dtype=object).astype(bool).any(axis=1), dtype=bool)
    if not has_value.all():
        data = data.loc[has_value]
    return RawForm(name=name, path=path, data=data, written=path.name)
