"""Region annotations on the fleet dashboard through ``grafana-client``.

The client is synchronous (niquests): these methods block and are called from the outbox's worker
threads. Requests go through the client's low-level ``POST``/``PATCH``/``GET`` with bodies built here,
because its ``add_annotation`` and ``partial_update_annotation`` helpers send ``null`` for every
argument left out (``panelId``, ``timeEnd``, ``text``), which Grafana's published schema does not allow.
Errors map to one typed :class:`GrafanaError` whose ``retryable`` tells the outbox whether to try again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import niquests
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaServerError


class GrafanaError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def _mapped(error: GrafanaException) -> GrafanaError:
    status = error.status_code
    if isinstance(error, GrafanaServerError) or status in (0, 408, 429):
        return GrafanaError(
            f"Grafana unavailable ({status or 'no connection'}): {error.message}", retryable=True
        )
    if isinstance(error, GrafanaClientError):
        return GrafanaError(f"Grafana rejected the request ({status}): {error.message}", retryable=False)
    return GrafanaError(f"Grafana request failed: {error.message}", retryable=True)


class GrafanaAnnotations:
    def __init__(self, url: str, token: str | None, *, timeout: float = 5.0) -> None:
        self._api = GrafanaApi.from_url(url, credential=token, timeout=timeout)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._api.client, method)(path, **kwargs)
        except GrafanaException as error:
            raise _mapped(error) from error
        except niquests.exceptions.RequestException as error:
            raise GrafanaError(f"Grafana unavailable (no connection): {error}", retryable=True) from error

    def open_region(self, *, start_ms: int, text: str, tags: Sequence[str], dashboard_uid: str | None) -> int:
        """Create a region annotation that starts at ``start_ms``; returns its id."""
        body: dict[str, Any] = {"time": start_ms, "tags": list(tags), "text": text}
        if dashboard_uid:
            body["dashboardUID"] = dashboard_uid
        answer = self._call("POST", "/annotations", json=body)
        try:
            return int(answer["id"])
        except (KeyError, TypeError, ValueError) as error:
            raise GrafanaError(
                f"Grafana answered without an annotation id: {answer!r}", retryable=True
            ) from error

    def close_region(self, annotation_id: int, *, end_ms: int, text: str | None = None) -> None:
        body: dict[str, Any] = {"timeEnd": end_ms}
        if text:
            body["text"] = text
        self._call("PATCH", f"/annotations/{annotation_id}", json=body)

    def find_by_tag(self, tag: str) -> int | None:
        """The id of an annotation carrying ``tag``: how a retried create finds the one a lost answer made."""
        found = self._call("GET", "/annotations", params={"tags": tag, "type": "annotation", "limit": 1})
        if isinstance(found, list) and found:
            return int(found[0]["id"])
        return None
