"""The customer's mail and its iCalendar invitation, read back with independent parsers (email, icalendar)."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import icalendar

from fleet.config import Settings
from fleet.swaps.notify import SwapLine, WindowOffer, deliver, ics_invitation, proposal_mail
from fleet.swaps.windows import zone

NOW = datetime(2026, 10, 21, 12, 0, tzinfo=UTC)
OFFERS = [
    WindowOffer(11, datetime(2026, 10, 23, 7, 0, tzinfo=UTC), datetime(2026, 10, 23, 9, 0, tzinfo=UTC)),
    WindowOffer(12, datetime(2026, 10, 26, 8, 0, tzinfo=UTC), datetime(2026, 10, 26, 10, 0, tzinfo=UTC)),
    WindowOffer(13, datetime(2026, 10, 30, 8, 0, tzinfo=UTC), datetime(2026, 10, 30, 10, 0, tzinfo=UTC)),
]


def _mail(settings: Settings, warning: str | None = None) -> email.message.EmailMessage:
    return proposal_mail(
        settings=settings, now=NOW, to="ops@client.example", contact_name="Mme Dupont",
        customer_tz=zone("Europe/Paris"),
        hostname="web1.par1", swaps=[SwapLine("Disk 0:1:4", "disk", "predictive")], offers=OFFERS, warning=warning,
        answer_by=datetime(2026, 10, 23, 12, 0, tzinfo=UTC),
    )  # fmt: skip


def test_ics_parses_and_carries_each_window_in_utc() -> None:
    cal = icalendar.Calendar.from_ical(
        ics_invitation(offers=OFFERS, summary="maintenance; web1, PSU2", description="line1\nline2 " + "x" * 200,
                       organizer="noc@example.net", attendee="ops@client.example", now=NOW, uid_domain="example.net")
    )  # fmt: skip
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    assert [(e.decoded("dtstart"), e.decoded("dtend")) for e in events] == [(o.start, o.end) for o in OFFERS]
    assert [str(e["uid"]) for e in events] == [f"window-{i}@example.net" for i in (11, 12, 13)]
    assert str(events[0]["summary"]) == "Option 1 of 3: maintenance; web1, PSU2"
    assert str(events[0]["description"]) == "line1\nline2 " + "x" * 200  # folded lines unfold to the same text
    assert str(cal["method"]) == "REQUEST"


def test_every_ics_line_is_at_most_75_octets_and_ends_in_crlf() -> None:
    text = ics_invitation(offers=OFFERS, summary="é" * 100, description="d", organizer="a@b", attendee="c@d",
                          now=NOW, uid_domain="b")  # fmt: skip
    assert text.endswith("\r\n")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_mail_shows_windows_in_customer_time_and_attaches_the_invitation(tmp_path: Path) -> None:
    settings = Settings(outbox=str(tmp_path / "outbox"))
    where = deliver(_mail(settings), settings, name="web1")
    assert where == str(tmp_path / "outbox" / "web1.eml")
    msg = email.message_from_bytes(Path(where).read_bytes(), policy=policy.default)
    assert msg["To"] == "ops@client.example"
    body = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    # 07:00Z on 23 Oct is 09:00 CEST; 08:00Z on 26 Oct is 09:00 CET (after the change).
    assert "Fri 23 Oct 09:00 CEST - 11:00 CEST" in body
    assert "Mon 26 Oct 09:00 CET - 11:00 CET" in body
    assert "IMPORTANT" not in body
    (ics,) = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    cal = icalendar.Calendar.from_ical(ics.get_content())
    assert [e.decoded("dtstart") for e in cal.walk("VEVENT")] == [o.start for o in OFFERS]


def test_a_disk_without_backup_warns_the_customer() -> None:
    msg = _mail(Settings(), warning="no backup option: data on this server is not backed up by us")
    body = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "IMPORTANT: no backup option" in body
    (ics,) = list(msg.iter_attachments())
    assert "not backed up" in str(icalendar.Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]["description"])


def test_with_an_smtp_host_the_mail_goes_through_smtp(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sent: list[tuple[str, int, str]] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            self.host, self.port = host, port

        def __enter__(self) -> FakeSMTP:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def send_message(self, msg: email.message.EmailMessage) -> None:
            sent.append((self.host, self.port, msg["To"]))

    monkeypatch.setattr("fleet.swaps.notify.smtplib.SMTP", FakeSMTP)
    settings = Settings(smtp_host="mail.example.net", smtp_port=2525, outbox=str(tmp_path / "outbox"))
    assert deliver(_mail(settings), settings, name="x") == "smtp://mail.example.net:2525"
    assert sent == [("mail.example.net", 2525, "ops@client.example")]
    assert not (tmp_path / "outbox").exists()


def test_an_outbox_that_cannot_be_written_is_one_clear_error(tmp_path: Path) -> None:
    import pytest

    from fleet.errors import FleetError

    blocker = tmp_path / "file"
    blocker.write_text("")
    settings = Settings(outbox=str(blocker / "outbox"))
    with pytest.raises(FleetError, match="cannot write mail to"):
        deliver(_mail(settings), settings, name="x")
