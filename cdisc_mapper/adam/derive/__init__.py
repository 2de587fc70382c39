"""ADaM derivations: small, pure, vectorised functions, each citing the ADaMIG v1.3 rule
it implements. They know nothing of specs or studies; :mod:`cdisc_mapper.adam.ops` binds
them to spec arguments.

Conventions: dates are SAS date numbers (float days since 1960-01-01, NaN missing);
character results use ``""`` for null; outputs keep the input index.
"""

from cdisc_mapper.adam.derive.baseline import (
    derive_base,
    derive_baseline_flag,
    derive_chg,
    derive_pchg,
)
from cdisc_mapper.adam.derive.dates import (
    datetime_date,
    datetime_time,
    derive_analysis_day,
    derive_imputed_date,
    derive_imputed_datetime,
    derive_months,
    derive_numeric_date,
)
from cdisc_mapper.adam.derive.flags import (
    derive_best_record,
    derive_flag,
    derive_group,
    derive_recode,
)
from cdisc_mapper.adam.derive.periods import (
    derive_nth_date,
    derive_period_dates,
    derive_record_period,
)
from cdisc_mapper.adam.derive.progression import (
    RATE_METHODS,
    base_declines,
    derive_criterion_flag,
    derive_improvement_reason,
    derive_percent_improvement,
    derive_rate,
    derive_slope,
    derive_two_point_rate,
)
from cdisc_mapper.adam.derive.scores import SCORE_RULES, derive_score
from cdisc_mapper.adam.derive.windows import (
    Window,
    derive_analysis_flag,
    derive_analysis_window,
    derive_nominal_visit,
    derive_relative_day,
)

__all__ = [
    "RATE_METHODS",
    "SCORE_RULES",
    "Window",
    "base_declines",
    "datetime_date",
    "datetime_time",
    "derive_analysis_day",
    "derive_analysis_flag",
    "derive_analysis_window",
    "derive_base",
    "derive_baseline_flag",
    "derive_best_record",
    "derive_chg",
    "derive_criterion_flag",
    "derive_flag",
    "derive_group",
    "derive_improvement_reason",
    "derive_imputed_date",
    "derive_imputed_datetime",
    "derive_months",
    "derive_nominal_visit",
    "derive_nth_date",
    "derive_numeric_date",
    "derive_pchg",
    "derive_percent_improvement",
    "derive_period_dates",
    "derive_rate",
    "derive_recode",
    "derive_record_period",
    "derive_relative_day",
    "derive_score",
    "derive_slope",
    "derive_two_point_rate",
]
