"""The same synthetic forms as an EDC exports them: a REDCap project (flat records CSV
with raw codes, data dictionary) or a CDISC ODM 1.3.2 file (metadata and ClinicalData).

Both carry every cell of the CSV forms exactly, so that the bundled study's specs map
them to the same SDTM (``tests/data/edc_study_*``):

* REDCap: each form is a repeating instrument (a form may hold several rows of a
  subject, double entries included); a field is ``<form>_<column>`` in lower case (REDCap
  field names are unique in a project), read back as ``<COLUMN>`` with ``export:
  {column_case: upper, strip_form_prefix: true}``; the record id field is ``pt_id``.
* ODM: each form is an ItemGroupDef ``IG.<FORM>`` named ``<form>``, its items
  ``IT.<FORM>.<COLUMN>`` named ``<COLUMN>`` (``item_columns: name``); the subject is the
  SubjectKey; every record an ItemGroupData with its ItemGroupRepeatKey.
* In both, a column with a few distinct values (at most :data:`MAX_CODED`) is a coded
  field (REDCap dropdown; ODM CodeList) whose codes are 1, 2, ... in sorted order of the
  values and whose labels are the values, so the reader's decoding gives back the text.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
from lxml import etree

SUBJECT = "PT_ID"
RECORD_ID = "pt_id"
MAX_CODED = 8
REDCAP_RECORDS = "redcap_records.csv"
REDCAP_DICTIONARY = "redcap_dictionary.csv"
ODM_FILE = "odm_export.xml"
EDC_FILES = {"redcap": (REDCAP_RECORDS, REDCAP_DICTIONARY), "odm": (ODM_FILE,)}
ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DICTIONARY_HEADER = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
)  # fmt: skip


def coded(values: pd.Series) -> list[str] | None:
    """The sorted distinct values of a column written as a coded field, or None."""
    distinct = sorted({str(v) for v in values if str(v).strip()})
    if not distinct or len(distinct) > MAX_CODED:
        return None
    if any("|" in v or v != v.strip() or "\n" in v for v in distinct):
        return None
    return distinct


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _field(form: str, column: str) -> str:
    return f"{form}_{column}".lower()


def redcap_files(forms: dict[str, pd.DataFrame]) -> dict[str, str]:
    """The records export and data dictionary of the forms (form name -> frame)."""
    blank = [""] * (len(DICTIONARY_HEADER) - 6)
    dictionary: list[list[str]] = [list(DICTIONARY_HEADER)]
    dictionary.append([RECORD_ID, next(iter(forms)), "", "text", "Patient ID", "", *blank])
    codes: dict[str, dict[str, str]] = {}
    columns: list[str] = []
    for form, frame in forms.items():
        for col in frame.columns:
            if col == SUBJECT:
                continue
            field = _field(form, col)
            choices = coded(frame[col])
            kind = "dropdown" if choices else "text"
            listed = " | ".join(f"{i}, {v}" for i, v in enumerate(choices or [], 1))
            dictionary.append([field, form, "", kind, col, listed, *blank])
            codes[field] = {v: str(i) for i, v in enumerate(choices or [], 1)}
            columns.append(field)
    header = [RECORD_ID, "redcap_repeat_instrument", "redcap_repeat_instance", *columns]
    rows: list[list[str]] = [header]
    position = {c: i for i, c in enumerate(header)}
    for form, frame in forms.items():
        count: dict[str, int] = {}
        own = [c for c in frame.columns if c != SUBJECT]
        for rec in frame.itertuples(index=False):
            values = dict(zip(frame.columns, rec, strict=True))
            subject = str(values[SUBJECT])
            count[subject] = count.get(subject, 0) + 1
            row = [""] * len(header)
            row[0], row[1], row[2] = subject, form, str(count[subject])
            for col in own:
                field, text = _field(form, col), str(values[col])
                row[position[field]] = codes[field].get(text, text) if text else ""
            rows.append(row)
    return {REDCAP_RECORDS: _csv_text(rows), REDCAP_DICTIONARY: _csv_text(dictionary)}


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{ODM_NS}}}{tag}", attrs)


def _metadata(study: etree._Element, forms: dict[str, pd.DataFrame]) -> dict[str, dict[str, str]]:
    mdv = _sub(study, "MetaDataVersion", OID="MDV.1", Name="Synthetic export")
    protocol = _sub(mdv, "Protocol")
    _sub(protocol, "StudyEventRef", StudyEventOID="SE.CRF", Mandatory="No")
    event = _sub(mdv, "StudyEventDef", OID="SE.CRF", Name="CRF", Repeating="Yes", Type="Common")
    for form in forms:
        _sub(event, "FormRef", FormOID=f"F.{form.upper()}", Mandatory="No")
    for form in forms:
        fdef = _sub(mdv, "FormDef", OID=f"F.{form.upper()}", Name=form, Repeating="Yes")
        _sub(fdef, "ItemGroupRef", ItemGroupOID=f"IG.{form.upper()}", Mandatory="No")
    codes: dict[str, dict[str, str]] = {}
    items, lists = [], []
    for form, frame in forms.items():
        group = _sub(mdv, "ItemGroupDef", OID=f"IG.{form.upper()}", Name=form, Repeating="Yes")
        for col in frame.columns:
            if col == SUBJECT:
                continue
            oid = f"IT.{form.upper()}.{col}"
            _sub(group, "ItemRef", ItemOID=oid, Mandatory="No")
            items.append((oid, col, coded(frame[col])))
    for oid, col, choices in items:
        item = etree.Element(f"{{{ODM_NS}}}ItemDef", OID=oid, Name=col, DataType="text")
        codes[oid] = {}
        if choices:
            etree.SubElement(item, f"{{{ODM_NS}}}CodeListRef", CodeListOID=f"CL.{oid[3:]}")
            codelist = etree.Element(
                f"{{{ODM_NS}}}CodeList", OID=f"CL.{oid[3:]}", Name=col, DataType="text"
            )
            for i, value in enumerate(choices, 1):
                ci = etree.SubElement(codelist, f"{{{ODM_NS}}}CodeListItem", CodedValue=str(i))
                decode = etree.SubElement(ci, f"{{{ODM_NS}}}Decode")
                etree.SubElement(decode, f"{{{ODM_NS}}}TranslatedText").text = value
                codes[oid][value] = str(i)
            lists.append(codelist)
        mdv.append(item)
    for codelist in lists:
        mdv.append(codelist)
    return codes


def odm_file(forms: dict[str, pd.DataFrame], study_oid: str) -> str:
    """The forms as an ODM 1.3.2 Snapshot with their metadata."""
    root = etree.Element(
        f"{{{ODM_NS}}}ODM",
        nsmap={None: ODM_NS},
        FileType="Snapshot",
        FileOID=f"ODM.{study_oid}",
        CreationDateTime="2016-01-01T00:00:00",
        ODMVersion="1.3.2",
    )
    study = _sub(root, "Study", OID=study_oid)
    glob = _sub(study, "GlobalVariables")
    for tag in ("StudyName", "StudyDescription", "ProtocolName"):
        _sub(glob, tag).text = study_oid
    codes = _metadata(study, forms)
    clinical = _sub(root, "ClinicalData", StudyOID=study_oid, MetaDataVersionOID="MDV.1")
    for form, frame in forms.items():
        _clinical_form(clinical, form, frame, codes)
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return text.decode("utf-8")


def _clinical_form(
    clinical: etree._Element, form: str, frame: pd.DataFrame, codes: dict[str, dict[str, str]]
) -> None:
    """Each run of a subject's consecutive records of ``form`` as one SubjectData, so
    that the records keep the form's order."""
    count: dict[str, int] = {}
    last, target = None, None
    for rec in frame.itertuples(index=False):
        values = dict(zip(frame.columns, rec, strict=True))
        subject = str(values[SUBJECT])
        if subject != last or target is None:
            subj = _sub(clinical, "SubjectData", SubjectKey=subject)
            event = _sub(subj, "StudyEventData", StudyEventOID="SE.CRF")
            target = _sub(event, "FormData", FormOID=f"F.{form.upper()}")
            last = subject
        count[subject] = count.get(subject, 0) + 1
        group = _sub(
            target, "ItemGroupData", ItemGroupOID=f"IG.{form.upper()}",
            ItemGroupRepeatKey=str(count[subject]),
        )  # fmt: skip
        for col, value in values.items():
            text = str(value)
            if col == SUBJECT or not text:
                continue
            oid = f"IT.{form.upper()}.{col}"
            _sub(group, "ItemData", ItemOID=oid, Value=codes[oid].get(text, text))


def edc_files(fmt: str, forms: dict[str, pd.DataFrame], study_oid: str) -> dict[str, str]:
    """The export files (name -> text) of the forms in ``fmt`` (``redcap``, ``odm``)."""
    if fmt == "redcap":
        return redcap_files(forms)
    return {ODM_FILE: odm_file(forms, study_oid)}
