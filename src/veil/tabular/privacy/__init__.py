"""Privacy models and risk for tables: k-anonymity, l-diversity, t-closeness, re-identification risk.

from veil.tabular.privacy import protect, KAnonymity, load_directory
release = protect(frame, ["age", "zip", "sex"], [KAnonymity(5)], hierarchies=load_directory("h/", cols),
                  suppression=0.04)
release.frame, release.report
"""

from veil.tabular.privacy.encoding import Encoded
from veil.tabular.privacy.hierarchy import (
    DateHierarchy,
    Hierarchy,
    IntervalHierarchy,
    PrefixHierarchy,
    SuppressionHierarchy,
    TableHierarchy,
    auto_hierarchy,
    load_directory,
    parse_spec,
)
from veil.tabular.privacy.metrics import METRICS
from veil.tabular.privacy.models import (
    DistinctLDiversity,
    EntropyLDiversity,
    KAnonymity,
    PrivacyModel,
    RecursiveCLDiversity,
    TCloseness,
)
from veil.tabular.privacy.mondrian import mondrian
from veil.tabular.privacy.release import Release, protect, verify
from veil.tabular.privacy.risk import Risk, assess, smallest_class
from veil.tabular.privacy.search import SearchResult, optimal

__all__ = [
    "METRICS",
    "DateHierarchy",
    "DistinctLDiversity",
    "Encoded",
    "EntropyLDiversity",
    "Hierarchy",
    "IntervalHierarchy",
    "KAnonymity",
    "PrefixHierarchy",
    "PrivacyModel",
    "RecursiveCLDiversity",
    "Release",
    "Risk",
    "SearchResult",
    "SuppressionHierarchy",
    "TCloseness",
    "TableHierarchy",
    "assess",
    "auto_hierarchy",
    "load_directory",
    "mondrian",
    "optimal",
    "parse_spec",
    "protect",
    "smallest_class",
    "verify",
]
