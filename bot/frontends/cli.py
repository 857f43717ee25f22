"""Command line: console chat (default), ask, check, serve, tchap, sync, report."""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__
from bot.errors import BotError, KnowledgeError, Problem
from bot.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiohttp import web

    from bot.engine import Engine
    from bot.registry.sync import RegistryStore


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bot", description="Le bot de la communauté beta.gouv.fr."
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--site", type=Path, help="also index a local checkout of the site's source")
    p.add_argument(
        "--knowledge", type=Path, help="knowledge folder (default: the project's knowledge/)"
    )
    sub = p.add_subparsers(dest="command")

    ask = sub.add_parser("ask", help="answer a question (or every line of standard input)")
    ask.add_argument("question", nargs="*", help="the question; without it, one per input line")
    ask.add_argument("--json", action="store_true", help="one JSON object per line")
    ask.add_argument(
        "--explain",
        action="store_true",
        help="also print how the answer was decided, stage by stage",
    )
    ask.add_argument(
        "--conversation",
        action="store_true",
        help="standard input as conversations: each line the next turn, an empty line starts anew",
    )
    ask.add_argument(
        "--site",
        type=Path,
        dest="sub_site",
        help="also index a local checkout of the site's source",
    )
    ask.add_argument("--knowledge", type=Path, dest="sub_knowledge")

    check = sub.add_parser(
        "check", help="validate knowledge files (file:line: message per problem)"
    )
    check.add_argument("path", nargs="?", type=Path, help="file or folder (default: knowledge/)")

    sub.add_parser("serve", help="serve Slack (HTTP on $PORT, or Socket Mode with SLACK_APP_TOKEN)")
    sub.add_parser(
        "tchap",
        help="serve Tchap/Matrix (TCHAP_HOMESERVER, TCHAP_USER, TCHAP_PASSWORD or _ACCESS_TOKEN)",
    )
    sub.add_parser("sync", help="fetch the startups registry from BETA_API_URL into BOT_DATA_DIR")

    sub.add_parser(
        "migrate", help="create or upgrade the store's schema (DATABASE_URL, else BOT_DATA_DIR)"
    )

    report = sub.add_parser("report", help="unanswered questions and disliked answers")
    report.add_argument("--since", default="30d", help="period, e.g. 7d, 30d, 12w (default 30d)")
    report.add_argument("--format", choices=("text", "csv"), default="text")

    console = sub.add_parser("console", help="the console chat (the default)")
    console.add_argument("--site", type=Path, dest="sub_site")
    return p


FIRST_SYNC_S = 8.0  # the console's first fetch of the registry gives up after this


def _engine(
    settings: Settings, site: Path | None, knowledge: Path | None, *, pull: bool = True
) -> Engine:
    from bot.engine import Engine

    if pull and settings.database_url and not (site or settings.site_path):
        _pull_registry(settings)

    return Engine.load(
        knowledge or settings.knowledge_dir, site or settings.site_path, settings.data_dir
    )


def _pull_registry(settings: Settings, store: RegistryStore | None = None) -> None:
    """With DATABASE_URL: bring the registry copy a `sync` saved in the database into
    BOT_DATA_DIR, where the engine reads it (a failure keeps the local copy, with a warning)."""
    from bot.registry.sync import pull_stored

    opened = None
    try:
        if store is None:
            from bot.records.store import open_store

            store = opened = open_store(settings)
        pull_stored(store, settings.data_dir)
    except BotError as exc:
        print(f"warning: shared registry copy not used: {exc}", file=sys.stderr)
    finally:
        if opened is not None:
            opened.close()


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.answering.conversation import Conversation

    engine = _engine(settings, args.sub_site or args.site, args.sub_knowledge or args.knowledge)
    questions = [_valid_utf8(" ".join(args.question))] if args.question else _stdin_lines()
    from bot.frontends.console.chat import render

    conversation = Conversation() if args.conversation else None
    for q in questions:
        if conversation is not None and not q.strip():
            conversation = Conversation()  # an empty line: a new conversation
            continue
        answer, trace = engine.explain(q, conversation)
        if args.json:
            _emit(json.dumps(answer.to_json(), ensure_ascii=False))
        else:
            _emit(render(answer))
        if args.explain:
            explained = "\n".join(f"  · {line}" for line in trace.lines())
            if args.json:
                print(_valid_utf8(explained), file=sys.stderr, flush=True)
            else:
                _emit(explained)
    return 0


_SURROGATE = re.compile("[\ud800-\udfff]")


def _valid_utf8(text: str) -> str:
    """``text`` without lone surrogates (undecodable bytes of argv become U+FFFD)."""
    return _SURROGATE.sub("\ufffd", text)


def _stdin_lines() -> Iterator[str]:
    """Standard input as UTF-8 lines; invalid bytes become U+FFFD instead of an error."""
    stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline=None)
    for line in stream:
        yield line.rstrip("\n")


