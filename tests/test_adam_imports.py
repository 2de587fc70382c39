"""What importing the ADaM package loads: the report modules (scipy, matplotlib) only when
a study's reports are built or written, not for the specs, the define.xml metadata or a
part's derivation (cdisc_mapper/adam/__init__.py, cdisc_mapper/adam/report/method.py)."""

from __future__ import annotations

import ast
import subprocess
import sys

from cdisc_mapper.adam.report.method import method_text
from tests.conftest import STUDY

HEAVY = ("scipy", "matplotlib")


def _loaded_after(code: str) -> list[str]:
    """The heavy modules in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport sys\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return ast.literal_eval(out.stdout.strip())


def test_define_and_the_adam_metadata_load_neither_scipy_nor_matplotlib():
    code = (
        "import cdisc_mapper.define, cdisc_mapper.define.pipeline, cdisc_mapper.define.arm\n"
        "import cdisc_mapper.adam.engine, cdisc_mapper.adam.partition\n"
        "from cdisc_mapper.adam import adam_metadata, load_adam_specs\n"
        f"metas = adam_metadata(load_adam_specs({str(STUDY)!r}))\n"
        "assert 'ADSL' in metas, sorted(metas)\n"
    )
    assert _loaded_after(code) == []


def test_the_report_module_still_loads_them_when_used():
    """The probe sees them when they are loaded (the clean case above is not vacuous)."""
    assert _loaded_after("import cdisc_mapper.adam.summary") == ["matplotlib", "scipy"]
    code = "import cdisc_mapper.adam as a\na._report_files  # defined, not yet imported"
    assert _loaded_after(code) == []


def test_the_method_sentence_has_one_home_that_define_and_the_report_share():
    from cdisc_mapper.adam import load_adam_specs, summary
    from cdisc_mapper.define import arm

    spec = load_adam_specs(STUDY).reports.progression_summaries[0]
    text = method_text(spec)
    assert text.startswith(f"Source: {spec.dataset}, population {spec.population} = 'Y'. ")
    assert "Wilcoxon signed-rank test, two-sided" in text
    assert summary.method_text is method_text
    assert arm.method_text is method_text
