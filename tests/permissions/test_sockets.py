"""Who may do what over the WebSockets, through a real Daphne process: connecting to
each socket, and every chat frame, against every principal.

One test per row; the principals' requests for a row run at the same time, each with
its own target (a fresh message, a fresh user to time out), so no answer depends on
another's. Chat frames go over one chat socket per principal, open for the module."""

import asyncio

import pytest
import pytest_asyncio

from chat.protocol import CLIENT_TYPES
from onair.routing import websocket_urlpatterns
from tests.chat.support import ChatSocket
from tests.permissions.sockets_table import SOCKETS
from tests.permissions.world import PRINCIPALS


# Marked so that the test database is made when this module runs alone.
@pytest.mark.django_db
def test_every_socket_and_every_chat_frame_is_in_the_table():
    assert {row.route for row in SOCKETS} == {str(p.pattern) for p in websocket_urlpatterns}
    assert {row.sends for row in SOCKETS if row.sends} == CLIENT_TYPES
    assert all(list(row.expect) == list(PRINCIPALS) for row in SOCKETS)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chats(world, live_server_process):
    """Each principal's socket on the chat of the broadcast under test."""
    opened = await asyncio.gather(
        *(
            ChatSocket.open(live_server_process, world.broadcast.slug, world.cookie(principal))
            for principal in PRINCIPALS
        )
    )
    yield dict(zip(PRINCIPALS, opened, strict=True))
    for chat_socket in opened:
        await chat_socket.close()


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("row", SOCKETS, ids=[row.label.replace(" ", "_") for row in SOCKETS])
async def test_socket(world, live_server_process, chats, row):
    prepared = {principal: row.prepare(world, principal) for principal in PRINCIPALS}
    answers = await asyncio.gather(
        *(
            row.run(live_server_process, world, principal, *prepared[principal], chats)
            for principal in PRINCIPALS
        ),
        return_exceptions=True,
    )
    got = dict(zip(PRINCIPALS, answers, strict=True))
    wrong = [
        f"{principal}: expected {row.expect[principal]}, got {got[principal]!r}"
        for principal in PRINCIPALS
        if got[principal] != row.expect[principal]
    ]
    assert not wrong, f"{row.label}:\n" + "\n".join(wrong)
