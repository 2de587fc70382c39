"""Dataset and variable metadata of an implementation guide (SDTMIG, ADaMIG)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from cdisc_mapper.errors import StandardsError

#: The generic SDTMIG dataset behind every SUPP-- dataset.
SUPPQUAL = "SUPPQUAL"
_SUPP_NAME = re.compile(r"^SUPP[A-Z][A-Z0-9]{1,3}$")


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
    """

    dataset: str
    name: str
    label: str
    type: str
    order: int
    core: str
    role: str
    codelist_codes: tuple[str, ...]
    described_value_domain: str = ""
    value_list: tuple[str, ...] = ()
    variable_set: str = ""
    template: str | None = None


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
    :func:`cdisc_mapper.standards.load_adamig`; read-only.
    """

    def __init__(
        self,
        name: str,
        version: str,
        datasets: Iterable[DatasetMeta],
        variables: Mapping[str, Iterable[VariableMeta]],
    ) -> None:
        self.name = name
        self.version = version
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
        """Metadata of ``dataset.name`` or None when the IG does not define it.

        ADaMIG generic names match concrete ones (``TRT01P`` -> ``TRTxxP`` with its label's
        ``xx`` filled in; ``*DT`` suffix rules last). Raises :class:`StandardsError` for an
        unknown dataset.
        """
        generic = self._generic_name(dataset)
        if generic is None:
            raise self._unknown(dataset)
        key = dataset.strip().upper()
        wanted = name.strip().upper()
        exact = self._exact.get(generic, {}).get(wanted)
        if exact is not None:
            return exact if generic == key else replace(exact, dataset=key)
        for pattern, meta in self._template_index(generic):
            found = pattern.match(wanted)
            if found:
                return _resolve_template(meta, found, wanted)
        return None

    def _template_index(self, dataset: str) -> tuple[tuple[re.Pattern[str], VariableMeta], ...]:
        if dataset not in self._templates:
            metas = [v for v in self._variables.get(dataset, ()) if _is_template(v.name)]
            metas.sort(key=lambda v: (v.name.startswith("*"), v.order))
            self._templates[dataset] = tuple((_template_regex(v.name), v) for v in metas)
        return self._templates[dataset]
