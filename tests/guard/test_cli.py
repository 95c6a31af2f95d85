from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.guard.conftest import Server, free_port, upstream_app


def veil(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "veil", *args], env=env, capture_output=True, text=True, timeout=120)


def wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        try:
            if httpx.get(base + "/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        time.sleep(0.1)
    raise AssertionError("the guard did not become ready")


@pytest.mark.parametrize("mode", ["tenant", "open-2-workers"])
def test_veil_guard_command_serves(tmp_path: Path, mode: str) -> None:
    received: list[dict[str, Any]] = []
    policy = tmp_path / "policy.yaml"
    policy.write_text("detection: {ner: false}\ndefault: {operator: pseudonymize}\n")
    env = dict(os.environ, VEIL_HOME=str(tmp_path / "home"), UPSTREAM_KEY="sk-upstream")
    headers = {}
    extra = ["--open", "--workers", "2"] if mode.startswith("open") else []
    if mode == "tenant":
        assert veil("roles", "create", "app", "--permissions", "guard", "--scope", "app", env=env).returncode == 0
        made = veil("users", "create", "svc", "--role", "app", "--no-totp", env=env)
        key = next(line.split()[-1] for line in made.stdout.splitlines() if line.startswith("api key"))
        headers["authorization"] = f"Bearer {key}"
    with Server(upstream_app(received)) as up:
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "veil", "guard", "--upstream", up.url, "--policy", str(policy),
                                 "--port", str(port), "--api-key-env", "UPSTREAM_KEY", *extra],
                                env=env, stderr=subprocess.PIPE)  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, proc)
            body = {"model": "m", "messages": [{"role": "user", "content": "mail ann@example.com"}]}
            r = httpx.post(base + "/v1/chat/completions", json=body, headers=headers, timeout=10)
            assert r.status_code == 200, r.text
            assert r.json()["choices"][0]["message"]["content"] == "You said: mail ann@example.com"
            assert "ann@example.com" not in str(received[-1])
            if mode == "tenant":
                assert httpx.post(base + "/v1/chat/completions", json=body, timeout=10).status_code == 401
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--port", "99999"], "--port"),
        (["--port", "0"], "--port"),
        (["--upstream", "not a url"], "--upstream"),
        (["--upstream", "ftp://host"], "--upstream"),
        (["--upstream", "http://"], "--upstream"),
        (["--upstream", "http://h:99999"], "--upstream"),
        (["--host", "not-an-address"], "--host"),
        (["--workers", "0"], "--workers"),
        (["--tls-cert", "POLICY"], "go together"),
    ],
)
def test_bad_arguments_are_refused_at_start(tmp_path: Path, args: list[str], message: str) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("{}\n")
    args = [str(policy) if a == "POLICY" else a for a in args]
    base = ["guard", "--policy", str(policy)]
    if "--upstream" not in args:
        base += ["--upstream", "http://127.0.0.1:9"]
    res = veil(*base, *args, env=dict(os.environ, VEIL_HOME=str(tmp_path / "home")))
    assert res.returncode == 2, res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr
