"""Outbound webhooks: events about orders and inquiries, POSTed to the endpoints of API clients.

The outbox (docs/webhooks.md tells the receiving side):

1. A service that changes an order or an inquiry records its timeline event, and the app's
   ``events.py`` calls ``emit()`` in the same transaction. ``emit`` writes one ``WebhookEvent``
   (the payload, with a fresh ``event_id``) and one ``WebhookDelivery`` per active subscription
   that wants the type, and schedules one ``webhooks.deliver`` job per delivery, due at once:
   the change, the outbox rows and the jobs commit together or not at all. With no subscription
   nothing is written; finding that out costs one small query per transaction (the list of
   active subscriptions is kept for the rest of the transaction).
2. On commit the jobs go to a worker (``fulfillment.scheduling``): the request that caused the
   event never waits for an endpoint.
3. The handler POSTs the payload's JSON, signed with the subscription's secret
   (``X-FD-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>``), with a 5 s connect and a
   10 s overall timeout and no redirects followed. Every try is a ``WebhookAttempt``. A 2xx
   answer delivers it; anything else is retried with back-off (1 min doubling, at most 1 h)
   for about ten hours, then the delivery is ``failed``. ``redeliver()`` (the admin's action)
   starts a new round.

Delivery is at least once: a worker killed after the POST and before its commit posts again.
Receivers drop repeats by the payload's ``id``.

Endpoints are configured by staff in the admin, not by the API clients themselves; only http
and https URLs are accepted. The desk does not try to tell internal hosts from public ones, so
whoever may add a subscription may make the worker POST to any address it can reach.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from . import clock, scheduling
from .errors import InvalidInput
from .models import (
    ApiClient,
    DeliveryState,
    Job,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookEventType,
    WebhookSubscription,
)

log = logging.getLogger(__name__)

KIND = "webhooks.deliver"
#: Seconds to open the connection, and for the whole request (connect, send, answer).
CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 10.0
#: How much of an answer the delivery log keeps.
EXCERPT_CHARS = 500
#: Tries in all: after the n-th failure the next one is backoff(n) later — 1, 2, 4, 8, 16 and
#: 32 minutes, then hourly: sixteen tries span 10 h 3 min.
MAX_ATTEMPTS = 16
USER_AGENT = "FulfillmentDesk-Webhooks/1"


def backoff(attempt: int) -> dt.timedelta:
    """After the ``attempt``-th failed try: 1 minute, doubling, at most an hour."""
    return dt.timedelta(seconds=min(60 * 2 ** (attempt - 1), 3600))


# --- subscriptions ---------------------------------------------------------------------------


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def check_url(url: str) -> str:
    """An endpoint URL we are willing to POST to: http or https with a host. Raises InvalidInput."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(field_errors={"url": [_("Use an http:// or https:// URL with a host name.")]})
    return url


def check_events(events: Iterable[str]) -> list[str]:
    chosen = sorted(set(events or ()))
    unknown = [name for name in chosen if name not in WebhookEventType.values]
    if unknown:
        raise InvalidInput(field_errors={"events": [_("Unknown event: %(names)s.") % {"names": ", ".join(unknown)}]})
    return chosen


def subscription_create(
    *, client: ApiClient, url: str, events: Iterable[str] = (), active: bool = True, description: str = ""
) -> WebhookSubscription:
    """A new endpoint for ``client``, with a fresh signing secret (shown in the admin)."""
    subscription = WebhookSubscription.objects.create(
        client=client,
        url=check_url(url),
        events=check_events(events),
        active=active,
        description=description,
        secret=new_secret(),
    )
    _forget_subscriptions()
    return subscription


def subscription_save(*, subscription: WebhookSubscription, fields: Sequence[str]) -> WebhookSubscription:
    """Save changed ``fields`` of a subscription (url, events, active, description)."""
    subscription.url = check_url(subscription.url)
    subscription.events = check_events(subscription.events)
    subscription.save(update_fields=list(fields))
    _forget_subscriptions()
    return subscription


def subscription_rotate_secret(*, subscription: WebhookSubscription) -> WebhookSubscription:
    """A new signing secret; deliveries from now on (retries included) are signed with it."""
    subscription.secret = new_secret()
    subscription.save(update_fields=["secret"])
    return subscription


# The active subscriptions, read once per transaction: (id, wanted event types or None for all).
_generation = 0


