"""The annotated CRF (aCRF) generated from the mapping specs: which SDTM variable each raw
column feeds (:mod:`.annotate`), the pages (:mod:`.layout`), the PDF (:mod:`.render`)
and the command's orchestration (:mod:`.build`). define.xml cites its pages."""

from cdisc_mapper.acrf.annotate import NOT_SUBMITTED, Annotation, FieldCrf, FormCrf, annotate
from cdisc_mapper.acrf.build import ACRF_FILE, ACRF_TITLE, Acrf, build_acrf, write_acrf
from cdisc_mapper.acrf.layout import Layout, lay_out

__all__ = [
    "ACRF_FILE",
    "ACRF_TITLE",
    "NOT_SUBMITTED",
    "Acrf",
    "Annotation",
    "FieldCrf",
    "FormCrf",
    "Layout",
    "annotate",
    "build_acrf",
    "lay_out",
    "write_acrf",
]
