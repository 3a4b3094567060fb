"""A fake Grafana: a real HTTP server on a loopback port that checks every request against Grafana's spec.

No Grafana can be installed on the test machines, so the annotation client is tested against this server.
Each request's method, path, query, headers and JSON body is validated with openapi-core against Grafana's
published OpenAPI document (``/work/shared/grafana/grafana-openapi.json``); a request the spec does not
accept, an unknown path included, is answered 400/404 and recorded in :attr:`FakeGrafana.violations`,
which the fixture asserts empty at teardown. Only ``GET /api/health`` is allowed outside the spec (the
spec documents no top-level health path, yet clients call it).

The annotations it accepts are stored so tests can assert on them, and :meth:`go_down` switches the
server to answering 503 or to a closed port, to test the durable outbox.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest
from werkzeug.wrappers import Request, Response

from tests.support.process import free_port
from tests.support.wsgi import LoopbackWsgi

SPEC_PATH = Path(__file__).resolve().parents[2] / ".." / "shared" / "grafana" / "grafana-openapi.json"
FALLBACK_SPEC_PATH = Path("/work/shared/grafana/grafana-openapi.json")
ALLOWED_OUTSIDE_SPEC = {("GET", "/api/health")}


@cache
def grafana_spec() -> OpenAPI:
    """Loaded once per test run (it is 700 kB); spec validation is off, see the shared README."""
    from openapi_core import Config

    path = SPEC_PATH if SPEC_PATH.is_file() else FALLBACK_SPEC_PATH
    if not path.is_file():
        raise FileNotFoundError(f"Grafana OpenAPI spec not found at {SPEC_PATH} or {FALLBACK_SPEC_PATH}")
    return OpenAPI.from_file_path(str(path), config=Config(spec_validator_cls=None))


@dataclass
class FakeGrafana:
    token: str = "fake-grafana-token"
    port: int = field(default_factory=free_port)
    annotations: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    """uid -> {"dashboard": ..., "folderUid": ..., "version": ...}, as the provisioning API stores them."""
    writes_left: int | None = None
    """When set, only this many more writes (POST/PUT) succeed; later ones answer 503, as a Grafana
    that goes away in the middle of a push would."""
    mode: str = "up"
    """``up``, ``503`` (answers every request with 503), ``closed`` (nothing listens on the port), or
    ``lose-answer`` (stores a created annotation, then answers 503 as if the reply was lost)."""
    _server: LoopbackWsgi | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeGrafana:
        self.spec = grafana_spec()
        self._server = LoopbackWsgi(self.port, self._wsgi, "fake-grafana")
        self.mode = "up"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def go_down(self, how: str = "503") -> None:
        if how == "closed":
            self.stop()
        self.mode = how

    def come_back(self) -> None:
        if self._server is None:
            self.start()
        self.mode = "up"

    # --- the server -------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._answer(request)
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if self.mode == "503":
            return Response("Grafana is down", status=503)
        body = request.get_data(as_text=True)
        parsed = json.loads(body) if body else None
        with self._lock:
            self.requests.append((request.method, request.path, parsed))
        if (request.method, request.path) in ALLOWED_OUTSIDE_SPEC:
            return _json({"database": "ok", "version": "11.3.0"})
        try:
            self.spec.validate_request(WerkzeugOpenAPIRequest(request))
        except Exception as error:
            detail = f"{request.method} {request.path}: {type(error).__name__}: {error}"
            cause = getattr(error, "__cause__", None) or getattr(error, "schema_errors", None)
            if cause:
                detail += f" ({cause})"
            with self._lock:
                self.violations.append(detail)
            return _json({"message": detail}, 400)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json({"message": "Unauthorized"}, 401)
        return self._route(request, parsed)

    def writes(self) -> list[tuple[str, str]]:
        """Method and path of every state-changing request received, in order."""
        return [(m, p) for m, p, _ in self.requests if m in ("POST", "PUT", "PATCH", "DELETE")]

    def _route(self, request: Request, body: Any) -> Response:
        parts = request.path.strip("/").split("/")
        if request.method in ("POST", "PUT") and parts[1:2] != ["annotations"]:
            with self._lock:
                if self.writes_left is not None:
                    if self.writes_left <= 0:
                        return Response("Grafana went away", status=503)
                    self.writes_left -= 1
            return self._provision(request.method, parts[1:], body)
        if request.method == "GET" and parts[1:2] in (["folders"], ["datasources"], ["dashboards"]):
            return self._provision("GET", parts[1:], body)
        with self._lock:
            if request.method == "POST" and parts == ["api", "annotations"]:
                annotation_id = self._next_id
                self._next_id += 1
                self.annotations[annotation_id] = {"id": annotation_id, **body}
                if self.mode == "lose-answer":
                    return Response("lost", status=503)
                return _json({"message": "Annotation added", "id": annotation_id})
            if request.method == "PATCH" and parts[:2] == ["api", "annotations"] and len(parts) == 3:
                annotation_id = int(parts[2])
                if annotation_id not in self.annotations:
                    return _json({"message": "Could not find annotation to update"}, 404)
                self.annotations[annotation_id].update(body)
                return _json({"message": "Annotation patched"})
            if request.method == "GET" and parts == ["api", "annotations"]:
                tags = set(request.args.getlist("tags"))
                found = [a for a in self.annotations.values() if tags <= set(a.get("tags", []))]
                limit = int(request.args.get("limit", len(found) or 1))
                return _json(found[:limit])
        with self._lock:
            self.violations.append(f"{request.method} {request.path}: valid per spec but not faked here")
        return _json({"message": "not implemented by the fake"}, 501)

    def _provision(self, method: str, parts: list[str], body: Any) -> Response:
        """Folders, datasources and dashboards by uid: what ``ioc grafana push`` uses."""
        with self._lock:
            match method, parts:
                case "GET", ["folders", uid]:
                    found = self.folders.get(uid)
                    return _json(found) if found else _json({"message": "folder not found"}, 404)
                case "POST", ["folders"]:
                    if body["uid"] in self.folders:
                        return _json({"message": "a folder with the same uid already exists"}, 409)
                    folder = self.folders[body["uid"]] = {"id": len(self.folders) + 1, "version": 1, **body}
                    return _json(folder)
                case "PUT", ["folders", uid] if uid in self.folders:
                    folder = self.folders[uid]
                    folder.update(title=body["title"], version=folder["version"] + 1)
                    return _json(folder)
                case "GET", ["datasources", "uid", uid]:
                    if uid not in self.datasources:
                        return _json({"message": "Data source not found"}, 404)
                    stored = dict(self.datasources[uid])
                    secrets = stored.pop("secureJsonData", {})
                    return _json({**stored, "secureJsonFields": dict.fromkeys(secrets, True)})
                case "POST", ["datasources"]:
                    if body["uid"] in self.datasources:
                        return _json({"message": "data source with the same uid already exists"}, 409)
                    self.datasources[body["uid"]] = {"id": len(self.datasources) + 1, "version": 1, **body}
                    return _json({"message": "Datasource added", "id": len(self.datasources)})
                case "PUT", ["datasources", "uid", uid] if uid in self.datasources:
                    old = self.datasources[uid]
                    self.datasources[uid] = {**body, "id": old["id"], "version": old["version"] + 1}
                    return _json({"message": "Datasource updated"})
                case "GET", ["dashboards", "uid", uid]:
                    if uid not in self.dashboards:
                        return _json({"message": "Dashboard not found"}, 404)
                    saved = self.dashboards[uid]
                    board = {**saved["dashboard"], "id": saved["id"], "version": saved["version"]}
                    return _json({"dashboard": board, "meta": {"folderUid": saved["folderUid"]}})
                case "POST", ["dashboards", "db"]:
                    uid = body["dashboard"]["uid"]
                    if body.get("folderUid") not in self.folders:
                        return _json({"message": "folder not found"}, 400)
                    previous = self.dashboards.get(uid)
                    if previous is not None and not body.get("overwrite"):
                        return _json({"message": "The dashboard has been changed by someone else"}, 412)
                    version = previous["version"] + 1 if previous else 1
                    ident = previous["id"] if previous else len(self.dashboards) + 1
                    self.dashboards[uid] = {
                        "dashboard": body["dashboard"],
                        "folderUid": body["folderUid"],
                        "version": version,
                        "id": ident,
                    }
                    return _json(
                        {"id": ident, "uid": uid, "url": f"/d/{uid}", "status": "success", "version": version}
                    )
            self.violations.append(f"{method} /api/{'/'.join(parts)}: valid per spec but not faked here")
        return _json({"message": "not implemented by the fake"}, 501)


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status=status, mimetype="application/json")
