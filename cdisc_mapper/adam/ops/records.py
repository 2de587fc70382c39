"""Record builders that make a dataset's records (the first ``records:`` step): one per
subject (``subjects``, ADSL), one per SDTM Findings record mapped to an analysis parameter
(``findings``, BDS) and one per SDTM Events or Interventions record (``occurrences``,
OCCDS).

Every builder declares the columns it makes and their define.xml metadata; columns whose
names start with ``_`` are working columns (e.g. ``_DTC``, the source date text) that
never reach the output. The builders that add rows to these records are in
:mod:`.derived_rows` and :mod:`.progression`.

Rules implemented (ADaMIG v1.3):

* Section 3.2 (ADSL): one record per subject.
* Section 3.3.4 (Analysis Parameter Variables for BDS Datasets): PARAMCD, PARAM, PARAMN,
  PARCAT1 one to one per parameter; AVAL/AVALC from the SDTM standard result.
* Section 3.3.9 (Datapoint Traceability Variables): SRCDOM, SRCVAR, SRCSEQ name the SDTM
  record a row comes from.
* ADaM OCCDS v1.1: one record per SDTM event or intervention record, its variables copied.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.ops.base import record_op
from cdisc_mapper.condition import Condition, evaluate
from cdisc_mapper.errors import MappingError
from cdisc_mapper.spec.adam import Conventions
from cdisc_mapper.spec.base import NAME_PATTERN
from cdisc_mapper.spec.operations import ColumnMeta, Example, OpArgs
from cdisc_mapper.textops import take_text

PARAMETER_COLUMNS = ("PARAMCD", "PARAM", "PARAMN", "PARCAT1")


# --------------------------------------------------------------------------- subjects
class SubjectsArgs(OpArgs):
    domain: str = Field(
        default="DM",
        pattern=r"^[A-Z]{2}$",
        description="SDTM domain named as the source of USUBJID in define.xml; the subjects "
        "are always DM's",
    )

    def lookups(self) -> set[tuple[str, str]]:
        return {(self.domain, "USUBJID")}


def _subjects_columns(a: SubjectsArgs, conventions: Conventions) -> dict[str, ColumnMeta]:
    return {"USUBJID": ColumnMeta(origin="Predecessor", source=f"{a.domain}.USUBJID")}


@record_op(
    "subjects",
    SubjectsArgs,
    _subjects_columns,
    example=Example(
        spec="records:\n  - op: subjects",
        domains={"DM": {"USUBJID": ["S2", "S1", "S3"], "AGE": [49, 61, 55]}},
        makes={"USUBJID": ["S1", "S2", "S3"]},
        note="ADSL's variables are then derived on these records (e.g. `AGE: {derive: "
        "value, source: DM.AGE}`).",
    ),
)
def rec_subjects(frame: pd.DataFrame | None, args: SubjectsArgs, ctx: BuildContext) -> pd.DataFrame:
    """One record per subject of DM (ADSL, ADaMIG v1.3 section 3.2), in USUBJID order,
    with USUBJID as its only column; a duplicate USUBJID in DM is an error."""
    return pd.DataFrame({"USUBJID": np.asarray(ctx.subjects, dtype=object)})


# --------------------------------------------------------------------------- findings
class ParameterSpec(OpArgs):
    paramcd: str = Field(
        pattern=NAME_PATTERN, description="the parameter's code, PARAMCD (unique in the step)"
    )
    param: str = Field(
        min_length=1, max_length=200, description="the parameter's description, PARAM"
    )
    paramn: float = Field(description="the parameter's number, PARAMN")
    parcat1: str | None = Field(
        default=None,
        max_length=200,
        description="the parameter's category, PARCAT1 (the column is made when any parameter "
        "has one)",
    )
    tests: list[str] = Field(
        default_factory=list,
        description="the SDTM `test` values (--TESTCD) whose records become this parameter, "
        "e.g. [ALSR05A, ALSR05B]",
    )


class FindingsArgs(OpArgs):
    domain: str = Field(
        pattern=r"^[A-Z]{2}$", description="SDTM Findings domain whose records are read (e.g. LB)"
    )
    where: Condition | None = Field(
        default=None,
        description="condition on the domain's variables choosing the records read; none: all",
    )
    test: str = Field(
        description="the domain's test code variable (--TESTCD) mapped to PARAMCD by `parameters`"
    )
    value: str = Field(description="the domain's numeric result (--STRESN), copied to AVAL")
    value_char: str | None = Field(
        default=None,
        description="the domain's character result (--STRESC), copied to AVALC; none: no AVALC",
    )
    dtc: str = Field(
        description="the domain's date (--DTC), copied to the working column _DTC (e.g. for "
        "`derive: date, source: _DTC`)"
    )
    seq: str = Field(description="the domain's sequence number (--SEQ), copied to SRCSEQ")
    keep: list[str] = Field(
        default_factory=list,
        description="the domain's variables copied as they are (e.g. [VISITNUM, VISIT])",
    )
    parameters: list[ParameterSpec] = Field(
        min_length=1, description="the analysis parameters and the test codes each is made of"
    )
    unmapped: Literal["error", "drop"] = Field(
        default="error",
        description="a record whose test is in no parameter: `error` (listing the codes) or "
        "`drop` (left out)",
    )

    @model_validator(mode="after")
    def _unique(self) -> FindingsArgs:
        codes = [p.paramcd for p in self.parameters]
        if len(codes) != len(set(codes)):
            raise ValueError("parameters: paramcd values must be unique")
        tests = [t for p in self.parameters for t in p.tests]
        if len(tests) != len(set(tests)):
            raise ValueError("parameters: a test code is given to two parameters")
        return self

    def lookups(self) -> set[tuple[str, str]]:
        names = {"USUBJID", self.test, self.value, self.dtc, self.seq, *self.keep}
        if self.value_char:
            names.add(self.value_char)
        if self.where:
            names |= self.where.variables()
        return {(self.domain, n) for n in names}


def _findings_columns(a: FindingsArgs, conventions: Conventions) -> dict[str, ColumnMeta]:
    d = a.domain
    cols = {
        "USUBJID": ColumnMeta(origin="Predecessor", source=f"{d}.USUBJID"),
        "PARAMCD": ColumnMeta(
            origin="Assigned",
            source=f"{d}.{a.test}",
            method="Assigned from "
            + "; ".join(
                f"{p.paramcd} <- {d}.{a.test} in ({', '.join(p.tests)})" for p in a.parameters
            )
            + ".",
            type="Char",
        ),
        "PARAM": ColumnMeta(
            origin="Assigned", method="The parameter's description, one per PARAMCD.", type="Char"
        ),
        "PARAMN": ColumnMeta(
            origin="Assigned", method="The parameter's number, one per PARAMCD.", type="Num"
        ),
        "AVAL": ColumnMeta(
            origin="Predecessor",
            source=f"{d}.{a.value}",
            type="Num",
            value_level=tuple(
                (
                    "PARAMCD",
                    p.paramcd,
                    "Predecessor",
                    f"{d}.{a.value}",
                    f"{d}.{a.value} of the records with {a.test} in ({', '.join(p.tests)})."
                    if len(p.tests) > 1
                    else None,
                )
                for p in a.parameters
            ),
        ),
        "_DTC": ColumnMeta(origin="Predecessor", source=f"{d}.{a.dtc}", type="Char"),
        "SRCDOM": ColumnMeta(
            origin="Assigned", method=f"'{d}' on records taken from {d}.", type="Char"
        ),
        "SRCVAR": ColumnMeta(
            origin="Assigned", method=f"'{a.value}' on records taken from {d}.", type="Char"
        ),
        "SRCSEQ": ColumnMeta(origin="Predecessor", source=f"{d}.{a.seq}", type="Num"),
        "DTYPE": ColumnMeta(origin="Assigned", method="Null on observed records.", type="Char"),
    }
    if any(p.parcat1 for p in a.parameters):
        cols["PARCAT1"] = ColumnMeta(
            origin="Assigned", method="The parameter's category, one per PARAMCD.", type="Char"
        )
    if a.value_char:
        cols["AVALC"] = ColumnMeta(origin="Predecessor", source=f"{d}.{a.value_char}", type="Char")
    for k in a.keep:
        cols[k] = ColumnMeta(origin="Predecessor", source=f"{d}.{k}")
    return cols


def _shown_code(value: object) -> str:
    """A test code as an error lists it (a missing one as ``(missing)``)."""
    return str(value) if isinstance(value, str) else "(missing)"


def _mapped_records(ctx: BuildContext, args: FindingsArgs) -> tuple[pd.DataFrame, np.ndarray]:
    """The domain's records where ``where`` holds and the position of each one's parameter
    in ``args.parameters``; a
    test code with no parameter is an error (or, with ``unmapped: drop``, its records are
    dropped). Each distinct test code is looked up once, and the records are selected
    once."""
    names = sorted(n for _, n in args.lookups())
    # only the step's columns (the cached domain may hold others steps read): the records
    # are selected from these alone
    src = ctx.sdtm.frame(args.domain, names)[names]
    chosen = (
        np.ones(len(src), dtype=bool)
        if args.where is None
        else np.asarray(evaluate(args.where, src).to_numpy(), dtype=bool)
    )
    test_to_param = {t: i for i, p in enumerate(args.parameters) for t in p.tests}
    codes, tests = pd.factorize(src[args.test], use_na_sentinel=True)
    per_test = np.array([test_to_param.get(t, -1) for t in tests] + [-1], dtype=np.intp)
    which = per_test[codes]  # code -1 (a missing test) takes the last entry: -1
    unmapped = chosen & (which < 0)
    if unmapped.any():
        if args.unmapped == "error":
            unknown = sorted({_shown_code(v) for v in src.loc[unmapped, args.test]})
            raise MappingError(
                f"{ctx.dataset}: {args.domain}.{args.test} values with no analysis parameter: "
                f"{', '.join(unknown[:20])}",
                where=ctx.specs.where(ctx.dataset, ("records",)),
                hint="add them to the parameters, exclude them with 'where', or set unmapped: drop",
            )
        chosen = chosen & ~unmapped
    if chosen.all():
        return src, which
    return src[chosen], which[chosen]


@record_op(
    "findings",
    FindingsArgs,
    _findings_columns,
    example=Example(
        spec="""records:
  - op: findings
    domain: VS
    test: VSTESTCD
    value: VSSTRESN
    dtc: VSDTC
    seq: VSSEQ
    keep: [VISIT]
    parameters:
      - {paramcd: SYSBP, param: Systolic Blood Pressure (mmHg), paramn: 1, tests: [SYSBP]}
      - {paramcd: WEIGHT, param: Weight (kg), paramn: 2, tests: [WEIGHT]}""",
        domains={
            "VS": {
                "USUBJID": ["S1", "S1", "S2"],
                "VSSEQ": [1, 2, 1],
                "VSTESTCD": ["SYSBP", "WEIGHT", "SYSBP"],
                "VSSTRESN": [120, 80.5, None],
                "VSDTC": ["2020-02-01", "2020-02-01", "2020-02-15T09:30"],
                "VISIT": ["BASELINE", "BASELINE", "BASELINE"],
            }
        },
        makes={
            "USUBJID": ["S1", "S1", "S2"],
            "PARAMCD": ["SYSBP", "WEIGHT", "SYSBP"],
            "PARAM": [
                "Systolic Blood Pressure (mmHg)",
                "Weight (kg)",
                "Systolic Blood Pressure (mmHg)",
            ],
            "PARAMN": [1, 2, 1],
            "AVAL": [120, 80.5, None],
            "_DTC": ["2020-02-01", "2020-02-01", "2020-02-15T09:30"],
            "SRCDOM": ["VS", "VS", "VS"],
            "SRCVAR": ["VSSTRESN", "VSSTRESN", "VSSTRESN"],
            "SRCSEQ": [1, 2, 1],
            "DTYPE": ["", "", ""],
            "VISIT": ["BASELINE", "BASELINE", "BASELINE"],
        },
        note="`_DTC` is a working column (never written): derive ADT from it with "
        "`ADT: {derive: date, source: _DTC}`.",
    ),
)
def rec_findings(frame: pd.DataFrame | None, args: FindingsArgs, ctx: BuildContext) -> pd.DataFrame:
    """One record per SDTM Findings record (BDS), its test code mapped to an analysis
    parameter: PARAMCD, PARAM, PARAMN, PARCAT1, AVAL (AVALC), SRCDOM/SRCVAR/SRCSEQ, DTYPE
    null and the working column _DTC (ADaMIG v1.3 sections 3.3.4 and 3.3.9)."""
    src, which = _mapped_records(ctx, args)
    params = args.parameters
    # columns copied by position as they are (Arrow text stays Arrow text); the parameter
    # columns are built in Arrow from each record's parameter position
    out = pd.DataFrame({"USUBJID": src["USUBJID"].array})
    out["PARAMCD"] = take_text([p.paramcd for p in params], which).array
    out["PARAM"] = take_text([p.param for p in params], which).array
    out["PARAMN"] = np.array([float(p.paramn) for p in params], dtype="float64")[which]
    if any(p.parcat1 for p in params):
        out["PARCAT1"] = take_text([p.parcat1 or "" for p in params], which).array
    out["AVAL"] = src[args.value].to_numpy(dtype="float64")
    if args.value_char:
        out["AVALC"] = src[args.value_char].array
    out["_DTC"] = src[args.dtc].array
    out["SRCDOM"] = args.domain
    out["SRCVAR"] = args.value
    out["SRCSEQ"] = src[args.seq].to_numpy(dtype="float64")
    out["DTYPE"] = ""
    for k in args.keep:
        out[k] = src[k].array
    return out


# --------------------------------------------------------------------------- occurrences
class OccurrencesArgs(OpArgs):
    domain: str = Field(
        pattern=r"^[A-Z]{2}$",
        description="SDTM Events or Interventions domain whose records are read (e.g. AE, CM)",
    )
    keep: list[str] = Field(
        min_length=1, description="the domain's variables copied (USUBJID always is)"
    )
    where: Condition | None = Field(
        default=None,
        description="condition on the domain's variables choosing the records read; none: all",
    )

    def lookups(self) -> set[tuple[str, str]]:
        names = {"USUBJID", *self.keep} | (self.where.variables() if self.where else set())
        return {(self.domain, n) for n in names}


def _occurrences_columns(a: OccurrencesArgs, conventions: Conventions) -> dict[str, ColumnMeta]:
    return {
        "USUBJID": ColumnMeta(origin="Predecessor", source=f"{a.domain}.USUBJID"),
        **{k: ColumnMeta(origin="Predecessor", source=f"{a.domain}.{k}") for k in a.keep},
    }


@record_op(
    "occurrences",
    OccurrencesArgs,
    _occurrences_columns,
    example=Example(
        spec="""records:
  - op: occurrences
    domain: AE
    keep: [AESEQ, AEDECOD, AESTDTC]
    where: {variable: AEDECOD, present: true}""",
        domains={
            "AE": {
                "USUBJID": ["S1", "S1", "S2"],
                "AESEQ": [1, 2, 1],
                "AEDECOD": ["HEADACHE", "", "NAUSEA"],
                "AESTDTC": ["2020-02-03", "2020-02-04", "2020-03"],
            }
        },
        makes={
            "USUBJID": ["S1", "S2"],
            "AESEQ": [1, 1],
            "AEDECOD": ["HEADACHE", "NAUSEA"],
            "AESTDTC": ["2020-02-03", "2020-03"],
        },
    ),
)
def rec_occurrences(
    frame: pd.DataFrame | None, args: OccurrencesArgs, ctx: BuildContext
) -> pd.DataFrame:
    """One record per SDTM Events/Interventions record (OCCDS, ADaM OCCDS v1.1), USUBJID and
    the ``keep`` variables copied."""
    names = sorted(n for _, n in args.lookups())
    src = ctx.sdtm.frame(args.domain, names)[names]
    if args.where is not None:
        src = src[evaluate(args.where, src).to_numpy()]
    cols = ["USUBJID", *[k for k in args.keep if k != "USUBJID"]]
    return src[cols].reset_index(drop=True).copy()
