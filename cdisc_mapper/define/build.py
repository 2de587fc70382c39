"""Build the DefineModel of one standard: header, documents, datasets, code lists.

The creation date-time (ODM CreationDateTime, UTC) is ``SOURCE_DATE_EPOCH`` when it is
set (the reproducible-builds convention: reruns give byte-identical files), else the time
the document is made.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

from cdisc_mapper.datasetjson import dataset_files, read_dataset
from cdisc_mapper.define.assemble import Assembler
from cdisc_mapper.define.info import DatasetInfo
from cdisc_mapper.define.methods import share_methods
from cdisc_mapper.define.model import DefineModel, Leaf, StandardDef, oid_part
from cdisc_mapper.epoch import source_date
from cdisc_mapper.errors import CdiscMapperError, Location
from cdisc_mapper.oids import metadata_version_oid, study_oid
from cdisc_mapper.spec.define import DefineExtras, Which
from cdisc_mapper.xpt import XptMetadata


class DefineInputError(CdiscMapperError):
    """The datasets define.xml should describe are missing or unreadable."""


def creation_datetime() -> str:
    """ODM CreationDateTime (UTC): SOURCE_DATE_EPOCH when set, else now."""
    stamp = source_date()
    if stamp is None:
        stamp = datetime.now(UTC).replace(tzinfo=None)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S")


def tool_version() -> str:
    try:
        return metadata.version("cdisc-mapper")
    except metadata.PackageNotFoundError:
        return "0"


def read_datasets(folder: Path) -> list[tuple[Path, pd.DataFrame, XptMetadata]]:
    """Every dataset file of ``folder`` (``.xpt``, else Dataset-JSON), by file name."""
    folder = Path(folder)
    files = dataset_files(folder)
    if not files:
        raise DefineInputError(
            "no .xpt datasets to describe",
            where=Location(file=str(folder)),
            hint="write the datasets first (cdisc-mapper sdtm / adam)",
        )
    out = []
    for path in files:
        frame, meta = read_dataset(path)
        out.append((path, frame, meta))
    return out


def new_model(
    which: Which,
    study: object,
    extras: DefineExtras,
    ig: StandardDef,
) -> DefineModel:
    """The header of a define.xml and its documents (def:leaf) from define.yaml."""
    studyid = str(getattr(study, "studyid", "STUDY"))
    title = " ".join(str(getattr(study, "title", "") or studyid).split())
    protocol = getattr(study, "protocol", None) or studyid
    sponsor = str(getattr(study, "sponsor", "") or "")
    label = {"sdtm": "SDTM", "adam": "ADaM"}[which]
    model = DefineModel(
        which=which,
        file_oid=f"DEF.{oid_part(studyid)}.{label}",
        study_oid=study_oid(studyid),
        study_name=studyid,
        study_description=title,
        protocol_name=str(protocol),
        mdv_oid=metadata_version_oid(studyid, ig.name, ig.version),
        mdv_name=f"Study {studyid}, {label} data definitions",
        mdv_description=f"{label} datasets of study {studyid} ({ig.name} {ig.version})",
        creation_datetime=creation_datetime(),
        originator=extras.spec.originator or sponsor or "cdisc_mapper",
        source_system_version=tool_version(),
        standards=[ig],
    )
    for doc_id in sorted(extras.spec.documents):
        doc = extras.spec.documents[doc_id]
        if which not in doc.standards:
            continue
        leaf_id = f"LF.{oid_part(doc_id)}"
        model.leaves.append(Leaf(id=leaf_id, href=doc.href, title=doc.title))
        if doc.kind == "acrf" and model.acrf_leaf is None:
            model.acrf_leaf = leaf_id
        else:
            model.supplemental_leaves.append(leaf_id)
    return model


def assemble(
    model: DefineModel,
    extras: DefineExtras,
    infos: list[DatasetInfo],
    order: Callable[[DatasetInfo], object],
) -> list[str]:
    """Add the datasets (in ``order``) and the code lists; return warnings."""
    assembler = Assembler(model, extras, model.standards[0].oid)
    for info in sorted(infos, key=order):  # type: ignore[arg-type]
        assembler.add_dataset(info)
    warnings = assembler.finish()
    share_methods(model, assembler.generated)
    _check_leaves(model)
    return warnings


def _check_leaves(model: DefineModel) -> None:
    """Methods and comments may only point at documents of this define.xml."""
    known = {leaf.id for leaf in model.leaves}
    for what, defs in (("method", model.methods), ("comment", model.comments)):
        for d in defs.values():
            if d.document is not None and d.document.leaf_id not in known:
                raise CdiscMapperError(
                    f"{what} {d.oid} cites document {d.document.leaf_id[3:]!r}, which "
                    f"define.yaml does not list for {model.which}",
                    where="define.yaml",
                    hint="add the standard to the document's standards:",
                )
