from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def veil(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "veil", *args], input=stdin, capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=env)  # fmt: skip


def test_roles_users_and_guarded_detokenize(tmp_path: Path) -> None:
    env = dict(os.environ, VEIL_HOME=str(tmp_path / "home"))
    for var in ("VEIL_MASTER_KEY", "VEIL_KEY_FILE", "VEIL_DB", "VEIL_API_KEY"):
        env.pop(var, None)
    policy = tmp_path / "p.yaml"
    policy.write_text("detection: {ner: false}\ndefault: {operator: pseudonymize}\n")
    anon = veil(env, "anonymize", "--text", "call +44 20 7946 0958", "-p", str(policy))
    assert anon.returncode == 0, anon.stderr
    token = anon.stdout.split("call ", 1)[1].strip()
    res = veil(env, "roles", "create", "support", "--permissions", "detokenize:masked", "--purposes", "support")
    assert res.returncode == 0, res.stderr
    assert "detokenize:masked" in veil(env, "roles", "list").stdout
    created = veil(env, "users", "create", "sam", "--role", "support", "--no-totp")
    assert created.returncode == 0, created.stderr
    key = created.stdout.split("api key: ", 1)[1].split()[0]
    env_user = dict(env, VEIL_API_KEY=key)
    read = veil(env_user, "detokenize", token, "--purpose", "support")
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout) == {token: "+** ** **** 0958"}
    refused = veil(env_user, "detokenize", token, "--purpose", "marketing")
    assert refused.returncode == 2 and "VEIL-410" in refused.stderr and "purpose 'marketing'" in refused.stderr
    assert veil(env, "audit", "verify").returncode == 0
    assert veil(dict(env, VEIL_API_KEY="veil_x_y"), "detokenize", token).returncode == 2
