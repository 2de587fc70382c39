"""cdisc_mapper: raw clinical-trial records to CDISC SDTM/ADaM, Define-XML 2.1 and validation.

The Python API (:mod:`cdisc_mapper.api`, guide in docs/api.md) is available from here::

    import cdisc_mapper as cm

    study = cm.load_study("mappings/als_msc")
    sdtm = cm.map_sdtm(study, raw="demo-output/raw")
    adam = cm.derive_adam(study, sdtm=sdtm)

Its names are imported when first used, so that ``import cdisc_mapper`` (and the command
line's ``--help``) stays fast. The library logs through :mod:`logging` (loggers
``cdisc_mapper.*``) and prints nothing.
"""

from __future__ import annotations

import logging

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (type checkers know it)
if TYPE_CHECKING:
    from typing import Any

    from cdisc_mapper.api import (
        DatasetMetadata,
        Datasets,
        Study,
        derive_adam,
        load_study,
        map_sdtm,
        read_xpt,
        validate_package,
        write_define,
        write_xpt,
    )

__version__ = "0.1.0"

__all__ = [
    "DatasetMetadata",
    "Datasets",
    "Study",
    "__version__",
    "derive_adam",
    "load_study",
    "map_sdtm",
    "read_xpt",
    "validate_package",
    "write_define",
    "write_xpt",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    """The API's names, from :mod:`cdisc_mapper.api` on first use."""
    if name in __all__:
        from cdisc_mapper import api  # noqa: PLC0415  (on first use: a fast import)

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
