"""Reading the SDTM datasets ADaM needs, with a clear error for anything missing.

Before any derivation runs, every (domain, variable) the specs read is checked against the
SDTM folder's files (their metadata only), so a missing domain or variable is reported at
once, naming the file, the variable and the spec line that needs it. Supplemental
qualifiers (``supp<xx>.xpt``) are merged into their parent domain as columns named by QNAM
(linked through IDVAR/IDVARVAL), so a spec reads ``MH.MHONSITE`` whether the value sits in
MH or in SUPPMH.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_mapper.datasetjson import SUFFIXES as JSON_SUFFIXES
from cdisc_mapper.datasetjson import dataset_files, read_dataset
from cdisc_mapper.errors import CdiscMapperError, Location, RawDataError
from cdisc_mapper.xpt import XptVariable, read_xpt, read_xpt_names

SUPP_KEYS = ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL")


SdtmRecords = dict[str, tuple[pd.DataFrame, list[XptVariable]]]
"""SDTM files given in memory: file name (``dm.xpt``) -> its records and the variables it
declares (one part of the subjects, :mod:`cdisc_mapper.adam.partition`)."""


class SdtmInput:
    """The SDTM datasets of one folder (``<domain>.xpt``, lower-case names), read lazily;
    or, with ``records``, the files of that folder as given in memory (a file not given
    is one the folder does not have). ``qnams`` gives the QNAMs and QLABELs of SUPP--
    files (by domain) as the whole files have them, for records of some subjects only."""

    def __init__(
        self,
        folder: Path,
        records: SdtmRecords | None = None,
        qnams: Mapping[str, dict[str, str]] | None = None,
    ):
        self.folder = Path(folder)
        self.records = records
        if records is None and not self.folder.is_dir():
            raise RawDataError(
                "SDTM folder not found",
                where=str(self.folder),
                hint="run `cdisc-mapper sdtm` first, or pass the folder holding <domain>.xpt",
            )
        found = dataset_files(self.folder) if records is None else [Path(n) for n in records]
        self._suffix = found[0].suffix.lower() if found else ".xpt"
        self._frames: dict[str, pd.DataFrame] = {}
        self._columns: dict[str, list[str]] = {}
        self._supp_qnams: dict[str, dict[str, str]] = dict(qnams or {})
        self._wanted: dict[str, set[str]] = {}
        self._declared: dict[str, dict[str, XptVariable]] = {}

    def has(self, path: Path) -> bool:
        """Whether the folder (or the records given) has the file ``path``."""
        return path.is_file() if self.records is None else path.name in self.records

    def whole(
        self, path: Path, variables: Iterable[str] | None = None
    ) -> tuple[pd.DataFrame, list[XptVariable]]:
        """Every record of the file ``path`` (its ``variables`` that it has, all when
        None), and the variables it declares."""
        frame = self._read(path, None if variables is None else list(variables))
        return frame, list(self._declared[path.name].values())

    def path(self, domain: str) -> Path:
        """``<domain>.xpt``, or the Dataset-JSON file when the folder holds that format
        only (:func:`cdisc_mapper.datasetjson.dataset_files` chooses the format)."""
        return self.folder / f"{domain.lower()}{self._suffix}"

    def _meta_columns(self, path: Path) -> list[str]:
        if self.records is not None:
            return list(self.records[path.name][0].columns)
        try:
            if path.suffix.lower() in JSON_SUFFIXES:
                return list(self._read(path).columns)
            return read_xpt_names(path)
        except CdiscMapperError as exc:
            raise RawDataError(exc.message, where=str(path), hint=exc.hint) from exc

    def _read(self, path: Path, usecols: list[str] | None = None) -> pd.DataFrame:
        """Records of an XPT file: the ``usecols`` variables (all when None), text as
        pandas' ``str`` dtype."""
        if self.records is not None:
            given, variables = self.records[path.name]
            self._declared[path.name] = {v.name: v for v in variables}
            return given if usecols is None else given[[c for c in usecols if c in given]]
        try:
            if path.suffix.lower() in JSON_SUFFIXES:
                frame, meta = read_dataset(path, text="str")
                frame = frame if usecols is None else frame[[c for c in usecols if c in frame]]
            else:
                frame, meta = read_xpt(path, columns=usecols, text="str")
        except CdiscMapperError as exc:
            raise RawDataError(exc.message, where=str(path), hint=exc.hint) from exc
        self._declared[path.name] = {v.name: v for v in meta.variables}
        return frame

    def declared(self, domain: str, variable: str) -> XptVariable | None:
        """``variable`` as ``<domain>.xpt`` declares it (label, type, stored length); None
        when the file has no such variable (e.g. a supplemental qualifier) or no file."""
        path = self.path(domain)
        if path.name not in self._declared:
            if not self.has(path):
                return None
            self._read(path, [])
        return self._declared[path.name].get(variable)

    def supp_qnams(self, domain: str) -> dict[str, str]:
        """QNAM -> QLABEL of ``supp<domain>.xpt`` (empty when there is no such file)."""
        if domain not in self._supp_qnams:
            path = self.path(f"SUPP{domain}")
            qnams: dict[str, str] = {}
            if self.has(path):
                supp = self._read(path, ["QNAM", "QLABEL"])
                for q, lab in supp.drop_duplicates("QNAM").itertuples(index=False):
                    qnams[str(q)] = str(lab)
            self._supp_qnams[domain] = qnams
        return self._supp_qnams[domain]

    def columns(self, domain: str) -> list[str]:
        if domain not in self._columns:
            self._columns[domain] = self._meta_columns(self.path(domain))
        return self._columns[domain]

    def check(self, needs: Mapping[str, Mapping[str, str]]) -> None:
        """Raise RawDataError for the first missing domain or variable.

        ``needs`` maps domain -> {variable: where it is needed (spec file:line)}.
        """
        for domain in sorted(needs):
            path = self.path(domain)
            wanted = needs[domain]
            if not self.has(path):
                first = next(iter(sorted(wanted.items(), key=lambda kv: kv[1])), ("", ""))
                raise RawDataError(
                    f"SDTM domain {domain} not found (expected {path.name})",
                    where=str(self.folder),
                    hint=f"{first[1]} needs {domain}.{first[0]}; map {domain} to SDTM first",
                )
            have = set(self.columns(domain)) | set(self.supp_qnams(domain))
            for var, where in sorted(wanted.items()):
                if var not in have:
                    raise RawDataError(
                        f"SDTM {domain} has no variable {var} (neither in {path.name} nor in "
                        f"supp{domain.lower()}.xpt)",
                        where=Location(file=str(path)),
                        hint=f"{where} needs {domain}.{var}",
                    )
            self._wanted.setdefault(domain, set()).update(wanted)

    def frame(self, domain: str, variables: Iterable[str] = ()) -> pd.DataFrame:
        """The domain's records: the checked variables, plus USUBJID and the sequence
        variable, with SUPP-- qualifiers merged as columns. Cached per domain."""
        if domain in self._frames:
            frame = self._frames[domain]
            missing = [v for v in variables if v not in frame.columns]
            if not missing:
                return frame
            self._wanted.setdefault(domain, set()).update(missing)
            del self._frames[domain]
        wanted = set(self._wanted.get(domain, set())) | set(variables)
        cols = self.columns(domain)
        seq = f"{domain}SEQ"
        base = [c for c in cols if c in wanted or c in ("USUBJID", seq)]
        frame = self._read(self.path(domain), base)
        supp_vars = sorted(v for v in wanted if v not in cols and v in self.supp_qnams(domain))
        if supp_vars:
            frame = self._merge_supp(domain, frame, supp_vars)
        self._frames[domain] = frame
        return frame

    def release(self, domain: str) -> None:
        """Forget a domain's records (they are read again if needed)."""
        self._frames.pop(domain, None)

    def _merge_supp(self, domain: str, frame: pd.DataFrame, qnams: list[str]) -> pd.DataFrame:
        supp = self._read(self.path(f"SUPP{domain}"))
        supp = supp[supp["QNAM"].isin(qnams)]
        out = frame.copy()
        for idvar, part in supp.groupby("IDVAR", sort=True):
            wide = part.pivot_table(
                index=["USUBJID", "IDVARVAL"], columns="QNAM", values="QVAL", aggfunc="first"
            ).reset_index()
            if idvar:
                key = out[idvar]
                key_text: pd.Series
                if pd.api.types.is_numeric_dtype(key):
                    k = key.to_numpy(dtype="float64")
                    whole = np.where(np.isnan(k), 0, k)
                    as_int = np.where(np.isnan(k), "", whole.astype("int64").astype(str))
                    key_text = pd.Series(
                        np.where(whole == np.round(whole), as_int, key.astype(str).to_numpy()),
                        index=out.index,
                        dtype=object,
                    )
                else:
                    key_text = key.astype(str).str.strip()
                out["__id"] = key_text
                merged = out.merge(
                    wide.rename(columns={"IDVARVAL": "__id"}),
                    on=["USUBJID", "__id"],
                    how="left",
                    suffixes=("", "__supp"),
                )
                merged.index = out.index
                out = merged.drop(columns="__id")
            else:  # subject-level qualifiers
                merged = out.merge(wide.drop(columns="IDVARVAL"), on="USUBJID", how="left")
                merged.index = out.index
                out = merged
            for q in qnams:
                if f"{q}__supp" in out.columns:
                    out[q] = out[q].where(out[q].notna(), out[f"{q}__supp"])
                    out = out.drop(columns=f"{q}__supp")
        for q in qnams:
            if q not in out.columns:
                out[q] = ""
            out[q] = out[q].fillna("").astype(str)
        return out
