"""What the demo fleet is: every device, where it stands (pre-2025 commune), its address and uplinks.

Built from the shipped unit data of pre-2025 Thái Bình (province 34), so names and codes are real.
``small`` (about 60 devices): the core router, the 8 district switches, two communes per district
with a switch, a camera and a sensor each, and one 4-channel NVR. ``province`` (about 1,000): every
commune, each with a switch, a camera and two sensors, and one NVR per district. Every address is on
loopback: ``127.N.…`` with ``N`` chosen per IOC_HOME (so two demos do not collide).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from device_registry.vn.data import Unit, legacy_province

PROVINCE = "34"
SNMP_PORT = 1161
ONVIF_PORT = 8000
Size = Literal["small", "province"]
SIZES: tuple[Size, ...] = ("small", "province")

CORE_WALK = "network/router/cisco-unmarked-0.snmprec.bz2"
DISTRICT_WALKS = (
    "network/switch/huawei-s12704.snmprec.bz2",
    "network/switch/h3c-e528-2.snmprec.bz2",
    "network/switch/cisco-c3750.snmprec.bz2",
    "network/switch/ruijie-s5750-24gt12sfp.snmprec.bz2",
)
COMMUNE_WALKS = (
    "network/switch/dlink-des3200.snmprec.bz2",
    "network/switch/cisco-c3560.snmprec.bz2",
    "network/switch/maipu-sm4200-16gef8ge-ac.snmprec.bz2",
    "network/switch/bdcom-s5612.snmprec.bz2",
)
CAMERA_MODELS = (("Hikvision", "DS-2CD2T47G2"), ("Dahua", "IPC-HFW2441S"), ("KBVision", "KX-C4012"))
QUANTITIES = (
    ("water_level", "m", 1.8),
    ("pm2_5", "ug/m3", 35.0),
    ("temperature", "Cel", 27.0),
    ("power", "W", 450.0),
)
FAULT_DISTRICT = "vu-thu"
"""The district whose uplink the scripted fault cuts (single uplink, unlike REDUNDANT_DISTRICT)."""
REDUNDANT_DISTRICT = ("kien-xuong", "tien-hai")
"""This district's switch has two uplinks: the core and the neighbouring district's switch."""


def slug(text: str) -> str:
    for prefix in ("Thành phố ", "Huyện ", "Thị xã ", "Thị trấn ", "Phường ", "Xã "):
        text = text.removeprefix(prefix)
    folded = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_text).split())


@dataclass(frozen=True)
class District:
    key: str
    code: str
    name: str
    index: int
    communes: tuple[Unit, ...]


@dataclass(frozen=True)
class SwitchPlan:
    name: str
    kind: Literal["router", "switch"]
    district: str
    """District key, or ``core``: which snmpsim process serves it (a district's cut freezes its own)."""
    legacy_site: str
    address: str
    walk: str
    uplinks: tuple[str, ...] = ()
    wrap: bool = False


@dataclass(frozen=True)
class CameraPlan:
    name: str
    district: str
    legacy_site: str
    address: str
    vendor: str
    model: str
    h265: bool = False
    channels: int = 1
    stream: Literal["main", "fault"] = "main"
    uplinks: tuple[str, ...] = ()


@dataclass(frozen=True)
class SensorPlan:
    name: str
    district: str
    legacy_site: str
    quantity: str
    unit: str
    base: float
    uplinks: tuple[str, ...] = ()


@dataclass
class FleetPlan:
    size: Size
    net: int
    districts: list[District] = field(default_factory=list)
    switches: list[SwitchPlan] = field(default_factory=list)
    cameras: list[CameraPlan] = field(default_factory=list)
    sensors: list[SensorPlan] = field(default_factory=list)

    @property
    def device_count(self) -> int:
        return len(self.switches) + len(self.cameras) + len(self.sensors)

    def switch_groups(self) -> dict[str, list[SwitchPlan]]:
        groups: dict[str, list[SwitchPlan]] = {}
        for switch in self.switches:
            groups.setdefault(switch.district, []).append(switch)
        return groups

    def district(self, key: str) -> District:
        for district in self.districts:
            if district.key == key:
                return district
        known = ", ".join(d.key for d in self.districts)
        raise KeyError(f"no district {key!r} in the demo; known: {known}")

    def uplinks(self) -> dict[str, tuple[str, ...]]:
        every: list[SwitchPlan | CameraPlan | SensorPlan] = [*self.switches, *self.cameras, *self.sensors]
        return {device.name: device.uplinks for device in every}

    def district_of(self) -> dict[str, str]:
        every: list[SwitchPlan | CameraPlan | SensorPlan] = [*self.switches, *self.cameras, *self.sensors]
        return {device.name: device.district for device in every}


def build_plan(size: Size, net: int) -> FleetPlan:
    """The fleet of ``size`` on addresses ``127.<net>.…``."""
    if size not in SIZES:
        raise ValueError(f"size: {size!r} is not one of {', '.join(SIZES)}")
    if not 1 <= net <= 254:
        raise ValueError(f"net: {net} is outside 1..254")
    _province, units = legacy_province(PROVINCE)
    plan = FleetPlan(size, net)
    core = "core-ioc-thai-binh"
    city_units = units[0][1]
    plan.switches.append(SwitchPlan(core, "router", "core", city_units[0].code, f"127.{net}.0.1", CORE_WALK))
    for index, (unit, communes) in enumerate(units, start=1):
        plan.districts.append(District(slug(unit.name), unit.code, unit.name, index, tuple(communes)))
    keys = {d.key: d for d in plan.districts}
    for district in plan.districts:
        uplinks: tuple[str, ...] = (core,)
        if district.key == REDUNDANT_DISTRICT[0] and REDUNDANT_DISTRICT[1] in keys:
            uplinks = (core, f"sw-{REDUNDANT_DISTRICT[1]}")
        plan.switches.append(
            SwitchPlan(
                f"sw-{district.key}",
                "switch",
                district.key,
                district.communes[0].code,
                f"127.{net}.{district.index}.1",
                DISTRICT_WALKS[district.index % len(DISTRICT_WALKS)],
                uplinks,
            )
        )
    for district in plan.districts:
        _add_communes(plan, district)
    _add_nvrs(plan)
    plan.cameras[1] = _with_stream(plan.cameras[1])  # its RTSP stream can fail while ONVIF stays up
    return plan


def _with_stream(camera: CameraPlan) -> CameraPlan:
    return CameraPlan(**{**camera.__dict__, "stream": "fault"})


def _add_communes(plan: FleetPlan, district: District) -> None:
    net = plan.net
    chosen = district.communes[1:3] if plan.size == "small" else district.communes
    sensors_each = 1 if plan.size == "small" else 2
    for position, commune in enumerate(chosen):
        key = slug(commune.name)
        switch = f"sw-{district.key}-{key}"
        host = 10 + position
        plan.switches.append(
            SwitchPlan(
                switch,
                "switch",
                district.key,
                commune.code,
                f"127.{net}.{district.index}.{host}",
                COMMUNE_WALKS[(district.index + position) % len(COMMUNE_WALKS)],
                (f"sw-{district.key}",),
                wrap=district.index == 2 and position == 0,
            )
        )
        vendor, model = CAMERA_MODELS[(district.index + position) % len(CAMERA_MODELS)]
        plan.cameras.append(
            CameraPlan(
                f"cam-{district.key}-{key}",
                district.key,
                commune.code,
                f"127.{net}.{100 + district.index}.{host}",
                vendor,
                model,
                h265=(district.index + position) % 3 == 0,
                uplinks=(switch,),
            )
        )
        for extra in range(sensors_each):
            quantity, unit, base = QUANTITIES[(district.index + position + extra) % len(QUANTITIES)]
            plan.sensors.append(
                SensorPlan(
                    f"sensor-{district.key}-{key}-{quantity.replace('_', '-')}",
                    district.key,
                    commune.code,
                    quantity,
                    unit,
                    base,
                    (switch,),
                )
            )
    if plan.size == "small":
        town = district.communes[0]
        quantity, unit, base = QUANTITIES[district.index % len(QUANTITIES)]
        if district.index <= 2:
            plan.sensors.append(
                SensorPlan(
                    f"sensor-{district.key}-{slug(town.name)}-{quantity.replace('_', '-')}",
                    district.key,
                    town.code,
                    quantity,
                    unit,
                    base,
                    (f"sw-{district.key}",),
                )
            )


def _add_nvrs(plan: FleetPlan) -> None:
    chosen = (
        [d for d in plan.districts if d.key == FAULT_DISTRICT] if plan.size == "small" else plan.districts
    )
    for district in chosen:
        plan.cameras.append(
            CameraPlan(
                f"nvr-{district.key}",
                district.key,
                district.communes[0].code,
                f"127.{plan.net}.{100 + district.index}.200",
                "Hikvision",
                "DS-7604NI-K1",
                h265=True,
                channels=4,
                uplinks=(f"sw-{district.key}",),
            )
        )
