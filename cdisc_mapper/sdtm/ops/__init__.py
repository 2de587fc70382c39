"""The SDTM mapping operations, one module per family; importing the package registers
them all in :data:`cdisc_mapper.sdtm.registry.OPERATIONS`."""

from cdisc_mapper.sdtm.ops import (  # noqa: F401  (each module registers its operations)
    choices,
    dates,
    identifiers,
    results,
    subjects,
    terminology,
    text,
    timeline,
    values,
    visits,
)
