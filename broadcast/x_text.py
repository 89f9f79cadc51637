"""Post text as X measures it, and fitting ours to it.

X refuses a post whose weighted length, counted by its twitter-text rules (config v3),
is over 280:
- the text is NFC-normalised first;
- every link twitter-text extracts weighs 23, however long. That includes bare domains
  ("example.com", "file.py": the last label must be a known top-level domain) and
  excludes what has no such domain: "http://127.0.0.1:8000/..." and "localhost" links
  count character by character;
- every emoji twemoji knows weighs 2, whole sequences included (skin tones, ZWJ
  families, flags, keycaps);
- any other code point weighs 1 in the light ranges (Latin, Greek, Cyrillic, general
  punctuation... up to U+10FF and a few spaces and quotes), 2 otherwise (CJK, other
  emoji).

The tables (domains, emoji, case variants) come from X's npm packages through
`tests/xposting/x_text_tables.js`; `tests/xposting/test_x_text.py` holds this module to
twitter-text itself. Pure Python on purpose: the X emulator imports it, never the reverse.
"""

import bisect
import functools
import json
import re
import unicodedata
from pathlib import Path
from types import SimpleNamespace

import regex

MAX_WEIGHTED_LENGTH = 280
URL_WEIGHT = 23
ELLIPSIS = "…"
_SCALE = 100
_DEFAULT_WEIGHT = 200
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_MAX_URL_LENGTH = 4096
_MAX_TCO_SLUG_LENGTH = 40
_MAX_LABEL_LENGTH = 63

_TABLES = json.loads(Path(__file__).with_name("x_text_tables.json").read_text("utf-8"))

# --- twitter-text's URL pattern (extractUrl.js and the parts it is built from) ----------

_DIRECTIONAL = "\u202a-\u202e\u061c\u200e\u200f\u2066\u2067\u2068\u2069"
_INVALID = "\ufffe\ufeff\uffff"
_SPACES = "\t-\r \x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_PUNCT = r"\!'#%&'\(\)*\+,\\\-\.\/:;<=>\?@\[\]\^_{|}~\$"
_LATIN = _TABLES["latin_accent_chars"]
_CYRILLIC = _TABLES["cyrillic_letters_and_marks"]

_DOMAIN_CHAR = "[^" + _PUNCT + _SPACES + _INVALID + _DIRECTIONAL + "]"
_SUBDOMAIN = f"(?:(?:{_DOMAIN_CHAR}(?:[_-]|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\\.)"
_DOMAIN_NAME = f"(?:(?:{_DOMAIN_CHAR}(?:-|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\\.)"
_TLD_END = r"(?=[^0-9a-zA-Z@+\-]|\Z)"
# One table entry: "com", or escapes and classes ("\\uc0bc\\uc131", "[\\u10d2\\u1c92]...").
_DOMAIN_ATOM = re.compile(r"\[[^\]]*\]|\\u[0-9a-f]{4}|\\.|.")


def _one_of(words):
    """An alternation of `words` as a trie ("c(?:om|o)" for "com|co"): Python's re
    tries each branch of a flat alternation in turn, and 1,500 domains at every position
    of a text is slow. A longer word is tried before its prefixes, as in the tables."""
    trie = {}
    for word in words:
        node = trie
        for atom in _DOMAIN_ATOM.findall(word):
            node = node.setdefault(atom, {})
        node[None] = {}

    def pattern(node):
        branches = [atom + pattern(child) for atom, child in node.items() if atom is not None]
        if None in node:
            branches.append("")
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return pattern(trie)


