"""The translation catalogues are complete and well-formed.

gettext's fuzzy matching leaves guesses behind ("End broadcast" once read "Diffusion");
Django ignores fuzzy entries at compile time, but a guess whose flag was removed by hand
is shown to users. So every entry must be translated, unflagged, free of the previous
msgid (`#|`) that marks such a guess, keep exactly the placeholders and HTML tags of its
English, and pass `msgfmt --check`. The French catalogue also keeps French typography.
The .po files are parsed here by hand: the format is small and polib is not a dependency.
"""

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parent.parent / "locale"
CATALOGUES = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))

NBSP = "\u00a0"
# A printf-style conversion as Python's % operator reads it ("%%" is a literal percent).
PERCENT = re.compile(
    r"%(?:%|(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.\d+)?(?P<type>[a-zA-Z]))"
)
BRACES = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


@dataclass
class Entry:
    line: int
    flags: set = field(default_factory=set)
    previous: list = field(default_factory=list)
    msgctxt: str | None = None
    msgid: str | None = None
    msgid_plural: str | None = None
    msgstr: dict = field(default_factory=dict)

    @property
    def label(self):
        return f"line {self.line}: {self.msgid!r}"


def _unquote(text, where):
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"{where}: not a quoted string: {text!r}")
    body, out, i = text[1:-1], [], 0
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    while i < len(body):
        if body[i] == "\\":
            if i + 1 >= len(body) or body[i + 1] not in escapes:
                raise ValueError(f"{where}: bad escape in {text!r}")
            out.append(escapes[body[i + 1]])
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")


def parse_po(text):
    """The live entries of a .po file, header first. Obsolete (`#~`) entries are skipped:
    gettext never uses them."""
    entries, entry, current = [], None, None

    def close():
        nonlocal entry, current
        if entry is not None and entry.msgid is not None:
            entries.append(entry)
        entry, current = None, None

    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            close()
            continue
        if line.startswith("#~"):
            continue
        if entry is None:
            entry = Entry(line=number)
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
        elif line.startswith("#|"):
            entry.previous.append(line)
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if current is None:
                raise ValueError(f"line {number}: continuation outside an entry")
            kind, index = current
            if kind == "msgstr":
                entry.msgstr[index] += _unquote(line, f"line {number}")
            else:
                setattr(entry, kind, getattr(entry, kind) + _unquote(line, f"line {number}"))
        else:
            match = KEYWORD.match(line)
            if not match:
                raise ValueError(f"line {number}: cannot read {line!r}")
            keyword, index, value = match.groups()
            value = _unquote(value, f"line {number}")
            if keyword.startswith("msgstr"):
                current = ("msgstr", int(index) if index is not None else None)
                entry.msgstr[current[1]] = value
            else:
                current = (keyword, None)
                setattr(entry, keyword, value)
    close()
    return entries


def _is_percent_format(entry):
    # xgettext flags python-format when the English has a conversion; a literal "%" in
    # an unflagged entry ("100 %") is text, not a placeholder.
    if "no-python-format" in entry.flags:
        return False
    english = entry.msgid + (entry.msgid_plural or "")
    return "python-format" in entry.flags or any(
        match.group(0) != "%%" for match in PERCENT.finditer(english)
    )


def placeholders(text, entry):
    """What a translation must keep: %-conversions (by name, or in order) and {fields}."""
    named, positional = set(), []
    if _is_percent_format(entry):
        for match in PERCENT.finditer(text):
            if match.group(0) == "%%":
                continue
            if match.group("name") is not None:
                named.add((match.group("name"), match.group("type")))
            else:
                positional.append(match.group("type"))
    braces = sorted(BRACES.findall(text)) if "python-brace-format" in entry.flags else []
    return named, positional, braces


def tags(text):
    return sorted(TAG.findall(text))


def problems(entries):
    """Every reason an entry would show users something wrong, as readable lines."""
    found = []
    for entry in entries:
        if entry.msgid == "":
            continue  # the header
        if "fuzzy" in entry.flags:
            found.append(f"{entry.label}: fuzzy")
        if entry.previous:
            found.append(f"{entry.label}: keeps a previous msgid ({entry.previous[0]})")
        if entry.msgid_plural is None:
            forms = {None: entry.msgid}
            if set(entry.msgstr) != {None}:
                found.append(f"{entry.label}: plural forms without msgid_plural")
        else:
            forms = {index: entry.msgid_plural for index in entry.msgstr}
            if None in entry.msgstr or not entry.msgstr:
                found.append(f"{entry.label}: msgid_plural without msgstr[n]")
        for index, translation in entry.msgstr.items():
            where = entry.label if index is None else f"{entry.label} [{index}]"
            if not translation.strip():
                found.append(f"{where}: empty translation")
                continue
            wanted = [forms.get(index, entry.msgid)]
            if index == 0 and entry.msgid_plural is not None:
                # The first form may serve the singular or, in some languages, more numbers.
                wanted.append(entry.msgid)
            got = placeholders(translation, entry)
            if all(got != placeholders(source, entry) for source in wanted):
                found.append(f"{where}: placeholders {got} differ from the English")
            if all(tags(translation) != tags(source) for source in wanted):
                found.append(f"{where}: HTML tags {tags(translation)} differ from the English")
    return found


