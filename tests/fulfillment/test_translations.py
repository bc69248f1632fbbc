"""Every translatable string has a translation in Tamil, Filipino, Bengali and Hindi.

The source strings are extracted afresh from the code (Django's makemessages, into a copy of the
catalogues), so a string added without a translation fails here even before anyone re-runs the
extraction; then every entry is checked: translated, not fuzzy, its placeholders intact
(scripts/messages.py check). Extraction needs gettext's xgettext and msgmerge: locally a machine
without them skips with the reason; CI (FD_REQUIRE_SERVICES=1) installs them and fails instead.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("fd_messages", ROOT / "scripts" / "messages.py")
messages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(messages)


def test_the_translated_languages_are_the_settings_languages_but_english():
    assert sorted(code for code, _name in settings.LANGUAGES if code != "en") == messages.TRANSLATED
    assert messages.languages() == messages.TRANSLATED


@pytest.mark.parametrize("lang", messages.TRANSLATED)
def test_the_committed_catalogue_is_complete(lang):
    assert messages.problems(lang) == []


def test_every_string_in_the_code_is_translated_in_every_language(tmp_path):
    committed = (ROOT / "locale" / "ta" / "LC_MESSAGES" / "django.po").read_bytes()
    require_service(
        bool(shutil.which("xgettext") and shutil.which("msgmerge")),
        "needs gettext to extract the source strings (apt-get install gettext)",
    )
    locale = messages.extract_copy(tmp_path)
    assert (ROOT / "locale" / "ta" / "LC_MESSAGES" / "django.po").read_bytes() == committed
    found = [problem for lang in messages.TRANSLATED for problem in messages.problems(lang, locale)]
    assert found == [], (
        f"{len(found)} entries lack a translation (scripts/messages.py extract, then todo/fill):\n"
        + "\n".join(found[:40])
    )


def test_a_missing_translation_is_found(tmp_path):
    """The check itself: an empty, a fuzzy and a placeholder-breaking entry are each reported."""
    po = tmp_path / "xx" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        'msgid "Open"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Closed"\nmsgstr "Fermé"\n\n'
        '#, python-format\nmsgid "Order %(number)s"\nmsgstr "Commande %(numero)s"\n\n'
        '#, python-format\nmsgid "every day"\nmsgid_plural "every %(n)d days"\n'
        'msgstr[0] "chaque jour"\nmsgstr[1] "tous les %(n)d jours"\n',
        encoding="utf-8",
    )
    found = messages.problems("xx", tmp_path)
    assert [line.split(": ", 2)[-1] for line in found] == [
        "not translated",
        "fuzzy",
        "placeholders ['%(numero)s'] ≠ ['%(number)s']",
    ]
