"""Static tables of the synthetic ALS-MSC export: forms, visits, labs, MedDRA, medications.

Everything here is data, not logic, so the contract in ``docs/raw_forms.md`` can be
checked against one place.
"""

from __future__ import annotations

from typing import NamedTuple

STUDY_ID = "0208-16-HMO"
SITE_NO = "01"
GENERATOR = "cdisc_mapper.simulate"
GENERATOR_VERSION = "1.1.0"

ALSFRS_ITEMS: tuple[str, ...] = (
    "Q1_SPEECH",
    "Q2_SALIVATION",
    "Q3_SWALLOWING",
    "Q4_HANDWRITING",
    "Q5_CUTTING",  # written as Q5A_CUTTING or Q5B_CUTTING_GASTRO
    "Q6_DRESSING",
    "Q7_TURNING",
    "Q8_WALKING",
    "Q9_CLIMBING",
    "Q10_DYSPNEA",
    "Q11_ORTHOPNEA",
    "Q12_RESP_INSUFF",
)
ALSFRS_ITEM_COLUMNS: tuple[str, ...] = (
    "Q1_SPEECH",
    "Q2_SALIVATION",
    "Q3_SWALLOWING",
    "Q4_HANDWRITING",
    "Q5A_CUTTING",
    "Q5B_CUTTING_GASTRO",
    "Q6_DRESSING",
    "Q7_TURNING",
    "Q8_WALKING",
    "Q9_CLIMBING",
    "Q10_DYSPNEA",
    "Q11_ORTHOPNEA",
    "Q12_RESP_INSUFF",
)

FORM_COLUMNS: dict[str, tuple[str, ...]] = {
    "enrollment.csv": (
        "SITE_NO",
        "PT_ID",
        "ICF_DATE",
        "BIRTH_DATE",
        "AGE_YRS",
        "GENDER",
        "RACE",
        "ETHNIC",
        "COUNTRY",
        "WEIGHT_KG",
        "HEIGHT_CM",
    ),
    "eligibility.csv": ("PT_ID", "VISIT_DATE", "CRIT_ID", "CRIT_MET"),
    "als_history.csv": (
        "PT_ID",
        "ONSET_DATE",
        "DIAG_DATE",
        "ONSET_SITE",
        "FAMILIAL",
        "EL_ESCORIAL",
        "RILUZOLE",
    ),
    "medications.csv": (
        "PT_ID",
        "MED_NAME",
        "DOSE",
        "DOSE_UNIT",
        "FREQUENCY",
        "ROUTE",
        "START_DATE",
        "STOP_DATE",
        "ONGOING",
        "INDICATION",
    ),
    "alsfrs.csv": ("PT_ID", "VISIT", "ASSESS_DATE", *ALSFRS_ITEM_COLUMNS, "TOTAL", "ASSESSOR"),
    "fvc.csv": ("PT_ID", "VISIT", "TEST_DATE", "EFFORT", "FVC_L", "FVC_PRED_PCT"),
    "vitals.csv": (
        "PT_ID",
        "VISIT",
        "VS_DATE",
        "VS_TIME",
        "PULSE",
        "SYS_BP",
        "DIA_BP",
        "RESP_RATE",
        "TEMP",
        "TEMP_UNIT",
        "WEIGHT",
        "WEIGHT_UNIT",
    ),
    "labs.csv": (
        "PT_ID",
        "VISIT",
        "SAMPLE_DATE",
        "SAMPLE_TIME",
        "TEST",
        "RESULT",
        "UNIT",
        "REF_LOW",
        "REF_HIGH",
        "NOT_DONE",
        "ND_REASON",
    ),
    "bma.csv": ("PT_ID", "BMA_DATE", "BMA_TIME", "VOLUME_ML", "ANESTHESIA", "SITE"),
    "injections.csv": (
        "PT_ID",
        "INJ_NO",
        "INJ_DATE",
        "INJ_TIME",
        "WEIGHT_KG",
        "DOSE_PER_KG",
        "TOTAL_CELLS",
        "VOLUME_ML",
        "LP_LEVEL",
        "CSF_REMOVED_ML",
    ),
    "adverse_events.csv": (
        "PT_ID",
        "AE_NO",
        "AE_TERM",
        "LLT_NAME",
        "LLT_CODE",
        "PT_NAME",
        "PT_CODE",
        "HLT_NAME",
        "HLT_CODE",
        "HLGT_NAME",
        "HLGT_CODE",
        "SOC_NAME",
        "SOC_CODE",
        "START_DATE",
        "END_DATE",
        "ONGOING",
        "SEVERITY",
        "SERIOUS",
        "REL_INJECTION",
        "REL_LP",
        "OUTCOME",
        "ACTION",
        "SAE_DEATH",
        "SAE_LIFE",
        "SAE_HOSP",
        "SAE_DISAB",
        "SAE_CONG",
        "SAE_MIE",
    ),
    "end_of_study.csv": (
        "PT_ID",
        "STATUS",
        "LAST_VISIT_DATE",
        "DEATH_DATE",
        "DEATH_CAUSE",
        "COMMENT",
    ),
}

