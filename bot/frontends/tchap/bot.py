"""The Tchap (Matrix) front end: a matrix-nio client over the engine.

:class:`TchapBot` holds the client and the little state a chat needs (forms in progress, the
bot's recent answers for votes, the DM rooms, what was already handled); the listeners are the
named functions of :mod:`bot.frontends.tchap.handlers`, each taking the bot and the event's
JSON. :meth:`TchapBot.run` logs in (password or access token; the device is kept in
``BOT_DATA_DIR/tchap``), resumes from the stored sync token and syncs until stopped:

- the first start ever reads the rooms once without answering anything (old messages stay
  old); a restart resumes from the stored token, so what was answered is not seen again, and a
  message older than :data:`MAX_AGE_S` is never answered;
- ``M_LIMIT_EXCEEDED`` is retried after the server's ``retry_after_ms`` (nio does it, bounded by
  :data:`MAX_LIMIT_EXCEEDED`); a lost connection (homeserver restart) is retried with a backoff
  capped at :data:`MAX_RETRY_WAIT_S`, then the sync resumes where it was;
- end-to-end encryption: the bot uploads its device keys, decrypts what it receives and
  encrypts what it sends in encrypted rooms; an undecryptable event is logged once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    LocalProtocolError,
    LoginResponse,
    MegolmEvent,
    ReactionEvent,
    RoomMessage,
    RoomSendResponse,
    SyncError,
    SyncResponse,
    UnknownEvent,
    UploadFilterResponse,
    WhoamiResponse,
)
from nio.exceptions import OlmUnverifiedDeviceError, SendRetryError

from bot.answering.answer import Answer
from bot.answering.conversation import Conversation, Conversations
from bot.errors import BotError, SettingsError
from bot.frontends.tasks import BackgroundTasks
from bot.frontends.tchap.eligibility import Form
from bot.frontends.tchap.events import ConversationKey, JsonDict

if TYPE_CHECKING:
    from nio import MatrixRoom

    from bot.eligibility.schemes import Scheme
    from bot.engine import Engine as CoreEngine
    from bot.settings import Settings

log = logging.getLogger(__name__)

DEVICE_NAME = "Bot beta.gouv.fr"
SYNC_TIMEOUT_MS = 30_000
MAX_AGE_S = 600.0  # a message older than this (the bot was down) is not answered
MAX_LIMIT_EXCEEDED = 20  # M_LIMIT_EXCEEDED retries of one request before giving up
MAX_RETRY_WAIT_S = 5.0  # longest wait between two tries when the homeserver is unreachable
TIMELINE_LIMIT = 200  # events per room and sync; more (a long outage in a busy room) leaves a gap
SEEN_MAX = 20_000
ANSWERS_MAX = 10_000
FORMS_MAX = 1_000
TIMINGS_MAX = 10_000
LOGIN_TIMEOUT_S = 60.0  # a homeserver that does not answer at start: a clear error
SYNC_FILTER: JsonDict = {
    "presence": {"types": []},
    "account_data": {"types": []},
    "room": {"timeline": {"limit": TIMELINE_LIMIT}, "ephemeral": {"types": []}},
}


class TchapError(BotError):
    """The Tchap front end cannot log in or keep its store."""


class Records(Protocol):
    def record_vote(self, question: str, source: str | None, vote: int) -> object: ...

    def record_unanswered(self, question: str) -> object: ...

    def record_answered(self, source: str | None = None) -> object: ...


class Engine(Protocol):
    def answer(self, question: str, conversation: Conversation | None = None) -> Answer: ...

    @property
    def schemes(self) -> dict[str, Scheme]: ...


class Seen:
    """Keys seen lately (at most ``max_size``, oldest forgotten): dedupe by event id."""

    def __init__(self, max_size: int = SEEN_MAX) -> None:
        self.max_size = max_size
        self._seen: OrderedDict[Hashable, None] = OrderedDict()

    def first_time(self, key: Hashable) -> bool:
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > self.max_size:
            self._seen.popitem(last=False)
        return True

    def forget(self, key: Hashable) -> None:
        self._seen.pop(key, None)


@dataclass(frozen=True)
class Sent:
    """One of the bot's answers, remembered for the votes on it."""

    question: str
    source: str | None


@dataclass(frozen=True)
class Credentials:
    user_id: str
    device_id: str
    access_token: str
    homeserver: str


def tchap_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "tchap"


