"""onvif-zeep-async's own ONVIFCamera (what Home Assistant uses) accepts the simulator as a camera."""

from __future__ import annotations

from onvif import ONVIFCamera

from provisioning.onvif.client import warm_up


async def test_library_camera_with_its_own_time_adjustment(fleet):
    cam = await fleet(clock_offset_s=4 * 3600, model="DH-IPC-HFW2431S")
    await warm_up()
    camera = ONVIFCamera("127.0.0.1", cam.port, "admin", "admin123", no_cache=True, adjust_time=True)
    try:
        await camera.update_xaddrs()
        assert camera.dt_diff is not None and abs(camera.dt_diff.total_seconds() - 4 * 3600) < 3
        assert "http://www.onvif.org/ver20/media/wsdl" in camera.xaddrs
        devicemgmt = await camera.create_devicemgmt_service()
        info = await devicemgmt.GetDeviceInformation()
        assert info.Model == "DH-IPC-HFW2431S"
        media = await camera.create_media_service()
        profiles = await media.GetProfiles()
        assert [p.token for p in profiles] == ["MainStream", "SubStream"]
        assert (
            await camera.get_snapshot_uri("MainStream")
            == f"http://127.0.0.1:{cam.port}/onvif/snapshot/MainStream.jpg"
        )
        assert (await camera.get_snapshot("MainStream"))[:2] == b"\xff\xd8"  # a JPEG
    finally:
        await camera.close()


async def test_wsdls_are_parsed_once_per_process(fleet, monkeypatch):
    import onvif.client

    from provisioning.onvif.client import MEDIA2_WSDL
    from provisioning.onvif.probe import probe_onvif
    from tests.support.onvif import PASSWORD

    await warm_up()
    assert str(MEDIA2_WSDL) in onvif.client._DOCUMENT_CACHE
    parsed: list[str] = []
    original = onvif.client.DocumentWithDeferredLoad.original_load

    def counting_load(self, url, *args, **kwargs):
        parsed.append(url)
        return original(self, url, *args, **kwargs)

    monkeypatch.setattr(onvif.client.DocumentWithDeferredLoad, "original_load", counting_load)
    cam = await fleet(h265_only=True)
    for _ in range(3):
        await probe_onvif("127.0.0.1", cam.port, "admin", PASSWORD)
    assert parsed == []
