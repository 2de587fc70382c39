"""Dataset and variable metadata of an implementation guide (SDTMIG, ADaMIG).

For SDTMIG, :class:`Standard` also knows the SDTM model's general observation class
variables (:class:`ClassVariable`, SDTM v1.8) and derives from them the variables a domain
may hold beyond its IG table, in model order (:meth:`Standard.allowed_variables`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Literal

from cdisc_mapper.errors import StandardsError

#: The generic SDTMIG dataset behind every SUPP-- dataset.
SUPPQUAL = "SUPPQUAL"
_SUPP_NAME = re.compile(r"^SUPP[A-Z][A-Z0-9]{1,3}$")

#: SDTM general observation classes (SDTMIG ``DatasetMeta.class_`` values) whose domains
#: may add the model's class variables; other classes use their IG table only.
GENERAL_OBSERVATION_CLASSES = ("Interventions", "Events", "Findings", "Findings About")
#: Classes of ``specs/sdtm-1.8/class_variables.csv``: the model's General Observations
#: identifiers and timing variables (shared by every general observation class) and the
#: variables of each class.
MODEL_CLASSES = ("Identifiers", "Timing", *GENERAL_OBSERVATION_CLASSES)
#: Placeholder for the domain prefix in SDTM model names and labels.
PREFIX = "--"
#: A label placeholder ADaMIG leaves to the producer (``{Date}`` in the label of ``*DT``).
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def label_placeholders(label: str) -> tuple[str, ...]:
    """The ``{...}`` placeholders of an IG label, without braces (``"{Date}"`` ->
    ``("Date",)``); empty for a label that names its variable."""
    return tuple(_PLACEHOLDER.findall(label))


@dataclass(frozen=True)
class DatasetMeta:
    """One dataset (SDTM domain) or data structure (ADaM) of an implementation guide.

    ``class_`` is the observation class (SDTM, e.g. ``Findings``) or ADaM class (e.g.
    ``BASIC DATA STRUCTURE``); ``structure`` is the IG's record structure description.
    """

    name: str
    label: str
    class_: str
    structure: str
    subclass: str = ""


@dataclass(frozen=True)
class VariableMeta:
    """One variable of a dataset as the implementation guide defines it.

    ``core`` is ``Req``/``Exp``/``Perm`` (SDTMIG) or ``Req``/``Cond``/``Perm`` (ADaMIG).
    ``role`` is the SDTM role (empty for ADaM, whose grouping is ``variable_set``).
    ``codelist_codes`` are NCI codelist codes (resolve them with
    :meth:`cdisc_mapper.standards.Terminology.get`). ``value_list`` holds the values the IG
    itself lists (e.g. DOMAIN ``VS``, ADaM flags ``Y``/``N``). ``template`` is the IG's
    generic name when this variable was resolved from one (ADaM ``TRTxxP`` -> ``TRT01P``).
    ``source`` is ``"ig"`` for variables of the standard's own tables and ``"model"`` for
    SDTM model class variables added by :meth:`Standard.allowed_variables`; for those,
    ``order`` is the model's variable order within its class table, ``core`` is ``Perm``
    and ``described_value_domain`` the model's format (e.g. ``ISO 8601``).
    """

    dataset: str
    name: str
    label: str
    type: Literal["Char", "Num"]
    order: int
    core: str
    role: str
    codelist_codes: tuple[str, ...]
    described_value_domain: str = ""
    value_list: tuple[str, ...] = ()
    variable_set: str = ""
    template: str | None = None
    source: str = "ig"

    @property
    def is_suffix_template(self) -> bool:
        """Resolved from an ADaMIG suffix rule (``*DT``: any prefix), not a named one."""
        return self.template is not None and self.template.startswith("*")


@dataclass(frozen=True)
class ClassVariable:
    """One variable of an SDTM model general observation class, with ``--`` placeholders.

    ``class_`` is one of :data:`MODEL_CLASSES`; ``order`` is the model's variable order in
    its table (Identifiers and Timing share the General Observations numbering). ``name``
    and ``label`` keep the ``--`` domain prefix placeholder (``--STDY``); ``format`` is the
    model's "Controlled Terms, Codelist or Format" cell (e.g. ``ISO 8601``).
    """

    class_: str
    order: int
    name: str
    label: str
    type: Literal["Char", "Num"]
    role: str
    role_description: str = ""
    format: str = ""

    def for_domain(self, domain: str) -> tuple[str, str]:
        """The concrete ``(name, label)`` in ``domain``: ``--`` replaced by the domain code."""
        name = domain + self.name[len(PREFIX) :] if self.name.startswith(PREFIX) else self.name
        return name, self.label.replace(PREFIX, domain)


def model_class_order(
    class_variables: Mapping[str, Sequence[ClassVariable]], class_: str
) -> tuple[ClassVariable, ...]:
    """The SDTM model's variable order of general observation class ``class_``.

    Identifiers, then the class's own variables (topic and qualifiers, in model order), then
    the timing variables, as the SDTM model tables list them. Findings About uses the
    Findings variables with its own (``--OBJ``) placed right after ``--TEST``, where SDTMIG
    3.4's FA and SR domains put FAOBJ/SROBJ (the model table only says Findings About adds
    ``--OBJ`` to Findings).
    """
    if class_ not in GENERAL_OBSERVATION_CLASSES:
        raise ValueError(f"{class_!r} is not a general observation class")
    if class_ == "Findings About":
        body = list(class_variables.get("Findings", ()))
        names = [v.name for v in body]
        at = names.index("--TEST") + 1 if "--TEST" in names else len(body)
        body[at:at] = class_variables.get("Findings About", ())
    else:
        body = list(class_variables.get(class_, ()))
    return (
        *class_variables.get("Identifiers", ()),
        *body,
        *class_variables.get("Timing", ()),
    )


def interleave(
    ig_variables: Sequence[VariableMeta],
    model_order: Sequence[ClassVariable],
    domain: str,
    dataset: str | None = None,
) -> list[VariableMeta]:
    """Merge a domain's IG variables with its class's model variables, in model order.

    Rule:

    1. Every model variable of the class is concrete-named for ``domain`` (``--STDY`` ->
       ``MHSTDY``). IG variables keep their IG metadata; model variables the IG table lacks
       are added with ``source="model"``, ``core="Perm"``, the model's label (``--``
       filled), type and role, no codelist.
    2. Variables the model lists (IG or added) are sorted by their position in
       ``model_order``, so IG variables follow the model even where the IG table differs.
    3. An IG variable the model does not list (domain-specific, e.g. MHEVDTYP) sits right
       after its nearest preceding IG neighbour that the model lists, ahead of added model
       variables; consecutive unlisted IG variables keep their IG order; with no such
       neighbour it goes first.

    ``dataset`` names the added variables' dataset (default ``domain``).
    """
    rank: dict[str, int] = {}
    added: dict[str, VariableMeta] = {}
    for position, cv in enumerate(model_order):
        name, label = cv.for_domain(domain)
        rank[name] = position
        added[name] = VariableMeta(
            dataset=dataset or domain,
            name=name,
            label=label,
            type=cv.type,
            order=cv.order,
            core="Perm",
            role=cv.role,
            codelist_codes=(),
            described_value_domain=cv.format,
            source="model",
        )
    keyed: list[tuple[tuple[int, int, int], VariableMeta]] = []
    anchor = -1
    for index, v in enumerate(ig_variables):
        ranked = rank.get(v.name)
        if ranked is None:
            keyed.append(((anchor, 1, index), v))
        else:
            anchor = ranked
            keyed.append(((ranked, 0, 0), v))
        added.pop(v.name, None)
    keyed.extend(((rank[name], 0, 0), v) for name, v in added.items())
    keyed.sort(key=lambda item: item[0])
    return [v for _, v in keyed]


def _template_regex(template: str) -> re.Pattern[str]:
    """Compile an ADaMIG generic variable name into a regex.

    ``xx``/``zz`` stand for two digits (01-99), ``y``/``w`` for an integer from 1, and a
    leading ``*`` for any variable-name prefix (ADaMIG v1.3 section 3.1.4 conventions).
    """
    parts: list[str] = []
    i = 0
    if template.startswith("*"):
        parts.append(r"(?P<star>[A-Z][A-Z0-9]*?)")
        i = 1
    while i < len(template):
        pair = template[i : i + 2]
        if pair in ("xx", "zz"):
            parts.append(rf"(?P<{pair}>\d\d)")
            i += 2
        elif template[i] in "yw":
            parts.append(rf"(?P<{template[i]}>[1-9]\d?)")
            i += 1
        else:
            parts.append(re.escape(template[i]))
            i += 1
    return re.compile("^" + "".join(parts) + "$")


def _is_template(name: str) -> bool:
    return name.startswith("*") or any(c.islower() for c in name)


def _resolve_template(meta: VariableMeta, match: re.Match[str], name: str) -> VariableMeta:
    """Return ``meta`` renamed to ``name``, its label's placeholders filled in."""
    label = meta.label
    for key, value in match.groupdict().items():
        if key != "star":
            label = re.sub(rf"\b{key}\b", value, label)
    return replace(meta, name=name, label=label, template=meta.name)


