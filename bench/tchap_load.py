"""Tchap load: answer latency at 20 messages/s against a real Synapse on loopback.

Starts the same homeserver as the tests (tests/frontends/tchap/matrix_homeserver.py: Synapse
with relaxed rate limits on a free port), registers the bot and a few members, runs
``python -m bot tchap`` as a real process, then the members mention the bot in their rooms at a
steady rate. The latency of each message is measured twice:

- on the homeserver: from the question's ``origin_server_ts`` to the answer's (the homeserver
  stamped both: the bot's own delay, its sync included);
- at the member: from just before the member sends the question to the moment its client
  receives the answer in the thread (both syncs and the member's own client included).

Prints p50, p95, p99, max of each, and how many were not answered within the wait. The
homeserver, the members' clients and the bot share the machine's two cores.

    .venv/bin/python bench/tchap_load.py [--rate 20] [--seconds 15] [--rooms 4] [--members 2]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "frontends" / "tchap"))

from matrix_homeserver import Synapse, start_synapse  # noqa: E402
from matrix_member import Member  # noqa: E402

QUESTIONS = (
    "combien dure la construction ?",
    "c'est quoi le FAST ?",
    "qui contacter pour le programme de consolidation ?",
    "que se passe-t-il en accélération ?",
    "c'est quoi une investigation ?",
    "qui peut être intrapreneur ?",
    "dans quelle phase est DossierFacile ?",
    "quel est le budget secret du FAST 2031 ?",
)
BOT = "beta-bot"


def start_bot(server: Synapse, data_dir: Path) -> subprocess.Popen[bytes]:
    user_id = server.user_id(BOT)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "SLACK_", "TCHAP_"))}
    env.update(
        BOT_DATA_DIR=str(data_dir),
        BOT_REFRESH_HOURS="0",
        TCHAP_HOMESERVER=server.url,
        TCHAP_USER=user_id,
        TCHAP_PASSWORD=server.users[user_id],
    )
    log = data_dir / "bot.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "tchap"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    deadline = time.monotonic() + 120
    while "listening" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the bot did not start:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)
    return proc


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values):.0f} ms, p95 {pct(values, 0.95):.0f} ms, "
        f"p99 {pct(values, 0.99):.0f} ms, max {max(values):.0f} ms"
    )


async def load(
    server: Synapse, tmp: Path, rate: float, seconds: float, rooms: int, n_members: int
) -> None:
    bot_id = server.user_id(BOT)
    members = []
    for i in range(max(1, min(n_members, rooms))):
        name = f"member{i}"
        user_id, password = server.register(name)
        members.append(Member(server.url, user_id, password, tmp / f"{name}-store"))
    for m in members:
        await m.__aenter__()
    try:
        room_list: list[tuple[Member, str]] = []
        for r in range(rooms):
            m = members[r % len(members)]
            room_id = await m.create_room([bot_id])
            await m.wait_joined(room_id, bot_id)
            room_list.append((m, room_id))
        sent_at: dict[str, float] = {}
        owner: dict[str, Member] = {}
        total = int(rate * seconds)
        start = time.perf_counter()

        async def send(i: int) -> None:
            m, room_id = room_list[i % len(room_list)]
            t0 = time.perf_counter()
            event_id = await m.send(
                room_id, f"{BOT} {QUESTIONS[i % len(QUESTIONS)]}", mention=bot_id
            )
            sent_at[event_id] = t0
            owner[event_id] = m

        tasks = []
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(i)))
        await asyncio.gather(*tasks)
        achieved = total / (time.perf_counter() - start)
        deadline = time.monotonic() + 30
        latencies: dict[str, float] = {}
        on_server: dict[str, float] = {}
        while time.monotonic() < deadline and (len(latencies) < total or len(on_server) < total):
            for m in members:
                for _room, ev, at in m.received:
                    rel = ev.get("content", {}).get("m.relates_to") or {}
                    root = rel.get("event_id")
                    if root in sent_at and root not in latencies and owner[root] is m:
                        latencies[root] = (at - sent_at[root]) * 1000
                    question = m.own.get(root or "")
                    if question is not None and root not in on_server:
                        on_server[str(root)] = ev["origin_server_ts"] - question["origin_server_ts"]
            await asyncio.sleep(0.2)
        print(
            f"Tchap load: {total} mentions over {seconds:.0f} s ({achieved:.1f} messages/s sent), "
            f"{rooms} rooms, {len(members)} member client(s), Synapse (SQLite) on loopback, "
            "python -m bot tchap"
        )
        server_values = list(on_server.values())
        if server_values:
            print(
                f"bot latency (question → answer, homeserver timestamps): {summary(server_values)}"
            )
            print(f"  answered within 1 s: {sum(v <= 1000 for v in server_values)}/{total}")
        values = list(latencies.values())
        if values:
            print(f"round trip at the member (send → answer received): {summary(values)}")
            print(f"  received within 1 s: {sum(v <= 1000 for v in values)}/{total}")
        print(f"not answered within 30 s after the last send: {total - len(values)}")
    finally:
        for m in members:
            await m.__aexit__(None, None, None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rooms", type=int, default=4)
    parser.add_argument("--members", type=int, default=2, help="member clients (rooms shared)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tchap-load-") as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        server = start_synapse(tmp / "synapse")
        print(f"Synapse started in {time.perf_counter() - t0:.1f} s")
        bot = None
        try:
            server.register(BOT)
            bot = start_bot(server, tmp)
            asyncio.run(load(server, tmp, args.rate, args.seconds, args.rooms, args.members))
        finally:
            if bot is not None:
                bot.terminate()
                bot.wait(30)
                for line in (tmp / "bot.log").read_text(errors="replace").splitlines():
                    if "from sync to reply sent" in line:
                        print("bot's own share (its log):", line.split(": ", 1)[1])
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
