"""Typed credentials per protocol.

A credential is validated here, serialised to JSON, then encrypted as a whole before it touches the
database (see ``device_registry.crypto``). Secret fields are ``SecretStr`` so that a stray ``repr`` or
log line shows ``**********`` instead of the value.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, model_validator

SnmpAuthProtocol = Literal["none", "MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"]
SnmpPrivProtocol = Literal["none", "DES", "AES", "AES192", "AES256"]


class _CredentialBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SnmpCommunityCredential(_CredentialBase):
    """SNMP v1 or v2c: a community string."""

    protocol: Literal["snmp"] = "snmp"
    version: Literal["1", "2c"] = "2c"
    community: SecretStr


class SnmpV3Credential(_CredentialBase):
    """SNMP v3 USM user; the security level follows from which protocols are not ``none``."""

    protocol: Literal["snmp_v3"] = "snmp_v3"
    username: str = Field(min_length=1, max_length=32)
    auth_protocol: SnmpAuthProtocol = "none"
    auth_key: SecretStr | None = None
    priv_protocol: SnmpPrivProtocol = "none"
    priv_key: SecretStr | None = None

    @model_validator(mode="after")
    def _keys_for_protocols(self) -> SnmpV3Credential:
        """Refused here (422 naming the key), not deep in the SNMP client on the first request."""
        if self.auth_protocol != "none" and not self.auth_key:
            raise ValueError("auth_key: required when auth_protocol is not 'none'")
        if self.priv_protocol != "none" and (self.auth_protocol == "none" or not self.priv_key):
            raise ValueError("priv_key: privacy needs auth_protocol and priv_key")
        return self


class UsernamePasswordCredential(_CredentialBase):
    """ONVIF, RTSP and HTTP devices: a user name and a password."""

    protocol: Literal["onvif", "rtsp", "http"] = "onvif"
    username: str = Field(min_length=1, max_length=128)
    password: SecretStr


Credential = Annotated[
    SnmpCommunityCredential | SnmpV3Credential | UsernamePasswordCredential,
    Field(discriminator="protocol"),
]
credential_adapter: TypeAdapter[Credential] = TypeAdapter(Credential)


def credential_to_json(credential: Credential) -> bytes:
    """Serialise with secrets revealed: only ever handed straight to the encryptor."""
    data = credential.model_dump(mode="python")
    revealed = {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in data.items()}
    return json.dumps(revealed, ensure_ascii=False, separators=(",", ":")).encode()


def credential_from_json(raw: bytes) -> Credential:
    return credential_adapter.validate_json(raw)
