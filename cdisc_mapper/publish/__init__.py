"""Publishing a stage's outputs all at once, and one run per output folder.

A stage (``sdtm``, ``adam``, ``define``, ``validate``, ``simulate``, ``demo``) never
writes into the folders a reader sees. :func:`staged` gives it a staging folder beside
each target folder (same parent, so the same filesystem); the stage writes its files
there, and only when all of them are written are the staging folders swapped into place
(:func:`publish_folders` does the same for folders prepared elsewhere). A failed or
interrupted stage deletes its staging folders; a killed one leaves them under names that
say who made them, and the next run settles them (:mod:`.folders`). Files written on
their own go through a unique temporary name (:func:`atomic_file`). :func:`run_lock`
allows one run per output folder (:mod:`.lock`).
"""

from cdisc_mapper.publish.folders import (
    Staging,
    Target,
    owning,
    publish_folders,
    recover,
    scratch,
    staged,
)
from cdisc_mapper.publish.lock import run_lock
from cdisc_mapper.publish.names import (
    HOST,
    LOCK_FILE,
    OutputFolderError,
    RunLockedError,
    atomic_file,
    folder_entries,
    is_bookkeeping,
    is_temporary,
    new_group,
    pid_alive,
    private_name,
    temp_path,
)

__all__ = [
    "HOST",
    "LOCK_FILE",
    "OutputFolderError",
    "RunLockedError",
    "Staging",
    "Target",
    "atomic_file",
    "folder_entries",
    "is_bookkeeping",
    "is_temporary",
    "new_group",
    "owning",
    "pid_alive",
    "private_name",
    "publish_folders",
    "recover",
    "run_lock",
    "scratch",
    "staged",
    "temp_path",
]
