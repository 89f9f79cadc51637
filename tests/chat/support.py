"""A test chat client over a real WebSocket: it keeps the room's state the way the
browser does (history, numbered events, deletions) and checks every frame for gaps and
duplicates as it arrives."""

import asyncio
import itertools
import json
from datetime import date

import websockets

_refs = itertools.count(1)


def chatter(**fields):
    """A signed-up user old enough to chat (13+ confirmed at sign-in)."""
    from tests.factories import UserFactory

    fields.setdefault("birth_date", date(1990, 5, 17))
    return UserFactory(**fields)


def live_broadcast(**fields):
    from tests.factories import BroadcastFactory

    fields.setdefault("owner", chatter())
    return BroadcastFactory(live=True, **fields)


def session_cookie(user):
    """A session of its own for `user` (a shared test client would rotate the key)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


class ChatSocket:
    def __init__(self, ws, after_seq=None):
        self.ws = ws
        self.frames = []
        self.last_seq = after_seq
        self.seqs = []
        self.messages = {}  # id -> text, visible now
        self.modes = None
        self.presence = None
        self.problems = []
        self.reader = asyncio.get_running_loop().create_task(self._read())
        self.changed = asyncio.Event()

    @classmethod
    async def open(cls, server, slug, cookie=None, after_seq=None):
        url = f"{server.ws_url}/ws/b/{slug}/chat/"
        if after_seq is not None:
            url += f"?after_seq={after_seq}"
        headers = {"Cookie": cookie} if cookie else {}
        ws = await websockets.connect(
            url, origin=server.url, additional_headers=headers, max_size=2**24
        )
        sock = cls(ws, after_seq)
        if after_seq is None:
            await sock.wait(lambda s: s.last_seq is not None, what="history")
        else:
            await sock.wait(lambda s: s.modes is not None, what="hello")
        return sock

    async def _read(self):
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                self.frames.append(frame)
                self._apply(frame)
                self.changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.changed.set()

    def _apply(self, frame):
        kind = frame["type"]
        if kind == "hello":
            self.modes = frame["modes"]
            self.role = frame["role"]
        elif kind == "history":
            self.messages = {e["id"]: e["text"] for e in frame["events"]}
            self.last_seq = frame["last_seq"]
        elif kind == "events":
            for event in frame["events"]:
                if self.last_seq is None or event["seq"] != self.last_seq + 1:
                    self.problems.append(f"seq {event['seq']} after {self.last_seq}")
                self.last_seq = event["seq"]
                self.seqs.append(event["seq"])
                if event["type"] == "message":
                    self.messages[event["id"]] = event["text"]
                elif event["type"] == "delete":
                    self.messages.pop(event["id"], None)
                elif event["type"] == "mode":
                    self.modes = event["modes"]
        elif kind == "presence":
            self.presence = frame["count"]

    async def wait(self, condition, timeout=10, what="condition"):
        async def loop():
            while not condition(self):
                self.changed.clear()
                if self.ws.state.name == "CLOSED" and self.reader.done():
                    raise AssertionError(f"socket closed while waiting for {what}")
                await self.changed.wait()

        try:
            await asyncio.wait_for(loop(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"timed out waiting for {what}; last frames: {self.frames[-5:]}"
            ) from None

    async def request(self, frame_type, timeout=10, **fields):
        """Send a frame with a fresh ref and return the reply that carries it."""
        ref = f"r{next(_refs)}"
        await self.ws.send(json.dumps({"type": frame_type, "ref": ref, **fields}))
        await self.wait(
            lambda s: any(f.get("ref") == ref for f in s.frames), timeout, f"reply to {frame_type}"
        )
        return next(f for f in self.frames if f.get("ref") == ref)

    async def wait_reply(self, after, what="reply"):
        """The first answer (ack or error) among the frames received after index `after`."""

        def answer(s):
            return next((f for f in s.frames[after:] if f["type"] in ("ack", "error")), None)

        await self.wait(answer, what=f"reply to {what}")
        return answer(self)

    async def send_raw(self, data, text=None):
        await self.ws.send(data, text=text)

    def errors(self, code=None):
        return [f for f in self.frames if f["type"] == "error" and code in (None, f["code"])]

    def texts(self):
        return list(self.messages.values())

    async def say(self, text, **extra):
        return await self.request("send", text=text, **extra)

    def of_type(self, kind):
        return [f for f in self.frames if f["type"] == kind]

    async def close(self):
        await self.ws.close()
        self.reader.cancel()
