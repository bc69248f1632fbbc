"""Inbound mail: keep the raw mail first, then turn it into a new inquiry or a message on the
inquiry it answers.

``mail_ingest(raw, source)`` is the one entry point for every face (the ``fetch_mail`` command
reading IMAP or a Maildir, the webhook, the admin's "process again"). It never raises for a bad
mail: the raw bytes are stored in their own transaction, then processed in a second one; a mail
that cannot be processed stays as an ``InboundMail`` row with ``state=failed`` and the reason.

Threading: a mail joins an inquiry when its In-Reply-To / References name the Message-ID of an
earlier message of that inquiry, or, failing that, when its subject carries the inquiry's
reference (``[INQ-000123]``) and it comes from the inquiry's customer's address.
"""

from __future__ import annotations

import email
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses
from html.parser import HTMLParser

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor
from fulfillment.errors import DomainError
from orders.models import Customer
from orders.services import customer_create

from .. import events
from ..enums import Channel
from ..models import Attachment, InboundMail, Inquiry, Message, parse_reference
from ..services import inquiry_create, message_receive
from ..services._common import MAX_BODY

State = InboundMail.State
MAX_THREAD_IDS = 50
_MSGID_RE = re.compile(r"<[^<>\s\x00-\x1f\x7f]{1,296}>")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: The line a mail client writes above the text it quotes ("On 2 May, Support <…> wrote:").
_ATTRIBUTION_RE = re.compile(
    r"(wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|napisał|skrev)\s*:\s*$", re.IGNORECASE
)
#: First bytes of the file types we check (a declared type that the content contradicts is refused).
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
}


class MailRefused(Exception):
    """The mail cannot become a message (no sender, …). The text is for the admin and the log."""


def actor() -> Actor:
    return Actor.system("mail")


# --- entry points -------------------------------------------------------------------------------


def mail_ingest(raw: bytes, source: str) -> InboundMail:
    """Store ``raw`` (its own transaction), then process it. Returns the row in its final state."""
    inbound = mail_store(raw, source)
    return mail_process(inbound)


def mail_store(raw: bytes, source: str) -> InboundMail:
    raw = bytes(raw or b"")
    with transaction.atomic():
        return InboundMail.objects.create(
            source=source[:40], raw=raw, size=len(raw), message_id=_header_message_id(raw), state=State.RECEIVED
        )


def mail_reprocess(inbound: InboundMail) -> InboundMail:
    """Process a stored mail again (the admin action). Only failed or never-processed mail."""
    if inbound.state not in (State.FAILED, State.RECEIVED):
        return inbound
    return mail_process(inbound)


def mail_process(inbound: InboundMail) -> InboundMail:
    try:
        with transaction.atomic():
            _route(inbound)
    except Exception as exc:  # any fault in a mail: kept as failed, never lost, never a crash
        inbound.state = State.FAILED
        inbound.error = describe_error(exc)
        inbound.processed_at = clock.now()
        InboundMail.objects.filter(pk=inbound.pk).update(
            state=inbound.state, error=inbound.error, processed_at=inbound.processed_at
        )
    return inbound


def describe_error(exc: Exception) -> str:
    if isinstance(exc, MailRefused):
        return str(exc)
    if isinstance(exc, DomainError):
        fields = "; ".join(f"{name}: {' '.join(map(str, errs))}" for name, errs in exc.field_errors.items())
        return f"{exc.message} {fields}".strip()[:2000]
    return f"{type(exc).__name__}: {exc}"[:2000]


# --- routing ------------------------------------------------------------------------------------


