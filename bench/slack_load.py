"""Signed Slack event load on loopback: the bot versus a bare aiohttp handler, same run.

    .venv/bin/python bench/slack_load.py [--requests 5000] [--concurrency 50] [--rate 500]

Three processes, all pinned to the same two cores (``--cores``):

- the server under test: the real bot (``create_app`` + ``create_web_app``, Bolt over aiohttp,
  engine, layouts, Web API client) or a bare aiohttp handler that reads the body and returns 200;
- a fake Slack Web API (aiohttp) that counts the bot's replies, by message;
- this process: the load generator (aiohttp client), with every request signed with Slack's v0
  HMAC scheme beforehand so signing costs nothing during the measurement.

Two phases per server: *closed loop* (``--concurrency`` requests in flight, as fast as it goes:
requests/s) and *paced* (``--rate`` requests/s, at most ``--concurrency`` in flight: the ack
latency Slack would see). The load is ``app_mention`` events; 10 % of them are sent again as
Slack retries (``X-Slack-Retry-Num``, same ``event_id``), and 1 % are forged or stale (wrong
secret, or a timestamp 10 minutes old). Afterwards the fake Slack says how many replies were
posted per message: duplicates must be 0, forged requests accepted must be 0.

The bot runs as ``serve`` does, with its store (``--store``): the SQLite file (default, in a
temp dir), PostgreSQL (``--database-url``), or none (in-memory dedupe, no records). Events are
acknowledged once their signature is checked; dedupe, listeners and the reply come after.

Bounded: at most ``--requests`` per phase and ``--max-seconds`` per phase. Appends the figures
and the command to ``bench/RESULTS.md`` under "## Slack" (``--no-write`` to skip).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import multiprocessing as mp
import os
import platform
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

SECRET = "bench-signing-secret-0123456789ab"
TOKEN = "xoxb-bench-0000"
BOT_USER = "UBENCHBOT"
QUESTIONS = (
    "combien dure la construction ?",
    "à qui écrire pour le fast ?",
    "how long is construction?",
    "quelle est la recette des crêpes ?",
    "c'est quoi la phase d'investigation ?",
)
TINY_KNOWLEDGE = {
    "phases/construction.md": """---
title: La construction
permalink: /approche/construction
kind: phase
aliases: [phase de construction]
sections:
  duree:
    aliases: [combien de temps, durée, how long]
---
La construction transforme l'idée validée en service utilisé par de vrais usagers.
EN: Construction turns the validated idea into a service used by real users.

## Durée {#duree}

La construction dure de six mois à un an, avec une équipe de 2 à 4 personnes.
EN: Construction lasts six months to a year, with a team of 2 to 4 people.
""",
    "programmes/fast.md": """---
