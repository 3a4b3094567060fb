"""Regenerate device_registry/vn/vn_units.json.gz from the MIT-licensed ``vietnamadminunits`` package.

That package pulls shapely, geopy and unidecode (GPL) at import time, and is 12 MB; the platform only
needs codes, names, coordinates and the 2025 old-to-new commune mapping, so we ship this compact extract
(about 300 KB) instead and read the package's own data files directly here, at build time only.

    pip install -e '.[datagen]' && python scripts/gen_vn_units.py
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from importlib import metadata, resources
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "device_registry" / "vn" / "vn_units.json.gz"


def _rows(conn: sqlite3.Connection, sql: str) -> list[dict[str, Any]]:
    conn.row_factory = sqlite3.Row
    return [dict(r) for r in conn.execute(sql)]


def _coord(value: Any) -> float | None:
    return None if value is None else round(float(value), 5)


def build() -> dict[str, Any]:
    data_dir = resources.files("vietnamadminunits") / "data"
    with resources.as_file(data_dir / "dataset.db") as db_path:
        conn = sqlite3.connect(db_path)
        legacy_rows = _rows(
            conn, "SELECT * FROM admin_units_legacy WHERE wardCode IS NOT NULL AND wardCode != ''"
        )
        new_rows = _rows(conn, "SELECT * FROM admin_units WHERE wardCode IS NOT NULL AND wardCode != ''")
    converter = json.loads((data_dir / "converter_2025.json").read_text(encoding="utf-8"))

    legacy: dict[str, Any] = {}
    legacy_code_by_key: dict[str, str] = {}
    for r in sorted(legacy_rows, key=lambda r: (r["provinceCode"], r["districtCode"], r["wardCode"])):
        province = legacy.setdefault(
            r["provinceCode"],
            {
                "name": r["province"],
                "lat": _coord(r["provinceLat"]),
                "lon": _coord(r["provinceLon"]),
                "districts": {},
            },
        )
        district = province["districts"].setdefault(
            r["districtCode"],
            {
                "name": r["district"],
                "type": r["districtType"],
                "lat": _coord(r["districtLat"]),
                "lon": _coord(r["districtLon"]),
                "wards": [],
            },
        )
        district["wards"].append(
            {
                "code": r["wardCode"],
                "name": r["ward"],
                "type": r["wardType"],
                "lat": _coord(r["wardLat"]),
                "lon": _coord(r["wardLon"]),
            }
        )
        legacy_code_by_key[f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}"] = r["wardCode"]

    units_2025: dict[str, Any] = {}
    new_code_by_key: dict[tuple[str, str], str] = {}
    province_code_by_key: dict[str, str] = {}
    for r in sorted(new_rows, key=lambda r: (r["provinceCode"], r["wardCode"])):
        province = units_2025.setdefault(
            r["provinceCode"],
            {
                "name": r["province"],
                "lat": _coord(r["provinceLat"]),
                "lon": _coord(r["provinceLon"]),
                "wards": [],
            },
        )
        province["wards"].append(
            {
                "code": r["wardCode"],
                "name": r["ward"],
                "type": r["wardType"],
                "lat": _coord(r["wardLat"]),
                "lon": _coord(r["wardLon"]),
            }
        )
        new_code_by_key[(r["provinceKey"], r["wardKey"])] = r["wardCode"]
        province_code_by_key[r["provinceKey"]] = r["provinceCode"]

    # legacy ward code -> list of [new province code, new ward code, is_default]
    reform: dict[str, list[list[Any]]] = {}
    for new_province_key, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_ward_key, old_keys in wards.items():
            new_code = new_code_by_key.get((new_province_key, new_ward_key))
            for old_key in old_keys:
                old_code = legacy_code_by_key.get(old_key)
                if new_code and old_code:
                    reform.setdefault(old_code, []).append(
                        [province_code_by_key[new_province_key], new_code, True]
                    )
    for new_province_key, divided in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, targets in divided.items():
            old_code = legacy_code_by_key.get(old_key)
            if not old_code:
                continue
            entries = []
            for target in targets:
                new_code = new_code_by_key.get((new_province_key, target["newWardKey"]))
                if new_code:
                    entries.append(
                        [province_code_by_key[new_province_key], new_code, bool(target["isDefaultNewWard"])]
                    )
            if entries:
                reform[old_code] = entries

    return {
        "source": f"vietnamadminunits {metadata.version('vietnamadminunits')} (MIT)",
        "legacy": legacy,
        "units_2025": units_2025,
        "reform_2025": reform,
    }


def main() -> None:
    payload = json.dumps(build(), ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(gzip.compress(payload, mtime=0))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
