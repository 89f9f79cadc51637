"""Who may do what: 13+ to chat, 18+ to broadcast; X is the only way in for users."""

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from accounts.selectors import age_on, can_broadcast, can_chat, x_id_hash
from tests.factories import UserFactory
from tests.support import years_ago

pytestmark = pytest.mark.django_db


def test_age_counts_whole_years_from_the_birthday():
    assert age_on(birth_date=date(2000, 3, 1), today=date(2013, 2, 28)) == 12
    assert age_on(birth_date=date(2000, 3, 1), today=date(2013, 3, 1)) == 13


def test_thirteen_today_may_chat_but_not_broadcast():
    user = UserFactory(birth_date=years_ago(13))
    assert can_chat(user)
    assert not can_broadcast(user)


def test_one_day_short_of_thirteen_may_not_chat():
    assert not can_chat(UserFactory(birth_date=years_ago(13, days=-1)))


def test_eighteen_today_may_broadcast():
    assert can_broadcast(UserFactory(birth_date=years_ago(18)))
    assert not can_broadcast(UserFactory(birth_date=years_ago(18, days=-1)))


def test_age_dates_in_tests_are_leap_safe():
    assert years_ago(1, today=date(2024, 2, 29)) == date(2023, 2, 28)
    assert years_ago(4, today=date(2024, 2, 29)) == date(2020, 2, 29)
    assert years_ago(13, days=-1, today=date(2024, 3, 1)) == date(2011, 3, 2)


def test_no_confirmed_age_or_no_account_may_do_neither():
    for user in (UserFactory(birth_date=None), AnonymousUser()):
        assert not can_chat(user)
        assert not can_broadcast(user)


def test_an_inactive_user_may_do_neither():
    user = UserFactory(birth_date=date(1980, 1, 1), is_active=False)
    assert not can_chat(user) and not can_broadcast(user)


def test_refused_x_ids_are_kept_as_a_keyed_hash():
    assert x_id_hash("12345") == x_id_hash("12345")
    assert x_id_hash("12345") != x_id_hash("12346")
    assert "12345" not in x_id_hash("12345")
    assert len(x_id_hash("12345")) == 64


def test_the_sign_in_page_offers_only_x():
    page = Client().get("/accounts/login/").content.decode()
    assert 'action="/accounts/twitter_oauth2/login/"' in page
    assert 'name="password"' not in page


def test_local_sign_up_is_closed():
    response = Client().get("/accounts/signup/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/"


def test_staff_keep_the_admin_login():
    assert Client().get("/admin/login/").status_code == 200


def test_the_profile_needs_a_signed_in_user():
    client = Client()
    assert client.get("/accounts/profile/").url.startswith("/accounts/login/")
    client.force_login(UserFactory(birth_date=date(2010, 1, 1), handle="kid"))
    page = client.get("/accounts/profile/").content.decode()
    assert "You can chat." in page
    assert "Going live is for people aged 18 and over." in page
