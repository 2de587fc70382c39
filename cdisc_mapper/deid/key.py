"""The key: new subject identifiers, per-subject date offsets and masked sites, drawn from
a secret, and the file linking them to the originals (kept apart from the package).

All draws come from one generator seeded by the SHA-256 of the secret, in the order of
the sorted original identifiers, so the same package and secret give the same key. The
new numbers are a random permutation (not the enrolment order, which would let a reader
link them back to the sites' screening logs).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cdisc_mapper.deid.spec import DeidSpec
from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.publish import atomic_file


class KeyPathError(CdiscMapperError):
    """The key would be written where the shared package is."""


@dataclass
class DeidKey:
    """Old -> new identifiers and the date offsets of one de-identification run."""

    secret: str
    subjects: dict[str, str] = field(default_factory=dict)
    subjids: dict[str, str] = field(default_factory=dict)
    offsets: dict[str, int] = field(default_factory=dict)
    study_offset: int = 0
    sites: dict[str, str] = field(default_factory=dict)
    investigators: dict[str, str] = field(default_factory=dict)
    pools: dict[str, str] = field(default_factory=dict)


def new_secret() -> str:
    """A random secret, stored with the key (a rerun needs it to give the same output)."""
    return secrets.token_hex(32)


def _rng(secret: str) -> np.random.Generator:
    seed = int.from_bytes(hashlib.sha256(secret.encode("utf-8")).digest()[:8], "big")
    return np.random.default_rng(seed)


def _codes(values: Iterable[str], prefix: str, rng: np.random.Generator) -> dict[str, str]:
    """Each distinct value -> ``prefix`` + a number, numbers in a random order."""
    ordered = sorted(set(values))
    width = max(2, len(str(len(ordered))))
    order = rng.permutation(len(ordered))
    return {old: f"{prefix}{int(n) + 1:0{width}d}" for old, n in zip(ordered, order, strict=True)}


def build_key(
    secret: str,
    spec: DeidSpec,
    subjects: dict[str, tuple[str, str]],
    sites: Iterable[str],
    investigators: Iterable[str],
    pools: Iterable[str] = (),
) -> DeidKey:
    """The key for ``subjects`` (USUBJID -> (STUDYID, SUBJID)), sites, investigators and
    pools of subjects (POOLID)."""
    rng = _rng(secret)
    new_subjids = _codes(subjects, spec.subject_prefix, rng)
    key = DeidKey(secret=secret)
    for usubjid in sorted(subjects):
        studyid, subjid = subjects[usubjid]
        new = new_subjids[usubjid]
        key.subjects[usubjid] = f"{studyid}-{new}" if studyid else new
        if subjid:
            key.subjids[subjid] = new
    low, high = spec.dates.offset_days
    for usubjid in sorted(subjects):
        key.offsets[usubjid] = int(rng.integers(low, high + 1))
    key.study_offset = int(rng.integers(low, high + 1))
    key.sites = _codes(sites, spec.site_prefix, rng)
    key.investigators = _codes(investigators, "INV", rng)
    key.pools = _codes(pools, "POOL", rng)
    return key


def check_key_path(key_path: Path, out: Path, package: Path) -> None:
    """Refuse a key inside the output (or input) package: it must travel apart."""
    resolved = key_path.resolve()
    for folder, what in ((out, "output"), (package, "input")):
        if resolved == folder.resolve() or folder.resolve() in resolved.parents:
            raise KeyPathError(
                f"the key file is inside the {what} package {folder}",
                where=f"--key-out {key_path}",
                hint="the key re-identifies every subject: write it to a separate place "
                "that is not shared with the package",
            )


def write_key(key: DeidKey, path: Path) -> Path:
    """The key as JSON (secret, subjects with offsets, sites), written atomically."""
    subjid_of = {v: k for k, v in key.subjids.items()}
    body = {
        "secret": key.secret,
        "study_offset_days": key.study_offset,
        "subjects": [
            {
                "USUBJID": old,
                "new_USUBJID": new,
                "SUBJID": subjid_of.get(new.rsplit("-", 1)[-1], ""),
                "offset_days": key.offsets[old],
            }
            for old, new in key.subjects.items()
        ],
        "sites": key.sites,
        "investigators": key.investigators,
        "pools": key.pools,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as handle:
        os.chmod(handle.name, 0o600)  # the owner alone may read the key
        handle.write((json.dumps(body, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    return path
