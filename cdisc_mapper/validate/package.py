"""Finding and reading the datasets of a package (SDTM and/or ADaM XPT files).

A package folder is ``DIR`` holding ``sdtm/`` and/or ``adam/`` subfolders, or ``DIR``
itself holding ``.xpt`` files written by any tool. Each file is read with
:func:`cdisc_mapper.xpt.read_xpt` (pyreadstat; never ``pandas.read_sas``, which misreads
IBM zero and may drop trailing blank records) and classified: standard (SDTM/ADaM),
domain, observation class, the implementation-guide metadata that applies, and the
``--SEQ`` variable. A file that cannot be read becomes an
:class:`~cdisc_mapper.validate.unreadable.Unreadable` (check SD0017), and the rest of the
package is still read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_mapper.datasetjson import dataset_files, format_of
from cdisc_mapper.standards import Standard, VariableMeta
from cdisc_mapper.validate.errors import ValidationInputError
from cdisc_mapper.validate.frames import FrameStore, Source, screen, stamp
from cdisc_mapper.validate.unreadable import Unreadable, read_or_explain
from cdisc_mapper.xpt import XptMetadata

_SDTM_DIR = "sdtm"
_ADAM_DIR = "adam"

#: SDTM relationship datasets that are not domains.
RELATIONSHIP_DATASETS = frozenset({"RELREC", "RELSUB", "RELSPEC"})
#: ADaM structure names used as classes (``scope(classes=...)``).
ADSL, BDS, TTE, OCCDS, ADAM_OTHER = "ADSL", "BDS", "TTE", "OCCDS", "OTHER"


@dataclass
class Dataset:
    """One dataset of the package, read and classified.

    Attributes:
        name: dataset name (uppercase), from the file's header or else the file name.
        file: path relative to the package folder, for reports.
        frame: the records when held in memory (see :attr:`df`), else None.
        meta: the file's own metadata (labels, types, lengths, formats).
        standard: ``"SDTM"`` or ``"ADaM"``.
        domain: SDTM domain code (``QS`` for a split ``QSPH``; ``SUPPAE`` keeps its name;
            ``RELREC``); for ADaM the dataset name.
        class_: SDTM observation class (``Findings``...; inferred from the variables when
            the domain is not in the loaded SDTMIG metadata) or ADaM structure (``ADSL``,
            ``BDS``, ``TTE``, ``OCCDS``, ``OTHER``).
        ig_name: the name to look up in the implementation guide (``AE``, ``SUPPAE``,
            ``BDS``...), or ``None`` when the standard metadata has no such dataset.
        seq_var: ``--SEQ`` (SDTM) or ``ASEQ`` (ADaM) when present.
        sdtmig: for an ADaM dataset, the SDTMIG whose variables it may carry under their
            own names (VSELTM, VSDY): those keep their SDTM metadata.
        source: how to read the records again once let go (:mod:`.frames`); None keeps
            them in memory.
    """

    name: str
    file: str
    path: Path
    frame: pd.DataFrame | None = field(repr=False)
    meta: XptMetadata
    standard: str
    domain: str
    class_: str
    ig_name: str | None
    seq_var: str | None
    sdtmig: Standard | None = None
    source: Source | None = field(default=None, repr=False)
    _ig_vars: dict[tuple[str, str], VariableMeta | None] = field(default_factory=dict, repr=False)
    _uniques: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _names: tuple[str, ...] = field(init=False, repr=False)
    _count: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.frame is None:  # a screened file: the header tells
            self._names = tuple(v.name for v in self.meta.variables)
            self._count = self.meta.n_records
        else:
            self._names, self._count = tuple(self.frame.columns), len(self.frame)

    @property
    def df(self) -> pd.DataFrame:
        """The records (see :func:`cdisc_mapper.xpt.read_xpt`); row ``i`` is record
        ``i+1``. Read from the file again when they were let go (:mod:`.frames`)."""
        if self.frame is None:
            assert self.source is not None, f"{self.name}: records let go with no source"
            self.frame = self.source.read()
            self.source.store.loaded(self)
        elif self.source is not None:
            self.source.store.used(self)
        return self.frame

    def select(self, names: list[str]) -> pd.DataFrame:
        """The records of the variables ``names`` that the dataset has, in that order:
        for a look-up in another dataset, without reading the others from the file."""
        present = [n for n in dict.fromkeys(names) if n in self._names]
        if self.frame is None and self.source is not None and self.source.chunked:
            return self.source.read(present)
        return self.df[present]

    def rows(self, rows: list[int], names: list[str]) -> pd.DataFrame:
        """The records at positions ``rows`` (0-based, in that order) of the variables
        ``names`` that the dataset has: from the frame when held, else only those records
        of a large file (:mod:`.frames`). Index from 0."""
        present = [n for n in dict.fromkeys(names) if n in self._names]
        if self.frame is None and self.source is not None:
            return self.source.read_rows(rows, present).reset_index(drop=True)
        return self.df.iloc[rows][present].reset_index(drop=True)

    def release(self) -> None:
        """Let the records, and what was computed from them, go (read again on use)."""
        if self.source is not None:
            self.frame = None
            self._uniques.clear()

    @property
    def n(self) -> int:
        """Number of records."""
        return self._count

    @property
    def columns(self) -> list[str]:
        """Variable names in file order."""
        return list(self._names)

    @property
    def is_supp(self) -> bool:
        """Whether this is a SUPP-- (supplemental qualifiers) dataset."""
        return self.standard == "SDTM" and self.name.startswith("SUPP")

    @property
    def prefix(self) -> str:
        """The two-letter variable prefix (``--``) of an SDTM domain, e.g. ``LB``."""
        return self.name[:2] if self.standard == "SDTM" else ""

    def has(self, *names: str) -> bool:
        """Whether every variable in ``names`` is present."""
        return all(n in self._names for n in names)

    def has_numeric(self, *names: str) -> bool:
        """Whether every variable in ``names`` is present and numeric (checks that do
        arithmetic skip a mistyped variable; SD0004 reports the type)."""
        return all(n in self.df.columns and self.df[n].dtype.kind in "fiub" for n in names)

    def var(self, suffix: str) -> str | None:
        """The domain variable ``--suffix`` (``var("TESTCD")`` -> ``LBTESTCD``) if present."""
        name = self.prefix + suffix
        return name if self.prefix and name in self._names else None

    def usubjid(self) -> pd.Series | None:
        """USUBJID per record, or None when the dataset has none."""
        return self.df["USUBJID"] if "USUBJID" in self.df.columns else None

    def uniques(self, name: str) -> np.ndarray:
        """Distinct values of a variable (cached; blank text as ``""``, NaN kept)."""
        if name not in self._uniques:
            self._uniques[name] = distinct(self.df[name])
        return self._uniques[name]

    def ig_variable(self, standard: Standard | None, name: str) -> VariableMeta | None:
        """Implementation-guide metadata of variable ``name`` (cached), or None."""
        if standard is None or self.ig_name is None:
            return None
        key = (standard.name, name)
        if key not in self._ig_vars:
            meta = standard.variable(self.ig_name, name)
            if meta is not None and meta.template is not None and self.standard == "ADaM":
                meta = self._carried(standard, name) or meta
            self._ig_vars[key] = meta
        return self._ig_vars[key]

    def _carried(self, adamig: Standard, name: str) -> VariableMeta | None:
        """A variable an ADaMIG rule names (``*DT``, ``*TM``) that is really a variable
        carried under its own name: an ADSL variable in another dataset (TRTSDT), or an
        SDTM variable (VSELTM, VSDY). Its own metadata wins over the rule's
        (cdisc_mapper.spec.adam_loader.adamig_variable says the same for our specs)."""
        if self.ig_name != "ADSL":
            adsl = adamig.variable("ADSL", name) if adamig.has_dataset("ADSL") else None
            if adsl is not None and adsl.template is None:
                return adsl
        domain = name[:2]
        if self.sdtmig is not None and self.sdtmig.has_dataset(domain):
            return self.sdtmig.variable(domain, name)
        return None


def discover(path: Path, fmt: str | None = None) -> tuple[Path, list[Path]]:
    """The package root and its dataset files (``root/sdtm``, ``root/adam``, ``root``):
    in each folder those of format ``fmt`` (``xpt``, ``json``, ``ndjson``), or when None
    of the preferred format present there (:func:`cdisc_mapper.datasetjson.dataset_files`).

    Raises:
        ValidationInputError: the path does not exist, is a file that is not ``.xpt``, or
            the folder holds no ``.xpt`` files.
    """
    path = Path(path)
    if not path.exists():
        raise ValidationInputError(
            "package folder not found",
            where=str(path),
            hint="give the output folder of `cdisc-mapper sdtm` or a folder of .xpt files",
        )
    if path.is_file():
        if format_of(path) is None:
            raise ValidationInputError(
                "not a folder or a .xpt file (nor a Dataset-JSON .json or .ndjson file)",
                where=str(path),
                hint="give the folder that holds sdtm/, adam/ or .xpt files",
            )
        return path.parent, [path]
    files: list[Path] = []
    for folder in (path / _SDTM_DIR, path / _ADAM_DIR, path):
        files.extend(dataset_files(folder, fmt))
    if not files:
        raise ValidationInputError(
            f"no .{fmt} files found" if fmt else "no .xpt files found (nor .json or .ndjson)",
            where=str(path),
            hint=f"looked in {path}, {path / _SDTM_DIR} and {path / _ADAM_DIR}",
        )
    return path, files


def read_dataset(
    root: Path,
    path: Path,
    *,
    encoding: str | None,
    sdtmig: Standard,
    adamig: Standard,
    store: FrameStore | None = None,
) -> Dataset | Unreadable:
    """Read and classify one file, or say why it cannot be read (check SD0017).

    With a ``store``, an XPT file larger than its ``lazy_bytes`` that passes
    :func:`~.frames.screen` is classified from its header and its records are read when
    used; the dataset's frame may be let go and read again (:mod:`.frames`).
    """
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    before = stamp(path) if store is not None and _large(path, store) else None
    header = screen(path, encoding) if before is not None else None
    source = Source(path, rel, encoding, header is not None, store, before) if store else None
    if header is not None:
        return _classified(rel, path, None, header, sdtmig, adamig, source)
    read = read_or_explain(path, rel, encoding)
    if isinstance(read, Unreadable):
        return read
    df, meta = read
    return _classified(rel, path, df, meta, sdtmig, adamig, source)


def _large(path: Path, store: FrameStore) -> bool:
    try:
        return format_of(path) == "xpt" and path.stat().st_size > store.lazy_bytes
    except OSError:
        return False


def _classified(
    rel: str,
    path: Path,
    frame: pd.DataFrame | None,
    meta: XptMetadata,
    sdtmig: Standard,
    adamig: Standard,
    source: Source | None = None,
) -> Dataset:
    # a screened file is classified from its header: the variable names
    records = frame.reset_index(drop=True) if frame is not None else None
    df = records if records is not None else pd.DataFrame(columns=[v.name for v in meta.variables])
    name = (meta.dataset or path.stem).strip().upper()
    in_adam_dir = path.parent.name.lower() == _ADAM_DIR
    in_sdtm_dir = path.parent.name.lower() == _SDTM_DIR
    is_adam = in_adam_dir or (not in_sdtm_dir and name.startswith("AD"))
    if is_adam:
        class_ = adam_class(name, df)
        adam_ig = _adam_ig_name(name, class_, adamig)
        seq_var = "ASEQ" if "ASEQ" in df.columns else None
        return Dataset(
            name, rel, path, records, meta, "ADaM", name, class_, adam_ig, seq_var, sdtmig, source
        )
    domain = sdtm_domain(name)
    ig_name: str | None = None
    class_ = ""
    if sdtmig.has_dataset(name):
        ig_name = name
    elif name.startswith("SUPP") and sdtmig.has_dataset("SUPPQUAL"):
        ig_name = "SUPPQUAL"
    elif sdtmig.has_dataset(domain):
        ig_name = domain
    if ig_name is not None:
        class_ = sdtmig.dataset(ig_name).class_
    else:
        class_ = infer_sdtm_class(name, domain, df)
    seq = domain + "SEQ"
    seq_var = seq if seq in df.columns and not name.startswith("SUPP") else None
    return Dataset(
        name, rel, path, records, meta, "SDTM", domain, class_, ig_name, seq_var, source=source
    )


def sdtm_domain(name: str) -> str:
    """Domain code of an SDTM dataset name: ``QSPH`` -> ``QS``; SUPP/REL names unchanged."""
    if name.startswith("SUPP") or name in RELATIONSHIP_DATASETS or len(name) < 2:
        return name
    return name[:2]


def infer_sdtm_class(name: str, domain: str, df: pd.DataFrame) -> str:
    """Observation class of a domain the loaded SDTMIG metadata does not describe."""
    cols = set(df.columns)
    if name.startswith("SUPP") or name in RELATIONSHIP_DATASETS:
        return "Relationship"
    if domain + "TESTCD" in cols:
        return "Findings"
    if domain + "TRT" in cols:
        return "Interventions"
    if domain + "TERM" in cols:
        return "Events"
    if "USUBJID" not in cols:
        return "Special-Purpose" if "SPDEVID" in cols else "Trial Design"
    return "Special-Purpose"


def adam_class(name: str, df: pd.DataFrame) -> str:
    """ADaM structure of a dataset: ADSL, TTE, BDS, OCCDS or OTHER."""
    cols = set(df.columns)
    if name == "ADSL":
        return ADSL
    if "PARAMCD" in cols:
        return TTE if "CNSR" in cols else BDS
    if name == "ADAE" or {"AETERM", "AEDECOD"} <= cols:
        return OCCDS
    return ADAM_OTHER


def _adam_ig_name(name: str, class_: str, adamig: Standard) -> str | None:
    if class_ == OCCDS and name != "ADAE":
        return None  # the hand-curated OCCDS metadata describes ADAE only
    return class_ if adamig.has_dataset(class_) else None


def iter_files(root: Path, files: list[Path]) -> Iterator[Path]:
    """Files in report order (folder, then name)."""
    yield from sorted(files, key=lambda p: (p.parent.as_posix(), p.name.lower()))


def blank(series: pd.Series) -> np.ndarray:
    """True where a value is missing: NaN for numbers, empty text for characters.

    :func:`cdisc_mapper.xpt.read_xpt` returns SAS blank character values as ``""`` with
    trailing blanks removed, so an all-blank value is ``""``.
    """
    if series.dtype.kind in "fiub":
        return series.isna().to_numpy()
    return (series.isna() | (series == "")).to_numpy(dtype=bool)


def is_char(series: pd.Series) -> bool:
    """Whether a column holds text (object, string or categorical of text)."""
    return series.dtype.kind not in "fiubcmM"


def equals_text(series: pd.Series, text: str) -> np.ndarray:
    """Where the value is ``text`` (a categorical compared on its codes; a missing or
    numeric value never is)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        at = series.cat.categories.get_indexer(pd.Index([text], dtype=object))[0]
        if at < 0:
            return np.zeros(len(series), dtype=bool)
        return np.asarray(series.cat.codes.to_numpy() == at, dtype=bool)
    return (series.astype(object) == text).to_numpy(dtype=bool)


