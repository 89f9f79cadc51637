"""Post text as X treats it: weighted length (twitter-text v3) and t.co links.

The rules are the app's own counter (`broadcast.x_text`, a port of twitter-text held to
it by the tests): the emulator imports it, never the reverse. X keeps what was written,
but its API shows every link twitter-text finds (bare domains too, not IP addresses) as
a 23-character t.co link, with the original in `entities.urls[].expanded_url`.
"""

import hashlib
import re
import unicodedata

from broadcast.x_text import MAX_WEIGHTED_LENGTH, extract_urls, weighted_length

__all__ = ["MAX_WEIGHTED_LENGTH", "as_x_shows_it", "find_urls", "tco_url", "weighted_length"]

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SCHEME = re.compile(r"^https?://", re.IGNORECASE)


def find_urls(text):
    """[(start, end, url)] of the links X finds in the (NFC) text."""
    return extract_urls(unicodedata.normalize("NFC", text))


def tco_url(post_id, index):
    """A stable 23-character t.co link for the index-th link of a post."""
    number = int(hashlib.sha256(f"{post_id}:{index}".encode()).hexdigest(), 16)
    code = ""
    for _ in range(10):
        number, digit = divmod(number, 62)
        code += _BASE62[digit]
    return f"https://t.co/{code}"


def expanded_url(url):
    """X's `expanded_url`: what was written, with http:// before a bare domain."""
    return url if _SCHEME.match(url) else f"http://{url}"


def display_url(url):
    shown = re.sub(r"^https?://(www\.)?", "", url, flags=re.IGNORECASE)
    return shown if len(shown) <= 26 else shown[:26] + "…"


def as_x_shows_it(post_id, text):
    """(text with t.co links, the `entities.urls` list), as X's API returns a post."""
    text = unicodedata.normalize("NFC", text)
    shown, entities, position = "", [], 0
    for index, (start, end, url) in enumerate(find_urls(text)):
        shown += text[position:start]
        short = tco_url(post_id, index)
        entities.append(
            {
                "start": len(shown),
                "end": len(shown) + len(short),
                "url": short,
                "expanded_url": expanded_url(url),
                "display_url": display_url(url),
            }
        )
        shown += short
        position = end
    return shown + text[position:], entities
