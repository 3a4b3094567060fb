"""Reading ProbeMatches the way real cameras send them (no network: message level)."""

from __future__ import annotations

from provisioning.onvif.wsdiscovery import build_probe, parse_probe_matches
from simulators.onvif_camera.config import CameraConfig
from simulators.onvif_camera.device import SimulatedCamera
from simulators.onvif_camera.discovery import probe_match


def _camera(name: str = "Cổng A&B") -> SimulatedCamera:
    camera = SimulatedCamera(CameraConfig(name=name, model="DS-2CD2143", location="Hưng Yên", port=8080))
    camera.port = 8080
    return camera


def test_probe_asks_for_network_video_transmitters():
    message_id, datagram = build_probe()
    assert message_id.startswith("uuid:")
    assert b"NetworkVideoTransmitter" in datagram and message_id.encode() in datagram


def test_well_formed_answer():
    [match] = parse_probe_matches(probe_match(_camera(), "uuid:1", "uuid:2", None))
    assert match.relates_to == "uuid:1"
    assert match.xaddrs == ["http://127.0.0.1:8080/onvif/device_service"]
    assert "onvif://www.onvif.org/name/C%E1%BB%95ng%20A%26B" in match.scopes


def test_answer_without_probematches_wrapper():
    datagram = probe_match(_camera(), "uuid:1", "uuid:2", "no_wrapper")
    assert b"ProbeMatches>" not in datagram
    [match] = parse_probe_matches(datagram)
    assert match.endpoint.startswith("urn:uuid:") and match.xaddrs


def test_answer_with_unescaped_ampersand_in_scopes():
    datagram = probe_match(_camera(), "uuid:1", "uuid:2", "unescaped_scopes")
    assert "Cổng_A&B".encode() in datagram  # really not XML as sent
    [match] = parse_probe_matches(datagram)
    assert "onvif://www.onvif.org/name/Cổng_A&B" in match.scopes
    assert match.xaddrs == ["http://127.0.0.1:8080/onvif/device_service"]


def test_garbage_and_entity_bombs_yield_nothing():
    assert parse_probe_matches(b"\x00\xff not xml") == []
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><ProbeMatch>'
        b"<XAddrs>&b;</XAddrs></ProbeMatch></s:Body></s:Envelope>"
    )
    assert parse_probe_matches(bomb) == []
