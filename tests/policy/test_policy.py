from __future__ import annotations

from pathlib import Path

import pytest

from veil.errors import ConfigError, PolicyError
from veil.policy import load_policy, starter_policy


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "policy.yaml"
    p.write_text(text)
    return p


def test_starter_policy_is_valid_and_commented(tmp_path: Path) -> None:
    text = starter_policy()
    assert text.count("#") > 10
    policy = load_policy(write(tmp_path, text))
    assert policy.rule_for("PERSON").operator == "pseudonymize"
    assert policy.rule_for("API_KEY").operator == "redact"
    assert policy.rule_for("EMAIL_ADDRESS", "support").operator == "keep"
    assert policy.rule_for("EMAIL_ADDRESS", "analytics").operator == "pseudonymize"
    assert not policy.reversible


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("entities:\n  PERSON:\n    operator: pseudonymise\n", r"line 2, key 'entities.PERSON': .*unknown operator 'pseudonymise'"),
        ("entities:\n  PERSON:\n    operator: mask\n    char: '**'\n", r"line 2, key 'entities.PERSON': .*parameter 'char'"),
        ("entities:\n  person:\n    operator: keep\n", r"line 2, key 'entities.person.*should match pattern"),
        ("detection:\n  threshold: 2\n", r"line 2, key 'detection.threshold'"),
        ("scopes: x\n", r"line 1, key 'scopes': Extra inputs"),
        ("purposes:\n  Bad Name: {keep: []}\n", r"purpose name 'Bad Name'"),
        ("detection:\n  recognizers: missing.yaml\n", r"line 2, key 'detection.recognizers': file not found"),
        ("entities: [\n", r"invalid YAML"),
    ],
)  # fmt: skip
def test_errors_name_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        load_policy(write(tmp_path, text))


def test_unknown_purpose_lists_the_known_ones(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, starter_policy()))
    with pytest.raises(ConfigError, match="analytics, support"):
        policy.purpose("marketing")


def test_recognizers_path_is_relative_to_the_policy(tmp_path: Path) -> None:
    (tmp_path / "rec.yaml").write_text("recognizers: []\n")
    policy = load_policy(write(tmp_path, "detection:\n  recognizers: rec.yaml\n"))
    assert policy.detection.recognizers == str(tmp_path / "rec.yaml")
