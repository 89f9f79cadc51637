"""A minimal WebSocket endpoint that proves the ASGI stack end to end (origin check,
session auth, routing); the chat and media consumers plug in beside it."""

import json

from channels.generic.websocket import AsyncWebsocketConsumer

MAX_FRAME = 1024


class PingConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None or len(text_data) > MAX_FRAME:
            await self.send(json.dumps({"type": "error", "code": "bad_frame"}))
            return
        try:
            message = json.loads(text_data)
        except ValueError:
            await self.send(json.dumps({"type": "error", "code": "bad_json"}))
            return
        if not isinstance(message, dict) or message.get("type") != "ping":
            await self.send(json.dumps({"type": "error", "code": "unknown_type"}))
            return
        user = self.scope.get("user")
        await self.send(
            json.dumps(
                {
                    "type": "pong",
                    "id": message.get("id"),
                    "user": user.get_username() if user and user.is_authenticated else None,
                }
            )
        )
