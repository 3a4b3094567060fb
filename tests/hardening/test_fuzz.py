"""The whole API fuzzed from its own OpenAPI schema against a real uvicorn, with every role's token:
no 5xx, and every status code, content type and body the one the schema declares.

Deterministic (derandomized, no example database) and bounded so CI is stable and fast.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from device_registry.crypto import generate_key
from ioc.app import create_app
from ioc.settings import Settings
from tests.support.live_api import LiveApi, start_live_api

ROLES = (None, "admin", "engineer_d1", "engineer_a", "operator", "maintenance_a")
"""Anonymous, admin, an engineer over a district, the scoped engineer and maintainer of commune A,
an unscoped operator."""
CLOSED_PORT = 9  # discard: nothing listens on loopback here, so probes time out quickly
LOOPBACK = {"host": "127.0.0.1", "address": "127.0.0.1", "cidr": "127.0.0.1/32"}
QUICK: dict[str, object] = {
    "port": CLOSED_PORT,
    "timeout": 0.2,
    "timeout_s": 0.5,
    "listen_s": 0.2,
    "retries": 0,
}


def _pin_to_loopback(case: Case) -> None:
    """Routes that contact devices (probe, onboard, discover) get loopback and a closed port whatever
    was generated: the fuzzer must never send a packet, or a DNS query, off this machine."""
    if isinstance(case.body, dict) and any(key in case.body for key in LOOPBACK):
        pinned: dict[str, Any] = {**LOOPBACK, **QUICK}
        case.body.update({key: value for key, value in pinned.items() if key in case.body})


def no_server_error(ctx, response, case):
    """5xx never, except the 502 a route declares for a device that did not answer (our loopback)."""
    if response.status_code == 502 and "502" in case.operation.definition.raw.get("responses", {}):
        return True
    return not_a_server_error(ctx, response, case)


SELF_REVOKING = {"DELETE /api/v1/me/tokens"}
"""Revokes every token of the caller, the role tokens of this run included: fuzzed anonymously only
(with a role it would turn every later operation into a 401)."""

CHECKS = [no_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = int(os.environ.get("IOC_FUZZ_EXAMPLES", "4"))


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    live = start_live_api(tmp_path_factory.mktemp("fuzz"))
    try:
        for site in ("A", "B"):  # something for the read routes to return
            created = httpx.post(
                f"{live.base}/api/v1/devices",
                json={"name": f"sw-{site}", "kind": "switch", "site_code": site, "address": "127.0.0.1"},
                headers=live.headers("admin"),
            )
            assert created.status_code == 201, created.text
        yield live
    finally:
        live.server.stop()
        log = live.server.log_path.read_text(errors="replace")
        assert "Traceback" not in log, log[-4000:]


def _send(case: Case, base: str, headers: dict[str, str]) -> httpx.Response:
    """Through httpx: schemathesis's own requests transport trips over urllib3-future (which
    grafana-client's niquests installs in place of urllib3)."""
    sent = case.as_transport_kwargs(base_url=base, headers=headers)
    body = sent.pop("data", None)
    # The role's token, or none: never the generated one (its "Bearer " is not even sendable).
    sent_headers = {k: v for k, v in sent.pop("headers", {}).items() if k.lower() != "authorization"}
    return httpx.request(
        sent.pop("method"),
        sent.pop("url"),
        headers={**sent_headers, **headers},
        params=sent.pop("params", None),
        cookies=sent.pop("cookies", None),
        json=sent.pop("json", None),
        content=body if isinstance(body, bytes | str) else None,
        data=body if isinstance(body, dict) else None,
        files=sent.pop("files", None),
        timeout=20,
    )


def _schema() -> BaseSchema:
    """Built from the app in-process at collection time (it depends on the code, not on the data), so
    each operation is its own test; the requests go to the live server."""
    app = create_app(Settings(secret_key=generate_key()))
    return schemathesis.openapi.from_dict(app.openapi())


SCHEMA = _schema()
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations() if isinstance(result, Ok)]
assert len(OPERATIONS) == len(list(SCHEMA.get_all_operations())), "an operation's schema is invalid"


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_no_server_error_and_nothing_outside_the_schema(operation: APIOperation, live_api: LiveApi):
    roles = (None,) if operation.label in SELF_REVOKING else ROLES
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        phases=(Phase.explicit, Phase.generate),  # a failure is reported as found: no minutes of shrinking
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Case) -> None:
        _pin_to_loopback(case)
        for who in roles:
            response = _send(case, live_api.base, live_api.headers(who))
            case.validate_response(response, checks=CHECKS, headers=live_api.headers(who))

    fuzz()


def test_the_server_survived_the_fuzzing(live_api: LiveApi, tmp_path: Path):
    health = httpx.get(f"{live_api.base}/api/v1/health")
    assert health.status_code == 200 and health.json()["database"] == "ok"
    assert httpx.get(f"{live_api.base}/api/v1/me", headers=live_api.headers("operator")).status_code == 200
