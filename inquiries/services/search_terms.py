"""The search vocabulary (PostgreSQL only): every word of the messages and subjects, so that a
word still being typed can be expanded into whole words (``selectors.search_inquiries``).

New words are added after each message commits (outside the service's transaction: a shared
table must not hold up the desk); ``search_terms_refresh`` recounts every word, nightly from
Celery beat or by ``manage.py refresh_search_terms``. The vocabulary only makes search faster:
a word missing from it is still found by a (slower) prefix match.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import connection, transaction

logger = logging.getLogger(__name__)

_NEW_WORDS = (
    "INSERT INTO inquiries_searchterm (word, documents)"
    " SELECT DISTINCT lexeme, 1 FROM unnest(tsvector_to_array(to_tsvector('simple', %s))) AS lexeme"
    " WHERE length(lexeme) <= 100 ORDER BY lexeme ON CONFLICT (word) DO NOTHING"
)
_RECOUNT = (
    "INSERT INTO inquiries_searchterm (word, documents)"
    " SELECT word, sum(ndoc) FROM ("
    "  SELECT word, ndoc FROM ts_stat('SELECT to_tsvector(''simple'', body) FROM inquiries_message')"
    "  UNION ALL"
    "  SELECT word, ndoc FROM ts_stat('SELECT to_tsvector(''simple'', subject) FROM inquiries_inquiry')"
    " ) AS words WHERE length(word) <= 100 GROUP BY word"
    " ON CONFLICT (word) DO UPDATE SET documents = EXCLUDED.documents"
)


def _remember(text: str) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(_NEW_WORDS, [text])
    except Exception:  # an optimisation only: never fail the request for it
        logger.exception("search vocabulary: new words not recorded")


def remember_words_on_commit(*texts: str) -> None:
    """Add the words of ``texts`` to the vocabulary once the current transaction commits."""
    if connection.vendor != "postgresql":
        return
    text = "\n".join(t for t in texts if t)
    if text:
        transaction.on_commit(partial(_remember, text))


def search_terms_refresh() -> int:
    """Recount every word of every message and subject (minutes at millions of messages)."""
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_RECOUNT)
        return cursor.rowcount
