"""IOC_MQTT_URL: parsed into a typed setting; errors name the part and never echo the password."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ioc.settings import Settings


def test_url_with_tls_escaped_credentials_and_client_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_MQTT_URL", "mqtts://ing%40est:p%3As%2Fs@broker.local?client_id=ingest-2")
    url = Settings().mqtt_url
    assert url is not None
    assert (url.host, url.port, url.tls, url.username, url.client_id) == (
        "broker.local",
        8883,
        True,
        "ing@est",
        "ingest-2",
    )
    assert url.password is not None and url.password.get_secret_value() == "p:s/s"
    assert "p:s/s" not in repr(url) and "p:s/s" not in str(url)


@pytest.mark.parametrize(
    ("value", "mentions"),
    [
        ("http://u:hunter2@host:1883", "scheme"),
        ("mqtt://u:hunter2@host:99999", "port"),
        ("mqtt://u:hunter2@host:1883/path", "path"),
        ("mqtt://u:hunter2@host:1883?qos=1", "qos"),
        ("mqtt://u:hunter2@:1883", "host"),
    ],
)
def test_bad_url_names_the_part_and_hides_the_password(
    monkeypatch: pytest.MonkeyPatch, value: str, mentions: str
) -> None:
    monkeypatch.setenv("IOC_MQTT_URL", value)
    with pytest.raises(ValidationError) as error:
        Settings()
    assert mentions in str(error.value) and "hunter2" not in str(error.value)