def _emit(text: str) -> None:
    """One line on standard output, always valid UTF-8 whatever the locale."""
    data = (_valid_utf8(text) + "\n").encode("utf-8")
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a replaced stdout (tests): text only
        sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()
        return
    sys.stdout.flush()
    buffer.write(data)
    buffer.flush()


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from bot.eligibility.schemes import SCHEME_SUFFIXES, check_schemes, scheme_files
    from bot.knowledge.pages import check_knowledge
    from bot.registry.names import NAMES_FILE, check_names

    root = Path(args.path or args.knowledge or settings.knowledge_dir)
    if root.is_file() and (root.suffix.lower() in SCHEME_SUFFIXES or root.parent.name == "schemes"):
        # one scheme file: a scheme, not a page
        problems = check_schemes(root)
        summary = "ok: 1 scheme"
    else:
        knowledge, problems = check_knowledge(root)
        summary = (
            f"ok: {len(knowledge.pages)} page(s), "
            f"{sum(len(p.sections) for p in knowledge.pages)} section(s)"
        )
        if root.is_dir():
            problems += check_schemes(root / "schemes")
            summary += f", {len(scheme_files(root / 'schemes'))} scheme file(s)"
            names, name_problems = check_names(root / NAMES_FILE)
            problems += name_problems
            summary += f", other names for {len(names)} incubator(s) and service(s)"
    for problem in problems:
        _emit(str(problem))
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    print(summary, file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_slack()
    from bot.frontends.metrics import Metrics
    from bot.frontends.slack import server
    from bot.frontends.slack.notify import slack_notifier
    from bot.registry.sync import pull_stored
    from bot.watch import watch_startup_hook

    # Reloads and syncs say what they did (one line each), at the default WARNING level too.
    for name in ("bot.watch", "bot.registry.sync"):
        logging.getLogger(name).setLevel(logging.INFO)
    records = None
    try:
        from bot.records.store import open_store

        records = open_store(settings)  # migrated to the latest schema
    except BotError as exc:  # answers keep flowing without records
        print(f"warning: records disabled: {exc}", file=sys.stderr)
    shared = records if settings.database_url else None
    if shared is not None and not (args.site or settings.site_path):
        _pull_registry(settings, shared)
    engine = _engine(settings, args.site, args.knowledge, pull=False)
    metrics = Metrics()

    def pull() -> bool:
        return pull_stored(shared, settings.data_dir) if shared is not None else False

    hooks: list[Callable[[web.Application], Awaitable[None]]] = [
        watch_startup_hook(
            settings,
            engine,
            slack_notifier(settings),
            observe=metrics.observe_reload,
            pull=pull if shared is not None else None,
        )
    ]
    if engine.site is None and settings.refresh_hours > 0:
        hooks.append(_registry_refresh_hook(settings, engine, shared, metrics.observe_sync))
    server.run(settings, engine, records, on_startup=hooks, metrics=metrics)
    if records is not None and hasattr(records, "close"):
        records.close()
    return 0


def cmd_tchap(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_tchap()
    engine = _engine(settings, args.site, args.knowledge)
    import asyncio

    from bot.frontends.tchap.bot import serve

    records = None
    try:
        from bot.records.store import open_records

        records = open_records(settings)
    except BotError as exc:  # answers keep flowing without records
        print(f"warning: records disabled: {exc}", file=sys.stderr)
    logging.getLogger("bot").setLevel(logging.INFO)
    try:
        asyncio.run(serve(settings, engine, records))
    finally:
        if records is not None:
            records.close()
    return 0


def _registry_refresh_hook(
    settings: Settings,
    engine: Engine,
    db: RegistryStore | None = None,
    on_result: Callable[[str], None] | None = None,
) -> Callable[[web.Application], Awaitable[None]]:
    """Start the background registry refresh with the server; stop it on shutdown."""
    import asyncio
    import contextlib

    from bot.registry.sync import refresh_forever

    async def start(app: web.Application) -> None:
        task = asyncio.create_task(
            refresh_forever(settings, engine.set_registry, db=db, on_result=on_result)
        )

        async def stop(_app: web.Application) -> None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        app.on_cleanup.append(stop)

    return start


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from bot.registry.sync import run_sync

    return int(run_sync(settings))


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.records.store import run_migrate

    return int(run_migrate(settings))


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.records.report import run_report

    return int(run_report(settings, since=args.since, fmt=args.format))


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.frontends.console.chat import run_console

    site = getattr(args, "sub_site", None) or args.site
    if site is None and settings.site_path is None and not settings.database_url:
        _first_sync(settings)
    engine = _engine(settings, site, args.knowledge)
    return run_console(engine)


def _first_sync(settings: Settings) -> None:
    """A fresh install has no copy of the startups registry: fetch it once, quickly, so that
    questions about services are answered; offline, say how to get it later."""
    import asyncio

    from bot.registry.model import stored_path
    from bot.registry.sync import sync_once

    if settings.refresh_hours <= 0 or stored_path(settings.data_dir).exists():
        return
    try:
        result = asyncio.run(
            sync_once(settings.beta_api_url, settings.data_dir, timeout=FIRST_SYNC_S, retries=0)
        )
    except BotError as exc:
        print(
            f"(registre des startups non récupéré : {exc} ; plus tard : python -m bot sync)",
            file=sys.stderr,
        )
        return
    print(f"({result.summary()})", file=sys.stderr)


COMMANDS = {
    "ask": cmd_ask,
    "check": cmd_check,
    "serve": cmd_serve,
    "tchap": cmd_tchap,
    "sync": cmd_sync,
    "report": cmd_report,
    "migrate": cmd_migrate,
    "console": cmd_console,
    None: cmd_console,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        return COMMANDS[args.command](args, settings)
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print("knowledge is invalid: fix the problems above (python -m bot check)", file=sys.stderr)
        return 1
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


__all__ = ["Problem", "main"]
