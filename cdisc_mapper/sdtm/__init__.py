"""Map raw EDC forms to SDTM: the engine, its operation registry and the pipeline.

Importing the package registers every mapping operation (:mod:`cdisc_mapper.sdtm.ops`).
:func:`load_study` loads a study's SDTM spec checked against them.
"""

from __future__ import annotations

from pathlib import Path

from cdisc_mapper.sdtm import ops  # noqa: F401  (registers the operations)
from cdisc_mapper.sdtm.registry import OPERATIONS
from cdisc_mapper.spec.sdtm_loader import StudyBundle
from cdisc_mapper.spec.sdtm_loader import load_study as _load_study


def load_study(root: Path) -> StudyBundle:
    """Load and check a study's spec folder (``study.yaml``, ``sdtm/*.yaml``) against the
    SDTM operations; every problem is a SpecError at the spec line."""
    return _load_study(Path(root), OPERATIONS)


__all__ = ["OPERATIONS", "StudyBundle", "load_study"]
