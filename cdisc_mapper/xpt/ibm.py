"""Vectorised conversion between IEEE 754 doubles and IBM System/360 hexadecimal floats.

An IBM double is ``sign(1) | exponent(7, base 16, excess 64) | fraction(56)`` with value
``(-1)**sign * 0.fraction * 16**(exponent - 64)``; SAS transport files store numbers this
way, most significant byte first.

IEEE -> IBM is exact for every double in IBM's range: the 53-bit IEEE significand is
shifted into the 56-bit IBM fraction by 0-3 bits to align the exponent on a power of
16, and the 3 spare bits absorb that shift. Doubles outside IBM's range (magnitude below
about 5.4e-79 or from 7.2e75 up, infinities) cannot be stored and are reported, never
flushed to zero or clamped.

SAS missing values are not numbers: ``.`` is stored as ``0x2E`` followed by seven zero
bytes, ``.A``-``.Z`` and ``._`` as that letter followed by zeros.
"""

from __future__ import annotations

import numpy as np

SAS_MISSING = np.uint64(0x2E << 56)
"""IBM bit pattern of the SAS system missing value ``.``."""

_SIGN = np.uint64(1 << 63)
_FRACTION_52 = np.uint64((1 << 52) - 1)
_HIDDEN_BIT = np.uint64(1 << 52)
_FRACTION_56 = np.uint64((1 << 56) - 1)
_SCALE = np.array([(-1.0 if b & 0x80 else 1.0) * 2.0 ** (4 * (b & 0x7F) - 312) for b in range(256)])
"""Per first byte of an IBM float, the value of one unit of its 56-bit fraction:
``±16**(exponent - 64) / 2**56``, a power of two well inside the double range."""
_MISSING_BYTE = np.isin(np.arange(256), [0x2E, 0x5F, *range(0x41, 0x5B)])
"""First bytes of SAS missing values (``.``, ``._``, ``.A``-``.Z``) when the rest is zero."""


class IbmRangeError(ValueError):
    """Some doubles cannot be represented as IBM floats (see ``positions``)."""

    def __init__(self, positions: np.ndarray):
        self.positions = positions
        super().__init__(
            f"{len(positions)} value(s) outside the IBM floating point range "
            "(|x| < 5.4e-79 but not 0, |x| >= 7.2e75, or infinite)"
        )


def ieee_to_ibm(values: np.ndarray) -> np.ndarray:
    """Convert doubles to IBM hexadecimal float bit patterns (native ``uint64``).

    NaN becomes the SAS missing value ``.`` (:data:`SAS_MISSING`); ``-0.0`` becomes 0.
    Use ``result.astype(">u8")`` for the big-endian bytes written to a file.

    Raises:
        IbmRangeError: some finite non-zero values are too small or too large for IBM
            floating point, or infinite; ``positions`` lists their indexes.
    """
    x = np.ascontiguousarray(values, dtype=np.float64).ravel()
    bits = x.view(np.uint64)
    biased = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64)
    # value = (significand / 2**56) * 2**p with the significand's top bit at bit 55.
    significand = ((bits & _FRACTION_52) | _HIDDEN_BIT) << np.uint64(3)
    p = biased - 1022
    q = -((-p) // 4)  # ceil(p / 4): the power of 16
    shift = 4 * q - p  # 0..3 bits to move right so that 2**p becomes 16**q
    exponent = q + 64

    is_nan = np.isnan(x)
    is_zero = x == 0.0
    unrepresentable = (biased == 0x7FF) | (biased == 0) | (exponent < 0) | (exponent > 127)
    bad = ~is_nan & ~is_zero & unrepresentable
    if bad.any():
        raise IbmRangeError(np.flatnonzero(bad))

    fraction = significand >> shift.astype(np.uint64)
    out: np.ndarray = (bits & _SIGN) | (exponent.astype(np.uint64) << np.uint64(56)) | fraction
    out[is_zero] = 0
    out[is_nan] = SAS_MISSING
    return out


def ibm_to_ieee(ibm: np.ndarray) -> np.ndarray:
    """Convert IBM hexadecimal float bit patterns (native ``uint64``) to doubles.

    SAS missing values (``.``, ``.A``-``.Z``, ``._``) become NaN. Fractions with more
    than 53 significant bits (not produced by :func:`ieee_to_ibm`) are rounded.

    The 56-bit fraction is converted to a double (the one rounding) and multiplied by
    the power of two that the first byte (sign and exponent) stands for, looked up in a
    table of 256: exact, as is ``ldexp``.
    """
    bits = np.ascontiguousarray(ibm, dtype=np.uint64).ravel()
    first = (bits >> np.uint64(56)).astype(np.uint8)
    fraction = bits & _FRACTION_56
    out: np.ndarray = fraction.astype(np.float64)
    out *= _SCALE.take(first)
    missing = _MISSING_BYTE.take(first)
    missing &= fraction == 0
    out[missing] = np.nan
    return out


def truncation_loss(ibm: np.ndarray, length: int) -> np.ndarray:
    """Mask of IBM values that change when stored in ``length`` (3-8) bytes.

    SAS stores a numeric variable of length < 8 by dropping the last ``8 - length``
    bytes of the IBM fraction; only values whose dropped bytes are zero survive intact.
    """
    if length >= 8:
        return np.zeros(len(ibm), dtype=bool)
    mask = np.uint64((1 << (8 * (8 - length))) - 1)
    lost: np.ndarray = (np.asarray(ibm, dtype=np.uint64) & mask) != 0
    return lost
