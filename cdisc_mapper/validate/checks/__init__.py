"""The built-in checks, one module per category; importing the package registers them
all (:func:`cdisc_mapper.validate.registry.check`)."""

from cdisc_mapper.validate.checks import (  # noqa: F401  (each module registers its checks)
    adam,
    consistency,
    define,
    define_values,
    identity,
    plausibility,
    recon,
    records,
    results,
    structure,
    supp,
    terminology,
    timing,
    trial_summary,
)
