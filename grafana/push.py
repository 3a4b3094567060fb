"""``ioc grafana push``: create or update the IOC folder, datasource and dashboards over Grafana's API.

Idempotent by uid: each object is read first and written only when it is missing or differs from what
we would write, so a second push sends no write at all. Order is folder, datasource, dashboards: each
write is one API call that Grafana applies whole, so a push that fails half-way leaves complete objects
behind, never a half-made one, and a rerun writes only what is still missing.

Requests go through grafana-client's low-level verbs with bodies built here (as grafana/annotations.py
does), because its helpers send ``null`` for arguments left out, which Grafana's schema does not allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import niquests
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaException

from grafana.dashboards import FOLDER_TITLE, FOLDER_UID, all_dashboards
from grafana.influxql import DATASOURCE_UID
from grafana.provisioning import dashboard_json

DATASOURCE_COMPARED = ("name", "type", "access", "url", "user", "isDefault", "jsonData")


class PushError(Exception):
    """One line for the operator; never carries the token."""


@dataclass
class PushReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


class GrafanaPusher:
    def __init__(self, url: str, token: str, *, timeout: float = 10.0) -> None:
        self._url = url
        self._api = GrafanaApi.from_url(url, credential=token, timeout=timeout)

    def _call(self, method: str, path: str, *, missing_ok: bool = False, **kwargs: Any) -> Any:
        """One request; with ``missing_ok`` a 404 answers None instead of failing."""
        try:
            return getattr(self._api.client, method)(path, **kwargs)
        except GrafanaException as error:
            status = error.status_code
            if missing_ok and status == 404:
                return None
            if status == 401:
                raise PushError(f"Grafana at {self._url}: authentication failed (HTTP 401)") from None
            if status == 403:
                raise PushError(
                    f"Grafana at {self._url}: permission denied for {method} {path} (HTTP 403): the token "
                    "needs the Editor role, and datasources provisioned from files cannot be changed"
                ) from None
            if not status:
                raise PushError(
                    f"Grafana at {self._url} is unreachable: {str(error.message).splitlines()[0][:200]}"
                ) from None
            raise PushError(f"Grafana at {self._url} refused {method} {path} (HTTP {status})") from None
        except niquests.exceptions.RequestException as error:
            raise PushError(f"Grafana at {self._url} is unreachable: {type(error).__name__}") from None

    def _get(self, path: str) -> Any | None:
        return self._call("GET", path, missing_ok=True)

    def push(self, datasource: dict[str, Any]) -> PushReport:
        report = PushReport()
        self._folder(report)
        self._datasource(datasource, report)
        for board in all_dashboards():
            self._dashboard(dashboard_json(board), report)
        return report

    def _folder(self, report: PushReport) -> None:
        name = f"folder {FOLDER_UID}"
        existing = self._get(f"/folders/{FOLDER_UID}")
        if existing is None:
            self._call("POST", "/folders", json={"uid": FOLDER_UID, "title": FOLDER_TITLE})
            report.created.append(name)
        elif existing.get("title") != FOLDER_TITLE:
            body = {"title": FOLDER_TITLE, "version": existing.get("version", 0), "overwrite": True}
            self._call("PUT", f"/folders/{FOLDER_UID}", json=body)
            report.updated.append(name)
        else:
            report.unchanged.append(name)

    def _datasource(self, wanted: dict[str, Any], report: PushReport) -> None:
        name = f"datasource {DATASOURCE_UID}"
        existing = self._get(f"/datasources/uid/{DATASOURCE_UID}")
        if existing is None:
            self._call("POST", "/datasources", json=wanted)
            report.created.append(name)
            return
        # Grafana answers "" / false / {} for what was never set: compare those as absent.
        differs = any((existing.get(key) or None) != (wanted.get(key) or None) for key in DATASOURCE_COMPARED)
        # Grafana never returns secrets; it says which are set. A password given but not set is a change.
        secrets_missing = set(wanted.get("secureJsonData", {})) - set(existing.get("secureJsonFields") or {})
        if differs or secrets_missing:
            body = {**wanted, "version": existing.get("version", 0)}
            self._call("PUT", f"/datasources/uid/{DATASOURCE_UID}", json=body)
            report.updated.append(name)
        else:
            report.unchanged.append(name)

    def _dashboard(self, wanted: dict[str, Any], report: PushReport) -> None:
        uid = str(wanted["uid"])
        name = f"dashboard {uid}"
        existing = self._get(f"/dashboards/uid/{uid}")
        if existing is not None:
            stored = {k: v for k, v in existing.get("dashboard", {}).items() if k not in ("id", "version")}
            if stored == wanted and existing.get("meta", {}).get("folderUid") == FOLDER_UID:
                report.unchanged.append(name)
                return
        body = {
            "dashboard": wanted,
            "folderUid": FOLDER_UID,
            "overwrite": True,
            "message": "ioc grafana push",
        }
        self._call("POST", "/dashboards/db", json=body)
        (report.created if existing is None else report.updated).append(name)
