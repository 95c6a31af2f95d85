"""Differential privacy: a budget ledger and private statistics (OpenDP), DP-SGD training (Opacus).

This package is the only place that imports OpenDP; Veil never draws noise itself.

    from veil.dp import Ledger, PlannedQuery, parse_query
    ledger = Ledger.of(vault)
    ledger.set_budget("adult", epsilon=2.0, delta=1e-6)
    q = PlannedQuery(frame, parse_query("mean age by sex"), epsilon=0.5, bounds={"age": (17, 90)},
                     keys={"sex": ["Female", "Male"]})
    q.expected_error()          # before spending
    q.release(ledger, "adult")  # charges the ledger first
"""

from veil.dp.ledger import Budget, Ledger, Spend
from veil.dp.queries import PlannedQuery, QuerySpec, Release, epsilon_for_error, parse_query

__all__ = [
    "Budget",
    "Ledger",
    "PlannedQuery",
    "QuerySpec",
    "Release",
    "Spend",
    "epsilon_for_error",
    "parse_query",
]