# Visit kinds in protocol order; the index is the sort key within a day.
VISIT_KINDS: tuple[str, ...] = (
    "SCR",
    "RM2",
    "RM4",
    "BMA",
    "INJ1",
    "FU1",
    "INJ2",
    "FU2",
    "INJ3",
    "FU3",
    "INJ4",
    "FU4",
    "EOS",
    "UNS",
)
VISIT_LABELS: dict[str, str] = {
    "SCR": "Screening",
    "RM2": "Run-in Month 2",
    "RM4": "Run-in Month 4",
    "BMA": "BMA",
    "INJ1": "Injection 1",
    "FU1": "Follow-up 1",
    "INJ2": "Injection 2",
    "FU2": "Follow-up 2",
    "INJ3": "Injection 3",
    "FU3": "Follow-up 3",
    "INJ4": "Injection 4",
    "FU4": "Follow-up 4",
    "EOS": "End of Study",
    "UNS": "Unscheduled",
}

CRITERIA: tuple[tuple[str, str], ...] = (
    ("INCL01", "Sporadic or familial ALS, El Escorial definite"),
    ("INCL02", "ALSFRS-R >= 15 at screening"),
    ("INCL03", "Age 18 to 65 years"),
    ("INCL04", "Consent to repeated lumbar punctures"),
    ("EXCL01", "Participation in another clinical trial within 1 year"),
    ("EXCL02", "Active infection"),
    ("EXCL03", "HBV, HCV or HIV positive"),
    ("EXCL04", "Solid malignancy within 5 years"),
)

ASSESSORS: tuple[str, ...] = ("YK", "RA", "MG", "TS")


class LabTest(NamedTuple):
    """One lab test as the two labs report it (lab A: hospital, lab B: external)."""

    name_a: str
    name_b: str
    units_a: tuple[str, str]  # unit spelling of sample style 0 and style 1
    unit_b: str
    factor_b: float  # result in lab B unit = canonical value * factor_b
    decimals_a: int
    decimals_b: int
    ref_a_m: tuple[float, float]  # canonical unit, male (lab A)
    ref_a_f: tuple[float, float]
    ref_b_m: tuple[float, float]  # canonical unit, male (lab B, converted on output)
    ref_b_f: tuple[float, float]


