"""veil dp budget / veil dp query from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_anonymize import env, veil  # noqa: F401 - fixtures
from tests.tabular.privacy.conftest import ADULT

ADULT_CSV = str(ADULT / "adult.csv")


def test_budget_query_and_overspending(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    res = veil(env, "dp", "query", ADULT_CSV, "count", "--epsilon", "0.5")
    assert res.returncode == 2 and "has no privacy budget" in res.stderr and "veil dp budget" in res.stderr
    assert veil(env, "dp", "budget", "adult", "--set", "1", "--delta", "1e-6").returncode == 0
    res = veil(env, "dp", "query", ADULT_CSV, "mean age by sex", "-e", "0.5", "--bounds", "age=17:90",
               "--keys", "sex=Female,Male", "--dataset", "adult", "-f", "json")  # fmt: skip
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["released"] and doc["epsilon"] == 0.5 and doc["remaining_epsilon"] == 0.5
    assert {r["sex"] for r in doc["values"]} == {"Female", "Male"}
    assert {e["aggregate"] for e in doc["expected_error"]} == {"Sum", "Frame Length"}
    res = veil(env, "dp", "query", ADULT_CSV, "count", "--target-error", "5", "--dataset", "adult", "--dry-run",
               "-f", "json")  # fmt: skip
    doc = json.loads(res.stdout)
    assert not doc["released"] and doc["expected_error"][0]["accuracy"] <= 5 and doc["remaining_epsilon"] == 0.5
    res = veil(env, "dp", "query", ADULT_CSV, "sum age", "-e", "0.6", "--bounds", "age=0:100", "--dataset", "adult")
    assert res.returncode == 2 and "nothing was released" in res.stderr and "Traceback" not in res.stderr
    res = veil(env, "dp", "budget", "adult", "--history", "-f", "json")
    (budget,) = json.loads(res.stdout)
    assert (
        budget["spent_epsilon"] == 0.5 and budget["releases"] == 1 and budget["spends"][0]["query"] == "mean age by sex"
    )


def test_bad_queries_are_one_clear_line(env: dict[str, str]) -> None:  # noqa: F811
    veil(env, "dp", "budget", "adult", "--set", "1")
    cases = [
        (["sum age", "-e", "0.1"], "needs bounds for 'age'"),
        (["count by race", "-e", "0.1"], "needs a delta"),
        (["avg age", "-e", "0.1"], "unknown statistic"),
        (["count"], "give --epsilon"),
        (["sum age", "-e", "0.1", "--bounds", "age=17-90"], "LOW:HIGH"),
    ]
    for args, message in cases:
        res = veil(env, "dp", "query", ADULT_CSV, *args, "--dataset", "adult")
        assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr, (args, res.stderr)
