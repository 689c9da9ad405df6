""".eml drafts: messages a person opens in their mail client, reads, edits and sends themselves.

kamxl never sends mail. An ``.eml`` file with ``X-Unsent: 1`` opens in Outlook as a draft
ready to send; the ``X-Uniform-Type-Identifier`` header is the mark Apple Mail puts on its own
drafts (where Apple Mail still opens the file read-only, Message > Send Again edits it). Mail
clients show the HTML part when there is one, the others the plain text.
"""

from __future__ import annotations

import datetime as dt
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

from .fileio import atomic_write_bytes
from .paths import safe_filename

# Deliberately plain: one @, a dot in the domain, nothing a header could be split on.
_ADDRESS = re.compile(r"[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\]+")


def mail_address(value: object) -> str:
    """An e-mail address typed in a workbook, trimmed; empty when it does not look like one."""
    text = str(value or "").strip()
    return text if _ADDRESS.fullmatch(text) else ""


def draft_email(
    subject: str,
    text: str,
    *,
    day: dt.date,
    to: tuple[str, str] | None = None,
    sender: str | None = None,
    html: str | None = None,
) -> EmailMessage:
    """A draft message: plain text, and an HTML alternative when given.

    ``to`` is (display name, address); a missing or malformed address leaves the draft
    without a recipient for its author to fill in.
    """
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = re.sub(r"\s*[\r\n]+\s*", " ", subject).strip()  # one line; no-break spaces kept
    if to and (address := mail_address(to[1])):
        user, domain = address.rsplit("@", 1)
        msg["To"] = Address(display_name=" ".join(to[0].split()), username=user, domain=domain)
    if sender:
        msg["From"] = sender
    msg["Date"] = format_datetime(dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC))
    msg["X-Unsent"] = "1"  # Outlook opens the file as a draft to edit and send
    msg["X-Uniform-Type-Identifier"] = "com.apple.mail-draft"  # Apple Mail: a draft too
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def write_draft(msg: EmailMessage, out_dir: str | Path, stem: str) -> Path:
    """Write a draft as ``<stem>.eml`` (a safe file name) in ``out_dir``, atomically."""
    path = Path(out_dir) / safe_filename(stem, ".eml")
    return atomic_write_bytes(path, msg.as_bytes())
