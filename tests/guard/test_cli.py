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


@pytest.mark.parametrize("workers", ["1", "2"])
def test_veil_guard_command_serves_with_workers(tmp_path: Path, workers: str) -> None:
    received: list[dict[str, Any]] = []
    policy = tmp_path / "policy.yaml"
    policy.write_text("detection: {ner: false}\ndefault: {operator: pseudonymize}\n")
    env = dict(os.environ, VEIL_HOME=str(tmp_path / "home"), UPSTREAM_KEY="sk-upstream")
    with Server(upstream_app(received)) as up:
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "veil", "guard", "--upstream", up.url, "--policy", str(policy),
                                 "--port", str(port), "--workers", workers, "--api-key-env", "UPSTREAM_KEY"],
                                env=env, stderr=subprocess.PIPE)  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/v1/chat/completions"
            body = {"model": "m", "messages": [{"role": "user", "content": "mail ann@example.com"}]}
            for _ in range(300):
                try:
                    r = httpx.post(url, json=body, timeout=10)
                    break
                except httpx.HTTPError:
                    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                    time.sleep(0.1)
            assert r.status_code == 200, r.text
            assert r.json()["choices"][0]["message"]["content"] == "You said: mail ann@example.com"
            assert "ann@example.com" not in str(received[-1])
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_tls_flags_must_come_together(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("{}\n")
    res = subprocess.run([sys.executable, "-m", "veil", "guard", "--upstream", "http://127.0.0.1:9", "--policy",
                          str(policy), "--tls-cert", str(policy)], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert res.returncode == 2 and "go together" in res.stderr