def french_typography_problems(entries):
    """French puts a no-break space before : ; ? ! » and after «, and the catalogue uses
    the typographic apostrophe. Colons inside URLs, times or code are not punctuation."""
    found = []
    for entry in entries:
        if entry.msgid == "":
            continue
        for index, translation in entry.msgstr.items():
            where = entry.label if index is None else f"{entry.label} [{index}]"
            prose = TAG.sub(" ", translation)
            prose = PERCENT.sub("x", prose)
            for match in re.finditer(r"(.)([:;?!»])", prose):
                before, mark = match.groups()
                after = prose[match.end() : match.end() + 1]
                if mark == ":" and (after.isalnum() or after == "/"):
                    continue  # "redirect_uri", "http://", "10:30"
                if before != NBSP:
                    found.append(f"{where}: no no-break space before {mark!r}")
            for match in re.finditer(r"«(.)", prose):
                if match.group(1) != NBSP:
                    found.append(f"{where}: no no-break space after «")
            if re.search(r"\w'\w", prose):
                found.append(f"{where}: straight apostrophe")
    return found


# --- the checker catches what it must ---------------------------------------------------
BAD_CATALOGUE = r"""
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\n"

#: broadcast/views.py:45
#| msgid "Live broadcasts"
msgid "This broadcast has ended."
msgstr "Diffusions en direct"

#, fuzzy
msgid "End broadcast"
msgstr "Diffusion"

msgid ""
"A long sentence that gettext "
"wraps over lines."
msgstr ""

#, python-format
msgid "%(count)d report settled."
msgid_plural "%(count)d reports settled."
msgstr[0] "%(count)d signalement clos."
msgstr[1] "%(counter)s signalements clos."

#, python-format
msgid "Try again in %(s)s s."
msgstr "Réessayez dans %s s."

#, python-format
msgid "The <a href=\"%(url)s\">privacy page</a>"
msgstr "La page de confidentialité"

#~ msgid "Gone"
#~ msgstr ""
"""


def test_the_checker_finds_every_kind_of_bad_entry():
    entries = parse_po(BAD_CATALOGUE)
    assert [e.msgid for e in entries][-1] == 'The <a href="%(url)s">privacy page</a>'
    assert entries[3].msgid == "A long sentence that gettext wraps over lines."
    found = "\n".join(problems(entries))
    assert "'This broadcast has ended.': keeps a previous msgid" in found
    assert "'End broadcast': fuzzy" in found
    assert "wraps over lines.': empty translation" in found
    assert "reports settled" not in found  # the singular form is fine
    assert "'%(count)d report settled.' [1]: placeholders" in found
    assert "'Try again in %(s)s s.': placeholders" in found
    assert "privacy page</a>': placeholders" in found
    assert "privacy page</a>': HTML tags" in found
    assert "Gone" not in found  # obsolete entries are not used


def test_the_first_plural_form_may_leave_the_count_out():
    entries = parse_po(
        'msgid "One of your broadcasts is kept."\n'
        'msgid_plural "%(counter)s of your broadcasts are kept."\n'
        'msgstr[0] "Une de vos diffusions est conservée."\n'
        'msgstr[1] "%(counter)s de vos diffusions sont conservées."\n'
    )
    assert problems(entries) == []


def test_the_french_checker_wants_no_break_spaces():
    entries = parse_po(
        'msgid "Watch link: %(url)s"\nmsgstr "Lien : %(url)s"\n\n'
        'msgid "What?"\nmsgstr "Quoi\u00a0?"\n\n'
        'msgid "Other"\nmsgstr "« Autre\u00a0»"\n\n'
        'msgid "Don\'t"\nmsgstr "N\'importe"\n'
    )
    found = "\n".join(french_typography_problems(entries))
    assert "'Watch link: %(url)s': no no-break space before ':'" in found
    assert "What?" not in found
    assert "'Other': no no-break space after «" in found
    assert '"Don\'t": straight apostrophe' in found


# --- the real catalogues -----------------------------------------------------------------
def test_there_is_a_french_catalogue():
    assert LOCALE / "fr" / "LC_MESSAGES" / "django.po" in CATALOGUES


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(LOCALE)))
def test_every_entry_is_translated_unflagged_and_keeps_its_placeholders(path):
    entries = parse_po(path.read_text(encoding="utf-8"))
    assert len(entries) > 1, "no entries read"
    found = problems(entries)
    assert not found, f"{path.relative_to(LOCALE)}:\n" + "\n".join(found)


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(LOCALE)))
def test_msgfmt_accepts_the_catalogue(path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt is not installed (apt-get install gettext)")
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [msgfmt, "--check", "-o", str(Path(tmp) / "out.mo"), str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr


def test_french_typography():
    path = LOCALE / "fr" / "LC_MESSAGES" / "django.po"
    found = french_typography_problems(parse_po(path.read_text(encoding="utf-8")))
    assert not found, "\n".join(found)
