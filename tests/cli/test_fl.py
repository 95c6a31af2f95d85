"""``veil fl`` from the command line: the quick refusals (no federation is started for them)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_anonymize import env, veil  # noqa: F401 - fixtures
from tests.learn.test_fl_units import ADULT


def _prepared(env: dict[str, str], t: Path) -> list[str]:  # noqa: F811
    res = veil(env, "fl", "partition", str(ADULT), "--by", "workclass", "--clients", "3", "--out", str(t / "parts"))
    assert res.returncode == 0, res.stderr
    res = veil(env, "fl", "spec", str(ADULT), "--label", "salary-class", "--positive", ">50K", "--numeric", "age",
               "--drop", "race,native-country", "--out", str(t / "spec.json"))  # fmt: skip
    assert res.returncode == 0 and "features" in res.stderr, res.stderr
    return [str(t / "parts" / f"part-{i}.csv") for i in range(3)]


def test_a_run_over_budget_is_refused_before_anything_starts(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    parts = _prepared(env, tmp_path)
    vault = f"sqlite:///{tmp_path}/v.db"
    assert veil(env, "dp", "budget", "adult-fl", "--set", "1", "--delta", "1e-4", "--vault", vault).returncode == 0
    res = veil(env, "fl", "run", *parts, "--spec", str(tmp_path / "spec.json"), "--dataset", "adult-fl",
               "--dp", "client", "--epsilon", "3", "--vault", vault, "--home", str(tmp_path / "fl"))  # fmt: skip
    assert res.returncode != 0 and "needs epsilon=3" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "fl" / "superlink.log").exists()
    budget = veil(env, "dp", "budget", "adult-fl", "--vault", vault)
    assert "│ adult-fl │       1 │     0 │" in budget.stdout  # nothing charged
    res = veil(env, "fl", "run", *parts, "--spec", str(tmp_path / "spec.json"), "--dp", "sample",
               "--vault", vault)  # fmt: skip
    assert res.returncode != 0 and "--epsilon" in res.stderr


def test_an_unreachable_superlink_is_named(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    parts = _prepared(env, tmp_path)
    res = veil(env, "fl", "run", *parts, "--spec", str(tmp_path / "spec.json"), "--dp", "none",
               "--superlink", "127.0.0.1:9", "--home", str(tmp_path / "fl"))  # fmt: skip
    assert res.returncode != 0 and "cannot reach the SuperLink at 127.0.0.1:9" in res.stderr
    assert "Traceback" not in res.stderr


def test_a_missing_column_is_found_before_the_run(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    import polars as pl

    parts = _prepared(env, tmp_path)
    pl.read_csv(parts[1]).drop("occupation").write_csv(parts[1])
    res = veil(env, "fl", "run", *parts, "--spec", str(tmp_path / "spec.json"), "--dp", "none",
               "--home", str(tmp_path / "fl"))  # fmt: skip
    assert res.returncode != 0 and "client 1 (part-1.csv)" in res.stderr and "occupation" in res.stderr
    assert not (tmp_path / "fl" / "superlink.log").exists()
