"""Rewriting reported URLs to the registered address: the rules, one case each."""

from __future__ import annotations

from provisioning.onvif.stored import StoredCamera
from provisioning.pinning import Pin, strip_userinfo

NAT = Pin("203.0.113.7", 8080, service_port=80)


def test_service_addresses_take_the_registered_host_and_port_whatever_they_said():
    assert (
        NAT.service("http://192.168.1.64/onvif/media_service")
        == "http://203.0.113.7:8080/onvif/media_service"
    )
    assert NAT.service("http://10.0.0.9:9999/onvif/Media2") == "http://203.0.113.7:8080/onvif/Media2"
    assert Pin("fd00::7", 80).service("http://[fe80::1]:80/onvif/device_service") == (
        "http://[fd00::7]:80/onvif/device_service"
    )


def test_media_port_follows_only_when_it_is_the_device_service_port():
    assert NAT.media("http://192.168.1.64/onvif/snap.jpg") == "http://203.0.113.7:8080/onvif/snap.jpg"
    assert NAT.media("rtsp://192.168.1.64:554/Streaming/101") == "rtsp://203.0.113.7:554/Streaming/101"
    assert NAT.media("rtsp://192.168.1.64/Streaming/101") == "rtsp://203.0.113.7/Streaming/101"
    assert Pin("127.0.0.1", 8080).media("http://10.1.1.1:80/snap") == "http://127.0.0.1:80/snap"


def test_embedded_credentials_are_kept_for_use_and_stripped_for_storage():
    used = NAT.media("rtsp://cam:s3cret@192.168.1.64:554/live")
    assert used == "rtsp://cam:s3cret@203.0.113.7:554/live"
    assert strip_userinfo(used) == "rtsp://203.0.113.7:554/live"


def test_opt_out_keeps_what_the_device_reported():
    kept = Pin("203.0.113.7", 8080, 80, keep_reported=True)
    assert kept.service("http://192.168.1.64/onvif/x") == "http://192.168.1.64/onvif/x"
    assert kept.media("rtsp://192.168.1.64/live") == "rtsp://192.168.1.64/live"


def test_stored_addresses_follow_a_readdressed_camera():
    stored = StoredCamera.from_attributes(
        {
            "onvif": {
                "version": 1,
                "device_service_url": "http://10.0.0.5:8000/onvif/services",
                "profiles": [
                    {"token": "p1", "stream_uri": "rtsp://10.0.0.5:8000/h264"},
                    {"token": "p2", "stream_uri": "rtsp://x/2"},
                ],
            }
        }
    )
    assert stored.device_url("10.9.9.9", 8001) == "http://10.9.9.9:8001/onvif/services"
    assert stored.pinned_stream_uri("10.9.9.9", 8001) == "rtsp://10.9.9.9:8001/h264"
    assert StoredCamera.from_attributes({}).device_url("::1", None) == "http://[::1]:80/onvif/device_service"
