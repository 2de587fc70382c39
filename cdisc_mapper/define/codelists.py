"""Code lists of one define.xml: the terms the data use, with NCI codes and decodes.

One CodeList per CDISC or sponsor list (``CL.<short name>``), shared by every variable
that uses it, holding the union of the values found in those variables (in the list's
own order), or every term when define.yaml asks for the full list. CDISC lists carry
their NCI code and each term's code (``Alias Context="nci:ExtCodeID"``) and point at
their CT package (``def:StandardOID``); a value added to an extensible list is marked
``def:ExtendedValue="Yes"`` and has no code. Sponsor lists (no NCI code) are
``def:IsNonStandard="Yes"``. A list whose values have a decode (a sponsor decode, or the
paired variable in the data, e.g. ``LBTESTCD``/``LBTEST``) is written with
``CodeListItem``/``Decode``, else with ``EnumeratedItem``. External dictionaries
(MedDRA...) become ``ExternalCodeList`` with the version from define.yaml.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cdisc_mapper.define.datatypes import same_number
from cdisc_mapper.define.model import CodeListDef, StandardDef, Term, oid_part
from cdisc_mapper.spec.define import DefineExtras

#: Define-XML def:Standard PublishingSet of each terminology source.
PUBLISHING_SETS = {"sdtm": "SDTM", "adam": "ADaM", "define-xml": "DEFINE-XML"}
MEDDRA = "MedDRA"
ISO_3166 = "ISO 3166-1 alpha-3"
#: Where a dictionary's home page is, when define.yaml gives no href.
DICTIONARY_HOMES = {
    "MEDDRA": "https://www.meddra.org/",
    ISO_3166.upper(): "https://www.iso.org/iso-3166-country-codes.html",
}
#: Variables coded with an external dictionary that the IG metadata leaves unnamed:
#: SDTMIG 3.4 AE (AEDECOD, AEBODSYS "from the coding dictionary (e.g., MedDRA)") and the
#: MedDRA hierarchy ADaM OCCDS copies from it (ADaM OCCDS v1.1, dictionary coding
#: variables).
DICTIONARY_VARIABLES = dict.fromkeys(
    ["AELLT", "AELLTCD", "AEDECOD", "AEPTCD", "AEHLT", "AEHLTCD", "AEHLGT", "AEHLGTCD",
     "AEBODSYS", "AEBDSYCD", "AESOC", "AESOCCD"],
    MEDDRA,
)  # fmt: skip
#: Variables the IG says are "generally" coded with a dictionary (SDTMIG 3.4 DM COUNTRY:
#: ISO 3166-1 Alpha-3): coded with it when define.yaml ``dictionaries:`` names it.
DECLARED_DICTIONARY_VARIABLES = {"COUNTRY": ISO_3166}


def coded_dictionary(variable: str, extras: DefineExtras, described: str = "") -> str | None:
    """The external dictionary a variable is coded with: the IG's described value domain
    when it names MedDRA, else :data:`DICTIONARY_VARIABLES`, else
    :data:`DECLARED_DICTIONARY_VARIABLES` when define.yaml declares the dictionary."""
    if described.strip() == MEDDRA:
        return MEDDRA
    declared = DECLARED_DICTIONARY_VARIABLES.get(variable)
    if declared is not None and extras.dictionary(declared) is not None:
        return declared
    return DICTIONARY_VARIABLES.get(variable)


def ct_standard(source: str, version: str) -> StandardDef:
    """The def:Standard of a CDISC CT package of ``source`` (a key of PUBLISHING_SETS)."""
    return ct_package(PUBLISHING_SETS[source], version)


def ct_package(publishing: str, version: str) -> StandardDef:
    """The def:Standard of the CDISC CT package of a publishing set (SDTM, ADaM...)."""
    return StandardDef(
        oid=f"STD.CT.{publishing}.{version}",
        name="CDISC/NCI",
        type="CT",
        version=version,
        publishing_set=publishing,
    )


@dataclass
class _Use:
    codelist: Any
    values: set[str] = field(default_factory=set)
    decodes: dict[str, str] = field(default_factory=dict)
    numeric: bool = True


class CodelistBuilder:
    """Collects code list uses while variables are assembled, then builds the lists."""

    def __init__(self, extras: DefineExtras) -> None:
        self.extras = extras
        self._uses: dict[str, _Use] = {}
        self._external: dict[str, str] = {}
        self.warnings: list[str] = []

    def use(
        self,
        codelist: Any,
        values: Iterable[str],
        *,
        numeric: bool,
        decodes: dict[str, str] | None = None,
    ) -> str:
        """Record that a variable holding ``values`` uses ``codelist``; return its OID."""
        oid = f"CL.{oid_part(codelist.short_name)}"
        use = self._uses.setdefault(oid, _Use(codelist))
        use.values.update(v for v in values if v != "")
        use.numeric = use.numeric and numeric
        for code, decode in (decodes or {}).items():
            use.decodes.setdefault(code, decode)
        return oid

    def external(self, dictionary: str) -> str:
        """The OID of an external dictionary's code list (e.g. ``CL.MEDDRA``)."""
        oid = f"CL.{oid_part(dictionary.upper().replace(' ', ''))}"
        self._external[oid] = dictionary
        return oid

    def build(self) -> tuple[dict[str, CodeListDef], list[StandardDef]]:
        """The code lists, by OID, and the CT standards they point at."""
        out: dict[str, CodeListDef] = {}
        standards: dict[str, StandardDef] = {}
        for oid in sorted(self._uses):
            built = self._build_one(oid, self._uses[oid], standards)
            if built.terms:  # a list only variables without data use is left out
                out[oid] = built
        for oid in sorted(self._external):
            name = self._external[oid]
            spec = self.extras.dictionary(name)
            if spec is None:
                self.warnings.append(
                    f"no version of dictionary {name} in define.yaml dictionaries: "
                    "(ExternalCodeList written without Version)"
                )
            out[oid] = CodeListDef(
                oid=oid,
                name=name,
                data_type="text",
                non_standard=True,
                dictionary=name,
                version=spec.version if spec else None,
                href=(spec.href if spec and spec.href else DICTIONARY_HOMES.get(name.upper())),
            )
        return out, [standards[k] for k in sorted(standards)]

    def _build_one(self, oid: str, use: _Use, standards: dict[str, StandardDef]) -> CodeListDef:
        cl = use.codelist
        sponsor = not cl.code
        full = self.extras.full_codelist(cl.short_name)
        by_value = {t.submission_value: t for t in cl.terms}
        order = {t.submission_value: i for i, t in enumerate(cl.terms)}
        values = set(by_value) if full else set(use.values)
        if use.numeric:
            values = {_numeric_code(v, by_value) for v in values}
        chosen = sorted(values, key=lambda v: (order.get(v, len(order)), v))
        terms: list[Term] = []
        for value in chosen:
            term = by_value.get(value)
            added = term is not None and not term.code  # a study's term (study.yaml codelists)
            decode = use.decodes.get(value) or (
                term.preferred_term if (sponsor or added) and term else None
            )
            if term is None and not sponsor and not cl.extensible:
                self.warnings.append(
                    f"{value!r} is not a term of non-extensible codelist {cl.short_name}"
                )
            terms.append(
                Term(
                    value=value,
                    decode=decode or None,
                    nci_code=term.code if term is not None and not sponsor else None,
                    extended=(term is None or added) and not sponsor and bool(cl.extensible),
                )
            )
        if any(t.decode for t in terms):
            terms = [
                t if t.decode else Term(t.value, t.value, t.nci_code, t.extended) for t in terms
            ]
        data_type = "text"
        if use.numeric and terms:
            data_type = "integer" if all(_is_int(t.value) for t in terms) else "float"
        if sponsor and getattr(cl, "data_type", "text") in ("integer", "float") and use.numeric:
            data_type = cl.data_type
        standard_oid = None
        if terms and not sponsor and cl.source in PUBLISHING_SETS:
            std = ct_standard(cl.source, cl.version)
            standards[std.oid] = std
            standard_oid = std.oid
        return CodeListDef(
            oid=oid,
            name=cl.name,
            data_type=data_type,
            terms=terms,
            nci_code=None if sponsor else cl.code,
            standard_oid=standard_oid,
            non_standard=sponsor,
        )


def _is_int(text: str) -> bool:
    try:
        return float(text).is_integer()
    except ValueError:
        return False


def _numeric_code(value: str, by_value: dict[str, Any]) -> str:
    """A numeric data value as the code list writes it (``1.0`` -> ``1``)."""
    if value in by_value:
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    for code in by_value:
        try:
            if same_number(float(code), number):
                return code
        except ValueError:
            continue
    return str(int(number)) if number.is_integer() else value
