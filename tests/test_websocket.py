"""A real WebSocket round trip through Daphne and the whole ASGI stack."""

import asyncio
import json

import pytest
import websockets
from django.contrib.auth import SESSION_KEY

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def exchange(url, origin, frame, cookie=None):
    headers = {"Cookie": cookie} if cookie else {}
    async with websockets.connect(url, origin=origin, additional_headers=headers) as ws:
        await ws.send(frame)
        return json.loads(await asyncio.wait_for(ws.recv(), 10))


def test_websocket_round_trip_through_the_asgi_stack(live_server_process):
    url = f"{live_server_process.ws_url}/ws/ping/"
    reply = asyncio.run(
        exchange(url, live_server_process.url, json.dumps({"type": "ping", "id": 7}))
    )
    assert reply == {"type": "pong", "id": 7, "user": None}


def test_websocket_knows_the_signed_in_user_from_the_session(live_server_process, client):
    user = UserFactory(username="alice")
    client.force_login(user)
    assert client.session[SESSION_KEY] == str(user.pk)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    url = f"{live_server_process.ws_url}/ws/ping/"
    reply = asyncio.run(exchange(url, live_server_process.url, '{"type": "ping"}', cookie))
    assert reply["user"] == "alice"


def test_websocket_from_a_foreign_origin_is_refused(live_server_process):
    url = f"{live_server_process.ws_url}/ws/ping/"
    with pytest.raises(websockets.InvalidStatus) as refused:
        asyncio.run(exchange(url, "https://evil.example", '{"type": "ping"}'))
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize(
    ("frame", "code"),
    [("not json", "bad_json"), ('{"type": "dance"}', "unknown_type"), ("[1]", "unknown_type")],
)
def test_bad_frames_get_a_clear_error_and_the_socket_survives(live_server_process, frame, code):
    async def scenario():
        url = f"{live_server_process.ws_url}/ws/ping/"
        async with websockets.connect(url, origin=live_server_process.url) as ws:
            await ws.send(frame)
            error = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.send('{"type": "ping", "id": 1}')
            after = json.loads(await asyncio.wait_for(ws.recv(), 10))
            return error, after

    error, after = asyncio.run(scenario())
    assert error == {"type": "error", "code": code}
    assert after["type"] == "pong"
