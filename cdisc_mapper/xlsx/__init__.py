"""Spec workbooks: a study's whole spec as one reviewer-friendly Excel file.

:func:`export_workbook` writes ``study.yaml``, ``sdtm/*.yaml``, ``adam/*.yaml`` and
``define.yaml`` as a workbook in the Pinnacle 21 define-generator layout (``Study``,
``Datasets``, ``Variables``, ``ValueLevel``, ``WhereClauses``, ``Codelists``,
``Dictionaries``, ``Methods``, ``Comments``, ``Documents``) with cdisc_mapper's mapping
columns added (Variables: ``Source Form``, ``Operation``, ``Arguments`` as JSON,
``Supp ...``, ``Type``, ``Label Source``) and mapping sheets: ``Sources`` (the raw forms of
each SDTM domain), ``Records`` (the record builders of each ADaM dataset) and the study
design as tables (``Arms``, ``Elements``, ``Visits``, ``TrialSummary``, ``Criteria``,
``UnitConversions``, ``StandardUnits``, ``UnitSynonyms``) and the ADaM conventions
(``AnalysisEvents``, ``AnalysisPeriods``, ``AnalysisPhases``, ``AnalysisWindows``).
:func:`import_workbook` writes
the spec files back, so that the loaders give equal specs and a second export the same
workbook.

``Order`` in ``Variables`` is the mapping order (a variable may use the ones before it).
A composite where clause is several ``WhereClauses`` rows with one ``ID``.
:func:`spec_folder` lets every command take a workbook where it takes a spec folder, with
errors that name the workbook cell (:mod:`.provenance`). A define-generator workbook made
by another tool, without the mapping columns, is read by :mod:`.p21` into define.xml
metadata (``metadata.yaml``), which only ``define`` uses.
"""

from cdisc_mapper.xlsx.exporter import export_workbook
from cdisc_mapper.xlsx.folder import is_workbook, spec_folder
from cdisc_mapper.xlsx.importer import import_workbook

__all__ = ["export_workbook", "import_workbook", "is_workbook", "spec_folder"]
