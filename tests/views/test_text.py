"""Values from outside reach a terminal as inert text."""

from fleet.views.text import REPLACEMENT, has_control, plain


def test_escape_sequences_and_controls_are_replaced() -> None:
    title = "web\x1b]0;pwned\x07.example"
    shown = plain(title)
    assert "\x1b" not in shown and "\x07" not in shown
    assert shown == f"web{REPLACEMENT}]0;pwned{REPLACEMENT}.example"


def test_newline_tab_c1_and_bidi_overrides_are_replaced() -> None:
    for ch in ("\n", "\t", "\r", "\x00", "\x7f", "\x9b", "\u202e", "\u2066"):
        assert plain(f"a{ch}b") == f"a{REPLACEMENT}b"
        assert has_control(f"a{ch}b")


def test_ordinary_text_is_unchanged() -> None:
    for s in ("nyc1-dl360-007.hosting.example", "Müller GmbH", "PSU 2 [/bold]", "Ünïcödé ✓"):
        assert plain(s) == s
        assert not has_control(s)
    assert plain(None) == ""
