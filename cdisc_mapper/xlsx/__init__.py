"""Spec workbooks: a study's SDTM mapping spec as one reviewer-friendly Excel file.

:func:`export_workbook` writes ``study.yaml`` and ``sdtm/*.yaml`` as a workbook in the
Pinnacle 21 define-generator layout (``Study``, ``Datasets``, ``Variables``,
``Codelists``, ``Methods``, ``Comments``...), with cdisc_mapper's mapping columns added
(Variables: ``Source Form``, ``Operation``, ``Arguments`` as JSON, ``Supp ...``) and a
``Sources`` sheet (one row per source form of a domain); :func:`import_workbook` writes
the YAML specs back from such a workbook, so that ``load_study`` gives the same specs.

The study's design (arms, elements, visits, unscheduled, trial_summary, criteria, units)
is one YAML text per row of the ``Study`` sheet. ``Order`` in ``Variables`` is the
mapping order (a variable may use the ones before it).
"""

from cdisc_mapper.xlsx.export import export_workbook
from cdisc_mapper.xlsx.folder import is_workbook, spec_folder
from cdisc_mapper.xlsx.reader import import_workbook

__all__ = ["export_workbook", "import_workbook", "is_workbook", "spec_folder"]
