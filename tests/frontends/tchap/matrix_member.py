"""A community member on Matrix: a real matrix-nio client (with end-to-end encryption) that
creates rooms, invites the bot, writes, reacts, and collects what the bot writes back.

Used by tests/frontends/tchap and bench/tchap_load.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    MatrixRoom,
    RoomCreateResponse,
    RoomMessage,
    RoomSendResponse,
)

Event = dict[str, Any]
WAIT = 60.0  # a bound on every wait: a failure shows as a timeout, never as a hang

SYNC_FILTER = {"room": {"timeline": {"limit": 500}}}  # no gap under load (the default is 10)
ENCRYPTION_STATE = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


class Member:
    def __init__(self, homeserver: str, user_id: str, password: str, store: Path) -> None:
        store.mkdir(parents=True, exist_ok=True)
        self.password = password
        self.client = AsyncClient(
            homeserver,
            user_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False),
        )
        self.received: list[tuple[str, Event, float]] = []  # (room, others' event, arrival time)
        self.own: dict[str, Event] = {}  # our own messages as the homeserver echoed them
        self._new = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    async def __aenter__(self) -> Member:
        resp = await self.client.login(self.password, device_name="test member")
        assert isinstance(resp, LoginResponse), resp

        async def on_message(room: MatrixRoom, event: RoomMessage) -> None:
            if event.sender == self.user_id:
                self.own[event.event_id] = event.source
                return  # what others write, not our own echo
            self.received.append((room.room_id, event.source, time.perf_counter()))
            self._new.set()

        await self.client.sync(timeout=0, full_state=True)  # old messages are not "received"
        self.client.add_event_callback(on_message, RoomMessage)
        stored = await self.client.upload_filter(room=SYNC_FILTER["room"])
        self._task = asyncio.create_task(
            self.client.sync_forever(timeout=1000, sync_filter=stored.filter_id)
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.client.close()

    async def create_room(
        self, invite: list[str], *, direct: bool = False, encrypted: bool = False
    ) -> str:
        resp = await self.client.room_create(
            invite=invite,
            is_direct=direct,
            initial_state=[ENCRYPTION_STATE] if encrypted else [],
        )
        assert isinstance(resp, RoomCreateResponse), resp
        return str(resp.room_id)

    async def wait_joined(self, room_id: str, user_id: str, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            resp = await self.client.joined_members(room_id)
            if any(m.user_id == user_id for m in getattr(resp, "members", [])):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{user_id} did not join {room_id}")

    async def wait_devices(self, room_id: str, user_id: str, timeout: float = WAIT) -> None:
        """Wait until ``user_id``'s device keys are known (before writing encrypted)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await self.client.joined_members(room_id)
            if self.client.should_query_keys:
                await self.client.keys_query()
            if list(self.client.device_store.active_user_devices(user_id)):
                return
            self.client.olm.users_for_key_query.add(user_id)
            await asyncio.sleep(0.2)
        raise AssertionError(f"no device keys for {user_id}")

    async def send(
        self,
        room_id: str,
        body: str,
        *,
        mention: str | None = None,
        thread: str | None = None,
        html: str | None = None,
    ) -> str:
        content: Event = {"msgtype": "m.text", "body": body}
        if mention is not None:
            content["m.mentions"] = {"user_ids": [mention]}
        if html is not None:
            content["format"] = "org.matrix.custom.html"
            content["formatted_body"] = html
        if thread is not None:
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": thread,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": thread},
            }
        return await self.send_content(room_id, content)

    async def send_content(
        self, room_id: str, content: Event, event_type: str = "m.room.message"
    ) -> str:
        resp = await self.client.room_send(
            room_id, event_type, content, ignore_unverified_devices=True
        )
        assert isinstance(resp, RoomSendResponse), resp
        return str(resp.event_id)

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        return await self.send_content(
            room_id,
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}},
            "m.reaction",
        )

    def from_user(self, user_id: str, room_id: str | None = None) -> list[Event]:
        return [
            ev
            for room, ev, _ in self.received
            if ev.get("sender") == user_id and (room_id is None or room == room_id)
        ]

    async def wait_for(
        self, match: Callable[[str, Event], bool], timeout: float = WAIT, *, start: int = 0
    ) -> Event:
        """The first received event (from index ``start``) for which ``match(room, event)``."""
        deadline = time.monotonic() + timeout
        seen = start
        while True:
            for room, ev, _ in self.received[seen:]:
                if match(room, ev):
                    return ev
            seen = max(seen, len(self.received))
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    "expected message not received; got: "
                    + repr(
                        [
                            ev.get("content", {}).get("body", "")[:80]
                            for _, ev, _ in self.received[-5:]
                        ]
                    )
                )
            self._new.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), min(left, 1.0))


async def wait_in_thread(member: Member, root: str, timeout: float = WAIT) -> Event:
    """The first message received in the thread rooted at ``root``."""
    match = in_thread_of(root)
    return await member.wait_for(lambda _room, ev: match(ev), timeout)


def in_thread_of(root: str) -> Callable[[Event], bool]:
    def match(ev: Event) -> bool:
        rel = ev.get("content", {}).get("m.relates_to") or {}
        return rel.get("rel_type") == "m.thread" and rel.get("event_id") == root

    return match
