"""Bench only, never routed in production: the chat consumer as the Channels tutorial
writes it (RedisChannelLayer, one group_send per message), served beside the real app so
bench/chat_fanout.py can measure both side by side.

    daphne bench.chat_baseline:application     (REDIS_URL must be set)
"""

import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onair.settings")

from django.conf import settings

from onair.asgi import django_asgi_app

settings.CHANNEL_LAYERS["bench_baseline"] = {
    "BACKEND": "channels_redis.core.RedisChannelLayer",
    "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": "bench-baseline"},
}

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from onair.routing import websocket_urlpatterns  # noqa: E402


class TutorialChatConsumer(AsyncWebsocketConsumer):
    channel_layer_alias = "bench_baseline"

    async def connect(self):
        self.room_group_name = f"chat_{self.scope['url_route']['kwargs']['room']}"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, close_code):
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        message = json.loads(text_data)["message"]
        await self.channel_layer.group_send(
            self.room_group_name, {"type": "chat.message", "message": message}
        )

    async def chat_message(self, event):
        await self.send(text_data=json.dumps({"message": event["message"]}))


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(
                URLRouter(
                    [
                        path("ws/bench/baseline/<str:room>/", TutorialChatConsumer.as_asgi()),
                        *websocket_urlpatterns,
                    ]
                )
            )
        ),
    }
)