def _route(inbound: InboundMail) -> None:
    """Inside the processing transaction: everything or nothing."""
    # Lock this row and every stored copy of the same Message-ID together, in pk order: two
    # deliveries of one mail then queue up behind each other instead of deadlocking (each
    # holding its own row while waiting for the other's).
    same = Q(pk=inbound.pk) | Q(message_id=inbound.message_id) if inbound.message_id else Q(pk=inbound.pk)
    list(InboundMail.objects.select_for_update().filter(same).order_by("pk").values_list("pk", flat=True))
    current = InboundMail.objects.only("state", "inquiry").get(pk=inbound.pk)
    if current.state in (State.PROCESSED, State.IGNORED):  # done meanwhile by another process
        inbound.state, inbound.inquiry = current.state, current.inquiry
        return
    raw = bytes(inbound.raw)
    if inbound.size > settings.FD_INBOUND_MAIL_MAX_BYTES:
        raise MailRefused(
            _("The mail is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(inbound.size), "limit": filesizeformat(settings.FD_INBOUND_MAIL_MAX_BYTES)}
        )
    if not raw.strip():
        raise MailRefused(_("The mail is empty."))
    parsed = parse(raw)
    inbound.message_id = parsed.message_id or inbound.message_id

    duplicate, earlier = _earlier_copy(inbound)
    if duplicate:
        _finish(inbound, State.IGNORED, earlier, _("The same Message-ID was already processed."))
        return

    inquiry = _thread_inquiry(parsed)
    system = actor()
    if inquiry is not None:
        text = strip_quoted(parsed.text)
        message = message_receive(
            actor=system,
            inquiry=inquiry,
            body=_fit(text or _no_text(), inbound),
            channel=Channel.EMAIL,
            subject=parsed.subject,
            sender_email=parsed.sender_email,
            email_message_id=parsed.message_id,
            in_reply_to=parsed.in_reply_to,
            reopen=not parsed.automatic,
        )
    elif parsed.automatic:
        # An out-of-office or bounce that belongs to no conversation asks nothing of the desk:
        # kept here, but it opens no inquiry (and so starts no service-target clock).
        _finish(inbound, State.IGNORED, None, _("An automatic reply outside any conversation: no inquiry opened."))
        return
    else:
        customer = _customer_for(parsed)
        inquiry = inquiry_create(
            actor=system,
            customer=customer,
            subject=parsed.subject[:200] or _("(no subject)"),
            channel=Channel.EMAIL,
            body=_fit(parsed.text or _no_text(), inbound),
            sender_email=parsed.sender_email,
            email_message_id=parsed.message_id,
            in_reply_to=parsed.in_reply_to,
        )
        message = Message.objects.get(pk=inquiry.last_message_id)
    for part in parsed.attachments:
        _attach(inquiry, message, part, system)
    _finish(inbound, State.PROCESSED, inquiry, "")


def _finish(inbound: InboundMail, state: str, inquiry: Inquiry | None, note: str) -> None:
    inbound.state = state
    inbound.inquiry = inquiry
    inbound.error = note
    inbound.processed_at = clock.now()
    inbound.save(update_fields=["state", "inquiry", "error", "processed_at", "message_id"])


def _earlier_copy(inbound: InboundMail) -> tuple[bool, Inquiry | None]:
    """Whether this Message-ID was processed before (a second delivery), and into which inquiry."""
    if not inbound.message_id:
        return False, None
    # Rows of the same Message-ID are locked in pk order: a concurrent copy waits here, then
    # sees the first one processed.
    list(InboundMail.objects.select_for_update().filter(message_id=inbound.message_id).order_by("pk").values("pk"))
    copy = (
        InboundMail.objects.filter(message_id=inbound.message_id, state=State.PROCESSED)
        .exclude(pk=inbound.pk)
        .select_related("inquiry")
        .first()
    )
    if copy is not None:
        return True, copy.inquiry
    message = Message.objects.filter(email_message_id=inbound.message_id).select_related("inquiry").first()
    return (True, message.inquiry) if message else (False, None)


def _thread_inquiry(parsed: ParsedMail) -> Inquiry | None:
    if parsed.thread_ids:
        found = dict(
            Message.objects.filter(email_message_id__in=parsed.thread_ids).values_list("email_message_id", "inquiry_id")
        )
        for msgid in parsed.thread_ids:  # the nearest parent first
            if msgid in found:
                return Inquiry.objects.select_related("customer").get(pk=found[msgid])
    pk = parse_reference(parsed.subject)
    if pk is not None:
        inquiry = Inquiry.objects.select_related("customer").filter(pk=pk).first()
        # A reference alone is easy to type: it only joins mail from the inquiry's own customer.
        if inquiry is not None and inquiry.customer.email.lower() == parsed.sender_email.lower():
            return inquiry
    return None


def _customer_for(parsed: ParsedMail) -> Customer:
    customer = Customer.objects.filter(email__iexact=parsed.sender_email).order_by("pk").first()
    if customer is not None:
        return customer
    name = (parsed.sender_name or parsed.sender_email)[:200]
    return customer_create(actor=actor(), name=name, email=parsed.sender_email)


def _no_text() -> str:
    return _("(The mail had no text.)")


def _fit(text: str, inbound: InboundMail) -> str:
    """Cut a very long text to what a message holds; the whole mail stays in InboundMail."""
    if len(text) <= MAX_BODY:
        return text
    note = "\n\n" + _("[Cut here: the whole mail is kept as inbound mail #%(id)d.]") % {"id": inbound.pk}
    return text[: MAX_BODY - len(note)] + note


# --- attachments --------------------------------------------------------------------------------


def attachment_refusal(filename: str, content_type: str, data: bytes) -> str:
    """Why a file may not be kept ("" when it may): size, type, or content not of its type."""
    limit = settings.FD_ATTACHMENT_MAX_BYTES
    if len(data) > limit:
        return _("The file is %(size)s; the limit is %(limit)s.") % {
            "size": filesizeformat(len(data)),
            "limit": filesizeformat(limit),
        }
    allowed = set(settings.FD_ATTACHMENT_TYPES)
    if content_type not in allowed:
        return _("Files of type %(type)s are not accepted.") % {"type": content_type}
    guessed = mimetypes.guess_type(filename)[0]
    if guessed and guessed not in allowed:
        return _("The file name says %(type)s, which is not accepted.") % {"type": guessed}
    signatures = _SIGNATURES.get(content_type)
    if signatures and not data.startswith(signatures):
        return _("The content is not a %(type)s file.") % {"type": content_type}
    return ""


def _attach(inquiry: Inquiry, message: Message, part: MailPart, system: Actor) -> None:
    reason = part.error or attachment_refusal(part.filename, part.content_type, part.data)
    if reason:
        events.attachment_refused(inquiry, system, filename=part.filename, reason=reason)
        return
    stored_name = get_valid_filename(part.filename)[-100:] if part.filename.strip(". ") else "attachment"
    Attachment.objects.create(
        inquiry=inquiry,
        message=message,
        file=ContentFile(part.data, name=stored_name or "attachment"),
        filename=part.filename[:200],
        content_type=part.content_type[:100],
        size=len(part.data),
    )


# --- parsing ------------------------------------------------------------------------------------


@dataclass
class MailPart:
    filename: str
    content_type: str
    data: bytes
    error: str = ""


@dataclass
class ParsedMail:
    sender_email: str
    sender_name: str
    subject: str
    message_id: str
    in_reply_to: str
    thread_ids: list[str]
    text: str
    attachments: list[MailPart] = field(default_factory=list)
    automatic: bool = False  # an auto-reply (out of office, bounce): kept, but reopens nothing


def parse(raw: bytes) -> ParsedMail:
    msg = email.message_from_bytes(raw, policy=policy.default)
    sender_name, sender_email = _sender(msg)
    in_reply_to_ids = message_ids(_header(msg, "In-Reply-To"))
    references = message_ids(_header(msg, "References"))
    thread_ids = list(dict.fromkeys([*in_reply_to_ids, *reversed(references)]))[:MAX_THREAD_IDS]
    texts: list[str] = []
    attachments: list[MailPart] = []
    _collect(msg, texts, attachments)
    return ParsedMail(
        sender_email=sender_email,
        sender_name=sender_name,
        subject=" ".join(_header(msg, "Subject").split()),
        message_id=normalise_message_id(_header(msg, "Message-ID")),
        in_reply_to=in_reply_to_ids[0] if in_reply_to_ids else "",
        thread_ids=thread_ids,
        text=without_controls("\n\n".join(t for t in texts if t.strip())).strip(),
        attachments=attachments,
        automatic=is_automatic(msg),
    )


def is_automatic(msg: EmailMessage) -> bool:
    """RFC 3834 Auto-Submitted, and the older headers out-of-office and list software send."""
    auto_submitted = _header(msg, "Auto-Submitted").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if _header(msg, "X-Autoreply") or _header(msg, "X-Autorespond"):
        return True
    return _header(msg, "Precedence").strip().lower() in ("bulk", "junk", "auto_reply", "list")


def _header(msg: EmailMessage, name: str) -> str:
    """A header as text; a header the parser chokes on is read raw rather than failing the mail."""
    try:
        value = msg.get(name)
    except Exception:  # malformed header: fall back to the undecoded value
        value = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), "")
    return without_controls(str(value or "")).strip()


