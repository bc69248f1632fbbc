"""Admin for inbound mail: read-only, with "Process again" for mail that failed.

Every inbound mail is kept here as it arrived. A failed one shows why; after the cause is
fixed (a setting, a customer's address, a code fix) the action runs it through the same
``mail_reprocess`` service as before.
"""

from __future__ import annotations

import email
from email import policy

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from orders.admin import ReadOnlyAdmin

from .mail.inbound import mail_reprocess
from .models import InboundMail

PREVIEW_BYTES = 20_000
HEADERS = ("From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References")


@admin.register(InboundMail)
class InboundMailAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "source", "state", "message_id", "inquiry", "size", "short_error")
    list_filter = ("state", "source")
    search_fields = ("message_id",)
    list_select_related = ("inquiry",)
    fields = (
        "received_at",
        "source",
        "state",
        "error",
        "inquiry",
        "processed_at",
        "message_id",
        "size",
        "headers",
        "raw_preview",
    )
    readonly_fields = fields
    actions = ["reprocess"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("raw")

    @admin.display(description=_("error"))
    def short_error(self, obj: InboundMail) -> str:
        return obj.error[:120]

    @admin.display(description=_("headers"))
    def headers(self, obj: InboundMail):
        head = email.message_from_bytes(bytes(obj.raw[:PREVIEW_BYTES]), policy=policy.compat32)
        lines = [f"{name}: {' '.join(str(head[name]).split())}" for name in HEADERS if head[name]]
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', "\n".join(lines))

    @admin.display(description=_("raw mail (start)"))
    def raw_preview(self, obj: InboundMail):
        text = bytes(obj.raw[:PREVIEW_BYTES]).decode("utf-8", "replace")
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)

    def has_reprocess_permission(self, request) -> bool:
        return request.user.has_perm("inquiries.change_inboundmail")

    @admin.action(description=_("Process again (failed or unprocessed mail)"), permissions=["reprocess"])
    def reprocess(self, request, queryset):
        done = failed = skipped = 0
        for inbound in queryset.order_by("pk"):
            if inbound.state not in (InboundMail.State.FAILED, InboundMail.State.RECEIVED):
                skipped += 1
                continue
            result = mail_reprocess(inbound)
            if result.state == InboundMail.State.FAILED:
                failed += 1
            else:
                done += 1
        if done:
            self.message_user(
                request, ngettext("%d mail processed.", "%d mails processed.", done) % done, messages.SUCCESS
            )
        if failed:
            self.message_user(
                request, ngettext("%d mail failed again.", "%d mails failed again.", failed) % failed, messages.ERROR
            )
        if skipped:
            text = ngettext("%d mail skipped: already processed.", "%d mails skipped: already processed.", skipped)
            self.message_user(request, text % skipped, messages.WARNING)