class Standard:
    """The dataset and variable metadata of one implementation guide version.

    Built by :func:`cdisc_mapper.standards.load_sdtmig` and
    :func:`cdisc_mapper.standards.load_adamig`; read-only. ``class_variables`` (SDTMIG
    only) are the SDTM model's general observation class variables, ``model_version`` their
    model version (e.g. ``SDTM v1.8``).
    """

    def __init__(
        self,
        name: str,
        version: str,
        datasets: Iterable[DatasetMeta],
        variables: Mapping[str, Iterable[VariableMeta]],
        *,
        class_variables: Iterable[ClassVariable] = (),
        model_version: str = "",
    ) -> None:
        self.name = name
        self.version = version
        self.model_version = model_version
        by_class: dict[str, list[ClassVariable]] = {}
        for cv in class_variables:
            by_class.setdefault(cv.class_, []).append(cv)
        self._class_variables = MappingProxyType(
            {c: tuple(sorted(vs, key=lambda v: v.order)) for c, vs in by_class.items()}
        )
        self._allowed: dict[str, tuple[VariableMeta, ...]] = {}
        self._allowed_index: dict[str, dict[str, VariableMeta]] = {}
        self._datasets = MappingProxyType({d.name: d for d in datasets})
        self._variables = MappingProxyType(
            {ds: tuple(sorted(vs, key=lambda v: v.order)) for ds, vs in variables.items()}
        )
        self._exact = {
            ds: {v.name: v for v in vs if not _is_template(v.name)}
            for ds, vs in self._variables.items()
        }
        self._templates: dict[str, tuple[tuple[re.Pattern[str], VariableMeta], ...]] = {}
        self._supp_cache: dict[str, tuple[VariableMeta, ...]] = {}

    def __repr__(self) -> str:
        return f"Standard({self.name} {self.version}: {len(self._datasets)} datasets)"

    @property
    def dataset_names(self) -> tuple[str, ...]:
        """Names of the datasets (or ADaM data structures) this standard describes."""
        return tuple(sorted(self._datasets))

    def has_dataset(self, name: str) -> bool:
        """Whether :meth:`dataset` knows ``name`` (including any ``SUPPxx`` in SDTMIG)."""
        return self._generic_name(name) is not None

    def _generic_name(self, name: str) -> str | None:
        key = name.strip().upper()
        if key in self._datasets:
            return key
        if SUPPQUAL in self._datasets and _SUPP_NAME.match(key):
            return SUPPQUAL
        return None

    def _unknown(self, name: str) -> StandardsError:
        hint = f"known: {', '.join(self.dataset_names)}"
        if self.name.upper().startswith("ADAM"):
            hint += "; ADaM metadata is per data structure, ask for your dataset's structure"
        else:
            hint += "; specs/ holds the project's domains only (see tools/build_specs.py)"
        return StandardsError(
            f"{self.name} {self.version} metadata has no dataset {name!r}", hint=hint
        )

    def dataset(self, name: str) -> DatasetMeta:
        """Metadata of dataset ``name``; ``SUPPxx`` gives SUPPQUAL's, labelled for ``xx``.

        Raises :class:`StandardsError` for an unknown dataset.
        """
        generic = self._generic_name(name)
        if generic is None:
            raise self._unknown(name)
        meta = self._datasets[generic]
        key = name.strip().upper()
        if generic == SUPPQUAL and key != SUPPQUAL:
            meta = replace(meta, name=key, label=meta.label.replace("[domain name]", key[4:]))
        return meta

    def variables(self, dataset: str) -> list[VariableMeta]:
        """The dataset's variables in IG order (``SUPPxx`` gives SUPPQUAL's variables).

        Raises :class:`StandardsError` for an unknown dataset.
        """
        generic = self._generic_name(dataset)
        if generic is None:
            raise self._unknown(dataset)
        key = dataset.strip().upper()
        if generic == key:
            return list(self._variables.get(generic, ()))
        if key not in self._supp_cache:
            self._supp_cache[key] = tuple(
                replace(v, dataset=key) for v in self._variables.get(generic, ())
            )
        return list(self._supp_cache[key])

    def variable(self, dataset: str, name: str) -> VariableMeta | None:
        """Metadata of ``dataset.name`` or None when the IG does not define it: the first
        of :meth:`matches`. Raises :class:`StandardsError` for an unknown dataset."""
        return next(self._matches(dataset, name), None)

    def matches(self, dataset: str, name: str) -> list[VariableMeta]:
        """Every definition of ``dataset.name`` the IG has, the one that wins first.

        The variable of that exact name; then ADaMIG generic names matching it, named
        ones before suffix rules (``TRT01P`` -> ``TRTxxP`` with its label's ``xx`` filled
        in; ``VSELTM`` -> ``*TM``, whose label ``{Time}`` stays a placeholder, see
        :func:`label_placeholders`), each in IG order. Raises :class:`StandardsError` for
        an unknown dataset.
        """
        return list(self._matches(dataset, name))

    def _matches(self, dataset: str, name: str) -> Iterator[VariableMeta]:
        generic = self._generic_name(dataset)
        if generic is None:
            raise self._unknown(dataset)
        key = dataset.strip().upper()
        wanted = name.strip().upper()
        exact = self._exact.get(generic, {}).get(wanted)
        if exact is not None:
            yield exact if generic == key else replace(exact, dataset=key)
        for pattern, meta in self._template_index(generic):
            found = pattern.match(wanted)
            if found:
                yield _resolve_template(meta, found, wanted)

    def class_variables(self, class_: str) -> list[ClassVariable]:
        """The SDTM model variables of general observation class ``class_``, in model order.

        Identifiers, the class's topic and qualifiers, then timing variables, with ``--``
        placeholders (see :func:`model_class_order`). Raises :class:`StandardsError` when
        this standard has no model metadata or ``class_`` is not a general observation class.
        """
        self._require_model()
        if class_ not in GENERAL_OBSERVATION_CLASSES:
            raise StandardsError(
                f"{class_!r} is not an SDTM general observation class",
                hint=f"one of {', '.join(GENERAL_OBSERVATION_CLASSES)}",
            )
        return list(model_class_order(self._class_variables, class_))

    def allowed_variables(self, dataset: str) -> list[VariableMeta]:
        """Every variable ``dataset`` may hold: its IG variables plus its class's model ones.

        For a general observation class domain (Interventions, Events, Findings, Findings
        About), the IG variables (unchanged metadata, ``source="ig"``) plus each SDTM model
        variable of the class the IG table lacks (``source="model"``, ``core="Perm"``,
        ``--`` filled with the domain code), ordered as the SDTM model lists the class:
        identifiers, topic, qualifiers, timing. IG variables the model does not list keep
        their place after their preceding IG neighbour (rule: :func:`interleave`). The order
        is SDTM v1.8's, the model version in ``specs/``; CDISC CORE's "variables in SDTM
        class order" check uses SDTM v2.0, whose tables may add or move variables. IG
        variables absent from the v1.8 class table (e.g. MHEVDTYP) are placed by rule 3.

        Special-purpose (DM, CO, SE, SV), trial design and relationship datasets (SUPPxx)
        return :meth:`variables` unchanged. Raises :class:`StandardsError` for an unknown
        dataset or a standard without model metadata (ADaMIG).
        """
        self._require_model()
        generic = self._generic_name(dataset)
        if generic is None:
            raise self._unknown(dataset)
        key = dataset.strip().upper()
        if generic != key or self._datasets[generic].class_ not in GENERAL_OBSERVATION_CLASSES:
            return self.variables(dataset)
        if key not in self._allowed:
            order = model_class_order(self._class_variables, self._datasets[key].class_)
            merged = tuple(interleave(self._variables.get(key, ()), order, key))
            self._allowed[key] = merged
            self._allowed_index[key] = {v.name: v for v in merged}
        return list(self._allowed[key])

    def variable_allowed(self, dataset: str, name: str) -> VariableMeta | None:
        """Metadata of ``dataset.name`` if :meth:`allowed_variables` lists it, else None.

        IG variables come with their IG metadata, model class variables with
        ``source="model"``. For datasets outside the general observation classes this is
        :meth:`variable`. Raises :class:`StandardsError` like :meth:`allowed_variables`.
        """
        self.allowed_variables(dataset)  # validates ``dataset`` and fills the index
        index = self._allowed_index.get(dataset.strip().upper())
        if index is None:
            return self.variable(dataset, name)
        return index.get(name.strip().upper())

    def _require_model(self) -> None:
        if not self._class_variables:
            raise StandardsError(
                f"{self.name} {self.version} has no SDTM model class metadata",
                hint="allowed variables are defined for SDTMIG (load_sdtmig) only",
            )

    def _template_index(self, dataset: str) -> tuple[tuple[re.Pattern[str], VariableMeta], ...]:
        if dataset not in self._templates:
            metas = [v for v in self._variables.get(dataset, ()) if _is_template(v.name)]
            metas.sort(key=lambda v: (v.name.startswith("*"), v.order))
            self._templates[dataset] = tuple((_template_regex(v.name), v) for v in metas)
        return self._templates[dataset]
