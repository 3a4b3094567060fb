"""The one tag scheme (device_registry.tags.device_tags), level by level, before and after the reform."""

from __future__ import annotations

import pytest

from device_registry.tags import TAG_KEYS, device_tags
from device_registry.targets import DeviceTarget

CASES = [
    (
        "pre-reform building: province > district > commune > building",
        (("TB", "province"), ("TB-VT", "district"), ("TB-VT-TH", "commune"), ("BLD-7", "site")),
        {"province": "TB", "district": "TB-VT", "commune": "TB-VT-TH", "site": "BLD-7"},
    ),
    (
        "pre-reform ward and township count as the commune level",
        (("TB", "province"), ("TB-TP", "district"), ("TB-TP-KL", "ward")),
        {"province": "TB", "district": "TB-TP", "commune": "TB-TP-KL", "site": "TB-TP-KL"},
    ),
    (
        "pre-reform township",
        (("TB", "province"), ("TB-VT", "district"), ("TB-VT-TT", "township")),
        {"province": "TB", "district": "TB-VT", "commune": "TB-VT-TT", "site": "TB-VT-TT"},
    ),
    (
        "post-reform: province > commune, no district tag at all",
        (("33", "province"), ("12345", "commune")),
        {"province": "33", "commune": "12345", "site": "12345"},
    ),
    (
        "post-reform building under a commune",
        (("33", "province"), ("12345", "commune"), ("BLD-9", "site")),
        {"province": "33", "commune": "12345", "site": "BLD-9"},
    ),
    (
        "a device directly on a district",
        (("TB", "province"), ("TB-VT", "district")),
        {"province": "TB", "district": "TB-VT", "site": "TB-VT"},
    ),
    ("a device directly on a province", (("TB", "province"),), {"province": "TB", "site": "TB"}),
    ("a free-standing site (no administrative unit)", (("DC-1", "site"),), {"site": "DC-1"}),
    ("no site chain", (), {}),
]


@pytest.mark.parametrize(("chain", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_tags_name_each_administrative_level_by_its_code(chain, expected) -> None:
    codes = tuple(code for code, _ in chain)
    kinds = tuple(kind for _, kind in chain)
    tags = device_tags(42, "Cổng UBND", "camera", codes, kinds)
    assert tags == {"device_id": "42", "device": "Cổng UBND", "kind": "camera", **expected}
    assert list(tags) == [k for k in TAG_KEYS if k in tags], "keys come in one documented order"
    target = DeviceTarget(42, "Cổng UBND", "camera", "127.0.0.1", site_codes=codes, site_kinds=kinds)
    assert target.tags == tags


def test_a_name_the_line_protocol_cannot_carry_is_made_storable() -> None:
    tags = device_tags(7, "Cam\ncổng  chính\\", "camera", ("TB",), ("province",))
    assert tags["device"] == "Cam cổng chính"
    assert device_tags(7, " \n", "camera", (), ()) == {"device_id": "7", "kind": "camera"}


def test_target_tags_are_a_fresh_dict_each_time() -> None:
    target = DeviceTarget(1, "sw", "switch", "127.0.0.1", site_codes=("TB",), site_kinds=("province",))
    target.tags["if_name"] = "eth0"
    assert "if_name" not in target.tags
