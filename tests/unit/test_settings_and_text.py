from __future__ import annotations

from pathlib import Path

import pytest

from device_registry.credentials import SnmpV3Credential
from device_registry.crypto import SecretBox, SecretBoxError, generate_key, load_or_create_key_file
from device_registry.text import fold, like_pattern
from ioc.settings import Settings


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Huyện Vũ Thư", "huyen vu thu"),
        ("Đông Hưng", "dong hung"),
        ("  Xã   Hồng  Lý ", "xa hong ly"),
        ("THỊ TRẤN ĐÔNG HƯNG", "thi tran dong hung"),
    ],
)
def test_fold_makes_vietnamese_accent_insensitive(text, folded):
    assert fold(text) == folded


def test_like_pattern_escapes_wildcards():
    assert like_pattern("50%_off") == "%50\\%\\_off%"


def test_settings_from_env_and_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "ioc.toml"
    config.write_text('log_level = "DEBUG"\n[api]\nport = 9100\n', encoding="utf-8")
    monkeypatch.setenv("IOC_CONFIG", str(config))
    monkeypatch.setenv("IOC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("IOC_API__HOST", "0.0.0.0")
    monkeypatch.setenv("IOC_SECRET_KEY", "not-shown")
    settings = Settings()
    assert (settings.log_level, settings.api.port, settings.api.host) == ("DEBUG", 9100, "0.0.0.0")
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'home' / 'registry.db'}"
    assert "not-shown" not in repr(settings) and "not-shown" not in str(settings.model_dump())


def test_secret_box_round_trip_and_wrong_key(tmp_path: Path):
    key_file = tmp_path / "secret.key"
    key = load_or_create_key_file(key_file, create=True)
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert load_or_create_key_file(key_file, create=False).get_secret_value() == key.get_secret_value()
    credential = SnmpV3Credential(
        username="noc",
        auth_protocol="SHA256",
        auth_key="auth-pass-1",
        priv_protocol="AES",
        priv_key="priv-pass-1",
    )
    sealed = SecretBox(key).seal(credential)
    assert b"auth-pass-1" not in sealed
    assert SecretBox(key).open(sealed) == credential
    with pytest.raises(SecretBoxError):
        SecretBox(generate_key()).open(sealed)
    with pytest.raises(SecretBoxError):
        load_or_create_key_file(tmp_path / "missing.key", create=False)