_COUNT_A = ("10^9/L", "x10^9/l")
LAB_TESTS: dict[str, LabTest] = {
    "WBC": LabTest(
        "WBC",
        "WBC",
        _COUNT_A,
        "10E9/L",
        1.0,
        1,
        1,
        (4.5, 11.0),
        (4.5, 11.0),
        (4.0, 10.0),
        (4.0, 10.0),
    ),
    "NEUT": LabTest(
        "Neutrophils",
        "Neutrophils",
        _COUNT_A,
        "10E9/L",
        1.0,
        2,
        1,
        (1.8, 7.7),
        (1.8, 7.7),
        (2.0, 7.0),
        (2.0, 7.0),
    ),
    "LYMPH": LabTest(
        "Lymphocytes",
        "Lymphocytes",
        _COUNT_A,
        "10E9/L",
        1.0,
        2,
        1,
        (1.0, 4.8),
        (1.0, 4.8),
        (1.0, 3.5),
        (1.0, 3.5),
    ),
    "MONO": LabTest(
        "Monocytes",
        "Monocytes",
        _COUNT_A,
        "10E9/L",
        1.0,
        2,
        2,
        (0.2, 1.0),
        (0.2, 1.0),
        (0.2, 0.8),
        (0.2, 0.8),
    ),
    "EOS": LabTest(
        "Eosinophils",
        "Eosinophils",
        _COUNT_A,
        "10E9/L",
        1.0,
        2,
        2,
        (0.0, 0.5),
        (0.0, 0.5),
        (0.02, 0.5),
        (0.02, 0.5),
    ),
    "BASO": LabTest(
        "Basophils",
        "Basophils",
        _COUNT_A,
        "10E9/L",
        1.0,
        2,
        2,
        (0.0, 0.2),
        (0.0, 0.2),
        (0.0, 0.1),
        (0.0, 0.1),
    ),
    "PLAT": LabTest(
        "Platelets",
        "Platelets",
        _COUNT_A,
        "10E9/L",
        1.0,
        0,
        0,
        (150, 450),
        (150, 450),
        (150, 400),
        (150, 400),
    ),
    "HGB": LabTest(
        "Hemoglobin",
        "Haemoglobin",
        ("g/dL", "g/dl"),
        "g/L",
        10.0,
        1,
        0,
        (13.5, 17.5),
        (12.0, 16.0),
        (13.0, 17.0),
        (12.0, 15.0),
    ),
    "HCT": LabTest(
        "Hematocrit",
        "Hematocrit",
        ("%", "%"),
        "%",
        1.0,
        1,
        0,
        (41.0, 53.0),
        (36.0, 46.0),
        (40.0, 50.0),
        (36.0, 46.0),
    ),
    "SODIUM": LabTest(
        "Sodium",
        "Sodium",
        ("mmol/L", "mmol/l"),
        "mmol/l",
        1.0,
        0,
        0,
        (135, 145),
        (135, 145),
        (136, 145),
        (136, 145),
    ),
    "K": LabTest(
        "Potassium",
        "Potassium",
        ("mmol/L", "mmol/l"),
        "mmol/l",
        1.0,
        1,
        2,
        (3.5, 5.1),
        (3.5, 5.1),
        (3.5, 5.0),
        (3.5, 5.0),
    ),
    "CL": LabTest(
        "Chloride",
        "Chloride",
        ("mmol/L", "mmol/l"),
        "mmol/l",
        1.0,
        0,
        0,
        (98, 107),
        (98, 107),
        (98, 106),
        (98, 106),
    ),
    # canonical umol/L; lab B reports mg/dL = umol/L / 88.42
    "CREAT": LabTest(
        "Creatinine",
        "Creatinine",
        ("umol/L", "µmol/L"),
        "mg/dL",
        1 / 88.42,
        0,
        2,
        (62, 106),
        (44, 80),
        (62, 106),
        (44, 80),
    ),
    "ALT": LabTest(
        "ALT", "ALT", ("U/L", "U/L"), "IU/L", 1.0, 0, 0, (5, 40), (5, 40), (7, 45), (7, 45)
    ),
    "AST": LabTest(
        "AST", "AST", ("U/L", "U/L"), "IU/L", 1.0, 0, 0, (5, 40), (5, 40), (8, 35), (8, 35)
    ),
    "CRP": LabTest(
        "CRP", "CRP", ("mg/L", "mg/L"), "mg/L", 1.0, 1, 0, (0, 5), (0, 5), (0, 5), (0, 5)
    ),
}
LAB_ORDER: tuple[str, ...] = tuple(LAB_TESTS)


class MedDRA(NamedTuple):
    """A coding path (LLT, PT, HLT, HLGT, SOC), each as (name, 8-digit code)."""

    llt: tuple[str, str]
    pt: tuple[str, str]
    hlt: tuple[str, str]
    hlgt: tuple[str, str]
    soc: tuple[str, str]


_NERV = ("Nervous system disorders", "10029205")
_INJ_SOC = ("Injury, poisoning and procedural complications", "10022117")
_MUSC = ("Musculoskeletal and connective tissue disorders", "10028395")
_GEN = ("General disorders and administration site conditions", "10018065")
_GI = ("Gastrointestinal disorders", "10017947")
_INF = ("Infections and infestations", "10021881")
_INF_HLGT = ("Infections - pathogen unspecified", "10021879")
_RESP = ("Respiratory, thoracic and mediastinal disorders", "10038738")
_PSY = ("Psychiatric disorders", "10037175")
_BACK_PT = ("Back pain", "10003988")
_BACK_HLT = ("Musculoskeletal and connective tissue pain and discomfort", "10068757")
_MUSC_HLGT = ("Musculoskeletal and connective tissue disorders NEC", "10068720")

