"""Synthetic raw EDC export of the bundled ALS-MSC study (contract: ``docs/raw_forms.md``).

``simulate(out_dir, n_subjects, seed, effect=...)`` writes one CSV per CRF form plus
``manifest.json`` and returns the manifest. The output depends only on ``seed``,
``n_subjects`` and ``effect`` (byte-identical files for the same values); ``effect`` is
the treatment effect, ``"paper"`` (calibrated to the published responder fractions) by
default, ``"none"`` for a null cohort. The files are published at once
(:mod:`cdisc_mapper.publish`), and a folder holding anything simulate did not write (a
real export) is refused unless ``force``.
"""

from __future__ import annotations

from pathlib import Path

from cdisc_mapper.publish import Target, owning, staged

from . import adverse, forms_subject, forms_visit, labs, medications
from .catalog import STUDY_ID
from .edc import EDC_FILES, edc_files
from .progression import EFFECTS, Effect, course, disease_params, effect_named
from .timeline import build_cohort
from .writer import OUTPUT_FILES, check_replaceable, export_entries, write_form, write_manifest

__all__ = ["EFFECTS", "Effect", "simulate"]

DEFAULT_SEED = 20160101


def simulate(
    out_dir: Path,
    n_subjects: int = 20,
    seed: int = DEFAULT_SEED,
    *,
    force: bool = False,
    effect: str | Effect = "paper",
    fmt: str = "csv",
) -> dict:
    """Generate the raw export of ``n_subjects`` subjects into ``out_dir``; return the manifest.

    ``out_dir`` is created if needed. A folder simulate wrote before is replaced; any
    other non-empty folder is refused (OutputFolderError) unless ``force``, which
    replaces the form files and manifest.json there and keeps the rest. ``effect`` is a
    preset name (``paper``, ``none``) or an :class:`Effect`; an unknown name is a
    ValueError. ``fmt`` ``redcap`` or ``odm`` writes the same forms as that EDC's export
    (:mod:`.edc`) instead of one CSV per form.
    """
    if fmt not in ("csv", *EDC_FILES):
        raise ValueError(f"fmt must be csv, redcap or odm, got {fmt!r}")
    if isinstance(n_subjects, bool) or not isinstance(n_subjects, int) or n_subjects < 1:
        raise ValueError(f"n_subjects must be a positive integer, got {n_subjects!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    treatment = effect_named(effect)
    out = Path(out_dir)
    check_replaceable(out, force)
    cohort = build_cohort(seed, n_subjects)
    params, ranks = disease_params(seed, cohort, treatment)
    state = course(seed, cohort, params, ranks)
    hist = forms_subject.history_days(seed, cohort, params)
    ae_form, ae_events = adverse.adverse_events(seed, cohort)
    builders = {
        "enrollment.csv": lambda: forms_subject.enrollment(seed, cohort, state),
        "eligibility.csv": lambda: forms_subject.eligibility(cohort),
        "als_history.csv": lambda: forms_subject.als_history(seed, cohort, state, hist),
        "medications.csv": lambda: medications.medications(seed, cohort, state, hist, ae_events),
        "alsfrs.csv": lambda: forms_visit.alsfrs(seed, cohort, state),
        "fvc.csv": lambda: forms_visit.fvc(seed, cohort, state),
        "vitals.csv": lambda: forms_visit.vitals(seed, cohort, state),
        "labs.csv": lambda: labs.labs(seed, cohort, state),
        "bma.csv": lambda: forms_subject.bma(seed, cohort),
        "injections.csv": lambda: forms_subject.injections(seed, cohort, state),
        "adverse_events.csv": lambda: ae_form,
        "end_of_study.csv": lambda: forms_subject.end_of_study(seed, cohort),
    }
    owned = (*OUTPUT_FILES, *(n for names in EDC_FILES.values() for n in names))
    with staged(Target(out, owning(names=owned))) as (stage,):
        if fmt == "csv":
            entries = {
                name: write_form(stage.path, name, build()) for name, build in builders.items()
            }
        else:
            forms = {name.removesuffix(".csv"): build() for name, build in builders.items()}
            rows = sum(len(f) for f in forms.values())
            entries = export_entries(stage.path, edc_files(fmt, forms, STUDY_ID), rows)
        manifest = write_manifest(stage.path, seed, n_subjects, entries, treatment.name)
    return manifest
