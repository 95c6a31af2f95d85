"""veil risk / veil kanon from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_anonymize import env, veil  # noqa: F401 - fixtures
from tests.tabular.privacy.conftest import ADULT

QIS = "sex,age,race,marital-status,education,native-country,workclass,occupation,salary-class"


def test_kanon_then_risk_before_and_after(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "adult5.parquet"
    report = tmp_path / "report.json"
    res = veil(env, "kanon", str(ADULT / "adult.csv"), "--qi", QIS, "--k", "5", "--suppression", "0.04",
               "--hierarchies", str(ADULT / "hierarchies"), "--out", str(out), "--report", str(report))  # fmt: skip
    assert res.returncode == 0, res.stderr
    doc = json.loads(report.read_text())
    assert list(doc["levels"].values()) == [1, 0, 1, 1, 3, 2, 2, 0, 1]
    assert abs(doc["loss"] - 255559.85455731067) < 1e-6 and doc["risk_after"]["smallest_class"] == 5
    assert "levels: sex=1/1, age=0/4" in res.stderr
    res = veil(env, "risk", str(ADULT / "adult.csv"), "--qi", QIS, "--after", str(out), "-f", "json")
    assert res.returncode == 0, res.stderr
    risk = json.loads(res.stdout)
    assert risk["before"]["prosecutor_average"] == 0.6465751607983555 and risk["after"]["prosecutor_highest"] == 0.2
    again = veil(env, "kanon", str(ADULT / "adult.csv"), "--qi", QIS, "--k", "5", "--out", str(out))
    assert again.returncode == 2 and "exists" in again.stderr and "Traceback" not in again.stderr


def test_l_diversity_mondrian_and_auto_hierarchies(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    src = tmp_path / "people.csv"
    rows = ["zip,birth,age,disease"] + [
        f"{94000 + i % 37:05d},19{50 + i % 40}-0{1 + i % 9}-1{i % 9},{20 + i % 50},{['flu', 'cold', 'hiv'][i % 3]}"
        for i in range(300)
    ]
    src.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out.csv"
    res = veil(env, "kanon", str(src), "--qi", "zip,birth,age", "--k", "4", "--l", "2", "--sensitive", "disease",
               "--hierarchy", "age=interval:5,10,20", "--out", str(out))  # fmt: skip
    assert res.returncode == 0, res.stderr
    res = veil(env, "kanon", str(src), "--qi", "zip,birth,age", "--k", "4", "--method", "mondrian",
               "--out", str(tmp_path / "m.csv"))  # fmt: skip
    assert res.returncode == 0, res.stderr and "classes in" in res.stderr


def test_bad_input_is_one_clear_line(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    src = str(ADULT / "adult.csv")
    cases = [
        (["--qi", "nope", "--k", "2"], "no column named 'nope'"),
        (["--qi", "age", "--k", "2", "--metric", "fun"], "unknown metric 'fun'"),
        (["--qi", "age", "--l", "2"], "sensitive attribute"),
        (["--qi", "age"], "name at least one privacy model"),
        (["--qi", "age", "--k", "2", "--hierarchy", "age"], "COLUMN=SPEC"),
        (["--qi", "age", "--k", "40000"], "no generalization satisfies"),
    ]
    for args, message in cases:
        res = veil(env, "kanon", src, *args, "--out", str(tmp_path / "x.csv"))
        assert res.returncode == 2, (args, res.stderr)
        assert message in res.stderr and "Traceback" not in res.stderr, (args, res.stderr)
    res = veil(env, "risk", str(tmp_path / "missing.csv"), "--qi", "age")
    assert res.returncode == 2 and "not found" in res.stderr
