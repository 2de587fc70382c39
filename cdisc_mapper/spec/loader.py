"""Load a study's spec folder: ``study.yaml`` and ``sdtm/<domain>.yaml``.

Every problem is reported as a :class:`SpecError` naming the spec file and line.
Operation arguments are checked here, against each operation's own model, so that a
spec with a typo fails before any data is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.models import DomainSpec, StudySpec, VariableSpec
from cdisc_mapper.spec.yamlio import SpecDocument, load_spec_yaml

_VARIABLE_META = set(VariableSpec.model_fields) - {"args"}


@dataclass
class StudyBundle:
    """A study's specs, with the documents they came from (for error locations)."""

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


def _normalise_domain(data: Any) -> Any:
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


def _loc_without_args(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(x for x in loc if x != "args")


def validate_model(model: type[BaseModel], data: Any, doc: SpecDocument, prefix=()) -> Any:
    """Validate ``data`` with ``model``; raise SpecError at the line of the most telling
    error (an unknown key, usually a typo, before a missing one), naming the others."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")

        def describe(err: Any) -> tuple[tuple[Any, ...], str]:
            loc = (*prefix, *_loc_without_args(tuple(err["loc"])))
            path = ".".join(str(x) for x in loc) or "(top)"
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key (not part of the spec format; check the spelling)"
            elif err["type"] == "missing":
                msg = "required key missing"
            return loc, f"{path}: {msg}"

        loc, first = describe(errors[0])
        others = [describe(e)[1] for e in errors[1:4]]
        more = f" (also: {'; '.join(others)})" if others else ""
        raise SpecError(first + more, where=doc.where(loc)) from None


def _check_ops(bundle: StudyBundle, domain: DomainSpec, doc: SpecDocument) -> None:
    from cdisc_mapper.sdtm import registry  # the package registers every operation

    registry_names = ", ".join(registry.names())

    def check(
        variables: dict[str, VariableSpec], loc: tuple[Any, ...], source: int | None, raw: bool
    ) -> None:
        for name, var in variables.items():
            op = registry.operation(var.op)
            where = doc.where((*loc, name, "op"))
            if op is None:
                raise SpecError(
                    f"{name}: unknown operation {var.op!r}; known: {registry_names}",
                    where=where,
                )
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
            bundle.op_args[(domain.domain, source, name)] = args

    check(domain.variables, ("variables",), None, raw=False)
    for i, src in enumerate(domain.sources):
        check(src.variables, ("sources", i, "variables"), i, raw=True)


def load_study(root: Path) -> StudyBundle:
    """Load and check every spec file of a study folder, or of a workbook made by
    ``cdisc-mapper spec export`` (read through a temporary spec folder)."""
    root = Path(root)
    if root.suffix.lower() == ".xlsx" and root.is_file():
        from cdisc_mapper.xlsx import spec_folder

        with spec_folder(root) as folder:
            return load_study(folder)
    if not root.is_dir():
        raise SpecError("study spec folder not found", where=str(root))
    study_doc = load_spec_yaml(root / "study.yaml")
    study = validate_model(StudySpec, study_doc.data, study_doc)
    bundle = StudyBundle(root=root, study=study, domains={}, documents={"study": study_doc})
    sdtm_dir = root / "sdtm"
    files = sorted(sdtm_dir.glob("*.yaml")) if sdtm_dir.is_dir() else []
    if not files:
        raise SpecError("no domain specs found (expected sdtm/<domain>.yaml)", where=str(root))
    for path in files:
        doc = load_spec_yaml(path)
        domain = validate_model(DomainSpec, _normalise_domain(doc.data), doc)
        if domain.domain.lower() != path.stem.lower():
            raise SpecError(
                f"file declares domain {domain.domain} but is named {path.name}",
                where=doc.where(("domain",)),
                hint=f"name it {domain.domain.lower()}.yaml",
            )
        bundle.domains[domain.domain] = domain
        bundle.documents[domain.domain] = doc
        _check_ops(bundle, domain, doc)
    return bundle
