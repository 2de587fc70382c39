"""The README stays true: it documents every mapping operation, and CI runs exactly its
test command."""

from __future__ import annotations

import re

from cdisc_mapper.sdtm import OPERATIONS
from tests.conftest import REPO


def test_every_operation_is_documented():
    text = (REPO / "README.md").read_text()
    documented = set(re.findall(r"`([a-z_]+)`", text))
    missing = [name for name in OPERATIONS.names() if name not in documented]
    assert not missing, f"operations missing from the README table: {missing}"


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    command = 'python -m pip install -q -e ".[test]" && python -m pytest -q'
    assert command in readme
    assert command in ci.splitlines()
