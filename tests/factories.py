import factory
from django.utils import timezone

from accounts.models import User
from broadcast.models import Broadcast


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    handle = factory.LazyAttribute(lambda u: u.username)
    display_name = factory.Faker("name")
    x_id = factory.Sequence(lambda n: str(1_000_000 + n))


class BroadcastFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Broadcast

    owner = factory.SubFactory(UserFactory)
    title = factory.Faker("sentence", nb_words=4)
    visibility = Broadcast.Visibility.PUBLIC
    state = Broadcast.State.CREATED

    class Params:
        live = factory.Trait(
            state=Broadcast.State.LIVE, started_at=factory.LazyFunction(timezone.now)
        )


def chat_room_of(broadcast):
    from chat.models import ChatRoom

    return ChatRoom.objects.get_or_create(broadcast=broadcast)[0]


class ChatMessageFactory(factory.django.DjangoModelFactory):
    """A visible message and the event that showed it, as chat.services stores them
    (without the fan-out): the event's payload carries the text too. Pass `room` (see
    chat_room_of) or get a new live broadcast's."""

    class Meta:
        model = "chat.ChatMessage"
        skip_postgeneration_save = True

    room = factory.LazyFunction(lambda: chat_room_of(BroadcastFactory(live=True)))
    author = factory.SubFactory(UserFactory)
    text = factory.Faker("sentence")

    @factory.post_generation
    def event(message, create, extracted, **kwargs):
        from django.db import models

        from chat.models import ChatEvent, ChatRoom

        if not create:
            return
        rooms = ChatRoom.objects.filter(pk=message.room_id)
        rooms.update(last_seq=models.F("last_seq") + 1)
        message.seq = rooms.values_list("last_seq", flat=True).get()
        message.save(update_fields=["seq"])
        ChatEvent.objects.create(
            room_id=message.room_id,
            seq=message.seq,
            kind="message",
            payload={"type": "message", "id": message.pk, "text": message.text},
        )


class ReportFactory(factory.django.DjangoModelFactory):
    """An open report of a broadcast by a signed-in reporter."""

    class Meta:
        model = "safety.Report"

    broadcast = factory.SubFactory(BroadcastFactory)
    target_kind = "broadcast"
    target_key = factory.LazyAttribute(lambda r: f"b:{r.broadcast.pk}")
    reporter = factory.SubFactory(UserFactory)
    reporter_key = factory.LazyAttribute(lambda r: f"u:{r.reporter.pk}")
    reason = "spam"