def _forget_subscriptions() -> None:
    """A subscription changed: the next emit() reads the list again, even in this transaction."""
    global _generation
    _generation += 1


def _subscriptions() -> list[tuple[int, frozenset[str] | None]]:
    connection = transaction.get_connection()
    held = getattr(connection, "_fd_webhook_subscriptions", None)
    if held is not None and connection.in_atomic_block:
        token, generation, rows = held
        # still the same transaction: the commit callback registered with the list is pending
        if generation == _generation and any(entry[1] is token for entry in connection.run_on_commit):
            return rows
    rows = [
        (pk, frozenset(events) if events else None)
        for pk, events in WebhookSubscription.objects.filter(active=True, client__revoked_at__isnull=True)
        .order_by("id")
        .values_list("id", "events")
    ]
    if connection.in_atomic_block:

        def token() -> None:
            connection._fd_webhook_subscriptions = None

        connection._fd_webhook_subscriptions = (token, _generation, rows)
        transaction.on_commit(token)
    return rows


# --- reads (the API's) ------------------------------------------------------------------------


def subscriptions_of(*, client_id: int) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(client_id=client_id)


def deliveries_of(*, subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    """One subscription's delivery log with its events (the index webhook_delivery_log)."""
    return WebhookDelivery.objects.filter(subscription=subscription).select_related("event")


# --- emitting --------------------------------------------------------------------------------


def emit(type_: str, *, ref: str, data: dict) -> list[WebhookEvent]:
    """Put one event in the outbox for every subscription that wants ``type_``; call it inside
    the transaction of the change it tells of. ``data``: JSON-ready (strings, numbers).
    Returns the event written ([] when nobody subscribes)."""
    return emit_many(type_, [(ref, data)])


def _targets(type_: str) -> list[int]:
    return [pk for pk, wanted in _subscriptions() if wanted is None or type_ in wanted]


def wanted(type_: str) -> bool:
    """Does any active subscription want ``type_``? (Build an event's data only then.)"""
    return bool(_targets(type_))


def emit_many(type_: str, items: Iterable[tuple[str, dict]]) -> list[WebhookEvent]:
    """``emit`` for many things at once (a bulk sync): one insert per table, not per row.
    ``items`` (ref, data) is only read when somebody subscribes: it may be a generator."""
    targets = _targets(type_)
    if not targets:
        return []
    now = clock.now()
    stamp = now.isoformat()
    with transaction.atomic(savepoint=False):
        events = []
        for ref, data in items:
            event_id = uuid.uuid4()
            payload = {"id": str(event_id), "type": type_, "created_at": stamp, "data": data}
            events.append(WebhookEvent(event_id=event_id, type=type_, ref=ref, payload=payload, created_at=now))
        if not events:
            return []
        events = WebhookEvent.objects.bulk_create(events)
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(subscription_id=pk, event=event, created_at=now) for event in events for pk in targets
        )
        _schedule([(delivery.pk, 1) for delivery in deliveries], now)
    return events


def restamp(events: Sequence[WebhookEvent], **data) -> None:
    """Correct ``data`` fields of events written earlier in this transaction, before they are
    sent (an inquiry's event is recorded before the save that moves its version on)."""
    for event in events:
        event.payload["data"].update(data)
    WebhookEvent.objects.bulk_update(events, ["payload"])


def _schedule(rounds: list[tuple[int, int]], now: dt.datetime) -> None:
    """A ``webhooks.deliver`` job, due now, per (delivery id, round): one insert, handed out on commit.
    (The keys are new, so no ``scheduling.schedule`` look-up per job is needed.)"""
    jobs = Job.objects.bulk_create(
        Job(
            kind=KIND,
            key=f"webhook:{pk}:{round_}",
            ref=f"webhook-delivery:{pk}",
            payload={"delivery": pk, "round": round_},
            due_at=now,
            created_at=now,
            updated_at=now,
        )
        for pk, round_ in rounds
    )
    scheduling.hand_out_on_commit([job.pk for job in jobs])


def redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again from the start (a new round, pending, due now) — failed, delivered or
    still retrying alike. The previous round's waiting retry is cancelled."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        scheduling.cancel(keys=[f"webhook:{delivery.pk}:{delivery.round}"])
        delivery.round += 1
        delivery.state = DeliveryState.PENDING
        delivery.delivered_at = None
        delivery.last_status = None
        delivery.last_error = ""
        delivery.save(update_fields=["round", "state", "delivered_at", "last_status", "last_error"])
        _schedule([(delivery.pk, delivery.round)], clock.now())
    return delivery