_PUNYCODE = r"(?:xn--[\-0-9a-z]+)"
_PATH_CHAR = "[a-z" + _CYRILLIC + r"0-9!\*';:=\+,\.\$\/%#\[\]\-\u2013_~@\|&" + _LATIN + "]"
_BALANCED_PARENS = rf"\((?:{_PATH_CHAR}+|(?:{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*))\)"
_PATH_END = r"[\+\-a-z" + _CYRILLIC + r"0-9=_#\/" + _LATIN + f"]|(?:{_BALANCED_PARENS})"
_PATH = (
    f"(?:(?:{_PATH_CHAR}*(?:{_BALANCED_PARENS}{_PATH_CHAR}*)*{_PATH_END})|(?:@{_PATH_CHAR}+\\/))"
)
_QUERY = r"(?:\?[a-z0-9!?\*'@\(\);:&=\+\$\/%#\[\]\-_\.,~|]*[a-z0-9\-_&=#\/])"
_PRECEDING = "(?:[^A-Za-z0-9@＠$#＃" + _INVALID + "]|[" + _DIRECTIONAL + "]|^)"
_NO_PROTOCOL_AFTER = re.compile(r"[-_./]\Z")
_IDNA_SEPARATORS = re.compile("[.\u3002\uff0e\uff61]")
_INVALID_CHARS = re.compile("[" + _INVALID + "]")
# JavaScript's /i without the u flag folds only within ASCII, and within the classes the
# tables spell out: re.ASCII keeps Python from folding further (the Kelvin sign, the
# long s and the dotless i would match k, s and i).
_FLAGS = re.IGNORECASE | re.ASCII


@functools.cache
def _patterns():
    """Built on first use: the domain lists make this take a few tenths of a second,
    which processes that never count a post should not pay at import."""
    tld = (
        f"(?:(?:{_one_of(_TABLES['gtlds'])}{_TLD_END})"
        f"|(?:{_one_of(_TABLES['cctlds'])}{_TLD_END})|{_PUNYCODE})"
    )
    url = (
        f"(?P<before>{_PRECEDING})(?P<url>"
        r"(?P<protocol>https?:\/\/)?"
        f"(?P<domain>{_SUBDOMAIN}*{_DOMAIN_NAME}{tld})"
        r"(?::(?:[0-9]+))?"
        f"(?P<path>\\/{_PATH}*)?{_QUERY}?)"
    )
    return SimpleNamespace(
        url=re.compile(url, _FLAGS),
        ascii_domain=re.compile(r"(?:(?:[\-a-z" + _LATIN + r"0-9]+)\.)+" + tld, _FLAGS),
        tco_url=re.compile(r"https?:\/\/t\.co\/([a-z0-9]+)" + _QUERY + "?", _FLAGS),
        domain_run=re.compile(f"(?:{_DOMAIN_CHAR}|[._-])+"),
        dot_tld=re.compile(r"\." + tld, _FLAGS),
        emoji=re.compile(_TABLES["emoji"]),
    )


def _utf16_units(text):
    """The text as JavaScript holds it: one str item per UTF-16 code unit (astral
    characters as two surrogates), so the patterns match exactly where twitter-text's
    do; it can, for one, take the first half of an emoji as the character before a
    link."""
    if not text or max(text) <= "\uffff":
        return text
    return "".join(
        char
        if char <= "\uffff"
        else chr(0xD7C0 + (ord(char) >> 10)) + chr(0xDC00 + ord(char) % 1024)
        for char in text
    )


def _code_points(units):
    """Back from UTF-16 code units: pairs joined, a lone surrogate kept as it is."""
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _punycode_label_length(label):
    """The length of a label once IDNA-encoded (Node's punycode.toASCII: RFC 3490
    separators split it, each non-ASCII part becomes xn--...)."""
    encoded = [
        part if part.isascii() else f"xn--{part.encode('punycode').decode('ascii')}"
        for part in _IDNA_SEPARATORS.split(_code_points(label))
    ]
    return len(".".join(encoded))


def _valid_url(url, protocol, domain):
    """twitter-text's isValidUrl: every label IDNA-encodable within 63 characters, the
    whole at most 4096 UTF-16 units."""
    if domain[:4] == "xn--" and not _patterns().ascii_domain.search(domain):
        return False
    for label in domain.split("."):
        if not 1 <= _punycode_label_length(label) <= _MAX_LABEL_LENGTH:
            return False
    return len(protocol) + len(url) <= _MAX_URL_LENGTH


