"""Posts X takes: a go-live post with a long Japanese title and a chat echo of a long
emoji message are cut to fit X's 280 (as twitter-text counts) and posted through a real
worker and the X emulator over HTTP, the watch link whole."""

import pytest
import regex
from django.conf import settings

from broadcast import posting
from broadcast.models import XPost
from chat import services as chat_services
from chat.models import ChatMessage
from tests.xposting.conftest import live_broadcast, make_x_user
from tests.xposting.test_post_watch_link import live_posts, settled
from tests.xposting.x_text_samples import require_twitter_text, twitter_text

pytestmark = pytest.mark.django_db(transaction=True)

JAPANESE_TITLE = ("今夜は東京タワーから生配信します。みんな見に来てね" * 6)[:130]
EMOJI_UNIT = "👩🏽‍💻🇯🇵1️⃣👨‍👩‍👧‍👦👍🏿"  # ZWJ, skin tones, a flag, a keycap: 10 as X counts


def graphemes(text):
    return regex.findall(r"\X", text)


@pytest.mark.parametrize(
    "public_url",
    [
        pytest.param(None, id="ip-address-link"),  # counted character by character
        pytest.param("https://onair.example.com", id="domain-link"),  # counted 23
    ],
)
def test_going_live_with_a_130_character_japanese_title_is_posted(
    x, posting_worker, public_url, settings
):
    require_twitter_text()
    if public_url:
        settings.PUBLIC_URL = public_url
    user = make_x_user(x)
    broadcast = live_broadcast(user, title=JAPANESE_TITLE)
    watch_url = posting.watch_url(broadcast)
    [untouched] = twitter_text([f"{JAPANESE_TITLE}\n{watch_url}"])
    assert untouched["weightedLength"] > 280  # X would refuse the title as it is

    post = settled(posting.request_go_live_post(broadcast=broadcast))

    assert post.state == XPost.State.POSTED, post.last_error_code
    [made] = live_posts(x, user)
    assert made["text"] == post.text
    [counted] = twitter_text([made["text"]])
    assert counted["valid"] and 278 <= counted["weightedLength"] <= 280
    head, link = made["text"].split("\n")
    assert link == watch_url
    assert head.endswith("…") and JAPANESE_TITLE.startswith(head[:-1])


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(EMOJI_UNIT * 27, id="emoji"),  # 486 code points, 270 as X counts
        pytest.param((JAPANESE_TITLE + EMOJI_UNIT) * 4, id="japanese-and-emoji"),
    ],
)
def test_a_chat_echo_of_a_long_message_is_posted(x, posting_worker, text):
    require_twitter_text()
    user = make_x_user(x)
    broadcast = live_broadcast(user)

    result = chat_services.post_message(
        broadcast=broadcast, user=user, text=text[:500], post_to_x=True
    )

    assert result.x_post == "requested"
    echo = settled(XPost.objects.get(purpose=XPost.Purpose.CHAT_ECHO, user=user))
    assert echo.state == XPost.State.POSTED, echo.last_error_code
    [made] = live_posts(x, user)
    [counted] = twitter_text([made["text"]])
    assert counted["valid"] and counted["weightedLength"] <= 280
    link = f"{settings.PUBLIC_URL}{broadcast.get_absolute_url()}"
    assert made["text"].endswith(f"… {link}")
    kept = graphemes(made["text"].removesuffix(f"… {link}"))
    stored = ChatMessage.objects.get(pk=result.message.pk).text
    assert len(kept) > 10 and graphemes(stored)[: len(kept)] == kept
