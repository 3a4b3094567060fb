"""The device clock as its HTTP server tells it: the ``Date`` header of any answer, even a refusal.

A camera that demands a login even for GetSystemDateAndTime cannot tell us its clock through ONVIF
until we log in, and when that clock is far off the login fails (WS-Security's time window). Its
web server still stamps every answer, the refusal included, with its own time: to the second, which
is enough to shift our WS-Security timestamps and log in.
"""

from __future__ import annotations

import email.utils
import time

from aiohttp import ClientHandlerType, ClientRequest, ClientResponse, hdrs


class ServerClock:
    """aiohttp client middleware remembering the device's clock offset from the last ``Date`` header."""

    def __init__(self) -> None:
        self.offset_s: float | None = None
        """Device clock minus ours, seconds; None until an answer carried a readable ``Date``."""

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        sent = time.time()
        response = await handler(request)
        stamp = response.headers.get(hdrs.DATE)
        if stamp:
            try:
                device = email.utils.parsedate_to_datetime(stamp)
            except (TypeError, ValueError):
                return response
            if device.tzinfo is not None:
                # Whole seconds, truncated: compare the middle of its second with the middle of the trip.
                self.offset_s = round(device.timestamp() + 0.5 - (sent + time.time()) / 2, 1)
        return response