def _without_protocol(match, start, end):
    """The ASCII domains inside a link written without http(s)://, as twitter-text
    extracts them (the last one keeps the path)."""
    domain, found, ascii_end = match["domain"], [], 0
    for ascii_match in _patterns().ascii_domain.finditer(domain):
        ascii_domain = ascii_match.group()
        ascii_start = domain.index(ascii_domain, ascii_end)
        ascii_end = ascii_start + len(ascii_domain)
        found.append([ascii_domain, start + ascii_start, start + ascii_end])
    if found and match["path"]:
        found[-1][0] = match["url"].replace(domain, found[-1][0], 1)
        found[-1][2] = end
    return found


def _url_matches(units):
    """What the link pattern's finditer gives, trying only where a link can start: at
    most 9 units ("https://" and the character before) ahead of a run of domain
    characters holding a ".<top-level domain>". Elsewhere (a long line of CJK or emoji)
    every start would scan to the end of its run, for nothing."""
    patterns = _patterns()
    hits = [match.start() for match in patterns.dot_tld.finditer(units)] if "." in units else []
    if not hits:
        return
    runs = [match.start() for match in patterns.domain_run.finditer(units)]
    regions = []
    for hit in hits:
        low = max(0, runs[bisect.bisect_right(runs, hit) - 1] - 9)
        if regions and low <= regions[-1][1] + 1:
            regions[-1][1] = hit
        else:
            regions.append([low, hit])
    position = 0
    for low, high in regions:
        position = max(position, low)
        while position <= high:
            match = patterns.url.match(units, position)
            if match is None:
                position += 1
                continue
            yield match
            position = match.end()


def _extract_urls_units(units):
    """twitter-text's extractUrlsWithIndices on UTF-16 code units: [[url, start, end]]."""
    urls = []
    for match in _url_matches(units):
        url, protocol, end = match["url"], match["protocol"], match.end()
        start = end - len(url)
        if not _valid_url(url, protocol or "https://", match["domain"]):
            continue
        if not protocol:
            if not _NO_PROTOCOL_AFTER.search(match["before"]):
                urls.extend(_without_protocol(match, start, end))
            continue
        tco = _patterns().tco_url.match(url)
        if tco:
            if len(tco.group(1)) > _MAX_TCO_SLUG_LENGTH:
                continue
            url = tco.group()
            end = start + len(url)
        urls.append([url, start, end])
    return urls


class _Scan:
    """One NFC text seen both ways: code points (Python) and UTF-16 units (twitter-text),
    with its links and emoji."""

    def __init__(self, text):
        self.text = text
        self.units = _utf16_units(text)
        # code point offset -> unit offset, and back (a unit inside a surrogate pair maps
        # to the code point after it, as Array.from(text.slice(0, unit)) counts).
        self.to_unit, self.to_point = [], []
        for point, char in enumerate(text):
            self.to_unit.append(len(self.to_point))
            self.to_point.append(point)
            if char > "\uffff":
                self.to_point.append(point + 1)
        self.to_unit.append(len(self.to_point))
        self.to_point.append(len(text))
        self.urls = _extract_urls_units(self.units)
        self.emoji = [match.span() for match in _patterns().emoji.finditer(text)]

    def url_spans(self):
        """[(start, end, url)] in code points."""
        return [
            (self.to_point[start], self.to_point[end], _code_points(url))
            for url, start, end in self.urls
        ]

    def weight(self):
        """Weighted length x 100, walked as parseTweet does, by UTF-16 unit."""
        urls = {start: len(url) for url, start, _end in self.urls}
        emoji = {self.to_unit[start]: self.to_unit[end] for start, end in self.emoji}
        units, weight, index = self.units, 0, 0
        while index < len(units):
            if index in urls:
                weight += URL_WEIGHT * _SCALE
                index += urls[index]
                continue
            if index in emoji:
                weight += _DEFAULT_WEIGHT
                index = emoji[index]
                continue
            if _is_surrogate_pair(units, index):
                index += 1
            weight += _char_weight(units[index])
            index += 1
        return weight


