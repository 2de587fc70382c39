"""Standards metadata: SDTMIG 3.4, ADaMIG 1.3, CDISC controlled terminology, sponsor lists.

Everything is read from the project's ``specs/`` folder (built by ``tools/build_specs.py``
from the CDISC reference exports; see ``specs/README.md``), never from the reference
exports themselves. Loaders are cached per resolved folder::

    from cdisc_mapper.standards import load_sdtmig, load_adamig, load_terminology

    sdtmig = load_sdtmig()
    sdtmig.variable("DM", "SEX").codelist_codes      # ("C66731",)
    sdtmig.variable_allowed("MH", "MHSTDY").source   # "model" (SDTM v1.8 Events class)
    load_terminology().get("SEX").match("female")    # Term(submission_value="F", ...)
"""

from cdisc_mapper.standards.ct_loader import load_terminology
from cdisc_mapper.standards.ig import load_adamig, load_sdtmig
from cdisc_mapper.standards.metadata import ClassVariable, DatasetMeta, Standard, VariableMeta
from cdisc_mapper.standards.paths import DEFAULT_SPECS_DIR, SPECS_ENV, resolve_specs_dir
from cdisc_mapper.standards.terminology import Codelist, Term, Terminology

__all__ = [
    "DEFAULT_SPECS_DIR",
    "SPECS_ENV",
    "ClassVariable",
    "Codelist",
    "DatasetMeta",
    "Standard",
    "Term",
    "Terminology",
    "VariableMeta",
    "load_adamig",
    "load_sdtmig",
    "load_terminology",
    "resolve_specs_dir",
]
