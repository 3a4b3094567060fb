"""Real servers that receive what alerting sends: an SMTP server (aiosmtpd) and a JSON webhook receiver.

Both listen on loopback ports and can be stopped and started again on the same port, which is how the
tests simulate a mail or webhook outage.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from werkzeug.wrappers import Request, Response

from tests.support.process import free_port
from tests.support.wsgi import LoopbackWsgi


@dataclass
class WebhookReceiver:
    """Accepts apprise's ``json://`` POSTs and keeps each decoded body, in arrival order."""

    port: int = field(default_factory=free_port)
    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    _server: LoopbackWsgi | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def start(self) -> WebhookReceiver:
        self._server = LoopbackWsgi(self.port, self._wsgi, "webhook")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if self.status != 200:
            return Response("unavailable", status=self.status)(environ, start_response)
        payload = json.loads(request.get_data(as_text=True))
        with self.arrived:
            self.received.append(payload)
            self.arrived.notify_all()
        return Response("{}", mimetype="application/json")(environ, start_response)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)


class _Collect:
    def __init__(self, box: list[EmailMessage]) -> None:
        self.box = box

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.box.append(message)
        return "250 OK"


@dataclass
class SmtpServer:
    """aiosmtpd on a loopback port; messages are parsed with the modern email policy (decoded headers)."""

    port: int = field(default_factory=free_port)
    messages: list[EmailMessage] = field(default_factory=list)
    _controller: Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = Controller(_Collect(self.messages), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def url(self, to: str = "doi-vu-thu@example.vn") -> str:
        return f"mailto://127.0.0.1:{self.port}?from=ioc@example.vn&to={to}"
