"""The progression report's parts: :mod:`.stats` (the tests and estimates, each stating
its method), :mod:`.rows` (the records of a summary row), :mod:`.method` (the sentence
stating the methods), :mod:`.display` (the rounded tables), :mod:`.figures` (matplotlib
figures as reproducible PNG) and :mod:`.html` (the self-contained page).
:mod:`cdisc_mapper.adam.summary` builds the table and writes the files."""