def without_controls(text: str) -> str:
    """Control characters (NUL above all: PostgreSQL refuses it in text) dropped; tabs and line
    breaks kept."""
    return _CONTROL_RE.sub("", text)


def _sender(msg: EmailMessage) -> tuple[str, str]:
    for header in ("From", "Reply-To", "Sender"):
        for name, address in _addresses(msg, header):
            address = address.strip()
            try:
                validate_email(address)
            except ValidationError:
                continue
            return " ".join(without_controls(name).split()), address
    raise MailRefused(_("The mail has no valid sender address (From)."))


def _addresses(msg: EmailMessage, header: str) -> list[tuple[str, str]]:
    try:
        return [(a.display_name, a.addr_spec) for a in msg[header].addresses] if msg[header] else []
    except Exception:  # a header the structured parser refuses: the plain parser's reading
        return getaddresses([_header(msg, header)])


def message_ids(value: str) -> list[str]:
    return _MSGID_RE.findall(value or "")


def normalise_message_id(value: str) -> str:
    ids = message_ids(value)
    if ids:
        return ids[0]
    value = "".join(without_controls(value or "").split()).strip("<>")
    return f"<{value[:296]}>" if value else ""


def _header_message_id(raw: bytes) -> str:
    """The Message-ID read before parsing (for the stored row); "" when it cannot be read."""
    try:
        head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        headers = email.message_from_bytes(head, policy=policy.compat32)
        return normalise_message_id(str(headers.get("Message-ID", "") or ""))
    except Exception:  # a mail we cannot even read the head of: processing will say why
        return ""


