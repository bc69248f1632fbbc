"""Kernel views: the staff guard, /healthz, the home page, the language preference and the
notification centre."""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import clock, notifications
from .errors import NotFound
from .models import Heartbeat
from .pagination import keyset_page
from .tiers import Tier


def staff_required(view):
    """Login, then a staff role (a tier, or an administrator). Services check the rest."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_active or not (user.tier or user.is_superuser):
            raise PermissionDenied(_("This account has no staff role."))
        return view(request, *args, **kwargs)

    return wrapper


@staff_required
def home(request):
    return redirect("inquiries:queue")


def _check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, connection.vendor
    except Exception as exc:
        return False, type(exc).__name__


def _check_broker() -> tuple[bool, str]:
    from fulfillment.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return True, conn.transport_cls if isinstance(conn.transport_cls, str) else "ok"
    except Exception as exc:
        return False, type(exc).__name__


@never_cache
@require_GET
def healthz(request):
    """Database and broker reachability, for load balancers and compose health checks."""
    db_ok, db_info = _check_database()
    broker_ok, broker_info = _check_broker()
    beat = None
    if db_ok:
        row = Heartbeat.objects.filter(name="beat").first()
        beat = round((clock.now() - row.at).total_seconds()) if row else None
    ok = db_ok and broker_ok
    body = {
        "status": "ok" if ok else "unavailable",
        "database": {"ok": db_ok, "detail": db_info},
        "broker": {"ok": broker_ok, "detail": broker_info},
        "last_beat_seconds_ago": beat,
    }
    return JsonResponse(body, status=200 if ok else 503)


@login_required
@require_POST
def set_language(request):
    """Save the staff member's UI language and switch to it."""
    code = request.POST.get("language", "")
    if code not in dict(settings.LANGUAGES):
        return JsonResponse({"detail": _("Unknown language.")}, status=400)
    user = request.user
    user.language = code
    user.save(update_fields=["language"])
    translation.activate(code)
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, code, samesite="Lax", secure=request.is_secure(), httponly=True)
    return response


NOTIFICATIONS_PAGE_SIZE = 25


@staff_required
@require_GET
def notification_list(request):
    """The staff member's notifications, newest first, keyset-paged; unread ones marked."""
    page = keyset_page(
        notifications.notifications_for(request.user),
        cursor=request.GET.get("cursor"),
        size=NOTIFICATIONS_PAGE_SIZE,
        key="created_at",
    )
    weekly = (request.user.tier or 0) >= Tier.SENIOR_REP  # who is sent the weekly report
    return render(request, "fulfillment/notifications.html", {"page": page, "weekly": weekly})


@never_cache
@staff_required
@require_GET
def notification_count(request):
    """The header badge's fragment: the unread count (polled by htmx, so no page pays for it)."""
    count = notifications.unread_count(request.user)
    return render(request, "fulfillment/_notification_count.html", {"count": count})


def _same_site(url: str) -> bool:
    """Only a site-relative path ("/inquiries/7/"), never another host or scheme."""
    return url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=set(), require_https=False)


@staff_required
@require_POST
def notification_read(request, notification_id: int):
    """Mark one notification read and go to what it is about (or back to the list)."""
    try:
        notification = notifications.mark_read(user=request.user, notification_id=notification_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    target = notification.url if _same_site(notification.url) else None
    return redirect(target or "notifications")


@staff_required
@require_POST
def set_weekly_report(request):
    """Turn last week's report on Monday on or off for oneself (a checkbox: absent is off)."""
    user = request.user
    user.weekly_report = request.POST.get("weekly_report") == "on"
    user.save(update_fields=["weekly_report"])
    if user.weekly_report:
        messages.success(request, _("You will get last week's report on Monday."))
    else:
        messages.success(request, _("You will no longer get the weekly report."))
    return redirect("notifications")


@staff_required
@require_POST
def notification_read_all(request):
    notifications.mark_all_read(user=request.user)
    return redirect("notifications")
