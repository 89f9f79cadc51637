"""Post texts to hold our counter to X's (seeded, so a failure can be replayed), and X's
own count of them: the npm package twitter-text, run by Node."""

import json
import random
import subprocess
from pathlib import Path

from tests.conftest import require
from tests.support import node_tool

ORACLE = Path(__file__).with_name("twitter_text_oracle.js")
TABLES_SCRIPT = Path(__file__).with_name("x_text_tables.js")

CJK = "日本語の配信を見てください漢字東京大阪今日は晴れ한국어방송中文直播ー。「」"
LATIN = "Hello world café naïve Ærøskøbing déjà vu São Paulo Ελλάδα Россия Ñandú"
EMOJI = ["😀", "🎥", "👍", "❤️", "❤", "☺️", "✨", "🔥", "🍣", "😷", "🫠", "©", "©️", "™️"]
SKIN_TONES = ["\U0001f3fb", "\U0001f3fc", "\U0001f3fd", "\U0001f3fe", "\U0001f3ff"]
TONEABLE = ["👍", "👋", "🙋", "🧑", "👩", "👨", "🤝", "🏃"]
ZWJ_SEQUENCES = [
    "👨‍👩‍👧‍👦",
    "👩‍💻",
    "👩🏽‍💻",
    "🏳️‍🌈",
    "🏴‍☠️",
    "👁️‍🗨️",
    "🧑‍🤝‍🧑",
    "❤️‍🔥",
    "🙋‍♀️",
    "🏃🏾‍♂️",
    "👨‍❤️‍💋‍👨",
]
FLAGS = ["🇯🇵", "🇺🇸", "🇫🇷", "🇧🇷", "🇺🇦", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🇦🇦"]
KEYCAPS = ["1️⃣", "#️⃣", "*️⃣", "0⃣", "9️⃣"]
DOMAINS = [
    "example.com",
    "onair.tv",
    "file.py",
    "foo.co.uk",
    "日本.jp",
    "xn--n3h.com",
    "bücher.de",
    "a.b",
    "t.co",
    "sub.domain.example.org",
    "localhost",
    "test.example",
    "münchen.de",
    "EXAMPLE.COM",
    "site.рф",
    "САЙТ.РФ",
    "x.y.z",
]
PATHS = ["", "/", "/b/abc123/", "/path?q=1&r=2", "/a(b)c", "/wiki/Ω", "/é", "#frag", "/x.", "/ü"]
IP_HOSTS = ["127.0.0.1", "192.168.1.20", "10.0.0.1:8000", "[::1]"]
OTHERS = [" ", "\n", ".", ",", "(", ")", "!", "…", "e\u0301", "\u3002", "—", "\ufeff", "@", "#"]


def _link(rng):
    kind = rng.random()
    if kind < 0.3:
        return rng.choice(DOMAINS) + rng.choice(PATHS)
    if kind < 0.5:
        return f"http://{rng.choice(IP_HOSTS)}{rng.choice(PATHS)}"
    if kind < 0.6:
        return rng.choice(IP_HOSTS) + rng.choice(PATHS)
    if kind < 0.65:
        return "https://t.co/" + "".join(rng.choice("abcXYZ019") for _ in range(rng.randint(3, 45)))
    port = f":{rng.randint(1, 9999)}" if rng.random() < 0.2 else ""
    scheme = rng.choice(["https://", "http://", "HTTPS://"])
    return scheme + rng.choice(DOMAINS) + port + rng.choice(PATHS)


def _piece(rng):
    pieces = [
        lambda: "".join(rng.choice(CJK) for _ in range(rng.randint(1, 20))),
        lambda: LATIN[(start := rng.randrange(len(LATIN))) : start + rng.randint(1, 15)],
        lambda: rng.choice(EMOJI),
        lambda: rng.choice(TONEABLE) + rng.choice(SKIN_TONES),
        lambda: rng.choice(ZWJ_SEQUENCES),
        lambda: rng.choice(FLAGS),
        lambda: rng.choice(KEYCAPS),
        lambda: _link(rng),
        lambda: rng.choice(OTHERS),
    ]
    return rng.choice(pieces)()


def sample_texts(*, seed, count, max_pieces=40):
    """`count` texts mixing CJK, accented Latin, emoji sequences (skin tones, ZWJ, flags,
    keycaps), bare domains, IP links and URLs with paths, glued or spaced at random."""
    rng = random.Random(seed)
    return [
        "".join(
            _piece(rng) + (" " if rng.random() < 0.5 else "")
            for _ in range(rng.randint(1, max_pieces))
        )
        for _ in range(count)
    ]


def require_twitter_text():
    require(node_tool("twitter-text"), "node with the npm package twitter-text")


def twitter_text(texts):
    """X's count of each text: [{"weightedLength", "valid", "urls": [[start, end]]}]."""
    done = subprocess.run(
        ["node", str(ORACLE)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


def tables_from_npm():
    """The tables broadcast/x_text.py reads, as the installed npm packages give them."""
    done = subprocess.run(
        ["node", str(TABLES_SCRIPT)], capture_output=True, text=True, check=True, timeout=300
    )
    return json.loads(done.stdout)
