"""Our count of a post's length is X's: broadcast.x_text (and the X emulator, which uses
it) against X's own twitter-text on generated texts, and the fitting of post texts."""

import unicodedata

import pytest
import regex

from broadcast import x_text
from broadcast.x_text import ELLIPSIS, fit_post, weighted_length
from tests.xposting.x_text_samples import (
    EMOJI,
    FLAGS,
    KEYCAPS,
    SKIN_TONES,
    TONEABLE,
    ZWJ_SEQUENCES,
    require_twitter_text,
    sample_texts,
    tables_from_npm,
    twitter_text,
)
from xemulator import text as emulator_text

WATCH_URL = "https://onair.example.com/b/Xy12abCD/"
IP_WATCH_URL = "http://127.0.0.1:8000/b/Xy12abCD/"


@pytest.fixture(scope="module")
def oracle():
    require_twitter_text()
    return twitter_text


def counts(module_urls, weigh, text):
    normal = unicodedata.normalize("NFC", text)
    return {
        "weightedLength": weigh(text),
        "urls": [[start, end] for start, end, _url in module_urls(normal)],
    }


def test_the_tables_are_what_x_packages_give():
    require_twitter_text()
    assert tables_from_npm() == x_text._TABLES


@pytest.mark.parametrize(
    ("counter", "find_urls"),
    [
        pytest.param(x_text.weighted_length, x_text.extract_urls, id="app"),
        pytest.param(emulator_text.weighted_length, emulator_text.find_urls, id="emulator"),
    ],
)
def test_weighted_length_and_links_match_twitter_text(oracle, counter, find_urls):
    texts = sample_texts(seed=20261130, count=400)
    expected = oracle(texts)
    mismatches = [
        (text, mine, theirs)
        for text, theirs in zip(texts, expected, strict=True)
        if (mine := counts(find_urls, counter, text))
        != {"weightedLength": theirs["weightedLength"], "urls": theirs["urls"]}
    ]
    assert mismatches == []
    assert [x_text.is_valid(text) for text in texts] == [t["valid"] for t in expected]
    # The samples cover what they claim to: posts too long for X, and links.
    assert sum(t["weightedLength"] > 280 for t in expected) > 30
    assert sum(bool(t["urls"]) for t in expected) > 200


def test_what_x_counts_by_example():
    assert weighted_length("日本語") == 6
    assert weighted_length("café déjà vu") == 12
    assert weighted_length("e\u0301") == 1  # NFC: é
    for emoji in ["👩🏽‍💻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇯🇵", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "1️⃣", "#️⃣", "👍🏿"]:
        assert weighted_length(emoji) == 2, emoji
    assert weighted_length("example.com") == 23
    assert weighted_length("file.py") == 23
    assert weighted_length("https://example.com/" + "a" * 100) == 23
    assert weighted_length(IP_WATCH_URL) == len(IP_WATCH_URL)
    assert weighted_length("localhost:8000") == 14
    assert weighted_length("https://a.example/") == 18  # .example is not a domain X knows


def test_a_130_character_japanese_title_is_cut_to_fit_with_the_whole_link(oracle):
    title = ("今夜は東京タワーから生配信します。みんな見に来てね" * 6)[:130]
    assert weighted_length(f"{title}\n{WATCH_URL}") == 284  # what X refused
    text = fit_post(title, f"\n{WATCH_URL}")
    head, link = text.split("\n")
    assert link == WATCH_URL
    assert head.endswith(ELLIPSIS) and title.startswith(head[:-1])
    assert oracle([text]) == [
        {"weightedLength": 280, "valid": True, "urls": [[len(head) + 1, len(text)]]}
    ]


def test_a_text_that_fits_is_left_as_it_is():
    assert fit_post("Cooking pasta live", f"\n{WATCH_URL}") == f"Cooking pasta live\n{WATCH_URL}"
    assert fit_post("e\u0301t\u00e9", "") == "été"


def graphemes(text):
    return regex.findall(r"\X", text)


def test_a_cut_never_splits_an_emoji_sequence(oracle):
    message = "".join(
        [ZWJ_SEQUENCES[n % len(ZWJ_SEQUENCES)] + FLAGS[n % len(FLAGS)] for n in range(80)]
    )
    text = fit_post(message, f" {WATCH_URL}")
    head = text.removesuffix(f" {WATCH_URL}")
    assert head.endswith(ELLIPSIS)
    kept = head[: -len(ELLIPSIS)]
    assert graphemes(message)[: len(graphemes(kept))] == graphemes(kept)
    assert {e for e in x_text.emoji_spans(message) if e[1] <= len(kept)} == set(
        x_text.emoji_spans(kept)
    )
    [theirs] = oracle([text])
    assert theirs["valid"] and 278 <= theirs["weightedLength"] <= 280


def test_a_cut_never_splits_a_link():
    link = "https://example.com/" + "long/path/" * 5  # weighs 23, as any link
    # Room for the link: it stays whole and the cut falls in the words after it.
    words = " and then many more words, which cannot all fit"
    text = fit_post("x" * 200 + f" see {link}{words}", f" {WATCH_URL}")
    assert text.startswith("x" * 200 + f" see {link} and")
    assert text.endswith(f"{ELLIPSIS} {WATCH_URL}") and weighted_length(text) <= 280
    # No room for it (244 + 23 + an ellipsis and the watch link > 280): cut before it.
    text = fit_post("x" * 240 + f" see {link} after", f" {WATCH_URL}")
    assert text == "x" * 240 + f" see{ELLIPSIS} {WATCH_URL}"


def test_fitted_texts_fit_for_x_and_keep_the_start_and_the_link(oracle):
    bodies = sample_texts(seed=7, count=300, max_pieces=120)
    suffixes = [f"\n{WATCH_URL}", f" {IP_WATCH_URL}"]
    fitted = [fit_post(body, suffixes[n % 2], max_chars=400) for n, body in enumerate(bodies)]
    for n, (body, text) in enumerate(zip(bodies, fitted, strict=True)):
        suffix = suffixes[n % 2]
        assert text.endswith(suffix) and len(text) <= 400
        head = text.removesuffix(suffix)
        kept = head.removesuffix(ELLIPSIS) if head != unicodedata.normalize("NFC", body) else head
        assert unicodedata.normalize("NFC", body).startswith(kept)
    results = oracle(fitted)
    assert all(r["valid"] or "\ufeff" in t for r, t in zip(results, fitted, strict=True))
    assert max(r["weightedLength"] for r in results) <= 280
    assert (
        sum(
            text != body + suffixes[n % 2]
            for n, (body, text) in enumerate(zip(bodies, fitted, strict=True))
        )
        > 100
    )


def test_a_long_emoji_chat_message_is_cut_for_its_stored_length_too():
    message = ("👨‍👩‍👧‍👦" + TONEABLE[0] + SKIN_TONES[2] + KEYCAPS[0] + EMOJI[0]) * 40
    text = fit_post(message, f" {WATCH_URL}", max_chars=300)
    assert len(text) <= 300
    assert weighted_length(text) <= 280
    assert text.endswith(f"{ELLIPSIS} {WATCH_URL}")
