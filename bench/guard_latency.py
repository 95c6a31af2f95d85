"""Latency the guard adds: p50/p99 with 50 concurrent clients, 300- and 3,000-character prompts, regex and NER tier.

The echo upstream and the guard run as their own processes on loopback (uvicorn); the load comes from this
process (httpx, 50 requests in flight). "added per request" = each request's latency through the guard minus
the time the guard waited for the upstream on that request (its x-veil-upstream-ms header): everything the guard
adds, HTTP parsing, queueing and the second hop included. All three share the machine's 2 cores, so the
figures include contention.
"guard work" is the time the guard itself spends on a request (detect, pseudonymize, restore, leak scan), from
its x-veil-overhead-ms header: what the privacy processing costs apart from proxying and queueing.

    python bench/guard_latency.py [--requests 500] [--model-ms 200] [--auth]

With --model-ms 200 (default) the upstream behaves like a fast model; --model-ms 0 turns it into a saturation
test where 50 clients keep every core busy and latency measures throughput instead. --jitter 0.5 makes each
answer take 50-150% of --model-ms and spreads the clients' first requests over one model latency (how real traffic
arrives); --jitter 0 keeps all 50 clients in lock-step, a worst case where every request of a wave queues at once.
--auth runs the guard with tenants (each client sends a Veil API key, argon2-checked once and then cached) instead
of --open.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from veil.storage.testing import free_port

HERE = Path(__file__).resolve().parent
PROMPT_300 = ("Hi, this is Maria Gonzalez (maria.gonzalez@example.org, +1 415 555 0173). My card 4539 1488 0343 6467 "
              "was charged twice on 12/03/2026; please refund it to IBAN DE89 3704 0044 0532 0130 00. Thanks a lot, "
              "and sorry for the trouble!")  # fmt: skip


def prompt(size: int) -> str:
    text = (PROMPT_300 + " ") * (size // len(PROMPT_300) + 1)
    return text[:size]


def principal(env: dict[str, str], name: str) -> str:
    """A tenant's API key: a role with the guard permission and a principal (no TOTP: the guard needs none)."""
    veil = [sys.executable, "-m", "veil"]
    role = f"bench-{name}".replace("+", "-")
    subprocess.run([*veil, "roles", "create", role, "--permissions", "guard", "--scope", role], env=env, check=True)
    made = subprocess.run([*veil, "users", "create", role, "--role", role, "--no-totp"], env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip
    return next(line.split()[-1] for line in made.stdout.splitlines() if line.startswith("api key"))


def wait_up(url: str, proc: subprocess.Popen[bytes], headers: dict[str, str] | None = None) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            body = {"model": "m", "messages": [{"role": "user", "content": "warm up"}]}
            httpx.post(url, json=body, timeout=30, headers=headers).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


async def load(
    url: str,
    text: str,
    n: int,
    concurrency: int = 50,
    work: list[float] | None = None,
    spread: float = 0.0,
    added: list[float] | None = None,
    headers: dict[str, str] | None = None,
) -> list[float]:
    sem = asyncio.Semaphore(concurrency)
    out: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits, headers=headers) as client:

        async def one(i: int) -> None:
            async with sem:
                if i < concurrency and spread:
                    await asyncio.sleep(i * spread / concurrency)  # clients arrive spread out, not all at once
                t = time.perf_counter()
                r = await client.post(
                    url, json={"model": "m", "messages": [{"role": "user", "content": f"{i} {text}"}]}
                )
                r.raise_for_status()
                took = time.perf_counter() - t
                out.append(took)
                if work is not None and "x-veil-overhead-ms" in r.headers:
                    work.append(float(r.headers["x-veil-overhead-ms"]) / 1000)
                if added is not None and "x-veil-upstream-ms" in r.headers:
                    added.append(took - float(r.headers["x-veil-upstream-ms"]) / 1000)

        await asyncio.gather(*(one(i) for i in range(n)))
    return out


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--model-ms", type=float, default=200.0, help="the echo model's own latency (0: saturation test)")
    ap.add_argument("--jitter", type=float, default=0.5, help="model latency spread (0: lock-step waves)")
    ap.add_argument("--sizes", default="300,3000", help="comma-separated prompt sizes in characters")
    ap.add_argument("--tiers", default="regex,regex+NER", help="comma-separated: regex, regex+NER")
    ap.add_argument("--workers", type=int, default=1, help="guard worker processes")
    ap.add_argument("--auth", action="store_true", help="tenants with Veil API keys instead of --open")
    ap.add_argument("--model", default="veil", help="NER model of the NER tier: veil or spacy-sm")
    args = ap.parse_args()
    home = tempfile.mkdtemp()
    env = dict(os.environ, VEIL_HOME=home)
    up_port = free_port()
    echo = [sys.executable, str(HERE / "_echo_upstream.py"), str(up_port), str(args.model_ms), str(args.jitter)]
    spread = args.model_ms / 1000 if args.jitter else 0.0
    upstream = subprocess.Popen(echo, stderr=subprocess.PIPE)
    rows = []
    try:
        up_url = f"http://127.0.0.1:{up_port}/v1/chat/completions"
        wait_up(up_url, upstream)
        wanted = set(args.tiers.split(","))
        for tier, ner in [t for t in (("regex", "false"), ("regex+NER", "true")) if t[0] in wanted]:
            policy = Path(home) / f"policy-{tier}.yaml"
            policy.write_text(f"detection: {{ner: {ner}, model: {args.model}}}\ndefault: {{operator: pseudonymize}}\n")
            port = free_port()
            cmd = [
                sys.executable,
                "-m",
                "veil",
                "guard",
                "--upstream",
                f"http://127.0.0.1:{up_port}",
                "--policy",
                str(policy),
                "--port",
                str(port),
            ]
            headers = {}
            if args.auth:
                headers["authorization"] = "Bearer " + principal(env, tier)
            else:
                cmd.append("--open")
            guard = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
            try:
                g_url = f"http://127.0.0.1:{port}/v1/chat/completions"
                wait_up(g_url, guard, headers)
                for size in (int(x) for x in args.sizes.split(",")):
                    text = prompt(size)
                    asyncio.run(load(g_url, text, 50, headers=headers))  # warm-up
                    direct = asyncio.run(load(up_url, text, args.requests, spread=spread))
                    work: list[float] = []
                    added: list[float] = []
                    via = asyncio.run(
                        load(g_url, text, args.requests, work=work, spread=spread, added=added, headers=headers)
                    )
                    rows.append(
                        (
                            tier,
                            size,
                            pct(direct, 50),
                            pct(direct, 99),
                            pct(via, 50),
                            pct(via, 99),
                            pct(added, 50),
                            pct(added, 99),
                            pct(work, 50),
                            pct(work, 99),
                        )
                    )
            finally:
                guard.terminate()
                guard.wait(timeout=30)
    finally:
        upstream.terminate()
        upstream.wait(timeout=30)
    print(
        "| tier | prompt chars | direct p50/p99 ms | via guard p50/p99 ms | added per request p50/p99 ms "
        "| guard work p50/p99 ms |"
    )
    print("|---|---|---|---|---|---|")
    for tier, size, d50, d99, v50, v99, a50, a99, w50, w99 in rows:
        print(
            f"| {tier} | {size} | {d50:.1f} / {d99:.1f} | {v50:.1f} / {v99:.1f} | {a50:.1f} / {a99:.1f} "
            f"| {w50:.2f} / {w99:.2f} |"
        )


if __name__ == "__main__":
    main()
