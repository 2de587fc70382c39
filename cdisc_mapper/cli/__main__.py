"""``python -m cdisc_mapper.cli``: the ``cdisc-mapper`` command."""

from cdisc_mapper.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
