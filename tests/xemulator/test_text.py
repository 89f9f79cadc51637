"""How X counts and shows post text (pure functions, no server). The emulator counts with
the app's port of twitter-text; tests/xposting/test_x_text.py holds both to X's own."""

from xemulator.text import as_x_shows_it, find_urls, tco_url, weighted_length


def test_plain_text_counts_one_per_character():
    assert weighted_length("a" * 280) == 280


def test_a_link_counts_23_whatever_its_length():
    assert weighted_length("see https://example.com/" + "x" * 200) == 4 + 23


def test_a_bare_domain_is_a_link_and_an_ip_address_is_not():
    assert weighted_length("see onair.tv") == 4 + 23
    assert weighted_length("http://127.0.0.1:8000/b/x/") == len("http://127.0.0.1:8000/b/x/")


def test_cjk_and_emoji_count_two_and_an_emoji_sequence_counts_as_one_emoji():
    assert weighted_length("漢字") == 4
    assert weighted_length("🎥") == 2
    assert weighted_length("👩🏽‍💻") == 2  # skin tone and ZWJ
    assert weighted_length("👨‍👩‍👧‍👦") == 2  # seven code points
    assert weighted_length("🇯🇵") == 2
    assert weighted_length("1️⃣") == 2


def test_trailing_punctuation_is_not_part_of_a_link():
    assert find_urls("go (https://a.example.com/b).") == [(4, 27, "https://a.example.com/b")]


def test_tco_links_are_23_characters_and_stable():
    assert len(tco_url("123", 0)) == 23
    assert tco_url("123", 0) == tco_url("123", 0) != tco_url("123", 1)


def test_as_x_shows_it_replaces_each_link_and_indexes_it():
    text, urls = as_x_shows_it("42", "a https://one.example.com/x and two.example.org/y")
    assert [text[u["start"] : u["end"]] for u in urls] == [u["url"] for u in urls]
    assert [u["expanded_url"] for u in urls] == [
        "https://one.example.com/x",
        "http://two.example.org/y",
    ]
    assert as_x_shows_it("42", "no links") == ("no links", [])