# Coding paths as the site's coders entered them (illustrative, see Generator notes).
MEDDRA: dict[str, MedDRA] = {
    "headache": MedDRA(
        ("Headache", "10019211"),
        ("Headache", "10019211"),
        ("Headaches NEC", "10019233"),
        ("Headaches", "10019231"),
        _NERV,
    ),
    "post_lp_headache": MedDRA(
        ("Post lumbar puncture headache", "10036337"),
        ("Post lumbar puncture syndrome", "10036334"),
        ("Non-site specific procedural complications", "10069889"),
        ("Procedural related injuries and complications NEC", "10069888"),
        _INJ_SOC,
    ),
    "back_pain": MedDRA(_BACK_PT, _BACK_PT, _BACK_HLT, _MUSC_HLGT, _MUSC),
    "low_back_pain": MedDRA(("Low back pain", "10024891"), _BACK_PT, _BACK_HLT, _MUSC_HLGT, _MUSC),
    "fever": MedDRA(
        ("Fever", "10016558"),
        ("Pyrexia", "10037660"),
        ("Febrile disorders", "10016286"),
        ("Body temperature conditions", "10005908"),
        _GEN,
    ),
    "nausea": MedDRA(
        ("Nausea", "10028813"),
        ("Nausea", "10028813"),
        ("Nausea and vomiting symptoms", "10028817"),
        ("Gastrointestinal signs and symptoms", "10018012"),
        _GI,
    ),
    "fall": MedDRA(
        ("Fall", "10016173"),
        ("Fall", "10016173"),
        ("Non-site specific injuries NEC", "10069890"),
        ("Injuries NEC", "10022119"),
        _INJ_SOC,
    ),
    "constipation": MedDRA(
        ("Constipation", "10010774"),
        ("Constipation", "10010774"),
        ("Gastrointestinal atonic and hypomotility disorders NEC", "10017933"),
        ("Gastrointestinal motility and defaecation conditions", "10017977"),
        _GI,
    ),
    "uti": MedDRA(
        ("Urinary tract infection", "10046571"),
        ("Urinary tract infection", "10046571"),
        ("Urinary tract infections", "10046577"),
        _INF_HLGT,
        _INF,
    ),
    "cold": MedDRA(
        ("Common cold", "10010106"),
        ("Nasopharyngitis", "10028810"),
        ("Upper respiratory tract infections", "10046309"),
        _INF_HLGT,
        _INF,
    ),
    "cramps": MedDRA(
        ("Muscle cramp", "10028293"),
        ("Muscle spasms", "10028334"),
        ("Muscle related signs and symptoms NEC", "10028322"),
        ("Muscle disorders", "10028299"),
        _MUSC,
    ),
    "insomnia": MedDRA(
        ("Insomnia", "10022437"),
        ("Insomnia", "10022437"),
        ("Disturbances in initiating and maintaining sleep", "10013508"),
        ("Sleep disorders and disturbances", "10040991"),
        _PSY,
    ),
    "pneumonia": MedDRA(
        ("Pneumonia", "10035664"),
        ("Pneumonia", "10035664"),
        ("Lower respiratory tract and lung infections", "10024970"),
        _INF_HLGT,
        _INF,
    ),
    "resp_failure": MedDRA(
        ("Respiratory failure", "10038695"),
        ("Respiratory failure", "10038695"),
        ("Respiratory failures (excl neonatal)", "10038701"),
        ("Respiratory disorders NEC", "10038716"),
        _RESP,
    ),
}

# Verbatim spellings per coded event.
AE_VERBATIM: dict[str, tuple[str, ...]] = {
    "headache": ("Headache", "headache", "Headache after injection"),
    "post_lp_headache": ("headache after LP", "Post lumbar puncture headache", "post LP headache"),
    "back_pain": ("Back pain", "back pain at LP site"),
    "low_back_pain": ("Low back pain", "lower back pain"),
    "fever": ("fever", "Fever", "low grade fever"),
    "nausea": ("Nausea", "nausea"),
    "fall": ("Fall", "fall at home"),
    "constipation": ("Constipation", "constipation"),
    "uti": ("Urinary tract infection", "UTI"),
    "cold": ("common cold", "Common cold"),
    "cramps": ("muscle cramps", "Cramps in legs"),
    "insomnia": ("Insomnia", "difficulty sleeping"),
    "pneumonia": ("Pneumonia",),
    "resp_failure": ("Respiratory failure",),
}


class Medication(NamedTuple):
    """A concomitant medication as the site writes it."""

    name: str
    dose: str
    frequency: str
    indications: tuple[str, ...]


MEDICATIONS: dict[str, Medication] = {
    "riluzole": Medication("Riluzole", "50", "BID", ("ALS",)),
    "baclofen": Medication("Baclofen", "10", "TID", ("Spasticity", "spasticity")),
    "omeprazole": Medication("Omeprazole", "20", "QD", ("Gastric protection", "GERD")),
    "paracetamol": Medication("Paracetamol", "1000", "PRN", ("Pain",)),
    "amitriptyline": Medication("Amitriptyline", "10", "QD", ("Sialorrhea", "sialorrhoea")),
    "citalopram": Medication("Citalopram", "20", "QD", ("Depression", "low mood")),
    "lorazepam": Medication("Lorazepam", "1", "PRN", ("Anxiety", "insomnia")),
}