def distinct(series: pd.Series) -> np.ndarray:
    """Distinct values (object array), cheap for categoricals."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = series.cat.categories.to_numpy(dtype=object)
        used = np.zeros(len(categories) + 1, dtype=bool)  # the last one: missing (code -1)
        used[series.cat.codes.to_numpy()] = True
        values = categories[used[:-1]]
        if used[-1]:
            values = np.append(values, np.nan)
        return values
    return pd.unique(series.to_numpy(dtype=object if is_char(series) else None))


def codes_in(series: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each value of ``series`` in ``index`` (-1 when absent or missing)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        lookup = index.get_indexer(series.cat.categories)
        codes = series.cat.codes.to_numpy()
        return np.where(codes >= 0, lookup[codes], -1)
    return index.get_indexer(pd.Index(series.to_numpy()))


#: Significant digits numbers are compared at as keys (VISITNUM, --SEQ, ...).
KEY_DIGITS = 10


def numeric_key(values: pd.Series | np.ndarray) -> np.ndarray:
    """Numbers as keys to compare: rounded to :data:`KEY_DIGITS` significant digits, so
    that float noise does not make two values differ (9.299999999999999, a sum computed
    in floating point, and 9.3 are one VISITNUM); NaN stays NaN, text that is not a
    number becomes NaN. Every check that matches or groups records by a number uses it
    (directly or through :func:`row_keys` and :meth:`Context.flag_groups`)."""
    array = np.asarray(values)
    if array.dtype.kind in "fiub":  # numbers already: no object round trip
        x = array.astype(float)
    else:
        numbers = pd.to_numeric(pd.Series(np.asarray(values, dtype=object)), errors="coerce")
        x = numbers.to_numpy(dtype=float)
    if x.size <= _ROUND_DISTINCT_FROM:
        return _rounded(x)
    # a long column has few distinct numbers: round each once (zeros keep their sign)
    codes, uniques = pd.factorize(x, use_na_sentinel=False)
    out = _rounded(np.asarray(uniques, dtype=float))[codes]
    zero = x == 0
    out[zero] = x[zero]
    return out


#: Columns longer than this are rounded per distinct value by :func:`numeric_key`.
_ROUND_DISTINCT_FROM = 10_000


def _rounded(x: np.ndarray) -> np.ndarray:
    """:func:`numeric_key` of float numbers, value by value."""
    finite = np.isfinite(x) & (x != 0)
    magnitude = np.floor(np.log10(np.abs(np.where(finite, x, 1.0))))
    shift = KEY_DIGITS - 1 - magnitude
    finite &= np.abs(shift) <= 280  # beyond, 10**shift overflows: keep such values as they are
    shift = np.where(finite, shift, 0.0)
    scale = 10.0 ** np.abs(shift)  # exact powers of ten: dividing by one rounds correctly
    # np.where computes both branches: the one not taken may overflow (x * 10**k of a
    # large x); its values are never used
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = np.where(shift >= 0, np.round(x * scale) / scale, np.round(x / scale) * scale)
    return np.where(finite, rounded, x)


def comparable(series: pd.Series) -> pd.Series:
    """``series`` ready to be matched as a key: numbers through :func:`numeric_key`."""
    if series.dtype.kind in "fiub":
        return pd.Series(numeric_key(series.to_numpy()), index=series.index)
    return series


def duplicated(df: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Rows whose values of ``columns`` another row shares (numbers compared by
    :func:`numeric_key`, so float noise does not hide a duplicate key)."""
    groups = group_keys([key_codes(df[c]) for c in columns], len(df))
    return np.bincount(groups)[groups] > 1 if len(groups) else np.zeros(0, dtype=bool)


