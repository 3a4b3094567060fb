"""Bounds every payload must respect, checked before and after parsing.

They exist so that one broken or hostile sensor cannot exhaust the ingest: a size cap before any
parsing, a record cap, string caps, and a plausible time window (device clocks that never synced
report 1970; firmware that sends milliseconds where seconds belong lands in the year 50000).
"""

from __future__ import annotations

import re

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_RECORDS = 1000
MAX_NAME_CHARS = 200
MAX_STRING_CHARS = 1024
MAX_DATA_CHARS = 8192
MIN_TIME_S = 946_684_800.0  # 2000-01-01T00:00:00Z
MAX_FUTURE_S = 24 * 3600.0
RELATIVE_TIME_LIMIT = 2.0**28  # RFC 8428 4.5.3: smaller times are relative to "now"

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-:./_]*\Z")
"""RFC 8428 4.5.1: the resolved name's character set and first character."""

BASE64URL_RE = re.compile(r"[A-Za-z0-9_-]*\Z")
"""RFC 8428 4.3: ``vd`` is base64url without padding."""