title: Le FAST
permalink: /fast
kind: programme
aliases: [fonds d'accélération]
facts:
  contact: fast@beta.gouv.fr
sections:
  contact:
    aliases: [écrire, contacter]
---
Le FAST finance des startups d'État.

## Contact {#contact}

Pour le FAST, écrivez à fast@beta.gouv.fr.
""",
}


# ---------------------------------------------------------------------------------------------
# child processes


def _pin(cores: list[int]) -> None:
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, set(cores))


def _serve_child(
    kind: str, conn: Connection, cores: list[int], api_url: str, knowledge: str, store: str = ""
) -> None:
    """Run one server until SIGTERM; send its port through ``conn`` once listening."""
    _pin(cores)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        if kind == "bot":
            app = _bot_app(api_url, knowledge, store)
        elif kind == "bare":
            app = _bare_app()
        else:
            app = _fake_slack_app()
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        conn.send(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await stop.wait()
        await runner.cleanup()

    profile = os.environ.get("SLACK_BENCH_PROFILE") if kind == "bot" else None
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile(time.thread_time)
        profiler.runcall(asyncio.run, main())
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(35)
    else:
        asyncio.run(main())


def _bot_app(api_url: str, knowledge: str, store: str = "") -> web.Application:
    import logging

    logging.basicConfig(level=logging.WARNING)
    from bot.engine import Engine
    from bot.frontends.slack.app import create_app
    from bot.frontends.slack.server import create_web_app
    from bot.records.store import open_store
    from bot.settings import Settings

    engine = Engine.load(Path(knowledge))
    settings = Settings(
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=api_url,
        port=0,
        data_dir=Path(tempfile.mkdtemp(prefix="slack-bench-data-")),
        database_url=store if store.startswith("postgres") else None,
    )
    records = open_store(settings) if store else None
    return create_web_app(create_app(settings, engine, records), engine)


def _bare_app() -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=200, text="")

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    return app


def _fake_slack_app() -> web.Application:
    posts: Counter[tuple[str, str]] = Counter()
    calls: Counter[str] = Counter()

    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        calls[method] += 1
        if method == "auth.test":
            return web.json_response(
                {
                    "ok": True,
                    "user_id": BOT_USER,
                    "bot_id": "BBENCH",
                    "team_id": "TBENCH",
                    "user": "bench",
                }
            )
        if method == "chat.postMessage":
            args = await request.json()
            posts[(args.get("channel", ""), args.get("thread_ts", ""))] += 1
            return web.json_response({"ok": True, "ts": f"{time.time():.6f}"})
        return web.json_response({"ok": True})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "calls": dict(calls),
                "messages_answered": len(posts),
                "duplicate_replies": sum(n - 1 for n in posts.values()),
                "answered_keys": [f"{c}|{t}" for c, t in posts],
            }
        )

    async def reset(request: web.Request) -> web.Response:
        posts.clear()
        calls.clear()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/api/{method}", api)
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    return app


@dataclass
class Child:
    process: Any
    port: int

    def stop(self) -> None:
        if self.process.is_alive():
            os.kill(self.process.pid, signal.SIGTERM)
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


def start_child(
    kind: str, cores: list[int], api_url: str = "", knowledge: str = "", store: str = ""
) -> Child:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_serve_child, args=(kind, child, cores, api_url, knowledge, store))
    process.start()
    if not parent.poll(60):
        process.kill()
        raise SystemExit(f"the {kind} server did not start within 60 s")
    return Child(process, int(parent.recv()))


# ---------------------------------------------------------------------------------------------
# load


@dataclass
class Request:
    body: bytes
    headers: dict[str, str]
    forged: bool = False
    key: tuple[str, str] | None = None  # (channel, ts) of the message, None for a retry


def _sign(body: bytes, timestamp: int, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(
        secret.encode(), b"v0:" + str(timestamp).encode() + b":" + body, hashlib.sha256
    ).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": f"v0={digest}",
    }


def make_requests(n: int, seed: int, tag: str) -> list[Request]:
    """``n`` signed requests: fresh mentions, ~10 % Slack retries, ~1 % forged or stale."""
    rng = random.Random(seed)
    now = int(time.time())
    out: list[Request] = []
    sent: list[Request] = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.01:
            body = json.dumps(
                {
                    "type": "event_callback",
                    "event_id": f"EvF{tag}{i}",
                    "event": {
                        "type": "app_mention",
                        "channel": "CFORGED",
                        "ts": f"{i}.1",
                        "user": "U1",
                        "text": "x",
                    },
                }
            ).encode()
            headers = _sign(body, now, "wrong-secret") if i % 2 else _sign(body, now - 600)
            out.append(Request(body, headers, forged=True))
            continue
        if roll < 0.11 and sent:
            original = rng.choice(sent)
            headers = {
                **original.headers,
                "X-Slack-Retry-Num": "1",
                "X-Slack-Retry-Reason": "http_timeout",
            }
            out.append(Request(original.body, headers))
            continue
        channel = f"C{tag}{i % 40:03d}"
        ts = f"{now}.{i:06d}"
        event = {
            "type": "app_mention",
            "user": f"U{i % 300:05d}",
            "text": f"<@{BOT_USER}> {QUESTIONS[i % len(QUESTIONS)]}",
            "ts": ts,
            "event_ts": ts,
            "channel": channel,
        }
        envelope = {
            "token": "x",
            "team_id": "TBENCH",
            "api_app_id": "ABENCH",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{tag}{i:07d}",
            "event_time": now,
            "authorizations": [{"team_id": "TBENCH", "user_id": BOT_USER, "is_bot": True}],
        }
        body = json.dumps(envelope).encode()
        request = Request(body, _sign(body, now), key=(channel, ts))
        sent.append(request)
        out.append(request)
    return out


@dataclass
class PhaseResult:
    server: str
    phase: str
    sent: int = 0
    ok: int = 0
    refused: int = 0
    forged_accepted: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    from_schedule_ms: list[float] = field(default_factory=list)
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)
    replies_done_s: float = 0.0

    @property
    def rps(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def pct(self, p: float, values: list[float] | None = None) -> float:
        values = sorted(self.latencies_ms if values is None else values)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def child_pid(pid: int) -> int | None:
    """The first child of ``pid`` (the bot's answer worker), on Linux."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None


def cpu_seconds(pids: dict[str, int | None]) -> dict[str, float]:
    """User + system CPU seconds of each process (Linux /proc; zeros elsewhere)."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for name, pid in pids.items():
        if pid is None:
            out[name] = 0.0
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[name] = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            out[name] = 0.0
    return out


async def run_phase(
    server: str,
    url: str,
    requests: list[Request],
    concurrency: int,
    rate: float | None,
    max_seconds: float,
    pids: dict[str, int | None],
) -> PhaseResult:
    result = PhaseResult(server, f"paced {rate:.0f}/s" if rate else "closed loop")
    semaphore = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=10)
    deadline = time.perf_counter() + max_seconds

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        # warm up: open the connections, Bolt's one auth.test, the first engine calls
        warm = [r for r in requests[:concurrency] if not r.forged]

        async def warm_one(req: Request) -> None:
            async with session.post(url, data=req.body, headers=req.headers) as resp:
                await resp.read()

        await asyncio.gather(*(warm_one(r) for r in warm))
        await asyncio.sleep(0.5)  # let the warm-up replies drain
        measured = requests[concurrency:]

        async def one(req: Request, scheduled: float | None) -> None:
            async with semaphore:
                if time.perf_counter() > deadline:
                    return
                t0 = time.perf_counter()
                try:
                    async with session.post(url, data=req.body, headers=req.headers) as resp:
                        await resp.read()
                        status = resp.status
                except (aiohttp.ClientError, TimeoutError):
                    result.errors += 1
                    return
                t1 = time.perf_counter()
            result.sent += 1
            result.latencies_ms.append((t1 - t0) * 1000)
            if scheduled is not None:
                result.from_schedule_ms.append((t1 - scheduled) * 1000)
            if status == 200:
                result.ok += 1
                if req.forged and server == "bot":
                    result.forged_accepted += 1
            elif status == 401:
                result.refused += 1
            else:
                result.errors += 1

        start = time.perf_counter()
        cpu_before = cpu_seconds(pids)
        if rate:
            # open loop: a producer starts each request at its scheduled time
            tasks = []
            for i, req in enumerate(measured):
                scheduled = start + i / rate
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if time.perf_counter() > deadline:
                    break
                tasks.append(asyncio.create_task(one(req, scheduled)))
            await asyncio.gather(*tasks)
        else:
            queue = iter(measured)

            async def worker() -> None:
                for req in queue:
                    await one(req, None)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - start
        cpu_after = cpu_seconds(pids)
        result.cpu_ms_per_request = {
            name: (cpu_after[name] - cpu_before[name]) * 1000 / max(1, result.sent)
            for name in cpu_before
        }
    return result


# ---------------------------------------------------------------------------------------------
# main


def knowledge_dir(path: str | None) -> str:
    if path:
        return path
    from bot.engine import Engine
    from bot.errors import BotError

    project = ROOT / "knowledge"
    try:
        Engine.load(project)
        return str(project)
    except BotError as exc:
        print(
            f"project knowledge not loadable ({str(exc)[:120]}...): using a tiny bundled one",
            file=sys.stderr,
        )
    folder = Path(tempfile.mkdtemp(prefix="slack-bench-knowledge-"))
    for rel, text in TINY_KNOWLEDGE.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    return str(folder)


def wait_for_replies(
    port: int, expected: set[Any], max_seconds: float
) -> tuple[dict[str, Any], float]:
    """Poll the fake Slack until every message is answered or replies stop coming (5 s).
    Returns the stats and the seconds waited after the load ended."""
    start = time.perf_counter()
    last_count, last_change = -1, start
    while True:
        stats = asyncio.run(fake_stats(port))
        answered = {tuple(k.split("|", 1)) for k in stats["answered_keys"]} & expected
        now = time.perf_counter()
        if len(answered) != last_count:
            last_count, last_change = len(answered), now
        if len(answered) >= len(expected) or now - last_change > 5 or now - start > max_seconds:
            return stats, (last_change if len(answered) < len(expected) else now) - start
        time.sleep(0.05)


async def fake_stats(port: int, reset: bool = False) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        if reset:
            async with session.post(f"http://127.0.0.1:{port}/reset") as resp:
                return await resp.json()  # type: ignore[no-any-return]
        async with session.get(f"http://127.0.0.1:{port}/stats") as resp:
            return await resp.json()  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=5000, help="requests per phase (default 5000)")
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--rate", type=float, default=500.0, help="requests/s of the paced phase")
    p.add_argument("--max-seconds", type=float, default=60.0, help="time bound per phase")
    p.add_argument("--cores", default="0,1", help="CPU cores for every process (default 0,1)")
    p.add_argument("--knowledge", help="knowledge folder (default: the project's, else a tiny one)")
    p.add_argument("--no-write", action="store_true", help="do not append to bench/RESULTS.md")
    p.add_argument(
        "--store",
        choices=("sqlite", "postgres", "none"),
        default="sqlite",
        help="the bot's store: SQLite in a temp dir (default), PostgreSQL (--database-url), none",
    )
    p.add_argument(
        "--database-url",
        help="PostgreSQL for --store postgres (default: a throwaway server, initdb in a temp dir)",
    )
    args = p.parse_args(argv)
    with contextlib.ExitStack() as stack:
        if args.store == "postgres" and not args.database_url:
            args.database_url = stack.enter_context(throwaway_postgres())
        return run(args)


@contextlib.contextmanager
def throwaway_postgres() -> Any:
    """A PostgreSQL server for the run (the tests' fixture: tests/pgserver.py)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from pgserver import find_bindir, new_server

    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL binaries: pass --database-url or --store sqlite")
    server = new_server(bindir, "slack-bench-pg-")
    base = server.base
    server.start()
    try:
        yield server.new_database()
    finally:
        server.stop()
        import shutil

        shutil.rmtree(base, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    store = {"sqlite": "sqlite", "none": "", "postgres": args.database_url or ""}[args.store]
    cores = [int(c) for c in args.cores.split(",") if c.strip()]
    _pin(cores)
    knowledge = knowledge_dir(args.knowledge)

    fake = start_child("fake", cores)
    api_url = f"http://127.0.0.1:{fake.port}/api"
    results: list[PhaseResult] = []
    checks: dict[str, Any] = {}
    try:
        for server in ("bare", "bot"):
            child = start_child(server, cores, api_url, knowledge, store if server == "bot" else "")
            try:
                url = f"http://127.0.0.1:{child.port}/slack/events"
                for phase, rate in (("closed", None), ("paced", args.rate)):
                    asyncio.run(fake_stats(fake.port, reset=True))
                    tag = f"{server[0]}{phase[0]}"
                    requests = make_requests(
                        args.requests + args.concurrency, seed=len(results), tag=tag
                    )
                    pids = {
                        "server": child.process.pid,
                        "worker": child_pid(child.process.pid),
                        "fake slack": fake.process.pid,
                        "load": os.getpid(),
                    }
                    res = asyncio.run(
                        run_phase(
                            server, url, requests, args.concurrency, rate, args.max_seconds, pids
                        )
                    )
                    results.append(res)
                    if server == "bot":
                        expected = {r.key for r in requests if r.key is not None}
                        stats, drain = wait_for_replies(fake.port, expected, args.max_seconds)
                        answered = {tuple(k.split("|", 1)) for k in stats["answered_keys"]}
                        res.replies_done_s = res.seconds + drain
                        checks[res.phase] = {
                            "messages": len(expected),
                            "answered": len(answered & expected),
                            "duplicate_replies": stats["duplicate_replies"],
                            "forged_or_stale_sent": sum(
                                1 for r in requests[args.concurrency :] if r.forged
                            ),
                            "forged_or_stale_accepted": res.forged_accepted,
                            "retries_sent": sum(
                                1
                                for r in requests[args.concurrency :]
                                if r.key is None and not r.forged
                            ),
                            "replies_per_s": len(answered & expected) / res.replies_done_s
                            if res.replies_done_s
                            else 0.0,
                            "last_reply_after_s": drain,
                            "web_api_calls_per_answer": sum(stats["calls"].values())
                            / max(1, len(answered & expected)),
                        }
            finally:
                child.stop()
    finally:
        fake.stop()

    report = render(results, checks, args, knowledge)
    print(report)
    if not args.no_write:
        write_results(report)
    bot_paced = next(r for r in results if r.server == "bot" and r.phase.startswith("paced"))
    ok = bot_paced.pct(99) <= 50 and all(
        c["duplicate_replies"] == 0 and c["forged_or_stale_accepted"] == 0 for c in checks.values()
    )
    ok = ok and max(max(r.latencies_ms) for r in results if r.latencies_ms) < 3000
    return 0 if ok else 1


def render(
    results: list[PhaseResult], checks: dict[str, Any], args: argparse.Namespace, knowledge: str
) -> str:
    by = {(r.server, r.phase): r for r in results}
    lines = [
        f"### Slack load, {date.today().isoformat()}",
        "",
        f"`{Path(sys.executable).name} bench/slack_load.py --requests {args.requests} --concurrency {args.concurrency} "
        f"--rate {args.rate:.0f} --cores {args.cores} --store {args.store}` — {len(args.cores.split(','))} cores ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, store: {args.store}, knowledge: "
        f"{'project' if Path(knowledge) == ROOT / 'knowledge' else 'tiny bundled folder'}. Server, fake Slack and load "
        "generator share the cores; every request is signed (v0 HMAC); 10 % are Slack retries, 1 % forged or stale.",
        "",
        "| server | phase | requests | req/s | ack p50 ms | ack p99 ms | max ms | p99 from schedule ms | 200 | 401 | errors | CPU ms/req: server · answer worker · fake Slack · load |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        sched = f"{r.pct(99, r.from_schedule_ms):.1f}" if r.from_schedule_ms else "—"
        lines.append(
            f"| {r.server} | {r.phase} | {r.sent} | {r.rps:.0f} | {r.pct(50):.1f} | {r.pct(99):.1f} | "
            f"{max(r.latencies_ms, default=float('nan')):.1f} | {sched} | {r.ok} | {r.refused} | {r.errors} | "
            + " · ".join(f"{v:.2f}" for v in r.cpu_ms_per_request.values())
            + " |"
        )
    lines.append("")
    for phase in sorted({r.phase for r in results}):
        bot, bare = by.get(("bot", phase)), by.get(("bare", phase))
        if bot and bare and bare.rps and bare.pct(99):
            lines.append(
                f"- {phase}: bot / bare aiohttp = {bot.rps / bare.rps:.2f}× the requests/s, "
                f"{bot.pct(50) / bare.pct(50):.1f}× the p50, {bot.pct(99) / bare.pct(99):.1f}× the p99."
            )
    for phase, c in checks.items():
        lines.append(
            f"- bot, {phase}: {c['answered']}/{c['messages']} messages answered "
            f"(last reply {c['last_reply_after_s']:.1f} s after the last request, {c['replies_per_s']:.0f} replies/s), "
            f"{c['duplicate_replies']} duplicate replies ({c['retries_sent']} retries sent), "
            f"{c['forged_or_stale_accepted']}/{c['forged_or_stale_sent']} forged or stale requests accepted, "
            f"{c['web_api_calls_per_answer']:.2f} Web API calls per answered message."
        )
    all_lat = [x for r in results if r.server == "bot" for x in r.latencies_ms]
    if all_lat:
        lines.append(
            f"- slowest bot acknowledgement over {len(all_lat)} requests: {max(all_lat):.1f} ms (Slack's limit: 3000 ms)."
        )
    return "\n".join(lines) + "\n"


def write_results(report: str) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    heading = "## Slack"
    intro = (
        f"{heading}\n\n`bench/slack_load.py` drives signed Events API requests at the real bot (Bolt "
        "AsyncApp over aiohttp, engine, Web API client to a fake Slack) and, in the same run, at a bare "
        "aiohttp handler; see the script's docstring for the method.\n\n"
    )
    if heading + "\n" not in text:
        path.write_text(text.rstrip("\n") + "\n\n" + intro + report, encoding="utf-8")
        return
    start = text.index(heading + "\n")
    nxt = text.find("\n## ", start + len(heading))
    end = len(text) if nxt == -1 else nxt + 1
    section = text[start:end].rstrip("\n") + "\n\n" + report
    path.write_text(
        text[:start] + section + ("\n" + text[end:] if end < len(text) else ""), encoding="utf-8"
    )


if __name__ == "__main__":
    raise SystemExit(main())
