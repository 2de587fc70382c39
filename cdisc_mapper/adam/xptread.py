"""A fast, vectorised reader of SAS XPORT v5 files (what the SDTM stage writes).

ADaM reads millions of SDTM records; readstat decodes them value by value, which takes
seconds per large domain. This reader maps the fixed-width observation records onto a
numpy structured array and converts whole columns at once: IBM hexadecimal floats to IEEE
doubles (missing values ``.``, ``.A``-``.Z``, ``._`` become NaN) and blank-padded ASCII to
``str`` (``""`` for blank), decoding each distinct value once. Only the requested columns
are converted. Files it cannot parse (e.g. XPORT v8) raise ``ValueError``; callers fall
back to pyreadstat.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_mapper.xpt.ibm import ibm_to_ieee

_HEADER = b"HEADER RECORD*******"
_NAMESTR = struct.Struct(">hhhh8s40s8shhh2s8shhl52s")


def _columns(data: bytes) -> tuple[list[tuple[str, bool, int, int, str]], int]:
    """Variables (name, is_char, length, position, label) and the observations' offset."""
    if not data.startswith(_HEADER + b"LIBRARY HEADER RECORD"):
        raise ValueError("not a SAS XPORT v5 library")
    pos = data.find(_HEADER + b"NAMESTR HEADER RECORD")
    if pos < 0 or data.find(_HEADER + b"NAMESTR HEADER RECORD", pos + 1) >= 0:
        raise ValueError("expected exactly one member")
    member = data.rfind(_HEADER + b"MEMBER  HEADER RECORD", 0, pos)
    namestr_len = int(data[member + 74 : member + 78])
    nvar = int(data[pos + 54 : pos + 58])
    start = pos + 80
    out = []
    for i in range(nvar):
        rec = data[start + i * namestr_len : start + i * namestr_len + 140]
        ntype, _, nlng, _, nname, nlabel, *_rest = _NAMESTR.unpack(rec[:140])
        npos = struct.unpack(">l", rec[84:88])[0]
        out.append(
            (
                nname.decode("ascii").strip(),
                ntype == 2,
                nlng,
                npos,
                nlabel.decode("ascii", "replace").strip(),
            )
        )
    names_end = start + nvar * namestr_len
    names_end += (-names_end) % 80
    obs = data.find(_HEADER + b"OBS     HEADER RECORD", names_end - 80)
    if obs < 0:
        raise ValueError("no OBS header")
    return out, obs + 80


def _ibm_to_float(raw: np.ndarray, length: int) -> np.ndarray:
    """IBM hexadecimal floating point (big-endian, ``length`` bytes) to float64, through
    the writer's own converter (:func:`cdisc_mapper.xpt.ibm.ibm_to_ieee`)."""
    n = raw.shape[0]
    buf = np.zeros((n, 8), dtype=np.uint8)
    buf[:, :length] = raw.reshape(n, length)
    return ibm_to_ieee(buf.view(">u8").reshape(n).astype(np.uint64))


def _decode(raw: np.ndarray) -> np.ndarray:
    """Blank-padded ASCII bytes (an ``(n, length)`` uint8 array) to ``str`` objects.

    Rows are factorized without Python per-row work: each 8-byte word is hashed to codes
    (``pd.factorize`` on integers) and the codes combined word by word; then each distinct
    value is decoded once.
    """
    n, length = raw.shape
    width = -(-length // 8) * 8
    padded = np.full((n, width), 0x20, dtype=np.uint8)
    padded[:, :length] = raw
    words = padded.view(np.uint64)
    codes = np.zeros(n, dtype=np.int64)
    for j in range(words.shape[1]):
        c, u = pd.factorize(words[:, j])
        codes, _ = pd.factorize(codes * len(u) + c)
    _, first = np.unique(codes, return_index=True)
    texts = np.array(
        [bytes(raw[i]).decode("utf-8", "replace").rstrip(" ") for i in first], dtype=object
    )
    order = np.empty(len(first), dtype=np.int64)
    order[codes[first]] = np.arange(len(first))
    return texts[order[codes]]


def xpt_variables(path: str | Path) -> list[str]:
    """Variable names of an XPORT v5 file, from its header only."""
    with Path(path).open("rb") as fh:
        head = fh.read(1 << 20)
    return [v[0] for v in _columns(head)[0]]


def read_xpt_fast(
    path: str | Path, usecols: Iterable[str] | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read an XPORT v5 file: the requested columns (all when None) and every variable's label.

    Numbers are float64 (NaN for SAS missing); characters are ``str`` with ``""`` for blank,
    trailing blanks removed.
    """
    data = Path(path).read_bytes()
    variables, offset = _columns(data)
    reclen = sum(v[2] for v in variables)
    body = memoryview(data)[offset:]
    n = len(body) // reclen if reclen else 0
    # the last record is padded with blanks to 80 bytes: drop whole blank "rows" there
    while (
        n > 0
        and len(body) - (n - 1) * reclen <= 80
        and bytes(body[(n - 1) * reclen : n * reclen]).strip(b" ") == b""
    ):
        n -= 1
    records = (
        np.frombuffer(body[: n * reclen], dtype=np.uint8).reshape(n, reclen)
        if n
        else np.zeros((0, reclen), np.uint8)
    )
    wanted = None if usecols is None else list(usecols)
    by_name = {v[0]: v for v in variables}
    names = [v[0] for v in variables] if wanted is None else [c for c in wanted if c in by_name]
    cols: dict[str, np.ndarray] = {}
    for name in names:
        _, is_char, length, position, _ = by_name[name]
        raw = np.ascontiguousarray(records[:, position : position + length])
        if is_char:
            cols[name] = _decode(raw) if n else np.zeros(0, dtype=object)
        else:
            cols[name] = _ibm_to_float(raw, length) if n else np.zeros(0)
    labels = {v[0]: v[4] for v in variables}
    return pd.DataFrame(cols, columns=names), labels