class TchapBot:
    """The Matrix client and the front end's state (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        records: Records | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        settings.require_tchap()
        assert settings.tchap_homeserver and settings.tchap_user
        self.settings = settings
        self.engine = engine
        self.records = records
        self.clock = clock
        self.user_id = settings.tchap_user
        self.display_name: str | None = None
        self.dir = tchap_dir(settings)
        self.store_dir = self.dir / "store"
        try:
            self.store_dir.mkdir(parents=True, exist_ok=True)
            os.chmod(self.dir, 0o700)
        except OSError as exc:
            raise TchapError(
                f"cannot create the Tchap store {self.store_dir}: {exc}; check BOT_DATA_DIR"
            ) from exc
        config = AsyncClientConfig(
            max_limit_exceeded=MAX_LIMIT_EXCEEDED,
            max_timeouts=None,
            max_timeout_retry_wait_time=MAX_RETRY_WAIT_S,
            backoff_factor=0.2,
            store_sync_tokens=True,
            encryption_enabled=True,
        )
        self.client = AsyncClient(
            settings.tchap_homeserver,
            self.user_id,
            store_path=str(self.store_dir),
            config=config,
        )
        self.seen = Seen()
        self.conversations = Conversations()  # threads and DMs, in memory only
        self.forms: OrderedDict[ConversationKey, Form] = OrderedDict()
        self.locks: dict[ConversationKey, asyncio.Lock] = {}
        self.timings: deque[float] = deque(maxlen=TIMINGS_MAX)  # ms from sync to reply sent
        self.sent: OrderedDict[str, Sent] = OrderedDict()
        self.direct: set[str] = self._load_direct()
        self.undecryptable: Seen = Seen(1000)
        self.tasks = BackgroundTasks()
        self.sync_filter: str | JsonDict = SYNC_FILTER  # its id once uploaded
        self._known_rooms: set[str] | None = None  # rooms joined before the sync in progress
        self.joined_at: dict[str, float] = {}  # room -> when the bot asked to join (this run)
        self.live = False  # False while reading what happened before this start
        self.started_at = clock()
        self._stop = asyncio.Event()
        self._background: list[asyncio.Task[None]] = []

    # -- persistence ---------------------------------------------------------------------

    @property
    def _direct_file(self) -> Path:
        return self.dir / "direct_rooms.json"

    def _load_direct(self) -> set[str]:
        try:
            data = json.loads(self._direct_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return set()
        return {str(r) for r in data} if isinstance(data, list) else set()

    def mark_direct(self, room_id: str) -> None:
        if room_id in self.direct:
            return
        self.direct.add(room_id)
        _write_private(self._direct_file, json.dumps(sorted(self.direct)))

    def is_dm(self, room_id: str) -> bool:
        return room_id in self.direct

    @property
    def _credentials_file(self) -> Path:
        return self.dir / "credentials.json"

    def _stored_credentials(self) -> Credentials | None:
        try:
            data = json.loads(self._credentials_file.read_text(encoding="utf-8"))
            creds = Credentials(**data)
        except (OSError, ValueError, TypeError):
            return None
        if creds.user_id != self.user_id or creds.homeserver != self.settings.tchap_homeserver:
            return None
        return creds

    # -- login ---------------------------------------------------------------------------

    async def login(self) -> None:
        """Log in with the stored device, the access token or the password (in that order)."""
        token = self.settings.tchap_access_token
        creds = self._stored_credentials()
        if token and (creds is None or creds.access_token != token):
            who = await self.client.whoami() if self._use_token(token) else None
            if not isinstance(who, WhoamiResponse) or not who.device_id:
                raise TchapError(
                    f"TCHAP_ACCESS_TOKEN was refused by {self.settings.tchap_homeserver} "
                    f"({getattr(who, 'message', 'no device')}): create a new token"
                )
            if who.user_id != self.user_id:
                raise SettingsError(
                    f"TCHAP_ACCESS_TOKEN belongs to {who.user_id}, not TCHAP_USER {self.user_id}"
                )
            creds = Credentials(
                self.user_id, who.device_id, token, str(self.settings.tchap_homeserver)
            )
            self._save_credentials(creds)
        if creds is None:
            creds = await self._password_login()
        self.client.restore_login(creds.user_id, creds.device_id, creds.access_token)
        name = await self.client.get_displayname()
        self.display_name = getattr(name, "displayname", None)
        log.info("logged in to Tchap as %s (device %s)", creds.user_id, creds.device_id)

    def _use_token(self, token: str) -> bool:
        self.client.access_token = token
        self.client.user_id = self.user_id
        return True

    async def _password_login(self) -> Credentials:
        password = self.settings.tchap_password
        if not password:
            raise SettingsError("TCHAP_PASSWORD is not set (nor TCHAP_ACCESS_TOKEN)")
        resp = await self.client.login(password=password, device_name=DEVICE_NAME)
        if not isinstance(resp, LoginResponse):
            raise TchapError(
                f"login to {self.settings.tchap_homeserver} as {self.user_id} refused: "
                f"{getattr(resp, 'message', resp)}; check TCHAP_USER and TCHAP_PASSWORD"
            )
        creds = Credentials(
            resp.user_id, resp.device_id, resp.access_token, str(self.settings.tchap_homeserver)
        )
        self._save_credentials(creds)
        return creds

    def _save_credentials(self, creds: Credentials) -> None:
        _write_private(self._credentials_file, json.dumps(creds.__dict__))

    # -- sending -------------------------------------------------------------------------

    async def send(self, room_id: str, content: JsonDict) -> str | None:
        """Post ``content`` in ``room_id`` (encrypted when the room is); the event id, or None
        when it could not be sent (logged)."""
        try:
            resp = await self.client.room_send(
                room_id, "m.room.message", content, ignore_unverified_devices=True
            )
        except (LocalProtocolError, SendRetryError, OlmUnverifiedDeviceError, OSError) as exc:
            log.warning("could not send in %s: %s", room_id, exc)
            return None
        if isinstance(resp, RoomSendResponse):
            return str(resp.event_id)
        log.warning("could not send in %s: %s", room_id, getattr(resp, "message", resp))
        return None

    def remember_answer(self, event_id: str, question: str, source: str | None) -> None:
        self.sent[event_id] = Sent(question, source)
        while len(self.sent) > ANSWERS_MAX:
            self.sent.popitem(last=False)

    def set_form(self, key: ConversationKey, form: Form | None) -> None:
        if form is None or form.done:
            self.forms.pop(key, None)
            return
        self.forms[key] = form
        self.forms.move_to_end(key)
        while len(self.forms) > FORMS_MAX:
            self.forms.popitem(last=False)

    def lock_for(self, key: ConversationKey) -> asyncio.Lock:
        """One lock per conversation: its replies go out in the order its messages came."""
        lock = self.locks.get(key)
        if lock is None:
            lock = self.locks[key] = asyncio.Lock()
            while len(self.locks) > FORMS_MAX:
                oldest, old = next(iter(self.locks.items()))
                if old.locked():
                    break
                del self.locks[oldest]
        return lock

    def answer(self, key: ConversationKey, question: str) -> Answer:
        """The engine's answer to ``question`` asked in conversation ``key`` (a thread or a DM):
        a follow-up continues the conversation's subject."""
        return self.engine.answer(question, self.conversations.get("/".join(key)))

    def record(self, what: str, write: Callable[[Records], object]) -> None:
        """``write(records)`` (``what`` names it in the log); records never stop an answer."""
        if self.records is None:
            return
        try:
            write(self.records)
        except Exception:
            log.exception("could not store a record (%s)", what)

    def spawn(self, coro: Awaitable[None], name: str) -> None:
        self.tasks.spawn(coro, name)

    def before_join(self, room_id: str, event: JsonDict) -> bool:
        """True for history in the first sync of a room the bot just joined: what was written
        before the bot asked to join (all of that sync when it did not ask in this run)."""
        if self._known_rooms is None or room_id in self._known_rooms:
            return False
        asked = self.joined_at.get(room_id)
        ts = event.get("origin_server_ts")
        if asked is None or not isinstance(ts, int | float):
            return True
        return ts / 1000 < asked

    def too_old(self, event: JsonDict) -> bool:
        ts = event.get("origin_server_ts")
        return isinstance(ts, int | float) and ts / 1000 < self.started_at - MAX_AGE_S

    # -- the sync loop -------------------------------------------------------------------

    def _register(self) -> None:
        from bot.frontends.tchap import handlers

        async def on_message(room: MatrixRoom, event: RoomMessage) -> None:
            handlers.on_room_message(self, room.room_id, event.source)

        async def on_reaction(room: MatrixRoom, event: ReactionEvent | UnknownEvent) -> None:
            handlers.on_reaction(self, room.room_id, event.source)

        async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
            handlers.on_invite(self, room.room_id, event.source, event.content)

        async def on_undecryptable(room: MatrixRoom, event: MegolmEvent) -> None:
            if self.undecryptable.first_time(event.event_id):
                log.warning(
                    "cannot decrypt event %s in %s (session %s): ignored",
                    event.event_id,
                    room.room_id,
                    event.session_id,
                )

        self.client.add_event_callback(on_message, RoomMessage)
        self.client.add_event_callback(on_reaction, (ReactionEvent, UnknownEvent))
        self.client.add_event_callback(on_invite, InviteMemberEvent)
        self.client.add_event_callback(on_undecryptable, MegolmEvent)

    async def _after_sync(self) -> None:
        """Device keys, key queries and claims, to-device messages: what E2E needs."""
        client = self.client
        with contextlib.suppress(LocalProtocolError):
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
            await client.send_to_device_messages()

    async def _upload_filter(self) -> None:
        """Store the sync filter on the homeserver once (it parses an id faster than JSON)."""
        resp = await self.client.upload_filter(
            presence=SYNC_FILTER["presence"],
            account_data=SYNC_FILTER["account_data"],
            room=SYNC_FILTER["room"],
        )
        if isinstance(resp, UploadFilterResponse):
            self.sync_filter = str(resp.filter_id)
        else:
            log.info("sync filter not stored (%s): sent with every sync", resp)

    async def sync_once(self, *, first: bool = False) -> bool:
        """One sync; False when the homeserver answered an error (the caller backs off)."""
        known = set(self.client.rooms)  # a room just joined starts "limited": no gap there
        self._known_rooms = None if first else known
        resp = await self.client.sync(
            timeout=0 if first else SYNC_TIMEOUT_MS,
            sync_filter=self.sync_filter,
            full_state=True if first else None,
        )
        if isinstance(resp, SyncError):
            if resp.status_code == "M_UNKNOWN_TOKEN":
                with contextlib.suppress(OSError):
                    self._credentials_file.unlink()
                raise TchapError(
                    "the homeserver refused the bot's access token (M_UNKNOWN_TOKEN): "
                    "restart to log in again with TCHAP_PASSWORD, or set a new TCHAP_ACCESS_TOKEN"
                )
            log.warning("sync failed: %s %s", resp.status_code, resp.message)
            return False
        if isinstance(resp, SyncResponse):
            for room_id, room in resp.rooms.join.items():
                if room.timeline.limited and not first and room_id in known:
                    log.warning(
                        "more than %d new events in %s: older ones skipped", TIMELINE_LIMIT, room_id
                    )
            await self._after_sync()
        return True

    async def start(self, login_timeout: float = LOGIN_TIMEOUT_S) -> None:
        """Log in and catch up: after this, new messages are answered."""
        self._register()
        try:
            await asyncio.wait_for(self.login(), login_timeout)
        except TimeoutError:
            raise TchapError(
                f"cannot reach TCHAP_HOMESERVER {self.settings.tchap_homeserver} "
                f"(no answer within {login_timeout:.0f} s): check the URL"
            ) from None
        await self._upload_filter()
        resumed = bool(self.client.loaded_sync_token)
        self.live = resumed  # the very first start answers nothing that was already there
        while not await self.sync_once(first=True):
            await asyncio.sleep(MAX_RETRY_WAIT_S)
        self.live = True
        log.info("Tchap: %s, listening", "resumed" if resumed else "first start")

    async def run(self) -> None:
        """Sync until :meth:`stop`; reconnects by itself."""
        backoff = 1.0
        while not self._stop.is_set():
            sync = asyncio.ensure_future(self.sync_once())
            stop = asyncio.ensure_future(self._stop.wait())
            done, _ = await asyncio.wait({sync, stop}, return_when=asyncio.FIRST_COMPLETED)
            if stop in done:
                sync.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await sync
                break
            stop.cancel()
            if sync.result():
                backoff = 1.0
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    def stop(self) -> None:
        self._stop.set()

    def timing_summary(self) -> str:
        """The bot's own share of the latency: from the sync that brought a message to its
        reply accepted by the homeserver."""
        if not self.timings:
            return "Tchap: no message handled"
        values = sorted(self.timings)

        def at(q: float) -> float:
            return values[min(len(values) - 1, round(q * (len(values) - 1)))]

        return (
            f"Tchap: {len(values)} message(s) handled; from sync to reply sent: "
            f"p50 {at(0.5):.0f} ms, p99 {at(0.99):.0f} ms, max {values[-1]:.0f} ms"
        )

    async def close(self) -> None:
        self.stop()
        for task in self._background:
            task.cancel()
        await self.tasks.drain()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.client.close()

    def add_background(self, task: asyncio.Task[None]) -> None:
        self._background.append(task)


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise TchapError(f"cannot write {path}: {exc}; check BOT_DATA_DIR") from exc


async def serve(settings: Settings, engine: CoreEngine, records: Records | None) -> None:
    """``python -m bot tchap``: run until interrupted, with hot reload and registry refresh."""
    from bot.watch import watch_startup_hook

    bot = TchapBot(settings, engine, records)
    hook = watch_startup_hook(settings, engine)
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):  # a platform without signals
        loop.add_signal_handler(signal.SIGTERM, bot.stop)
    try:
        await bot.start()
        await hook()
        if getattr(engine, "site", None) is None and settings.refresh_hours > 0:
            from bot.registry.sync import refresh_forever

            bot.add_background(
                asyncio.create_task(
                    refresh_forever(settings, engine.set_registry), name="registry refresh"
                )
            )
        await bot.run()
    finally:
        await hook.stop()
        await bot.close()
        log.info("%s", bot.timing_summary())
