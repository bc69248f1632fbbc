"""The translation catalogues (locale/<lang>/LC_MESSAGES/django.po), without system gettext.

    python scripts/messages.py extract              # add new source strings to every .po (xgettext)
    python scripts/messages.py compile              # every .po → .mo (make run / make test do this)
    python scripts/messages.py check [LANG …]       # missing, fuzzy or placeholder-breaking entries
    python scripts/messages.py todo LANG > todo.json     # the entries LANG still lacks, as JSON
    python scripts/messages.py fill LANG done.json  # merge translations (same JSON, "msgstr" filled)

Extraction is Django's `makemessages` (it needs gettext's xgettext and msgmerge): `extract` adds
new source strings to the .po files with empty translations and drops those no longer in the
code; `check` then names what a language lacks.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
#: %(name)s / %(n)d style placeholders and bare %s / %d; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]|%%")


#: What extraction reads: the project's code and templates, not tests, benches or the venv; and
#: not ``locale`` itself (makemessages would take a ``locale`` folder it walks past as the place
#: to write, ahead of settings.LOCALE_PATHS).
IGNORE = [".venv", "var", "bench", "tests", "scripts", "test-artifacts", "docs", "static/vendor", "locale"]
#: The languages besides English (the source language) — settings.LANGUAGES without "en".
TRANSLATED = ["bn", "fil", "hi", "ta"]


def catalogue_path(lang: str, locale: Path = LOCALE) -> Path:
    return locale / lang / "LC_MESSAGES" / "django.po"


def extract() -> int:
    """``makemessages`` for every translated language, run from the project root."""
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfillment.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("makemessages", locale=TRANSLATED, ignore_patterns=IGNORE, no_obsolete=True, verbosity=0)
    return 0


def languages() -> list[str]:
    return sorted(p.parent.parent.name for p in LOCALE.glob("*/LC_MESSAGES/django.po"))


def extract_copy(workdir: Path) -> Path:
    """Extract into a COPY of the catalogues under ``workdir`` and return that locale folder; the
    project's own files are not touched. (makemessages writes next to the folder it walks, so it
    walks a tree of symlinks to the project's code with the copied catalogues beside them.)"""
    import os
    import shutil

    from django.core.management import call_command
    from django.test import override_settings

    tree = workdir / "tree"
    tree.mkdir(parents=True)
    for entry in ROOT.iterdir():
        if entry.name.startswith(".") or entry.name in IGNORE:
            continue
        (tree / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    locale = tree / "locale"
    shutil.copytree(LOCALE, locale, ignore=shutil.ignore_patterns("*.mo"))
    previous = os.getcwd()
    os.chdir(tree)
    try:
        with override_settings(LOCALE_PATHS=[str(locale)]):
            call_command(
                "makemessages",
                locale=TRANSLATED,
                ignore_patterns=[p for p in IGNORE if p != "locale"],
                no_obsolete=True,
                symlinks=True,
                verbosity=0,
            )
    finally:
        os.chdir(previous)
    return locale


def read(lang: str, locale: Path = LOCALE):
    with catalogue_path(lang, locale).open("rb") as f:
        return read_po(f, locale=None, domain="django")


def placeholders(text: str) -> list[str]:
    return sorted(m for m in PLACEHOLDER.findall(text) if m != "%%")


def problems(lang: str, locale: Path = LOCALE) -> list[str]:
    """Every entry without a complete, non-fuzzy translation whose placeholders match its source."""
    found = []
    for message in read(lang, locale):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        where = f"{lang}: {ids[0][:70]!r}"
        if message.fuzzy:
            found.append(f"{where}: fuzzy")
        if not all(strings):
            found.append(f"{where}: not translated")
            continue
        if "python-format" in message.flags or any(PLACEHOLDER.search(i) for i in ids):
            bad = _placeholder_problem(ids, strings)
            if bad:
                found.append(f"{where}: {bad}")
    return found


def _placeholder_problem(ids, strings) -> str:
    """A translation must carry exactly its source's placeholders. A plural form may leave out a
    named value the English singular leaves out too (“every day” / “every %(n)d days”), never
    one the singular has; positional ones (%s, %d) must all stay, in the same number."""
    singular, plural = placeholders(ids[0]), placeholders(ids[-1])
    if len(ids) == 1:
        return "" if placeholders(strings[0]) == singular else f"placeholders {placeholders(strings[0])} ≠ {singular}"
    must = {p for p in singular if p.startswith("%(")}
    may = {p for p in plural if p.startswith("%(")}
    positional = [p for p in plural if not p.startswith("%(")]
    for string in strings:
        got = placeholders(string)
        named = {p for p in got if p.startswith("%(")}
        if not (must <= named <= may) or [p for p in got if not p.startswith("%(")] != positional:
            return f"placeholders {got} do not fit {plural}"
    return ""


def compile_all() -> int:
    for lang in languages():
        catalogue = read(lang)
        with catalogue_path(lang).with_suffix(".mo").open("wb") as f:
            write_mo(f, catalogue)
    return 0


def todo(lang: str) -> int:
    out = []
    for message in read(lang):
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if message.id and (message.fuzzy or not all(strings)):
            plural = isinstance(message.id, tuple | list)
            out.append(
                {
                    "msgid": message.id[0] if plural else message.id,
                    "msgid_plural": message.id[1] if plural else None,
                    "msgctxt": message.context,
                    "where": [f"{path}:{line}" for path, line in message.locations[:3]],
                    "msgstr": ["", ""] if plural else "",
                }
            )
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


def fill(lang: str, source: str) -> int:
    entries = json.loads(Path(source).read_text(encoding="utf-8"))
    catalogue = read(lang)
    filled = 0
    for entry in entries:
        key = (entry["msgid"], entry["msgid_plural"]) if entry.get("msgid_plural") else entry["msgid"]
        message = catalogue.get(key if isinstance(key, str) else key[0], context=entry.get("msgctxt"))
        if message is None or not entry.get("msgstr"):
            continue
        message.string = tuple(entry["msgstr"]) if isinstance(entry["msgstr"], list) else entry["msgstr"]
        message.flags.discard("fuzzy")
        filled += 1
    with catalogue_path(lang).open("wb") as f:
        write_po(f, catalogue, width=100, include_previous=False)
    print(f"{lang}: {filled} entries filled")
    return 0


def main(argv: list[str]) -> int:
    command, *args = argv or ["compile"]
    if command == "extract":
        return extract()
    if command == "compile":
        return compile_all()
    if command == "check":
        found = [p for lang in (args or languages()) for p in problems(lang)]
        print("\n".join(found) if found else "every entry translated")
        return 1 if found else 0
    if command == "todo" and len(args) == 1:
        return todo(args[0])
    if command == "fill" and len(args) == 2:
        return fill(*args)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
