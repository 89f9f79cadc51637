from django.urls import path

from broadcast.consumers import PublishConsumer, WatchConsumer
from chat.consumers import ChatConsumer
from onair.consumers import PingConsumer

websocket_urlpatterns = [
    path("ws/ping/", PingConsumer.as_asgi()),
    path("ws/b/<str:slug>/chat/", ChatConsumer.as_asgi()),
    path("ws/b/<str:slug>/publish/", PublishConsumer.as_asgi()),
    path("ws/b/<str:slug>/watch/", WatchConsumer.as_asgi()),
]
