"""Item attributes a define-generator workbook states, kept over what the data show.

For our own studies the data decide an item's data type, length and significant digits
(:mod:`.assemble`). A workbook made by another tool (:mod:`.describe_metadata`) states
them, with the label, display format and Mandatory, for each variable and value-level
item; define.xml says what the workbook says, and every difference from the data is a
warning naming both values (``DM.AGE: Length 8 in the workbook, 3 in the data``), never a
silent change. What the workbook leaves empty is taken from the data.

One exception follows the standard: an ISO 8601 item (``date``, ``datetime``...) has no
Length in define.xml (Define-XML 2.1 section 5.3.11 gives Length to text, integer and
float); the workbook's lengths of such items are told once, all together
(:func:`unwritten_lengths`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cdisc_mapper.define.datatypes import LENGTH_TYPES


@dataclass(frozen=True)
class StatedItem:
    """What a workbook states of one item; None where it states nothing."""

    label: str | None = None
    data_type: str | None = None
    length: int | None = None
    significant_digits: int | None = None
    display_format: str | None = None
    mandatory: bool | None = None
    source: str = "the workbook"


@dataclass(frozen=True)
class ItemAttrs:
    """An item's attributes as define.xml writes them."""

    label: str
    data_type: str
    length: int | None
    significant_digits: int | None
    display_format: str | None


_SHOWN = {
    "label": "Label",
    "data_type": "Data Type",
    "length": "Length",
    "significant_digits": "Significant Digits",
    "display_format": "Format",
}


def as_stated(
    stated: StatedItem, what: str, found: ItemAttrs, notes: list[str], iso_lengths: list[str]
) -> ItemAttrs:
    """``found`` (the data's attributes) with every one ``stated`` gives replaced by the
    stated value; each difference appended to ``notes``, and ``what`` to ``iso_lengths``
    when a stated length cannot be written (an ISO 8601 data type)."""
    kept = found
    for key, title in _SHOWN.items():
        given = getattr(stated, key)
        if given is None:
            continue
        data = getattr(found, key)
        if key == "length" and (stated.data_type or found.data_type) not in LENGTH_TYPES:
            iso_lengths.append(what)
            continue
        if key == "significant_digits" and (stated.data_type or found.data_type) != "float":
            continue  # written for float only (Define-XML 2.1 section 5.3.11)
        if data is not None and data != given:
            notes.append(
                f"{what}: {title} {_shown(given)} in {stated.source}, {_shown(data)} in the "
                f"data (define.xml has {stated.source}'s)"
            )
        kept = replace(kept, **{key: given})
    if kept.data_type in LENGTH_TYPES and kept.length is None:
        kept = replace(kept, length=found.length)
    return kept


def _shown(value: object) -> str:
    return repr(value) if isinstance(value, str) and " " in value.strip() else str(value)


def mandatory_note(stated: StatedItem | None, what: str, empty: int) -> str | None:
    """The warning for an item the workbook says is Mandatory that has ``empty`` records
    without a value (define.xml keeps Mandatory="Yes", as stated)."""
    if stated is None or not stated.mandatory or empty == 0:
        return None
    return (
        f"{what}: Mandatory Yes in {stated.source}, but {empty} record(s) in the data have "
        f"no value (define.xml has {stated.source}'s)"
    )


def unwritten_lengths(whats: list[str], source: str = "the workbook") -> list[str]:
    """One warning for every item whose stated Length define.xml cannot carry."""
    if not whats:
        return []
    shown = ", ".join(whats[:8]) + (f" and {len(whats) - 8} more" if len(whats) > 8 else "")
    return [
        f"Length of ISO 8601 items is not written (Define-XML 2.1 section 5.3.11 gives "
        f"Length to text, integer and float only); {source} gives one for {shown}"
    ]
