"""Standards metadata: SDTMIG 3.4, ADaMIG 1.3, CDISC controlled terminology, sponsor lists.

Everything is read from the project's ``specs/`` folder (built by ``tools/build_specs.py``
from the CDISC reference exports; see ``specs/README.md``), never from the reference
exports themselves; an installed wheel carries it as package data (see
:func:`bundled_path`). Loaders are cached per resolved folder::

    from cdisc_mapper.standards import load_sdtmig, load_adamig, load_terminology

    sdtmig = load_sdtmig()
    sdtmig.variable("DM", "SEX").codelist_codes      # ("C66731",)
    sdtmig.variable_allowed("MH", "MHSTDY").source   # "model" (SDTM v1.8 Events class)
    load_terminology().get("SEX").match("female")    # Term(submission_value="F", ...)
"""

from cdisc_mapper.standards.ct_loader import load_terminology
from cdisc_mapper.standards.ig import load_adamig, load_sdtmig
from cdisc_mapper.standards.metadata import ClassVariable, DatasetMeta, Standard, VariableMeta
from cdisc_mapper.standards.paths import (
    SPECS_ENV,
    PackageDataError,
    bundled_path,
    resolve_specs_dir,
)
from cdisc_mapper.standards.terminology import Codelist, Term, Terminology

__all__ = [
    "SPECS_ENV",
    "ClassVariable",
    "Codelist",
    "DatasetMeta",
    "PackageDataError",
    "Standard",
    "Term",
    "Terminology",
    "VariableMeta",
    "bundled_path",
    "load_adamig",
    "load_sdtmig",
    "load_terminology",
    "resolve_specs_dir",
]
