"""The Python API behind ``veil fl``: partition a table, check a run before it starts, run it on loopback.

    report = run_local(["part-0.csv", "part-1.csv", "part-2.csv"], settings, home=Path(".veil/fl"),
                       vault_url="sqlite:///.veil/veil.db", policy="policy.yaml", purpose="income-model")
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from veil.errors import ConfigError, DeploymentError, InputError
from veil.learn.fl.data import check_client
from veil.learn.fl.report import load_report
from veil.learn.fl.runtime import LocalDeployment
from veil.learn.fl.spec import RunSettings


def partition(frame: Any, by: str, clients: int) -> list[Any]:
    """A non-IID split: whole groups of ``by``'s values per client, largest first onto the smallest client."""
    import polars as pl

    if by not in frame.columns:
        raise InputError(f"no column '{by}' to partition by")
    counts = frame[by].cast(pl.Utf8).fill_null("").value_counts(sort=True)
    if counts.height < clients:
        raise InputError(f"column '{by}' has {counts.height} distinct values: too few for {clients} clients")
    groups: list[list[str]] = [[] for _ in range(clients)]
    sizes = [0] * clients
    for value, count in counts.iter_rows():
        i = sizes.index(min(sizes))
        groups[i].append(value)
        sizes[i] += count
    key = frame[by].cast(pl.Utf8).fill_null("")
    return [frame.filter(key.is_in(g)) for g in groups]


def preflight(partitions: list[str], settings: RunSettings, policy: str | None, purpose: str | None) -> None:
    """Every partition read and prepared as its client will, before any process starts."""
    spec = settings.feature_spec()
    for i, data in enumerate(partitions):
        try:
            check_client(data, policy, purpose, spec)
        except InputError as exc:
            raise InputError(f"client {i} ({Path(data).name}): {exc.message}") from None


def check_budget(vault_url: str, settings: RunSettings) -> None:
    if not settings.private:
        return
    from veil.dp.ledger import Ledger
    from veil.learn.fl.accounting import check_fits
    from veil.vault.vault import Vault

    check_fits(Ledger.of(Vault(vault_url)), settings.dataset, settings.plan.epsilon(), settings.delta)


def _server_env(vault_url: str) -> dict[str, str]:
    """The SuperLink's Veil settings: the caller's vault and its key (made now if it is a new local one)."""
    from veil.storage.engine import veil_home
    from veil.vault.vault import Vault

    Vault(vault_url)  # creates the database (and a local key) now, in the caller's environment
    env = {"VEIL_DB": vault_url}
    if key := os.environ.get("VEIL_MASTER_KEY"):
        env["VEIL_MASTER_KEY"] = key
    else:
        env["VEIL_KEY_FILE"] = str(Path(os.environ.get("VEIL_KEY_FILE") or veil_home() / "master.key").resolve())
    return env


def run_local(partitions: list[str], settings: RunSettings, *, home: Path, vault_url: str,
              policy: str | None = None, purpose: str | None = None, check: bool = True,
              timeout: float = 3600.0, during: Callable[[LocalDeployment, Path], None] | None = None,
              node_extra: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """Run the Veil app on a SuperLink and one SuperNode per partition, all on loopback; the report.

    ``during(deployment, report_path)`` runs while the run does (tests use it to kill a SuperNode)."""
    if len(partitions) != settings.clients:
        raise ConfigError(f"{len(partitions)} partitions for {settings.clients} clients")
    vault_url = _absolute(vault_url)
    if check:
        check_budget(vault_url, settings)
        preflight(partitions, settings, policy, purpose)
    home = home.resolve()
    out = home / "out"
    settings = RunSettings.from_run_config({**settings.to_run_config(), "report-dir": str(out)})
    (out / "report.json").unlink(missing_ok=True)
    nodes = [{"data": str(Path(p).resolve()) if Path(p).exists() else p, "policy": _path(policy), "purpose": purpose,
              **(node_extra or {})} for p in partitions]  # fmt: skip
    with LocalDeployment(home, nodes, env=_server_env(vault_url)) as deployment:
        proc = deployment.submit(settings)
        if during is not None:
            during(deployment, out / "report.json")
        _wait(proc, timeout, home)
    if not (out / "report.json").exists():
        raise DeploymentError(f"the run ended without a report; see the logs in {home}")
    return load_report(out / "report.json")


def _wait(proc: subprocess.Popen[bytes], timeout: float, home: Path) -> None:
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise DeploymentError(f"the run did not finish within {timeout:g} s; see the logs in {home}") from None
    if code != 0:
        raise DeploymentError(f"flwr run exited with code {code}; see {home / 'flwr-run.log'}")


def wait_for_round(report: Path, server_round: int, *, status: str = "running", timeout: float = 600.0) -> None:
    """Block until the report shows ``server_round`` with ``status`` (for fault injection)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if report.exists():
            try:
                rows = load_report(report).get("rounds", [])
            except InputError:
                rows = []
            if any(r["round"] == server_round and r["status"] == status for r in rows):
                return
        time.sleep(0.2)
    raise DeploymentError(f"round {server_round} did not reach '{status}' within {timeout:g} s")


def reachable(address: str, timeout: float = 5.0) -> None:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"a SuperLink address is HOST:PORT, not '{address}'")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            return
    except OSError:
        raise DeploymentError(f"cannot reach the SuperLink at {address}",
                              hint="start it (flower-superlink) or check the address and the firewall") from None


def _absolute(url: str) -> str:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(url[len("sqlite:///") :]).resolve())
    return url


def _path(value: str | None) -> str | None:
    return str(Path(value).resolve()) if value else None


def submit_remote(address: str, settings: RunSettings, *, home: Path, insecure: bool = True,
                  timeout: float = 120.0) -> str:  # fmt: skip
    """Submit the Veil app to a SuperLink elsewhere (its SuperNodes bring their own node config); the run id."""
    import re

    from veil.learn.fl.runtime import flower_env, submit, write_app, write_connection

    reachable(address)
    home = home.resolve()
    write_connection(home, "veil-remote", address, insecure=insecure)
    env = flower_env(home)
    args = RunSettings.from_run_config({**settings.to_run_config(), "report-dir": ""})
    proc = submit(write_app(home / "app"), "veil-remote", args, home, env, timeout, stream=False)
    _wait(proc, timeout, home)
    text = (home / "flwr-run.log").read_text(errors="replace")
    found = re.findall(r"started run (\d+)", text)
    if not found:
        raise DeploymentError(f"the SuperLink at {address} did not start the run; see {home / 'flwr-run.log'}")
    return str(found[-1])
