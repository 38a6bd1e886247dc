"""Signpost scoring library: pure numpy, no Django (see docs: scoring.md).

Brier scores here are two-sided, on the 0..2 scale ("brier_0_2").
"""

from .aggregates import AGGREGATES, DEFAULT_AGGREGATE, SQRT3, aggregate, aggregate_rows, brier, instant_baseline
from .calibration import binary_events, calibration_table, murphy_decomposition, wilson_interval
from .composite import (
    INDICATOR_KINDS,
    CompositeState,
    Indicator,
    IndicatorHistory,
    Move,
    composite,
    composite_at,
    composite_history,
    composite_moved,
    composite_state,
    crowd_value,
    indicator_kind,
    outcome_value,
)
from .engine import (
    SCORE_FIELDS,
    CrowdScore,
    ForecastSet,
    QuestionScores,
    QuestionSpec,
    ScoreTable,
    crowd_history,
    score_question,
)
from .instants import parse_instant
from .jsonio import ScoringInputError, parse_document, score_json_document
from .leaderboard_math import bootstrap_mean_interval, build_leaderboard, rank_with_ties

__all__ = [
    "AGGREGATES",
    "INDICATOR_KINDS",
    "CompositeState",
    "Indicator",
    "IndicatorHistory",
    "Move",
    "composite",
    "composite_at",
    "composite_history",
    "composite_moved",
    "composite_state",
    "crowd_value",
    "indicator_kind",
    "outcome_value",
    "DEFAULT_AGGREGATE",
    "SCORE_FIELDS",
    "SQRT3",
    "CrowdScore",
    "ForecastSet",
    "QuestionScores",
    "QuestionSpec",
    "ScoreTable",
    "ScoringInputError",
    "aggregate",
    "aggregate_rows",
    "binary_events",
    "bootstrap_mean_interval",
    "brier",
    "build_leaderboard",
    "calibration_table",
    "crowd_history",
    "instant_baseline",
    "murphy_decomposition",
    "parse_instant",
    "parse_document",
    "rank_with_ties",
    "score_json_document",
    "score_question",
    "wilson_interval",
]