def _is_surrogate_pair(units, index):
    return (
        "\ud800" <= units[index] <= "\udbff"
        and "\udc00" <= units[index + 1 : index + 2] <= "\udfff"
    )


def extract_urls(text):
    """[(start, end, url)]: the links twitter-text finds (extractUrlsWithIndices), by
    code point offsets. X looks at the NFC form of a post."""
    return _Scan(text).url_spans()


def emoji_spans(text):
    """[(start, end)]: the emoji twemoji-parser finds, each one counted as a unit."""
    return [match.span() for match in _patterns().emoji.finditer(text)]


def _char_weight(char):
    point = ord(char)
    for low, high in _LIGHT_RANGES:
        if low <= point <= high:
            return _SCALE
    return _DEFAULT_WEIGHT


def weighted_length(text):
    """The length X counts for a post (twitter-text's parseTweet().weightedLength)."""
    return _Scan(unicodedata.normalize("NFC", text)).weight() // _SCALE


def is_valid(text):
    """Whether X would take this text as a post: not empty, not over 280, and free of
    the characters twitter-text refuses (U+FFFE, U+FEFF, U+FFFF)."""
    text = unicodedata.normalize("NFC", text)
    length = _Scan(text).weight() // _SCALE
    return 0 < length <= MAX_WEIGHTED_LENGTH and not _INVALID_CHARS.search(text)


# --- fitting ----------------------------------------------------------------------------


def _cut_points(text, scan):
    """Offsets where `text` may be cut: between grapheme clusters, and never inside a
    link or an emoji sequence as X reads them. Ascending, the end excluded."""
    inside = set()
    for start, end, _url in scan.url_spans():
        inside.update(range(start + 1, end))
    for start, end in scan.emoji:
        inside.update(range(start + 1, end))
    points = [match.start() for match in regex.finditer(r"\X", text)]
    return [point for point in points if point not in inside]


def _prefix_weights(text, scan):
    """Estimated weight (x 100) of text[:offset] for every offset, each link or emoji
    counted where it starts: what the body weighs up to a cut, before cutting changes
    its tail (a domain left at the end may become a link). Candidates are checked
    exactly anyway; this only skips the ones far too long."""
    spans = {start: (end, URL_WEIGHT * _SCALE) for start, end, _url in scan.url_spans()}
    for start, end in scan.emoji:
        spans.setdefault(start, (end, _DEFAULT_WEIGHT))
    weights, total, index = [0] * (len(text) + 1), 0, 0
    while index < len(text):
        end, weight = spans.get(index, (index + 1, _char_weight(text[index])))
        for offset in range(index + 1, end + 1):
            weights[offset] = total + weight
        total += weight
        index = end
    return weights


def fit_post(body, suffix="", *, limit=MAX_WEIGHTED_LENGTH, max_chars=None):
    """`body` + `suffix`, NFC-normalised, within `limit` as X counts it (and within
    `max_chars` code points, for where it is stored): when too long, the body is cut at
    the last place that fits (a grapheme boundary outside links and emoji) and ends with
    an ellipsis; the suffix (the watch link) is always whole."""
    body = unicodedata.normalize("NFC", body)
    suffix = unicodedata.normalize("NFC", suffix)
    max_chars = max_chars or len(body + suffix)

    def fits(text):
        return len(text) <= max_chars and weighted_length(text) <= limit

    if fits(body + suffix):
        return body + suffix
    scan = _Scan(body)
    budget = (limit - weighted_length(ELLIPSIS + suffix)) * _SCALE
    estimate = _prefix_weights(body, scan)
    for cut in reversed(_cut_points(body, scan)):
        head = body[:cut].rstrip()
        if not head:
            break
        if estimate[cut] > budget or len(head + ELLIPSIS + suffix) > max_chars:
            continue
        if fits(head + ELLIPSIS + suffix):
            return head + ELLIPSIS + suffix
    return suffix.lstrip()