# --- delivering ------------------------------------------------------------------------------


def body_of(payload: dict) -> bytes:
    """The exact bytes sent (and signed): compact JSON with sorted keys, UTF-8. The same payload
    gives the same bytes on every try."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Answer:
    status: int | None
    error: str
    duration_ms: int
    excerpt: str

    @property
    def ok(self) -> bool:
        """A 2xx answer received in full (an answer cut off half-way is tried again)."""
        return self.status is not None and 200 <= self.status < 300 and not self.error


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` once: connect within CONNECT_TIMEOUT, all done within TOTAL_TIMEOUT, no
    redirect followed (a 3xx is an answer like any other non-2xx). Never raises."""
    started = time.monotonic()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Answer(None, "not an http(s) URL", 0, "")
    make = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = make(parts.hostname, parts.port, timeout=CONNECT_TIMEOUT)
    expired = threading.Event()

    def cut() -> None:  # the overall limit: unblocks a read from a server that trickles
        expired.set()
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(TOTAL_TIMEOUT, cut)
    timer.daemon = True
    timer.start()
    status, error, excerpt = None, "", ""
    try:
        connection.connect()
        connection.sock.settimeout(max(0.05, TOTAL_TIMEOUT - (time.monotonic() - started)))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        status = response.status
        excerpt = response.read(EXCERPT_CHARS * 4).decode("utf-8", "replace")[:EXCERPT_CHARS]
    except TimeoutError:
        error = f"timed out after {time.monotonic() - started:.1f} s"
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set():
            error = f"timed out after {TOTAL_TIMEOUT:.0f} s"
        else:
            error = f"{type(exc).__name__}: {exc}".strip(": ")
    finally:
        timer.cancel()
        connection.close()
    return Answer(status, error[:500], int((time.monotonic() - started) * 1000), excerpt)


def _gave_up(job: Job) -> None:
    WebhookDelivery.objects.filter(
        pk=job.payload.get("delivery"), round=job.payload.get("round"), state=DeliveryState.PENDING
    ).update(state=DeliveryState.FAILED)


@scheduling.handler(KIND, max_attempts=MAX_ATTEMPTS, backoff=backoff, on_failed=_gave_up)
def deliver(job: Job) -> scheduling.Retry | None:
    """One try of one delivery round. Nothing to do (success) when the delivery is gone, is no
    longer pending, or a newer round replaced this one."""
    round_ = job.payload.get("round")
    delivery = (
        WebhookDelivery.objects.select_related("event", "subscription__client")
        .filter(pk=job.payload.get("delivery"))
        .first()
    )
    if delivery is None or delivery.state != DeliveryState.PENDING or delivery.round != round_:
        return None
    current = WebhookDelivery.objects.filter(pk=delivery.pk, round=round_, state=DeliveryState.PENDING)
    subscription = delivery.subscription
    if not subscription.active or subscription.client.revoked_at is not None:
        reason = "subscription switched off" if not subscription.active else "API client revoked"
        current.update(state=DeliveryState.FAILED, last_error=reason)
        return None
    event = delivery.event
    body = body_of(event.payload)
    now = clock.now()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-FD-Event": event.type,
        "X-FD-Event-Id": str(event.event_id),
        "X-FD-Delivery": str(delivery.pk),
        "X-FD-Timestamp": str(int(now.timestamp())),
        "X-FD-Signature": signature(subscription.secret, body),
    }
    answer = post(subscription.url, body, headers)
    WebhookAttempt.objects.create(
        delivery=delivery,
        at=now,
        status=answer.status,
        error=answer.error,
        duration_ms=answer.duration_ms,
        response_excerpt=answer.excerpt,
    )
    if answer.ok:
        current.update(
            state=DeliveryState.DELIVERED,
            delivered_at=now,
            attempts=F("attempts") + 1,
            last_status=answer.status,
            last_error="",
        )
        return None
    why = answer.error or f"HTTP {answer.status}"
    current.update(attempts=F("attempts") + 1, last_status=answer.status, last_error=why)
    return scheduling.Retry(f"{subscription.url}: {why}")
