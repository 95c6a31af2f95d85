from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = dict(os.environ)
    e["VEIL_HOME"] = str(tmp_path / "home")
    e["VEIL_CACHE_DIR"] = os.environ.get("VEIL_CACHE_DIR", str(tmp_path / "cache"))
    return e


def veil(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "veil", *args], input=stdin, capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=env)  # fmt: skip


@pytest.fixture
def policy(tmp_path: Path, env: dict[str, str]) -> Path:
    path = tmp_path / "policy.yaml"
    res = veil(env, "policy", "init", str(path))
    assert res.returncode == 0, res.stderr
    text = path.read_text().replace("  ner: auto", "  ner: false")
    path.write_text(text)
    return path


def test_policy_init_check_and_refuse_overwrite(policy: Path, env: dict[str, str]) -> None:
    res = veil(env, "policy", "check", str(policy))
    assert res.returncode == 0 and "pseudonymize" in res.stdout and "purpose support" in res.stdout
    again = veil(env, "policy", "init", str(policy))
    assert again.returncode == 2 and "exists" in again.stderr


def test_anonymize_then_restore_file(policy: Path, env: dict[str, str], tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("Mail ann@example.com or call +44 20 7946 0958.\nCard 4111 1111 1111 1111.\n")
    out = tmp_path / "out.txt"
    res = veil(env, "anonymize", str(src), "-p", str(policy), "-o", str(out))
    assert res.returncode == 0, res.stderr
    anon = out.read_text()
    assert "ann@example.com" not in anon and "<EMAIL_ADDRESS_1>" in anon and "<CREDIT_CARD_1>" in anon
    back = veil(env, "restore", str(out), "-p", str(policy))
    assert back.stdout == src.read_text()
    support = veil(env, "anonymize", str(src), "-p", str(policy), "--purpose", "support")
    assert "ann@example.com" in support.stdout and "<CREDIT_CARD_1>" in support.stdout


def test_jsonl_fields(policy: Path, env: dict[str, str]) -> None:
    lines = '{"id": 1, "msg": "mail bob@example.com", "note": "bob@example.com"}\n{"id": 2, "msg": "nothing"}\n'
    res = veil(env, "anonymize", "-", "-p", str(policy), "--jsonl", "--fields", "msg", stdin=lines)
    assert res.returncode == 0, res.stderr
    rows = [json.loads(x) for x in res.stdout.splitlines()]
    assert rows[0] == {"id": 1, "msg": "mail <EMAIL_ADDRESS_1>", "note": "bob@example.com"}
    assert rows[1] == {"id": 2, "msg": "nothing"}


def test_failed_run_leaves_no_half_written_target(policy: Path, env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "target.jsonl"
    target.write_text("previous content\n")
    bad = '{"msg": "a@b.co"}\n' * 600 + "not json\n"
    res = veil(env, "anonymize", "-", "-p", str(policy), "--jsonl", "-o", str(target), "--overwrite", stdin=bad)
    assert res.returncode == 2 and "line 601: not valid JSON" in res.stderr
    assert target.read_text() == "previous content\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".target")] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["anonymize", "--text", "x", "-p", "nope.yaml"], "file not found"),
        (["anonymize", "--text", "x", "--purpose", "marketing"], "unknown purpose 'marketing'"),
        (["anonymize", "--text", "x", "-o", "/no/such/dir/out.txt"], "does not exist"),
    ],
)
def test_errors(policy: Path, env: dict[str, str], args: list[str], message: str) -> None:
    if "-p" not in args:
        args = [*args, "-p", str(policy)]
    res = veil(env, *args)
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr
