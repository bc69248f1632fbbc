"""Where inbound mail is read from: a Maildir, or an IMAP mailbox.

Each reader hands every new mail to ``mail_ingest`` and only then marks it done at the source
(Maildir: moved from new/ to cur/; IMAP: flagged \\Seen, or moved to a folder). A mail whose
storing fails (the database is down) stays new at the source and is read again next time.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from ..models import InboundMail
from .inbound import mail_ingest

IMAP_TIMEOUT = 60


class MailSourceError(Exception):
    """The source cannot be read (no such Maildir, IMAP login refused, …)."""


@dataclass(frozen=True)
class Fetched:
    label: str  # where the mail came from: a Maildir file name, an IMAP UID
    inbound: InboundMail


# --- Maildir ------------------------------------------------------------------------------------


def maildir_fetch(path: str | os.PathLike, *, limit: int | None = None) -> Iterator[Fetched]:
    """Every mail in ``path``/new, oldest name first; each moved to cur/ once it is stored."""
    root = Path(path)
    new, cur = root / "new", root / "cur"
    if not (new.is_dir() and cur.is_dir() and (root / "tmp").is_dir()):
        raise MailSourceError(_("%(path)s is not a Maildir (it needs new/, cur/ and tmp/).") % {"path": root})
    names = sorted(name for name in os.listdir(new) if not name.startswith("."))
    for name in names[:limit] if limit else names:
        try:
            raw = (new / name).read_bytes()
        except FileNotFoundError:  # another reader took it meanwhile
            continue
        inbound = mail_ingest(raw, "maildir")
        # Stored: mark it seen ("S") and move it on, as a mail client does.
        target = name if ":2," in name else f"{name}:2,S"
        os.replace(new / name, cur / target)
        yield Fetched(name, inbound)


# --- IMAP ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    use_ssl: bool = True
    #: Move processed mail to this folder instead of only flagging it \Seen.
    move_to: str = ""

    @classmethod
    def from_settings(cls) -> ImapConfig:
        if not settings.FD_IMAP_HOST:
            raise MailSourceError(_("IMAP is not configured: set FD_IMAP_HOST, FD_IMAP_USER and FD_IMAP_PASSWORD."))
        return cls(
            host=settings.FD_IMAP_HOST,
            port=settings.FD_IMAP_PORT or (993 if settings.FD_IMAP_SSL else 143),
            user=settings.FD_IMAP_USER,
            password=settings.FD_IMAP_PASSWORD,
            folder=settings.FD_IMAP_FOLDER,
            use_ssl=settings.FD_IMAP_SSL,
            move_to=settings.FD_IMAP_MOVE_TO,
        )


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(result: tuple, what: str) -> list:
    typ, data = result
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise MailSourceError(_("IMAP %(what)s failed: %(detail)s") % {"what": what, "detail": detail})
    return data


def _connect(config: ImapConfig) -> imaplib.IMAP4:
    try:
        if config.use_ssl:
            context = ssl.create_default_context()
            return imaplib.IMAP4_SSL(config.host, config.port, ssl_context=context, timeout=IMAP_TIMEOUT)
        return imaplib.IMAP4(config.host, config.port, timeout=IMAP_TIMEOUT)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailSourceError(
            _("Cannot connect to IMAP %(host)s:%(port)s: %(error)s")
            % {"host": config.host, "port": config.port, "error": exc}
        ) from exc


def imap_fetch(config: ImapConfig, *, limit: int | None = None) -> Iterator[Fetched]:
    """Every unseen mail in the folder. Read with BODY.PEEK (so nothing is marked seen before it
    is stored), then flagged \\Seen, or copied to ``move_to`` and expunged from the folder."""
    conn = _connect(config)
    moved = False
    try:
        try:
            conn.login(config.user, config.password)
        except imaplib.IMAP4.error as exc:
            raise MailSourceError(_("IMAP login refused: %(error)s") % {"error": exc}) from exc
        _check(conn.select(_quote(config.folder)), "SELECT")
        uids = _check(conn.uid("SEARCH", None, "UNSEEN"), "SEARCH")[0].split()
        for uid in uids[:limit] if limit else uids:
            label = uid.decode()
            data = _check(conn.uid("FETCH", label, "(BODY.PEEK[])"), "FETCH")
            raw = next((item[1] for item in data if isinstance(item, tuple)), None)
            if raw is None:  # gone meanwhile (expunged by another client)
                continue
            inbound = mail_ingest(raw, "imap")
            if config.move_to:
                _check(conn.uid("COPY", label, _quote(config.move_to)), "COPY")
                _check(conn.uid("STORE", label, "+FLAGS", "(\\Seen \\Deleted)"), "STORE")
                moved = True
            else:
                _check(conn.uid("STORE", label, "+FLAGS", "(\\Seen)"), "STORE")
            yield Fetched(f"uid {label}", inbound)
        if moved:
            _check(conn.expunge(), "EXPUNGE")
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise MailSourceError(_("The IMAP connection broke: %(error)s") % {"error": exc}) from exc
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.logout()
