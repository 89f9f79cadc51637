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
