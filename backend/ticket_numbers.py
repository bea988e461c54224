"""Ticket numbers SS-AAAA-NNNNNN as text: formatted, and read back from loose typing.

Pure text, no database: the Rasa server's entity extractor (components/patterns.py) imports it, and must not load the
ORM models for that; handing numbers out is backend.numbering's.
"""
from __future__ import annotations

import re

# With the "SS" prefix any separator and a short sequence are fine ("ss2026000123", "SS 2026 123");
# without it, only "2026/000123"-like forms count, so a stray year next to a number is not a ticket.
_WITH_PREFIX = re.compile(r"\bss[\s\-_/.#:]*((?:19|20)\d{2})[\s\-_/.]*(\d{1,6})(?!\d)", re.IGNORECASE)
_BARE = re.compile(r"(?<![\d.\-/])((?:19|20)\d{2})(?:[/\-]\s*(\d{1,6})|\s*(\d{6}))(?![\d.\-/])")


def format_number(year: int, sequence: int) -> str:
    return f"SS-{year:04d}-{sequence:06d}"


def search_number(text: str | None) -> tuple[str, int, int] | None:
    """The first ticket number in the text: (canonical, start, end), or None."""
    text = text or ""
    match = _WITH_PREFIX.search(text)
    if match:
        return format_number(int(match.group(1)), int(match.group(2))), match.start(), match.end()
    match = _BARE.search(text)
    if match:
        canonical = format_number(int(match.group(1)), int(match.group(2) or match.group(3)))
        return canonical, match.start(), match.end()
    return None


def parse_number(text: str | None) -> str | None:
    """The canonical number found in what the user typed, or None."""
    found = search_number(text)
    return found[0] if found else None
