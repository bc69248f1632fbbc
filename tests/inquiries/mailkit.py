"""Helpers for the mail tests: mails as raw bytes, and real servers on loopback: SMTP (aiosmtpd)
and IMAP (pymap, run as a subprocess with its in-memory backend)."""

from __future__ import annotations

import imaplib
import mailbox
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from email.utils import format_datetime

from aiosmtpd.controller import Controller

from fulfillment import clock


def make_mail(
    *,
    sender: str = "Asha Rao <asha@example.com>",
    to: str = "support@desk.example",
    subject: str = "Where is my parcel?",
    text: str | None = "Hello, my order has not arrived.",
    html: str | None = None,
    message_id: str | None = "<m1@mail.example.com>",
    in_reply_to: str = "",
    references: str = "",
    attachments: tuple[tuple[str, str, bytes], ...] = (),
    charset: str = "utf-8",
) -> bytes:
    """A mail as a mail client writes it; ``attachments`` are (filename, content type, data)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(clock.now())
    if message_id:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    if text is not None:
        msg.set_content(text, charset=charset)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    elif html is not None:
        msg.set_content(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def make_maildir(path) -> mailbox.Maildir:
    return mailbox.Maildir(path, create=True)


# --- SMTP ---------------------------------------------------------------------------------------


class SmtpSink:
    """aiosmtpd handler: keeps each mail's bytes as received; optionally delivers to a Maildir."""

    def __init__(self, maildir: mailbox.Maildir | None = None):
        self.messages: list[bytes] = []
        self.envelopes: list = []
        self.maildir = maildir

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.original_content)
        self.envelopes.append(envelope)
        if self.maildir is not None:
            self.maildir.add(envelope.original_content)
        return "250 Message accepted for delivery"


class LoopbackController(Controller):
    """Binds 127.0.0.1 on a free port (port 0) and learns which one before it is first used."""

    def __init__(self, handler):
        super().__init__(handler, hostname="127.0.0.1", port=0)

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


# --- IMAP ---------------------------------------------------------------------------------------


class ImapServer:
    """pymap (a pure-Python IMAP4rev1 server) on loopback, in-memory mailboxes, one login."""

    def __init__(self, user: str = "desk", password: str = "imap-pass"):
        self.user, self.password = user, password
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> ImapServer:
        # fmt: off
        args = [
            "--host", "127.0.0.1", "--port", str(self.port), "--no-tls",
            "dict", "--demo-user", self.user, "--demo-password", self.password,
        ]
        # fmt: on
        code = "import sys; from pymap.main import main; sys.exit(main())"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("the pymap IMAP server did not start")

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(self.user, self.password)
        return conn

    def append(self, raw: bytes, folder: str = "INBOX", flags: str | None = None) -> None:
        conn = self.client()
        try:
            typ, data = conn.append(f'"{folder}"', flags, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def uids(self, folder: str = "INBOX", criterion: str = "ALL") -> list[bytes]:
        conn = self.client()
        try:
            conn.select(f'"{folder}"', readonly=True)
            return conn.uid("SEARCH", None, criterion)[1][0].split()
        finally:
            conn.logout()
