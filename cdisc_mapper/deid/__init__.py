"""De-identification of an SDTM/ADaM package for sharing outside the sponsor.

``cdisc-mapper deidentify PACKAGE --spec DEID.yaml --out OUT --key-out KEY`` reads the
package (``sdtm/``, ``adam/`` with their define.xml) with the one dataset reader, applies
the rules of a de-identification spec (:mod:`.spec`; defaults per variable class in
:mod:`.rules`, after the PHUSE De-Identification Standard for CDISC SDTM 3.2), and
publishes the de-identified package, its updated define.xml (:mod:`.define_update`), a
report of every change with the re-identification risk before and after (:mod:`.risk`,
:mod:`.report`), and, at a separate place, the key linking old and new identifiers and
the date offsets (:mod:`.key`).

Layout (the data flow): :mod:`.spec` -> :mod:`.key` (new identifiers, offsets) ->
:mod:`.rules` (the action per variable) -> :mod:`.transform` (:mod:`.dates` for dates)
-> :mod:`.pipeline` (read, write, publish).
"""

from cdisc_mapper.deid.pipeline import DeidResult, run_deidentify
from cdisc_mapper.deid.risk import RiskFigures, risk_figures
from cdisc_mapper.deid.spec import DeidSpec, load_deid_spec

__all__ = [
    "DeidResult",
    "DeidSpec",
    "RiskFigures",
    "load_deid_spec",
    "risk_figures",
    "run_deidentify",
]
