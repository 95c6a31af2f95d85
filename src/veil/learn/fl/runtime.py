"""Flower's Deployment Runtime on loopback: one SuperLink, N SuperNodes, and ``flwr run`` against them.

Every process is Flower's own executable (``flower-superlink``, ``flower-supernode``, ``flwr``) from the
environment Veil runs in; no Ray, no simulation engine. The Flower App is a directory holding only its
``pyproject.toml`` (components in ``veil.learn.fl``, every run setting with its default), so the same app runs
unchanged against a remote SuperLink: ``veil fl app DIR`` writes it, ``flwr run DIR <connection>`` submits it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from veil.errors import ConfigError, DeploymentError
from veil.learn.fl.spec import RunSettings

CONNECTION = "veil-local"
__all__ = ["CONNECTION", "DeploymentError", "LocalDeployment", "flower_env", "submit", "write_app", "write_connection"]


def write_app(directory: Path) -> Path:
    """The Flower App directory (its pyproject.toml); returns the directory."""
    import tomli_w

    directory.mkdir(parents=True, exist_ok=True)
    config = {k: v for k, v in RunSettings().to_run_config().items()}
    doc = {
        "build-system": {"requires": ["hatchling"], "build-backend": "hatchling.build"},
        "project": {"name": "veil-fl", "version": "1.0.0", "description": "Veil federated learning",
                    "license": "Apache-2.0", "dependencies": []},
        "tool": {"flwr": {"app": {
            "publisher": "veil",
            "components": {"serverapp": "veil.learn.fl.server_app:app", "clientapp": "veil.learn.fl.client_app:app"},
            "config": config,
        }}},
    }
    (directory / "pyproject.toml").write_text(tomli_w.dumps(doc))
    return directory


def flower_env(home: Path) -> dict[str, str]:
    """The environment of a Flower process Veil starts: no VEIL_* variable inherited (no party gets another's vault
    or key), ``FLWR_HOME`` under ``home``, this interpreter's bin first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEIL_")}
    env.update({"FLWR_HOME": str(home / "flwr"), "PYTHONUNBUFFERED": "1"})
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def write_connection(home: Path, name: str, address: str, *, insecure: bool = True) -> None:
    """The SuperLink connection ``flwr run`` uses, as the default one in ``home/flwr/config.toml``."""
    import tomli_w

    flwr_home = home / "flwr"
    flwr_home.mkdir(parents=True, exist_ok=True)
    doc = {"superlink": {"default": name, name: {"address": address, "insecure": insecure}}}
    (flwr_home / "config.toml").write_text(tomli_w.dumps(doc))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _node_config(values: dict[str, Any]) -> str:
    def quote(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        text = str(v)
        if any(c in text for c in "\"\\\n"):
            raise ConfigError("a node config value may not contain quotes, backslashes or newlines")
        return f'"{text}"'

    return " ".join(f"{k}={quote(v)}" for k, v in values.items() if v is not None)


@dataclass
class LocalDeployment:
    """Start with ``with LocalDeployment(home, nodes) as d: d.run(settings)``; everything stops on exit."""

    home: Path
    nodes: list[dict[str, Any]]  # one node config per SuperNode (data, policy, purpose, vault, ...)
    env: dict[str, str] = field(default_factory=dict)  # for the SuperLink (VEIL_DB: the ledger's vault)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def __enter__(self) -> LocalDeployment:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _bin(self, name: str) -> str:
        return str(Path(sys.executable).with_name(name))

    def _base_env(self) -> dict[str, str]:
        # The SuperLink gets ``env`` on top, each SuperNode a Veil home of its own.
        return flower_env(self.home)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log: TextIO = (self.home / f"{name}.log").open("ab")  # type: ignore[assignment]
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                            start_new_session=True, cwd=self.home)  # fmt: skip

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.ports["superlink"] = free_port()  # Flower 1.42 serves its Runtime, Control and Fleet APIs on one port
        self._spawn("superlink", [
            self._bin("flower-superlink"), "--insecure", "--isolation", "subprocess",
            "--disable-runtime-dependency-installation", "--database", str(self.home / "superlink.db"),
            "--host", "127.0.0.1", "--port", str(self.ports["superlink"]),
        ], {**self._base_env(), **self.env})  # fmt: skip
        self._wait_port(self.ports["superlink"], "superlink")
        for i, node in enumerate(self.nodes):
            self.start_node(i, node)
        write_connection(self.home, CONNECTION, f"127.0.0.1:{self.ports['superlink']}")

    def start_node(self, index: int, node: dict[str, Any]) -> None:
        name = f"supernode-{index}"
        self.ports[name] = free_port()
        self._spawn(name, [
            self._bin("flower-supernode"), "--insecure", "--superlink", f"127.0.0.1:{self.ports['superlink']}",
            "--isolation", "subprocess", "--host", "127.0.0.1", "--port", str(self.ports[name]),
            "--node-config", _node_config(node),
        ], {**self._base_env(), "VEIL_HOME": str(self.home / name)})  # fmt: skip

    def kill_node(self, index: int) -> None:
        """SIGKILL a SuperNode and the ClientApp it started (a crash, not a shutdown)."""
        proc = self.procs.get(f"supernode-{index}")
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def _wait_port(self, port: int, name: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise DeploymentError(f"the {name} exited at start (code {proc.returncode}); see "
                                      f"{self.home / (name + '.log')}")  # fmt: skip
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.2)
        raise DeploymentError(f"the {name} did not listen on 127.0.0.1:{port} within {timeout:g} s")

    def submit(self, settings: RunSettings, *, timeout: float = 3600.0) -> subprocess.Popen[bytes]:
        """``flwr run`` of the Veil app with these settings; returns the running process (it streams logs)."""
        return submit(write_app(self.home / "app"), CONNECTION, settings, self.home, self._base_env(), timeout)

    def stop(self) -> None:
        """Every process stopped (SIGTERM, then SIGKILL after 10 s); each client's prepared arrays removed."""
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        for i in range(len(self.nodes)):
            shutil.rmtree(self.home / f"supernode-{i}" / "fl-cache", ignore_errors=True)


def submit(app: Path, connection: str, settings: RunSettings, home: Path, env: dict[str, str],
           timeout: float, *, stream: bool = True) -> subprocess.Popen[bytes]:  # fmt: skip
    import tomli_w

    overrides = home / "run-config.toml"
    overrides.write_text(tomli_w.dumps(settings.to_run_config()))
    log = (home / "flwr-run.log").open("ab")
    argv = [str(Path(sys.executable).with_name("flwr")), "run", str(app), connection, "--run-config", str(overrides),
            *(["--stream"] if stream else [])]  # fmt: skip
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=home, start_new_session=True)
