"""Read inbound mail from a Maildir or an IMAP mailbox into inquiries (run it from cron or beat).

    python manage.py fetch_mail --maildir /var/mail/support
    python manage.py fetch_mail --imap            # FD_IMAP_* settings

One line per mail that could not be processed; exit status 1 when there was any.
"""

from __future__ import annotations

from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from inquiries.mail.sources import ImapConfig, MailSourceError, imap_fetch, maildir_fetch
from inquiries.models import InboundMail

State = InboundMail.State


class Command(BaseCommand):
    help = "Fetch inbound mail from a Maildir or an IMAP mailbox and turn it into inquiries and messages."

    def add_arguments(self, parser):
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--maildir", metavar="PATH", help="a Maildir: mail in new/ is read and moved to cur/")
        where.add_argument("--imap", action="store_true", help="the IMAP mailbox set by FD_IMAP_* (unseen mail)")
        parser.add_argument("--limit", type=int, default=None, help="read at most this many mails")

    def handle(self, *args, maildir=None, imap=False, limit=None, verbosity=1, **options):
        if limit is not None and limit < 1:
            raise CommandError(_("--limit must be at least 1."))
        counts: Counter[str] = Counter()
        try:
            if maildir:
                fetched = maildir_fetch(maildir, limit=limit)
            else:
                fetched = imap_fetch(ImapConfig.from_settings(), limit=limit)
            for item in fetched:
                inbound = item.inbound
                counts[inbound.state] += 1
                if inbound.state == State.FAILED:
                    error = " ".join(inbound.error.split())
                    self.stderr.write(
                        _("failed: %(label)s (inbound mail #%(id)d): %(error)s")
                        % {"label": item.label, "id": inbound.pk, "error": error}
                    )
                elif verbosity > 1:
                    self.stdout.write(
                        f"{inbound.get_state_display()}: {item.label} → {inbound.inquiry or '-'} (#{inbound.pk})"
                    )
        except MailSourceError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if verbosity:
                self.stdout.write(
                    _("%(total)d mail read: %(processed)d processed, %(ignored)d ignored, %(failed)d failed.")
                    % {
                        "total": sum(counts.values()),
                        "processed": counts[State.PROCESSED],
                        "ignored": counts[State.IGNORED],
                        "failed": counts[State.FAILED],
                    }
                )
        if counts[State.FAILED]:
            raise CommandError(
                _("%(n)d mail could not be processed: kept as Inbound mail (admin), to fix and process again.")
                % {"n": counts[State.FAILED]}
            )
