"""A study's ADaM specs (``adam/*.yaml``) in the spec workbook: the rows to write and the
YAML documents read back.

Where each part of the ADaM specs goes (rows of a dataset whose name starts with ``AD``):

* Study sheet: ``adam.conventions.<key>`` rows and the conventions tables (see
  :mod:`.conventions_sheets`); ``adam.reports`` (only when ``reports.yaml`` exists), the
  file's model as one YAML text (defaults shown).
* Datasets: Description = ``label``; **Structure = the spec's ``structure`` as written**
  (``ADSL``, ``BDS`` or ``OCCDS``; define.xml's structure text is made from the keys);
  Class = the spec's ``class``, else the ADaMIG class of the structure (a Class equal to
  that class is read back as not given: the same define.xml); Purpose ``Analysis``; Key
  Variables; Comment.
* Records: one row per record step (Order, Operation = ``op``, Arguments = JSON).
* Variables: one row per variable in spec order: Operation = ``derive``, Arguments = JSON;
  Origin, Comment, Codelist and Format exactly as the spec gives them (blank: not given);
  Method = ``MT.<DATASET>.<VARIABLE>``, whose Methods-sheet row holds the spec's text, or
  the spec's ``M-<ID>`` reference as is. **Type** = the spec's ``type`` (``Char``/``Num``;
  blank: not given). **Label** = the spec's ``label``, or, when the spec gives none, the
  label the variable gets for define.xml, with **Label Source** naming where that comes from
  (``ADaMIG 1.3``, ``SDTMIG 3.4 DM.AGE`` for a copied SDTM variable, ``ADSL.EFFFL`` for a
  copied ADaM variable). So a Label is the spec's exactly when its Label Source is blank; a
  shown label that was edited is an error (clear Label Source to give a sponsor label).
  Operation blank reads as ``keep``. Data Type, Mandatory and Source are for reviewers
  (not read): the define.xml data type of the variable's type (a numeric date is
  ``integer``, as define.xml gives it with its DATE9. display format; integer or float of
  other numbers is a guess from the name and derivation, define.xml takes it from the
  data), ADaMIG core ``Req``, and what the derivation reads.

:func:`adam_content` makes the rows; :func:`~cdisc_mapper.xlsx.adam_reader.read_adam`
(in :mod:`.adam_reader`, re-exported here) reads them back; both are pure (no files
written).
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from cdisc_mapper.adam import load_adam_specs
from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.engine import CLASSES, dataset_metadata
from cdisc_mapper.adam.model import AdamVariable
from cdisc_mapper.spec.adam import ADAM_FOLDER, REPORTS_FILE, VariableSpec
from cdisc_mapper.spec.adam_loader import adamig_variable, copied_from
from cdisc_mapper.spec.base import is_adam
from cdisc_mapper.spec.yamlio import dump_yaml
from cdisc_mapper.standards import load_adamig, load_sdtmig
from cdisc_mapper.xlsx import layout as L
from cdisc_mapper.xlsx.adam_reader import METHOD_REF
from cdisc_mapper.xlsx.adam_reader import read_adam as read_adam
from cdisc_mapper.xlsx.conventions_sheets import conventions_content
from cdisc_mapper.xlsx.sheet import Row

_INTEGER_SUFFIXES = ("SEQ", "DY", "NUM", "N", "CD")
_INTEGER_NAMES = ("AGE", "APERIOD", "AWTARGET", "AWTDIFF")
_INTEGER_DERIVES = {"count", "sequence", "analysis_day"}


def _dump(model: BaseModel) -> str:
    data = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return dump_yaml(data).rstrip("\n")


def _data_type(name: str, derive: str, vtype: str | None, fmt: str | None) -> str:
    """define.xml DataType for reviewers: numbers are integer or float (numeric dates and
    times are integer, with a display format), text is text (ISO 8601 ``--DTC`` datetime)."""
    if vtype == "Char":
        return "datetime" if name.endswith("DTC") else "text"
    if vtype != "Num":
        return ""
    temporal = bool(fmt and re.match(r"^(E8601|DATE|TIME|DATETIME|YYMMDD|DDMMYY)", fmt.upper()))
    if temporal or derive in _INTEGER_DERIVES or name.endswith(_INTEGER_SUFFIXES):
        return "integer"
    return "integer" if name in _INTEGER_NAMES else "float"


def adam_content(study_dir: Path) -> dict[str, list[Row]]:
    """Workbook rows of the study's ADaM specs, by sheet (Study, Datasets, Records,
    Variables, Methods), each row keyed by the column titles of :data:`layout.SHEETS`.

    Empty when the study has no ``adam/`` folder. Raises :class:`SpecError` when the specs
    do not load (:func:`load_adam_specs`).
    """
    study_dir = Path(study_dir)
    if not (study_dir / ADAM_FOLDER).is_dir():
        return {}
    specs = load_adam_specs(study_dir)
    metas = {
        name: {v.name: v for v in variables}
        for name, variables in dataset_metadata(BuildContext(specs=specs)).items()
    }
    adamig, sdtmig = load_adamig(), load_sdtmig()
    classes = CLASSES

    conventions = conventions_content(specs.conventions)
    study = conventions.pop(L.STUDY)
    if (study_dir / ADAM_FOLDER / REPORTS_FILE).is_file():
        study.append({"Attribute": "adam.reports", "Value": _dump(specs.reports)})
    datasets: list[Row] = []
    records: list[Row] = []
    variables: list[Row] = []
    methods: list[Row] = []
    for name in sorted(specs.datasets, key=lambda n: (n != "ADSL", n)):
        ds = specs.datasets[name]
        datasets.append(
            {
                "Dataset": name,
                "Description": ds.label,
                "Class": ds.class_ or classes.get(ds.structure, ""),
                "Structure": ds.structure,
                "Purpose": "Analysis",
                "Key Variables": ", ".join(ds.keys),
                "Repeating": "No" if ds.structure == "ADSL" else "Yes",
                "Reference Data": "No",
                "Comment": ds.comment,
            }
        )
        for i, step in enumerate(ds.records, start=1):
            records.append(
                {
                    "Dataset": name,
                    "Order": i,
                    "Operation": step.op,
                    # 'after' (when a step runs) travels with the arguments
                    "Arguments": L.args_json({**step.model_dump(include={"after"}), **step.args})
                    if step.after
                    else L.args_json(step.args),
                }
            )
        for order, (var, vspec) in enumerate(ds.variables.items(), start=1):
            meta = metas[name].get(var) or _working_meta(var, vspec)
            label, label_source = vspec.label, None
            if label is None and not vspec.working(var):
                label = meta.label
                if adamig_variable(specs, name, var) is not None:
                    label_source = f"{adamig.name} {adamig.version}"
                elif (copy := copied_from(specs, name, var)) is not None:
                    dom, src = copy
                    if is_adam(dom):
                        label_source = f"{dom}.{src}"
                    else:
                        label_source = f"{sdtmig.name} {sdtmig.version} {dom}.{src}"
            method = ""
            if vspec.method is not None:
                if METHOD_REF.match(vspec.method):
                    method = vspec.method
                else:
                    method = f"MT.{name}.{var}"
                    methods.append(
                        {
                            "ID": method,
                            "Name": f"Algorithm to derive {name}.{var}",
                            "Type": "Computation",
                            "Description": vspec.method,
                        }
                    )
            variables.append(
                {
                    "Order": order,
                    "Dataset": name,
                    "Variable": var,
                    "Label": label,
                    "Data Type": _data_type(var, vspec.derive, meta.type, meta.format),
                    "Format": vspec.format,
                    "Mandatory": "Yes" if meta.core == "Req" else "No",
                    "Codelist": vspec.codelist,
                    "Origin": vspec.origin,
                    "Source": meta.source,
                    "Method": method,
                    "Comment": vspec.comment,
                    "Operation": vspec.derive,
                    "Arguments": L.args_json(vspec.args),
                    "Type": vspec.type,
                    "Label Source": label_source,
                    "Keep": None if vspec.keep else "No",
                }
            )
    return {
        L.STUDY: study,
        L.DATASETS: datasets,
        L.RECORDS: records,
        L.VARIABLES: variables,
        L.METHODS: methods,
        **conventions,
    }


def _working_meta(var: str, vspec: VariableSpec) -> AdamVariable:
    """What a working variable's row shows (it has no define.xml metadata): the spec's."""
    return AdamVariable(name=var, label=vspec.label or "", type=vspec.type, format=vspec.format)
