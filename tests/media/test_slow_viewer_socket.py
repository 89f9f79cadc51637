"""A viewer that stops reading, through a real Daphne process: the viewer that keeps up
gets every piece without acknowledging anything (the server watches its own write
buffers), and the one that stopped skips ahead, resuming only at keyframe clusters."""

import asyncio
import itertools
import socket
import threading

import pytest

from broadcast.webm import InitSegment, Segmenter
from tests.factories import BroadcastFactory
from tests.media.conftest import adult, session_cookie
from tests.media.sockets import connect, next_json, publish_path, recorded_chunks
from tests.media.wire import client_frame, pop_frame, upgrade_request

pytestmark = pytest.mark.django_db(transaction=True)

LOOPS = 40  # ~4 MB: well past what the server and the kernel may hold for a viewer (~1 MB)


def relayed_pieces(chunks):
    """The pieces the server relays for these publisher messages, in order."""
    segmenter = Segmenter()
    return [e for chunk in chunks for e in segmenter.feed(chunk) if not isinstance(e, InitSegment)]


def open_stalled_viewer(server, slug):
    """A watch socket that will not read: a tiny receive buffer, the handshake, nothing
    more until the test says so."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(
        upgrade_request("127.0.0.1", server.port, f"/ws/b/{slug}/watch/", origin=server.url)
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert b" 101 " in response.split(b"\r\n")[0]
    return sock


def read_frames(sock, until, timeout=30):
    """Server frames (opcode, payload) from a blocking socket until `until(frames)`."""
    buffer, frames = bytearray(), []
    sock.settimeout(timeout)
    while not until(frames):
        data = sock.recv(1 << 20)
        assert data, "the server closed the stalled viewer's socket"
        buffer += data
        while frame := pop_frame(buffer):
            if frame[0] == 0x9:  # Daphne's keepalive ping: answer it
                sock.sendall(client_frame(frame[1], opcode=0xA))
            frames.append(frame)
    return frames


def test_a_stalled_viewer_skips_to_keyframes_and_never_holds_up_the_others(
    live_server_process, client, fixture_webm
):
    server = live_server_process
    owner = adult(username="owner", handle="owner")
    live = BroadcastFactory(owner=owner, live=True)
    cookie = session_cookie(client, owner)
    chunks = recorded_chunks(fixture_webm)
    init, body = chunks[0], chunks[1:]
    pieces = relayed_pieces(chunks)
    index_of = {piece.data: number for number, piece in enumerate(pieces)}
    keyframes = {number for number, piece in enumerate(pieces) if piece.keyframe}
    stalled = open_stalled_viewer(server, live.slug)

    def numbers(media):
        return [index_of[payload] for payload in media if payload != init]

    def jumps(got):
        return [
            position + 1
            for position, (before, after) in enumerate(itertools.pairwise(got))
            if after != (before + 1) % len(pieces)
        ]

    def caught_up_in(media):
        got = numbers(media)
        found = jumps(got)
        return bool(found) and len(got) - found[-1] > len(pieces)

    async def scenario():
        async with (
            connect(server, f"/ws/b/{live.slug}/watch/") as keeping_up,
            connect(server, publish_path(live.slug), cookie) as publisher,
        ):
            received = []

            async def keep_up():
                while len(received) < LOOPS * len(pieces):
                    frame = await keeping_up.recv()
                    if isinstance(frame, bytes) and frame != init:
                        received.append(index_of.get(frame))

            reader = asyncio.ensure_future(keep_up())  # reading all along, as a player does
            await next_json(publisher, kind="ready")
            await publisher.send(init)
            for _ in range(LOOPS):
                for chunk in body:
                    await publisher.send(chunk)
            async with asyncio.timeout(120):
                await reader
            # The stalled viewer reads again; the broadcaster goes on in real time until
            # it has caught up (a whole loop after its jump), then starts a new stream:
            # its init segment is the end mark.
            caught_up = threading.Event()

            def until(frames):
                media = [payload for opcode, payload in frames if opcode == 0x2]
                if not caught_up.is_set() and caught_up_in(media):
                    caught_up.set()
                return media.count(init) >= 2

            reading = asyncio.get_running_loop().run_in_executor(
                None, lambda: read_frames(stalled, until)
            )
            for _ in range(100):
                if caught_up.is_set():
                    break
                for chunk in body:
                    await publisher.send(chunk)
                await asyncio.sleep(0.1)
            await publisher.send('{"type": "restart"}')
            await publisher.send(init + body[0])  # an init segment ends where a cluster starts
            return received, await reading

    with stalled:
        received, stalled_frames = asyncio.run(scenario())

    # No acknowledgement was ever sent, and the viewer that kept up got every piece, in order.
    assert received == list(range(len(pieces))) * LOOPS
    media = [payload for opcode, payload in stalled_frames if opcode == 0x2]
    end_mark = media.index(init, 1)  # the new stream's init (a piece may follow it)
    assert media[0] == init
    got = numbers(media[1:end_mark])
    # The stalled viewer lost pieces (it was cut off at the bound), and every jump in what
    # it got lands on a keyframe cluster.
    assert len(got) < len(received)
    assert jumps(got)
    assert {got[position] for position in jumps(got)} <= keyframes
    # It was cut off after about a megabyte (server queue + capped kernel buffers), not
    # after the megabytes an unbounded kernel send buffer would have swallowed.
    before_first_jump = media[1 : 1 + jumps(got)[0]]
    assert sum(map(len, before_first_jump)) < 1_500_000
    # Once it read again it caught up: whole loops, up to the recording's last piece.
    assert got[-1] == len(pieces) - 1
