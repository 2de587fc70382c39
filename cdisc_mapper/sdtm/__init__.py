"""Map raw EDC forms to SDTM: the engine, its operation registry and the pipeline.

Importing the package registers every mapping operation (``ops_basic``, ``ops_timing``).
"""

from cdisc_mapper.sdtm import ops_basic, ops_timing  # noqa: F401  (register operations)
