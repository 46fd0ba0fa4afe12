"""Customer mail: the proposal of maintenance windows, with an iCalendar (RFC 5545) invitation built with `icalendar`.
Delivered to an outbox folder (.eml) or through SMTP.

Building a message is pure; `deliver` is the only function here that touches the world.
"""

from __future__ import annotations

import os
import re
import smtplib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

from fleet.clock import site_time
from fleet.config import Settings
from fleet.errors import FleetError


@dataclass(frozen=True)
class WindowOffer:
    window_id: int
    start: datetime  # aware UTC
    end: datetime


@dataclass(frozen=True)
class SwapLine:
    slot: str
    kind: str
    problem: str


def ics_invitation(
    *,
    offers: Sequence[WindowOffer],
    summary: str,
    description: str,
    organizer: str,
    attendee: str,
    now: datetime,
    uid_domain: str,
) -> str:
    """A VCALENDAR with one tentative VEVENT per offered window (the customer accepts one). Times are UTC (form #2 of
    RFC 5545 3.3.5), which every client shows in the reader's own timezone. icalendar escapes the text and folds
    the lines."""
    import icalendar  # loaded only when a mail is written: most sweeps propose nothing and pay nothing for it

    cal = icalendar.Calendar()
    cal.add("prodid", "-//fleet//maintenance windows//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "REQUEST")
    for n, offer in enumerate(offers, 1):
        event = icalendar.Event()
        event.add("uid", f"window-{offer.window_id}@{uid_domain}")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", offer.start.astimezone(UTC))
        event.add("dtend", offer.end.astimezone(UTC))
        event.add("summary", f"Option {n} of {len(offers)}: {summary}")
        event.add("description", description)
        event.add("status", "TENTATIVE")
        event.add("transp", "OPAQUE")
        event.add("sequence", 0)
        event.add("organizer", icalendar.vCalAddress(f"mailto:{organizer}"))
        event.add(
            "attendee",
            icalendar.vCalAddress(f"mailto:{attendee}"),
            parameters={"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"},
        )
        cal.add_component(event)
    ics: bytes = cal.to_ical()
    return ics.decode("utf-8")


def proposal_mail(
    *,
    settings: Settings,
    now: datetime,
    to: str,
    contact_name: str,
    customer_tz: ZoneInfo,
    hostname: str,
    swaps: Sequence[SwapLine],
    offers: Sequence[WindowOffer],
    warning: str | None,
    answer_by: datetime,
    reason: str | None = None,
) -> EmailMessage:
    """The mail that asks the customer to choose one of the windows, every time in the customer's timezone."""
    parts = ", ".join(f"{s.kind} {s.slot} ({s.problem})" for s in swaps)
    body = [
        f"Dear {contact_name},",
        "",
        f"Our monitoring found a failing part in your server {hostname}: {parts}.",
        "The server is still running. We would like to replace the part(s) in one maintenance visit",
        "at a time that suits you. Please choose one of these windows (your time):",
        "",
    ]
    if reason:
        body[3:3] = [f"Why so soon: {reason}."]
    for n, o in enumerate(offers, 1):
        # Times as people read them everywhere (fleet.clock.site_time): the customer's wall clock and zone.
        end = site_time(o.end, customer_tz.key, day=False)
        body.append(f"  {n}. {site_time(o.start, customer_tz.key)} - {end}   (window {o.window_id})")
    body += ["", f"Please answer by {site_time(answer_by, customer_tz.key)}, quoting the window number."]
    if warning:
        body += [
            "",
            f"IMPORTANT: {warning}.",
            "Please make sure you have a current copy of your data before the visit.",
        ]
    body += ["", "The attached invitation holds the same windows.", "", "Your hosting team"]
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = f"Maintenance of {hostname}: please choose a window"
    msg["Date"] = format_datetime(now)
    domain = settings.mail_from.rpartition("@")[2] or "fleet.invalid"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content("\n".join(body) + "\n")
    ics = ics_invitation(
        offers=offers,
        summary=f"hardware maintenance of {hostname}",
        description=f"Replacement of {parts} on {hostname}." + (f" {warning}." if warning else ""),
        organizer=settings.mail_from,
        attendee=to,
        now=now,
        uid_domain=domain,
    )
    msg.add_attachment(
        ics.encode("utf-8"),
        maintype="text",
        subtype="calendar",
        filename="maintenance.ics",
        params={"method": "REQUEST"},
    )
    return msg


def deliver(msg: EmailMessage, settings: Settings, *, name: str) -> str:
    """Send through SMTP when `smtp_host` is set, else write `<outbox>/<name>.eml`. Returns where it went."""
    if settings.smtp_host:
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise FleetError(f"cannot send mail through {settings.smtp_host}:{settings.smtp_port}: {exc}") from None
        return f"smtp://{settings.smtp_host}:{settings.smtp_port}"
    outbox = Path(settings.outbox)
    try:
        outbox.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader of the outbox never sees half a message.
        fd, tmp = tempfile.mkstemp(dir=outbox, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(msg.as_bytes())
        # The name carries a hostname: data, so never a path (`/`, `..`) nor a byte the file system refuses (NUL).
        dest = outbox / f"{re.sub(r'[^A-Za-z0-9._-]', '_', name).lstrip('.')}.eml"
        os.replace(tmp, dest)
    except OSError as exc:
        raise FleetError(f"cannot write mail to {outbox}: {exc.strerror or exc}") from None
    return str(dest)
