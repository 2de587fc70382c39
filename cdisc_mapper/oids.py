"""The OIDs that define.xml and the Dataset-JSON files share, made in one place.

Dataset-JSON v1.1 (section 2, "itemGroupOID", "columns.itemOID", "studyOID",
"metaDataVersionOID") requires the dataset's and each column's OID to be those of the
ItemGroupDef and ItemDef of the define.xml the file names in ``metaDataRef``. Both
writers call these functions, so the two agree by construction: ``IG.DM``,
``IT.DM.SEX``, ``STDY.ALSMSC``, ``MDV.ALSMSC.SDTMIG.3.4``.
"""

from __future__ import annotations

import re


def oid_part(text: str) -> str:
    """A name made safe for an OID part: letters, digits, ``_ - .`` kept, others ``_``."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", text.strip()) or "_"


def item_group_oid(dataset: str) -> str:
    """The ItemGroupDef OID of a dataset (``IG.DM``)."""
    return f"IG.{oid_part(dataset)}"


def item_oid(dataset: str, variable: str) -> str:
    """The ItemDef OID of a dataset's variable (``IT.DM.SEX``)."""
    return f"IT.{oid_part(dataset)}.{oid_part(variable)}"


def study_oid(studyid: str) -> str:
    """The ODM Study OID of a study (``STDY.ALSMSC``)."""
    return f"STDY.{oid_part(studyid)}"


def metadata_version_oid(studyid: str, ig_name: str, ig_version: str) -> str:
    """The MetaDataVersion OID of a study's define.xml for one IG
    (``MDV.ALSMSC.SDTMIG.3.4``)."""
    return f"MDV.{oid_part(studyid)}.{ig_name}.{ig_version}"
