"""Orchestration: specs + written datasets -> DefineModel -> define.xml + define.html.

The stage owns ``define.xml``, ``define.html`` and ``define2-1.xsl`` of ``OUT/sdtm`` and
``OUT/adam``: both models are built first, then the files are written into staging
folders and published together (:mod:`cdisc_mapper.publish`), the datasets beside them
kept as they are."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cdisc_mapper.acrf import ACRF_FILE, ACRF_TITLE, build_acrf
from cdisc_mapper.adam import AdamDataset, adam_metadata, load_adam_specs
from cdisc_mapper.condition import range_checks
from cdisc_mapper.datasetjson import (
    FORMATS,
    SUFFIX,
    dataset_files,
    define_file,
    formats_in,
    read_dataset,
)
from cdisc_mapper.define import describe_adam, describe_sdtm, vlm
from cdisc_mapper.define.arm import add_analysis_results
from cdisc_mapper.define.build import DefineInputError, assemble, new_model
from cdisc_mapper.define.html import render_html, write_stylesheet
from cdisc_mapper.define.info import DatasetInfo
from cdisc_mapper.define.model import DefineModel, Leaf, StandardDef
from cdisc_mapper.define.parallel import PARALLEL_BYTES, Profiler, profiler
from cdisc_mapper.define.profile import DataProfile, Joint, profile_dataset, uncovered
from cdisc_mapper.define.schema import validate_define_schema
from cdisc_mapper.define.stated_vlm import StatedLevels
from cdisc_mapper.define.writer import STYLESHEET, write_model
from cdisc_mapper.errors import CdiscMapperError, Location, SpecError
from cdisc_mapper.publish import Target, owning, staged
from cdisc_mapper.sdtm import load_study
from cdisc_mapper.spec.define import DefineExtras, load_define_extras
from cdisc_mapper.spec.sdtm_loader import STUDY_FILE, StudyBundle, has_sdtm_specs
from cdisc_mapper.standards import load_adamig, load_sdtmig, load_terminology

DEFINE_FILE = "define.xml"
OWNED = owning(
    names=[DEFINE_FILE, "define.html", STYLESHEET]
    + [f"define-{f}.{x}" for f in FORMATS for x in ("xml", "html")]
)
"""The files of ``OUT/sdtm`` and ``OUT/adam`` the stage replaces (``define-json.xml``:
the define of a second dataset format, :func:`cdisc_mapper.datasetjson.define_file`)."""

log = logging.getLogger(__name__)


class DefineWarning(UserWarning):
    """Something define.xml cannot say (e.g. a dictionary version nobody gave)."""


class DefineSchemaError(CdiscMapperError):
    """The define.xml written does not validate (a bug: please report it)."""


@dataclass(frozen=True)
class SdtmInputs:
    """What the SDTM define.xml is made of before any data is read: the study's specs,
    define.yaml, terminology, the SDTMIG and the describer (its references checked)."""

    bundle: StudyBundle
    extras: DefineExtras
    terminology: Any
    standard: Any
    describer: describe_sdtm.SdtmDescriber

    def joint(self, path: Path) -> Joint:
        """The columns of dataset file ``path`` its descriptions ask about together."""
        code = path.stem.upper()
        spec = self.bundle.domains.get(code)

        def groups(columns: list[str]) -> list[set[str]]:
            found = [{f"{code}TESTCD", f"{code}{s}"} for s in vlm.RESULT_SUFFIXES]
            by_source = vlm.discriminator(self.describer, code, spec, columns) if spec else None
            if by_source is not None and spec is not None:
                found += [{by_source[0], n} for src in spec.sources for n in src.variables]
            return [*found, {"QNAM", "QVAL"}, *_stated_groups(self.extras, code)]

        return groups


def sdtm_inputs(study_dir: Path) -> SdtmInputs:
    """:class:`SdtmInputs` of a study folder.

    Raises:
        SpecError: a spec names a method, comment or code list that does not exist."""
    bundle = load_study(Path(study_dir))
    extras = load_define_extras(Path(study_dir))
    terminology = bundle.terminology(load_terminology())
    standard = load_sdtmig()
    describer = describe_sdtm.SdtmDescriber(bundle, extras, terminology, standard, None)
    describer.check_references()
    return SdtmInputs(bundle, extras, terminology, standard, describer)


def build_sdtm_model(
    study_dir: Path,
    sdtm_dir: Path,
    raw_dir: Path | None = None,
    *,
    inputs: SdtmInputs | None = None,
    profiler: Profiler | None = None,
) -> tuple[DefineModel, list[str]]:
    """The SDTM DefineModel and warnings (nothing is written). Without a sponsor's aCRF
    in define.yaml ``documents:``, the aCRF is generated (``model.files``, from the raw
    folder's headers when ``raw_dir`` is given) and every Collected origin cites its
    pages. ``inputs``: the study's, when already read; ``profiler``: who reads the
    datasets (default: here, one after the other)."""
    s = inputs or sdtm_inputs(study_dir)
    bundle, extras, describer = s.bundle, s.extras, s.describer
    version = s.standard.version
    ig = StandardDef(oid=f"STD.SDTMIG.{version}", name="SDTMIG", type="IG", version=version)
    model = new_model("sdtm", bundle.study, extras, ig)
    _annotated_crf(model, describer, bundle, extras, raw_dir)
    stated = StatedLevels(extras, dict(bundle.study.comments), s.terminology, "sdtm")

    def describe(profile: DataProfile) -> DatasetInfo:
        return describer.dataset(profile.path, profile.frame, profile.meta)

    infos, notes = _described(Path(sdtm_dir), s.joint, describe, stated, profiler)
    return model, notes + assemble(model, extras, infos, describe_sdtm.dataset_order)


def _stated_groups(extras: DefineExtras, dataset: str) -> list[set[str]]:
    """The columns define.yaml ``value_level:`` asks about together in ``dataset``."""
    out = []
    for key, levels in extras.spec.value_level.items():
        name, _, variable = key.partition(".")
        if name == dataset:
            out += [
                {variable, *(c for c, _, _ in range_checks(lv.condition) or ())} for lv in levels
            ]
    return out


def _profiles(
    folder: Path, joint: Callable[[Path], Joint], profiler: Profiler | None = None
) -> list[DataProfile]:
    """Every dataset file of ``folder`` (``.xpt``, else Dataset-JSON), read once each
    (by ``profiler``'s workers when it has them)."""
    files = dataset_files(folder)
    if not files:
        raise DefineInputError(
            "no .xpt datasets to describe",
            where=Location(file=str(folder)),
            hint="write the datasets first (cdisc-mapper sdtm / adam)",
        )
    reader = profiler or Profiler()
    return [reader.profile(path, joint(path)) for path in files]


def _also(joint: Joint, groups: list[frozenset[str]]) -> Joint:
    """``joint``'s groups and ``groups``."""
    return lambda columns: [*joint(columns), *groups]


def _described(
    folder: Path,
    joint: Callable[[Path], Joint],
    describe: Callable[[DataProfile], DatasetInfo],
    stated: StatedLevels,
    profiler: Profiler | None = None,
) -> tuple[list[DatasetInfo], list[str]]:
    """Describe every dataset of ``folder`` from its profile (:mod:`.profile`) and apply
    the stated value levels; a dataset whose value-level items ask about columns its
    profile did not keep together is read again with those groups."""
    profiles = _profiles(folder, joint, profiler)
    infos = [describe(p) for p in profiles]
    notes = stated.apply(infos)
    again = False
    for i, (info, found) in enumerate(zip(infos, profiles, strict=True)):
        groups = uncovered(info, found)
        if groups:
            log.debug("%s: read again for value levels by %s", found.path.name, groups)
            profiles[i] = profile_dataset(found.path, _also(joint(found.path), groups))
            infos[i] = describe(profiles[i])
            again = True
    if again:
        notes = stated.apply(infos)
    return infos, notes


def _annotated_crf(
    model: DefineModel,
    describer: describe_sdtm.SdtmDescriber,
    bundle: StudyBundle,
    extras: DefineExtras,
    raw_dir: Path | None,
) -> None:
    """The aCRF the Collected origins cite: the sponsor's (a define.yaml document of
    kind acrf, pages from ``forms:``) or one generated from the specs (written beside
    define.xml as acrf.pdf)."""
    read = {src.form for spec in bundle.domains.values() for src in spec.sources}
    for form in extras.spec.forms:
        if form not in read:
            raise SpecError(
                f"forms: {form!r} is not a raw form the SDTM specs read "
                f"(they read {', '.join(sorted(read))})",
                where=extras.where(("forms", form)),
            )
    if model.acrf_leaf is None and extras.spec.forms:
        raise SpecError(
            "forms: gives the pages of your own annotated CRF, but documents: declares no "
            "aCRF for SDTM (kind: acrf)",
            where=extras.where(("forms",)),
            hint="add it, e.g. documents: {acrf: {title: Annotated CRF, href: acrf.pdf, "
            "kind: acrf, standards: [sdtm]}}, or remove forms: to have the aCRF generated",
        )
    if model.acrf_leaf is None:
        acrf = build_acrf(bundle, raw_dir)
        leaf_id = "LF.acrf"
        if any(leaf.id == leaf_id for leaf in model.leaves):
            raise SpecError(
                "documents: acrf is a supplemental document, but the generated annotated "
                "CRF is leaf LF.acrf",
                where=extras.where(("documents", "acrf")),
                hint="give that document another id, or kind: acrf if it is your aCRF",
            )
        model.leaves.insert(0, Leaf(id=leaf_id, href=ACRF_FILE, title=ACRF_TITLE))
        model.acrf_leaf = leaf_id
        model.files[ACRF_FILE] = acrf.pdf()
        describer.crf_forms = acrf.layout.form_pages()
    describer.acrf_leaf = model.acrf_leaf


@dataclass(frozen=True)
class StudyIdentity:
    """The study as define.xml names it, for an ADaM-only study (no ``study.yaml``)."""

    studyid: str
    title: str
    sponsor: str
    protocol: str | None = None
    comments: dict[str, str] = field(default_factory=dict)


def _trial_summary(sdtm_dir: Path) -> dict[str, str]:
    """TSPARMCD -> the first TSVAL of ``sdtm_dir/ts.xpt`` (or ts.json...; empty without TS)."""
    path = next((p for p in dataset_files(Path(sdtm_dir)) if p.stem.lower() == "ts"), None)
    if path is None:
        return {}
    frame, _ = read_dataset(path)
    if not {"TSPARMCD", "TSVAL"} <= set(frame.columns):
        return {}
    out: dict[str, str] = {}
    for code, value in zip(frame["TSPARMCD"], frame["TSVAL"], strict=True):
        out.setdefault(str(code).strip(), str(value).strip())
    return out


def adam_only_study(
    study_dir: Path, sdtm_dir: Path, studyid: str | None, frames: Iterable[Any]
) -> StudyIdentity:
    """The study define.xml names for an ADaM-only study (no ``study.yaml``): STUDYID from
    the ADaM conventions' ``studyid`` or the datasets, and the title and sponsor from SDTM
    TS (TITLE, SPONSOR) when there is one."""
    if not studyid:
        values = (
            str(v).strip() for f in frames if "STUDYID" in f.columns for v in f["STUDYID"].head(1)
        )
        studyid = next((v for v in values if v), None)
    if not studyid:
        raise DefineInputError(
            f"no {STUDY_FILE} and no STUDYID in the ADaM datasets: define.xml cannot name "
            "the study",
            where=str(study_dir),
            hint="give `studyid:` in the ADaM conventions (adam/conventions.yaml)",
        )
    ts = _trial_summary(sdtm_dir)
    return StudyIdentity(
        studyid=studyid, title=ts.get("TITLE") or studyid, sponsor=ts.get("SPONSOR", "")
    )


@dataclass(frozen=True)
class AdamInputs:
    """What the ADaM define.xml is made of before any data is read: the study (None for
    an ADaM-only study), the ADaM specs and their metadata, define.yaml, terminology, the
    ADaMIG and the describer (its references checked)."""

    study: Any
    specs: Any
    metadata: Any
    extras: DefineExtras
    terminology: Any
    adamig: Any
    describer: describe_adam.AdamDescriber

    def joint(self, path: Path) -> Joint:
        """The columns of dataset file ``path`` its descriptions ask about together."""
        name = path.stem.upper()
        ds = self.metadata.get(name)
        found = [{"PARAMCD", v} for v in describe_adam.VALUE_LEVEL_VARIABLES]
        for v in ds.variables if ds is not None else ():
            found += [{v.name, *vl.where} for vl in v.value_level]
        found += _stated_groups(self.extras, name)
        return lambda _: found


def adam_inputs(study_dir: Path, adam_result: Any = None, study: Any = None) -> AdamInputs:
    """:class:`AdamInputs` of a study folder (``study``: its study.yaml, when already
    read; ``adam_result``: as :func:`build_adam_model` takes it).

    Raises:
        SpecError: a spec names a method, comment or code list that does not exist."""
    full = (Path(study_dir) / STUDY_FILE).is_file()  # else an ADaM-only study
    study_spec = (study or load_study(Path(study_dir)).study) if full else None
    specs = load_adam_specs(Path(study_dir))
    extras = load_define_extras(Path(study_dir))
    terminology = load_terminology()
    adamig = load_adamig()
    describer = describe_adam.AdamDescriber(
        specs, dict(study_spec.comments if study_spec else {}), extras, terminology, adamig
    )
    describer.check_references()
    metadata = adam_result.datasets if adam_result else adam_metadata(specs)
    return AdamInputs(study_spec, specs, metadata, extras, terminology, adamig, describer)


def build_adam_model(
    study_dir: Path,
    adam_dir: Path,
    sdtm_dir: Path,
    adam_result: Any = None,
    *,
    inputs: AdamInputs | None = None,
    profiler: Profiler | None = None,
) -> tuple[DefineModel, list[str]]:
    """The ADaM DefineModel and warnings. The per-variable metadata (origin, derivation,
    source, value level) is the ADaM package's: ``adam_result`` when the caller has just
    built the datasets, else the specs' (:func:`cdisc_mapper.adam.adam_metadata`, the
    types only the data tell from the written files; nothing is derived again); the
    datasets described are the files of ``adam_dir``, each read once in chunks
    (:mod:`.profile`). ``inputs``: the study's, when already read; ``profiler``: who
    reads the datasets (default: here, one after the other)."""
    a = inputs or adam_inputs(study_dir, adam_result)
    study_spec, specs, metadata, extras = a.study, a.specs, a.metadata, a.extras
    terminology, describer = a.terminology, a.describer
    version = a.adamig.version
    ig = StandardDef(oid=f"STD.ADaMIG.{version}", name="ADaMIG", type="IG", version=version)

    def describe(profile: DataProfile) -> DatasetInfo:
        name = (profile.meta.dataset or profile.path.stem).upper()
        ds = metadata.get(name)
        if ds is None:
            raise DefineInputError(
                f"{profile.path.name}: no ADaM spec describes dataset {name}",
                where=str(profile.path),
                hint="remove the stale file or add its spec under adam/",
            )
        return describer.dataset(_typed(ds, profile), profile.path, profile.frame, profile.meta)

    stated = StatedLevels(extras, describer.comments, terminology, "adam")
    infos, notes = _described(Path(adam_dir), a.joint, describe, stated, profiler)
    study = study_spec or adam_only_study(
        study_dir, sdtm_dir, specs.conventions.studyid, (i.frame for i in infos)
    )
    model = new_model("adam", study, extras, ig)
    notes += assemble(model, extras, infos, describe_adam.dataset_order)
    add_analysis_results(model, specs.reports)
    return model, notes


def _typed(ds: AdamDataset, profile: DataProfile) -> AdamDataset:
    """The spec metadata of an ADaM dataset with the types only the data tell (None in
    :func:`cdisc_mapper.adam.adam_metadata`) as the written file has them."""
    types = {v.name: v.type for v in profile.meta.variables}
    variables = [v if v.type else replace(v, type=types.get(v.name)) for v in ds.variables]
    return replace(ds, variables=variables)


def _has_datasets(folder: Path) -> bool:
    return bool(dataset_files(folder))


def publish(
    model: DefineModel,
    notes: list[str],
    folder: Path,
    kind: str,
    say: Callable[[str], None],
    *,
    shown: Path | None = None,
    formats: tuple[str, ...] = (),
    to_warnings: bool = True,
    warn: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write ``folder/define.xml`` and its define.html; pass the build's warnings to
    ``warn`` (default: ``say`` with ``warning:`` before them) and :mod:`warnings`. Raises
    DefineSchemaError when the file written fails the Define-XML 2.1 schema. ``shown`` is
    the folder the files are published to (messages name it), when ``folder`` is a staging
    folder. ``to_warnings=False`` (a caller that shows ``say``'s messages) gives each
    warning to ``warn`` alone, so that it shows once. With several dataset ``formats``,
    define.xml names the first one's files and each other format gets its own
    ``define-<format>.xml`` naming its files (one def:leaf per ItemGroupDef). The model's
    documents (the generated acrf.pdf) are written beside them."""
    shown = Path(shown or folder)
    for note in notes:
        (warn or (lambda n: say(f"warning: {n}")))(note)
        if to_warnings:
            warnings.warn(f"{kind} define.xml: {note}", DefineWarning, stacklevel=3)
    written = _write_checked(model, Path(folder) / DEFINE_FILE, shown, say)
    written.append(write_stylesheet(Path(folder)))
    for fmt in formats[1:]:
        name = define_file(fmt, formats)
        other = replace(
            model,
            file_oid=f"{model.file_oid}.{fmt.upper()}",
            datasets=[
                replace(d, href=str(Path(d.href).with_suffix(SUFFIX[fmt]))) for d in model.datasets
            ],
        )
        written += _write_checked(other, Path(folder) / name, shown, say)
    documents = [Path(folder) / name for name in sorted(model.files)]
    for document in documents:
        document.write_bytes(model.files[document.name])
        say(f"wrote {shown / document.name}")
    return written + documents


def _write_checked(
    model: DefineModel, path: Path, shown: Path, say: Callable[[str], None]
) -> list[Path]:
    """Write one define.xml and its HTML, or raise DefineSchemaError if it is invalid."""
    path = write_model(model, path)
    problems = validate_define_schema(path)
    if problems:
        raise DefineSchemaError(
            f"the define.xml made is not schema-valid ({len(problems)} error(s)), so it was "
            "not written: " + "; ".join(problems[:3]),
            where=str(shown / path.name),
            hint="this is a cdisc_mapper bug; please report it",
        )
    html = render_html(path)
    say(f"wrote {shown / path.name} and {html.name}")
    return [path, html]


def write_define(
    study_dir: Path,
    out_dir: Path,
    *,
    which: Iterable[str] = ("sdtm", "adam"),
    progress: Callable[[str], None] | None = None,
    adam_result: Any = None,
    raw_dir: Path | None = None,
    workers: int = 1,
    parallel_bytes: int = PARALLEL_BYTES,
) -> list[Path]:
    """Write ``OUT/sdtm/define.xml`` and ``OUT/adam/define.xml`` (with ``define.html`` and
    ``define2-1.xsl`` beside each) for the datasets written there; return the files
    written. ``workers`` > 1: the datasets are read in that many processes when their
    XPORT files add up to ``parallel_bytes`` or more (:mod:`.parallel`); the files
    written are the same.

    A standard in ``which`` whose folder holds no ``.xpt`` file is skipped; nothing at
    all to describe is an error. A study folder without ``study.yaml`` and ``sdtm/``
    specs (an ADaM-only study) describes ADaM only, naming the study from the ADaM
    conventions or data and SDTM TS (:func:`adam_only_study`). Progress goes to
    ``progress``, else to this module's logger (INFO); warnings (e.g. no MedDRA version
    in define.yaml) to ``progress`` (``warning: ...``, each shown once, as the command
    line does), else to the logger (WARNING) and to :mod:`warnings`
    (:class:`DefineWarning`). ``adam_result`` (what :func:`cdisc_mapper.adam.run_adam`
    returned for the same folders) gives the ADaM metadata, else the specs do. ``raw_dir`` (the
    raw forms) lets the generated aCRF show every raw column, those not submitted too.

    Raises:
        SpecError: a spec names a method, comment or code list that does not exist
            (message names the spec file and line).
        DefineInputError: no datasets to describe, or a dataset without a spec.
        DefineSchemaError: the written define.xml fails the Define-XML 2.1 schema.
    """
    study_dir = Path(study_dir)
    out_dir = Path(out_dir)
    kinds = list(which)
    if "sdtm" in kinds and not has_sdtm_specs(study_dir):
        if "adam" not in kinds:
            raise DefineInputError(
                f"define.xml for SDTM needs the study's {STUDY_FILE} and sdtm/ specs",
                where=str(study_dir),
                hint="give the study folder that maps the raw data, or describe ADaM only",
            )
        # an ADaM-only study: its SDTM (and their define.xml) come from elsewhere
        (progress or log.info)(
            f"define.xml for SDTM: skipped, {study_dir} has no {STUDY_FILE} or sdtm/ specs "
            "(an ADaM-only study); OUT/sdtm is left as it is"
        )
        kinds.remove("sdtm")

    folders = [out_dir / k for k in ("sdtm", "adam") if k in kinds and _has_datasets(out_dir / k)]
    with profiler(workers, folders, parallel_bytes=parallel_bytes) as reader:
        inputs = _started(reader, folders, study_dir, adam_result)

        def build(kind: str, folder: Path) -> tuple[DefineModel, list[str]]:
            if kind == "sdtm":
                sdtm = inputs.get("sdtm") or inputs.setdefault("sdtm", sdtm_inputs(study_dir))
                return build_sdtm_model(study_dir, folder, raw_dir, inputs=sdtm, profiler=reader)
            adam = inputs.get("adam")
            if adam is None:  # study.yaml read once: SDTM's, when it was described
                study = inputs["sdtm"].bundle.study if "sdtm" in inputs else None
                adam = adam_inputs(study_dir, adam_result, study)
            return build_adam_model(
                study_dir, folder, out_dir / "sdtm", adam_result, inputs=adam, profiler=reader
            )

        return write_each(
            out_dir, kinds, build, progress, "specs",
            empty_hint="run cdisc-mapper sdtm (and adam) with this --out first",
        )  # fmt: skip


def _started(
    reader: Profiler, folders: list[Path], study_dir: Path, adam_result: Any
) -> dict[str, Any]:
    """With workers, the specs of each standard to describe read now and its datasets
    handed to the workers (SDTM first, as they are described first); the inputs read.
    A standard whose specs fail here is read again when its turn comes, which raises the
    error then, as a serial run does."""
    inputs: dict[str, Any] = {}
    if not reader.parallel:
        return inputs
    for folder in folders:
        try:
            if folder.name == "sdtm":
                inputs["sdtm"] = sdtm_inputs(study_dir)
            else:
                study = inputs["sdtm"].bundle.study if "sdtm" in inputs else None
                inputs["adam"] = adam_inputs(study_dir, adam_result, study)
        except Exception as exc:  # raised again in its turn
            log.debug("%s: specs not read ahead (%r)", folder.name, exc)
            continue
        reader.start(folder, inputs[folder.name].joint)
    return inputs


def _owned(model: DefineModel) -> Callable[[str], bool]:
    """What the stage replaces in a define.xml's folder: its own files and the
    documents it writes (a sponsor's acrf.pdf, never written here, is kept)."""
    return lambda name: OWNED(name) or name in model.files


def write_each(
    out_dir: Path,
    which: Iterable[str],
    build: Callable[[str, Path], tuple[DefineModel, list[str]]],
    progress: Callable[[str], None] | None,
    source: str,
    *,
    empty_hint: str,
) -> list[Path]:
    """For each standard in ``which`` whose folder ``out_dir/<kind>`` holds ``.xpt``
    files, build its model with ``build(kind, folder)``; then :func:`publish` them all
    into staging folders, published together only when every file is written and
    schema-valid; return the files written. Nothing at all to describe is a
    DefineInputError (``empty_hint`` says what to do). Progress and warnings go to
    ``progress``, else to this module's logger (INFO and WARNING)."""
    say = progress or log.info
    warn = None if progress else log.warning
    wanted = list(which)
    unknown = set(wanted) - {"sdtm", "adam"}
    if unknown:
        raise DefineInputError(f"unknown standard(s) {sorted(unknown)}; use sdtm and/or adam")
    kinds = [k for k in ("sdtm", "adam") if k in wanted and _has_datasets(out_dir / k)]
    if not kinds:
        raise DefineInputError(
            f"no datasets to describe in {out_dir / 'sdtm'} or {out_dir / 'adam'}",
            where=str(out_dir),
            hint=empty_hint,
        )
    built = []
    for kind in kinds:
        folder = out_dir / kind
        say(f"define.xml for {kind.upper()}: reading {source} and {folder}")
        built.append((kind, *build(kind, folder)))
    written: list[Path] = []
    targets = [Target(out_dir / k, _owned(model)) for k, model, _ in built]
    with staged(*targets) as stages:
        for (kind, model, notes), stage in zip(built, stages, strict=True):
            files = publish(
                model, notes, stage.path, kind, say, shown=stage.target,
                formats=formats_in(out_dir / kind),
                to_warnings=progress is None, warn=warn,
            )  # fmt: skip
            written += [stage.final(p) for p in files]
    return written
