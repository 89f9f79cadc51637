from datetime import UTC, datetime

import pytest

from accounts.services import update_profile_from_x
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_profile_from_x_keeps_handle_name_avatar_and_account_age():
    user = UserFactory(handle="", display_name="")
    update_profile_from_x(
        user=user,
        data={
            "id": "42",
            "username": "ada",
            "name": "Ada L.",
            "profile_image_url": "https://pbs.twimg.com/a.jpg",
            "created_at": "2009-03-01T10:00:00.000Z",
        },
    )
    user.refresh_from_db()
    assert (user.x_id, user.handle, user.display_name) == ("42", "ada", "Ada L.")
    assert user.avatar_url == "https://pbs.twimg.com/a.jpg"
    assert user.x_created_at == datetime(2009, 3, 1, 10, 0, tzinfo=UTC)


def test_a_malformed_account_date_from_x_is_ignored_not_fatal():
    user = UserFactory()
    update_profile_from_x(user=user, data={"id": "43", "username": "bo", "created_at": "soon"})
    user.refresh_from_db()
    assert user.handle == "bo"
    assert user.x_created_at is None
