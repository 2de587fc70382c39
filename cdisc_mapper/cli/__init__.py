"""The ``cdisc-mapper`` command line: the group (``group``), the options several commands
share (``options``), how a command runs (``running``, ``progress``), and one module per
command or group of commands. A command imports its stage when it runs, so that --help
is fast."""

from __future__ import annotations

from cdisc_mapper.cli import define, deidentify, demo, mapping, spec, validate
from cdisc_mapper.cli.group import main
from cdisc_mapper.cli.progress import LIBRARY
from cdisc_mapper.cli.spec import reference_text

COMMAND_MODULES = (mapping, define, validate, demo, deidentify, spec)
"""The modules whose commands the group holds once they are imported."""

__all__ = ["LIBRARY", "main", "reference_text"]
