"""Tags on inquiries: short free labels, created on first use."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils.translation import gettext as _

from fulfillment.actors import Actor
from fulfillment.errors import InvalidInput

from .. import events
from ..models import Inquiry, Tag

MAX_TAGS = 20
_TAG_RE = re.compile(r"^[\w][\w .&+/-]{0,39}$", re.UNICODE)


def clean_tags(tags: Iterable[str]) -> list[str]:
    names = []
    for raw in tags:
        name = " ".join((raw or "").split()).lower()
        if not name:
            continue
        if not _TAG_RE.match(name):
            raise InvalidInput(field_errors={"tags": [_("“%(tag)s” is not a valid tag.") % {"tag": name[:40]}]})
        if name not in names:
            names.append(name)
    if len(names) > MAX_TAGS:
        raise InvalidInput(field_errors={"tags": [_("At most %(n)d tags.") % {"n": MAX_TAGS}]})
    return names


def set_tags(inquiry: Inquiry, actor: Actor, tags: Iterable[str], *, record: bool = True) -> list[str]:
    """Replace the inquiry's tags (inside the caller's transaction)."""
    names = clean_tags(tags)
    old = sorted(inquiry.tags.values_list("name", flat=True))
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    inquiry.tags.set([existing[n] for n in names])
    if record and sorted(names) != old:
        events.fields_changed(inquiry, actor, {"tags": [", ".join(old), ", ".join(sorted(names))]})
    return names
