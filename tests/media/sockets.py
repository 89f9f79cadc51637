"""A scripted publisher and viewer over real WebSockets, for the socket-level tests and
the fan-out bench: replay a recorded WebM the way publisher.js sends it."""

import asyncio
import json

import websockets

from broadcast.webm import InitSegment, Segmenter

EBML_MAGIC = b"\x1a\x45\xdf\xa3"


def recorded_chunks(data):
    """The recording cut on element boundaries, like MediaRecorder's chunks: the init
    segment, then each run of whole elements."""
    chunks = []
    for event in Segmenter().feed(data):
        if isinstance(event, InitSegment) or event.cluster_start or not chunks:
            chunks.append(event.data)
        else:
            chunks[-1] += event.data
    return chunks


def connect(server, path, cookie=None, **kwargs):
    headers = {"Cookie": cookie} if cookie else {}
    return websockets.connect(
        f"{server.ws_url}{path}",
        origin=server.url,
        additional_headers=headers,
        max_size=None,
        **kwargs,
    )


async def next_json(ws, timeout=10, kind=None):
    """The next text message (of `kind` if given), skipping media frames."""
    async with asyncio.timeout(timeout):
        while True:
            frame = await ws.recv()
            if isinstance(frame, str):
                message = json.loads(frame)
                if kind is None or message.get("type") == kind:
                    return message


async def next_media(ws, timeout=10):
    async with asyncio.timeout(timeout):
        while True:
            frame = await ws.recv()
            if isinstance(frame, bytes):
                return frame


async def refusal(ws, timeout=10):
    """(error code, close code) of a socket the server refuses."""
    message = await next_json(ws, timeout, kind="error")
    async with asyncio.timeout(timeout):
        await ws.wait_closed()
    return message.get("code"), ws.close_code


def publish_path(slug, session="tab-1", takeover=False):
    return f"/ws/b/{slug}/publish/?session={session}" + ("&takeover=1" if takeover else "")
