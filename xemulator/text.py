"""Post text as X treats it: weighted length (twitter-text v3) and t.co links.

X keeps what was written, but its API shows every link as a 23-character t.co link,
with the original in `entities.urls[].expanded_url`.
"""

import hashlib
import re
import unicodedata

URL_RE = re.compile(r"https?://[^\s]+", re.IGNORECASE)
TRAILING_PUNCTUATION = ".,;:!?)]}'\""
# twitter-text v3: these code points weigh 1, everything else 2; a URL weighs 23.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
URL_WEIGHT = 23
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def find_urls(text):
    """[(start, end, url)] of the links in the text, trailing punctuation left out."""
    found = []
    for match in URL_RE.finditer(text):
        url = match.group().rstrip(TRAILING_PUNCTUATION)
        if len(url) > len("https://"):
            found.append((match.start(), match.start() + len(url), url))
    return found


def weighted_length(text):
    """Post length as X counts it (twitter-text v3 weights, NFC-normalised)."""
    text = unicodedata.normalize("NFC", text)
    urls = find_urls(text)
    length = URL_WEIGHT * len(urls)
    pieces, position = [], 0
    for start, end, _url in urls:
        pieces.append(text[position:start])
        position = end
    pieces.append(text[position:])
    for char in "".join(pieces):
        point = ord(char)
        length += 1 if any(lo <= point <= hi for lo, hi in _LIGHT_RANGES) else 2
    return length


def tco_url(post_id, index):
    """A stable 23-character t.co link for the index-th link of a post."""
    number = int(hashlib.sha256(f"{post_id}:{index}".encode()).hexdigest(), 16)
    code = ""
    for _ in range(10):
        number, digit = divmod(number, 62)
        code += _BASE62[digit]
    return f"https://t.co/{code}"


def display_url(url):
    shown = re.sub(r"^https?://(www\.)?", "", url, flags=re.IGNORECASE)
    return shown if len(shown) <= 26 else shown[:26] + "…"


def as_x_shows_it(post_id, text):
    """(text with t.co links, the `entities.urls` list), as X's API returns a post."""
    shown, entities, position = "", [], 0
    for index, (start, end, url) in enumerate(find_urls(text)):
        shown += text[position:start]
        short = tco_url(post_id, index)
        entities.append(
            {
                "start": len(shown),
                "end": len(shown) + len(short),
                "url": short,
                "expanded_url": url,
                "display_url": display_url(url),
            }
        )
        shown += short
        position = end
    return shown + text[position:], entities
