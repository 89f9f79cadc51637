"""How X counts and shows post text (pure functions, no server)."""

from xemulator.text import as_x_shows_it, find_urls, tco_url, weighted_length


def test_plain_text_counts_one_per_character():
    assert weighted_length("a" * 280) == 280


def test_a_link_counts_23_whatever_its_length():
    assert weighted_length("see https://example.com/" + "x" * 200) == 4 + 23


def test_cjk_and_emoji_count_two():
    assert weighted_length("漢字") == 4
    assert weighted_length("🎥") == 2


def test_trailing_punctuation_is_not_part_of_a_link():
    assert find_urls("go (https://a.example/b).") == [(4, 23, "https://a.example/b")]


def test_tco_links_are_23_characters_and_stable():
    assert len(tco_url("123", 0)) == 23
    assert tco_url("123", 0) == tco_url("123", 0) != tco_url("123", 1)


def test_as_x_shows_it_replaces_each_link_and_indexes_it():
    text, urls = as_x_shows_it("42", "a https://one.example/x and http://two.example/y")
    assert [text[u["start"] : u["end"]] for u in urls] == [u["url"] for u in urls]
    assert [u["expanded_url"] for u in urls] == ["https://one.example/x", "http://two.example/y"]
    assert as_x_shows_it("42", "no links") == ("no links", [])