def key_codes(series: pd.Series) -> tuple[np.ndarray, int]:
    """Each value's position among the distinct values of ``series`` (-1 when missing),
    numbers compared by :func:`numeric_key`, and how many distinct values there are:
    a categorical column through its codes, any other factorized once."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(), len(series.cat.categories)
    if series.dtype.kind in "fiub":
        whole = integer_codes(series)
        if whole is not None:  # whole numbers are their own keys
            return whole
        codes, uniques = pd.factorize(series.to_numpy())
        keyed, distinct_keys = pd.factorize(numeric_key(np.asarray(uniques)))
        return np.where(codes >= 0, keyed[codes], -1), len(distinct_keys)
    codes, uniques = pd.factorize(series.to_numpy(dtype=object))
    return codes, len(uniques)


#: Whole numbers up to this size are exact and their own :func:`numeric_key`.
_WHOLE_LIMIT = 1e9


def integer_codes(series: pd.Series) -> tuple[np.ndarray, int] | None:
    """For a column of whole numbers in a narrow range (day numbers, sequence numbers,
    visit numbers; at most ``4 n + 1024`` apart, each below 1e9 in size): each value's
    offset from the smallest (-1 when missing) and the width of the range, found by
    arithmetic rather than hashing; None for any other column. Equal offsets are equal
    numbers, as :func:`numeric_key` compares them (it keeps such numbers as they are)."""
    x = series.to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(x)
    if not known.any():
        return None
    values = x[known]
    low, high = float(values.min()), float(values.max())
    if (
        not np.isfinite(low)
        or not np.isfinite(high)
        or max(-low, high) >= _WHOLE_LIMIT
        or high - low > 4 * len(x) + 1024
        or not np.array_equal(values, np.floor(values))
    ):
        return None
    codes = np.full(len(x), -1, dtype=np.int64)
    codes[known] = (values - low).astype(np.int64)
    return codes, int(high - low) + 1


def group_keys(columns: list[tuple[np.ndarray, int]], n: int) -> np.ndarray:
    """One integer per row, equal for rows whose codes (:func:`key_codes`) are equal in
    every column (missing values equal), and below ``4 n + 1024``, so that groups can be
    counted with ``np.bincount`` (the codes combined arithmetically, factorized only when
    the product of the counts grows too large)."""
    key = np.zeros(n, dtype=np.int64)
    top = 1  # key < top
    for codes, count in columns:
        if top * (count + 1) >= 2**62:  # renumber before the product overflows
            key, found = pd.factorize(key)
            top = len(found)
        key = key * (count + 1) + codes + 1
        top *= count + 1
    if top > 4 * n + 1024:
        key, _ = pd.factorize(key)
    return np.asarray(key, dtype=np.int64)


def row_keys(columns: list[pd.Series], other: list[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """Integer keys of the rows of two column lists; equal value tuples get equal keys
    (numbers compared by :func:`numeric_key`).

    Used to match records across datasets (``np.isin`` on the keys) without building
    millions of Python tuples.
    """
    left = np.zeros(len(columns[0]) if columns else 0, dtype=np.int64)
    right = np.zeros(len(other[0]) if other else 0, dtype=np.int64)
    columns = [comparable(c) for c in columns]
    other = [comparable(c) for c in other]
    for a, b in zip(columns, other, strict=True):
        code_a, code_b, size = _pair_codes(a, b)
        left = left * size + code_a + 1
        right = right * size + code_b + 1
    return left, right


def _pair_codes(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Codes of the values of ``a`` and ``b`` in one numbering (-1 when missing), and
    the size of the numbering plus one; two number columns factorized together (as float
    numbers: a NaN is a value, as in an index lookup), others looked up among their
    distinct values as objects."""
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        codes, uniques = pd.factorize(
            np.concatenate([a.to_numpy(), b.to_numpy()]), use_na_sentinel=False
        )
        return codes[: len(a)], codes[len(a) :], len(uniques) + 1
    index = pd.Index(pd.unique(np.concatenate([distinct(a), distinct(b)]).astype(object)))
    return codes_in(a, index), codes_in(b, index), len(index) + 1