def _collect(part, texts: list[str], attachments: list[MailPart]) -> None:
    """Walk the MIME tree: text parts in order (plain preferred over HTML), other parts as files."""
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        attachments.append(_file_part(part, default_name="message.eml"))
        return
    if part.is_multipart():
        subparts = list(part.iter_parts())
        if ctype == "multipart/alternative" and subparts:
            chosen = _preferred_alternative(subparts)
            _collect(chosen, texts, attachments)
            for other in subparts:  # files only the HTML version carries (inline pictures)
                if other is not chosen:
                    _collect(other, [], attachments)
            return
        for sub in subparts:
            _collect(sub, texts, attachments)
        return
    if ctype in ("text/plain", "text/html") and not _is_file(part):
        text = decode_text(part)
        texts.append(html_to_text(text) if ctype == "text/html" else text.replace("\r\n", "\n"))
        return
    attachments.append(_file_part(part))


def _preferred_alternative(parts: list) -> object:
    for sub in parts:
        if sub.get_content_type() == "text/plain" and not _is_file(sub):
            return sub
    return parts[-1]  # the richest version (HTML, or HTML with its pictures)


def _is_file(part) -> bool:
    try:
        disposition = part.get_content_disposition()
        filename = part.get_filename()
    except Exception:  # a malformed header: treat the part as a file, it is refused or kept as is
        return True
    return disposition == "attachment" or bool(filename)


def _file_part(part, default_name: str = "") -> MailPart:
    ctype = part.get_content_type()
    try:
        filename = part.get_filename() or ""
    except Exception:  # a malformed file name parameter
        filename = ""
    filename = " ".join(without_controls(str(filename)).replace("/", "_").replace("\\", "_").split())
    if not filename:
        filename = default_name or "attachment" + (mimetypes.guess_extension(ctype) or "")
    if ctype == "application/octet-stream":  # many clients say nothing more: trust the extension
        ctype = mimetypes.guess_type(filename)[0] or ctype
    try:
        if part.get_content_type() == "message/rfc822":
            data = part.get_payload(0).as_bytes(policy=policy.SMTP)
        else:
            data = part.get_payload(decode=True) or b""
    except Exception:  # undecodable content: refused with a reason, the mail itself stays
        return MailPart(filename, ctype, b"", error=_("The file could not be read from the mail."))
    return MailPart(filename, ctype, data)


