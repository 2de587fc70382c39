"""Loading a study's SDTM spec: ``study.yaml`` and ``sdtm/<domain>.yaml``.

Every problem is reported as a :class:`SpecError` naming the spec file and line.
Operation arguments are checked here, against each operation's own model (from the
registry the SDTM stage passes in), so that a spec with a typo fails before any data is
read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.base import validate_model
from cdisc_mapper.spec.operations import Registry
from cdisc_mapper.spec.sdtm import DomainSpec, VariableSpec
from cdisc_mapper.spec.study import StudySpec
from cdisc_mapper.spec.yamlio import SpecDocument, load_spec_yaml
from cdisc_mapper.standards import Terminology

_VARIABLE_META = set(VariableSpec.model_fields) - {"args"}
STUDY_FILE = "study.yaml"


def has_sdtm_specs(root: Path) -> bool:
    """Whether a study folder holds raw-mapping specs (``study.yaml`` or
    ``sdtm/*.yaml``); an ADaM-only study (``adam/``, ``define.yaml``) does not."""
    root = Path(root)
    return (root / STUDY_FILE).is_file() or any((root / "sdtm").glob("*.yaml"))


@dataclass
class StudyBundle:
    """A study's specs, with the documents they came from (for error locations) and each
    variable's checked operation arguments, by ``(domain, source index or None, name)``."""

    root: Path
    study: StudySpec
    domains: dict[str, DomainSpec]
    documents: dict[str, SpecDocument] = field(default_factory=dict)
    op_args: dict[tuple[str, int | None, str], Any] = field(default_factory=dict)

    def where(self, domain: str, loc: tuple[str | int, ...]) -> str:
        doc = self.documents.get(domain)
        if doc is None:
            return domain
        return str(doc.where(loc))

    def terminology(self, base: Terminology) -> Terminology:
        """``base`` with the terms study.yaml ``codelists:`` adds; a codelist that is
        unknown or closed is an error at its line."""
        for name, terms in self.study.codelists.items():
            try:
                base = base.extended({name: terms.terms})
            except ValueError as exc:
                raise SpecError(
                    str(exc),
                    where=self.where("study", ("codelists", name)),
                    hint="add terms to a sponsor list (specs/sponsor/codelists.yaml) or to "
                    "an extensible CDISC list",
                ) from None
        return base


def _normalise_variables(raw: Any) -> Any:
    """``{VAR: {op: x, column: y, origin: ...}}`` -> VariableSpec input (op args nested)."""
    if not isinstance(raw, dict):
        return raw
    out = {}
    for name, body in raw.items():
        if isinstance(body, dict):
            meta = {k: v for k, v in body.items() if k in _VARIABLE_META}
            args = {k: v for k, v in body.items() if k not in _VARIABLE_META}
            out[name] = {**meta, "args": args}
        else:
            out[name] = body
    return out


def normalise_domain(data: Any) -> Any:
    """A domain file's data with each variable's operation arguments nested under
    ``args`` (the shape :class:`DomainSpec` validates)."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if "variables" in data:
        data["variables"] = _normalise_variables(data["variables"])
    if isinstance(data.get("sources"), list):
        data["sources"] = [
            {**s, "variables": _normalise_variables(s.get("variables", {}))}
            if isinstance(s, dict)
            else s
            for s in data["sources"]
        ]
    return data


def _check_ops(
    bundle: StudyBundle, domain: DomainSpec, doc: SpecDocument, operations: Registry[Any]
) -> None:
    def check(
        variables: dict[str, VariableSpec], loc: tuple[Any, ...], source: int | None, raw: bool
    ) -> None:
        for name, var in variables.items():
            where = doc.where((*loc, name, "op"))
            op = operations.require(var.op, where, f"{name}: ")
            if op.raw and not raw:
                raise SpecError(
                    f"{name}: operation {var.op!r} reads raw columns, so it belongs in a "
                    "source's variables, not the domain's",
                    where=where,
                )
            raw_args = dict(var.args)
            if var.codelist is not None and "codelist" in op.args_model.model_fields:
                raw_args.setdefault("codelist", var.codelist)
            args = validate_model(op.args_model, raw_args, doc, prefix=(*loc, name))
            _raw_columns_in_a_source(name, args, raw, doc.where((*loc, name)))
            bundle.op_args[(domain.domain, source, name)] = args

    check(domain.variables, ("variables",), None, raw=False)
    for i, src in enumerate(domain.sources):
        check(src.variables, ("sources", i, "variables"), i, raw=True)


def _raw_columns_in_a_source(name: str, args: Any, raw: bool, where: Any) -> None:
    """A raw column (an argument ``column``/``time_column``) is read only inside a source:
    at domain level the records have no raw columns."""
    named = [k for k in ("column", "time_column") if getattr(args, k, None) is not None]
    if named and not raw:
        raise SpecError(
            f"{name}: {named[0]} {getattr(args, named[0])!r} is a raw column, which only a "
            "source's variables read; at domain level read a mapped variable (`variable`)",
            where=where,
        )


def load_study(root: Path, operations: Registry[Any]) -> StudyBundle:
    """Load and check every spec file of a study folder; ``operations`` is the SDTM
    registry (``cdisc_mapper.sdtm.load_study`` passes it)."""
    root = Path(root)
    if not root.is_dir():
        raise SpecError("study spec folder not found", where=str(root))
    study_doc = load_spec_yaml(root / STUDY_FILE)
    study = validate_model(StudySpec, study_doc.data, study_doc)
    bundle = StudyBundle(root=root, study=study, domains={}, documents={"study": study_doc})
    sdtm_dir = root / "sdtm"
    files = sorted(sdtm_dir.glob("*.yaml")) if sdtm_dir.is_dir() else []
    if not files:
        raise SpecError("no domain specs found (expected sdtm/<domain>.yaml)", where=str(root))
    for path in files:
        doc = load_spec_yaml(path)
        domain = validate_model(DomainSpec, normalise_domain(doc.data), doc)
        if domain.domain.lower() != path.stem.lower():
            raise SpecError(
                f"file declares domain {domain.domain} but is named {path.name}",
                where=doc.where(("domain",)),
                hint=f"name it {domain.domain.lower()}.yaml",
            )
        bundle.domains[domain.domain] = domain
        bundle.documents[domain.domain] = doc
        _check_ops(bundle, domain, doc, operations)
    return bundle