def decode_text(part) -> str:
    """A text part as str: its declared charset, else UTF-8, else Windows-1252, else Latin-1."""
    payload = part.get_payload(decode=True) or b""
    declared = part.get_content_charset() or ""
    for charset in (declared, "utf-8", "cp1252", "latin-1"):
        if not charset:
            continue
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")  # unreachable: latin-1 decodes any byte


# --- text ---------------------------------------------------------------------------------------


class _HtmlText(HTMLParser):
    """HTML to plain text: tags dropped, scripts and styles skipped, blocks on their own lines,
    blockquotes prefixed with "> ", link targets kept after their text."""

    SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "svg"})
    #: Blocks set apart by an empty line, and blocks that only start a new line.
    PARAGRAPH = frozenset(
        {"p", "table", "ul", "ol", "dl", "blockquote", "pre", "hr", "h1", "h2", "h3", "h4", "h5", "h6"}
    )
    BLOCK = PARAGRAPH | {"div", "li", "tr", "dd", "dt", "section", "article", "header", "footer", "address"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.depth = self.skip = self.pre = 0
        self.href = ""

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.skip = 0
        elif tag in self.SKIP:
            self.skip += 1
        elif tag == "br":
            self._break()
        elif tag in self.BLOCK:
            self._break(tag in self.PARAGRAPH)
            self.depth += tag == "blockquote"
            self.pre += tag == "pre"
            if tag == "li":
                self.current.append("- ")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.href = href if href.startswith(("http://", "https://", "mailto:")) else ""
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt and not self.skip:
                self.current.append(f"[{alt}]")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCK:
            self._break(tag in self.PARAGRAPH)
            if tag == "blockquote":
                self.depth = max(0, self.depth - 1)
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
        elif tag == "a" and self.href:
            shown = "".join(self.current)
            if self.href.removeprefix("mailto:") not in shown:
                self.current.append(f" <{self.href}>")
            self.href = ""

    def handle_data(self, data):
        if self.skip:
            return
        if self.pre:
            first, *rest = data.split("\n")
            self.current.append(first)
            for line in rest:
                self._break()
                self.current.append(line)
        else:
            self.current.append(re.sub(r"\s+", " ", data))

    def _break(self, paragraph: bool = False) -> None:
        line = "".join(self.current).strip() if not self.pre else "".join(self.current).rstrip()
        self.current = []
        if line:
            self.lines.append("> " * self.depth + line)
        if paragraph and self.lines and self.lines[-1] != "":
            self.lines.append("")

    def text(self) -> str:
        self._break()
        return "\n".join(self.lines).strip()


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return parser.text()


def strip_quoted(text: str) -> str:
    """Drop the quoted earlier mail at the END of a reply, with the "… wrote:" line above it.

    Conservative: only a trailing block made of quoted ("> ") and blank lines is dropped, and
    only when words remain above it; replies written between quoted lines keep everything.
    The whole mail stays in InboundMail.
    """
    lines = text.split("\n")
    start = len(lines)
    quoted = False
    while start > 0 and (lines[start - 1].startswith(">") or not lines[start - 1].strip()):
        quoted = quoted or lines[start - 1].startswith(">")
        start -= 1
    if not quoted:
        return text
    above = start
    while above > 0 and not lines[above - 1].strip():
        above -= 1
    if above > 0 and _ATTRIBUTION_RE.search(lines[above - 1]):
        start = above - 1
        # Gmail wraps a long attribution: "On Mon, 4 May 2026 at 10:00, Support <" / "x@y> wrote:"
        if start > 0 and lines[start - 1].lower().startswith("on ") and not lines[start].lower().startswith("on "):
            start -= 1
    kept = "\n".join(lines[:start]).rstrip()
    return kept if kept.strip() else text
