#!/usr/bin/env python3
"""Generate provisioning/snmp/data/enterprises.tsv.gz from the IANA Private Enterprise Numbers registry.

Source: Debian's ``libwireshark-data`` copy (``/usr/share/wireshark/enterprises.tsv``, ~62k entries).
Output: gzip TSV, one line per number: ``number<TAB>short name<TAB>registry name``; the short name is
empty when it equals the registry name, which keeps the file small.

Short names: a few vendors whose registry names read badly ("ciscoSystems") have a preferred name in
``PREFERRED``; every other entry is shortened mechanically by dropping URLs, comments and legal-form
suffixes ("Juniper Networks, Inc." -> "Juniper Networks"). Re-run after updating libwireshark-data:

    python scripts/gen_enterprises.py [SOURCE] [OUTPUT]
"""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

SOURCE = Path("/usr/share/wireshark/enterprises.tsv")
OUTPUT = Path(__file__).resolve().parent.parent / "provisioning" / "snmp" / "data" / "enterprises.tsv.gz"

# The names network engineers use for vendors whose registry entry is awkward or too long.
PREFERRED = {
    2: "IBM",
    9: "Cisco",
    11: "HP",
    171: "D-Link",
    311: "Microsoft",
    318: "APC",
    534: "Eaton",
    705: "Eaton",  # Merlin Gerin / MGE UPS, Eaton's UPS line today
    2011: "Huawei",
    2636: "Juniper",
    3902: "ZTE",
    4881: "Ruijie",
    8072: "net-snmp",
    11863: "TP-Link",
    12356: "Fortinet",
    14823: "Aruba",
    14988: "MikroTik",
    25461: "Palo Alto Networks",
    25506: "H3C",
    30065: "Arista",
    37496: "Dahua",
    39165: "Hikvision",
    41112: "Ubiquiti",
    47196: "HPE",
}

_SUFFIX = re.compile(
    r"[\s,.]+(inc|incorporated|corp|corporation|co|company|ltd|limited|llc|gmbh|ag|sa|s\.a|srl|s\.r\.l|"
    r"bv|b\.v|nv|plc|oy|ab|as|a/s|kg|pty|pvt|spa|s\.p\.a|sas|sarl|kk|k\.k)\.?$",
    re.IGNORECASE,
)


def short_name(registry_name: str) -> str:
    name = re.sub(r"\(.*?\)", "", registry_name)  # "(https://...)", "(abbr. ZTE)"
    name = re.sub(r"https?://\S+", "", name).strip(" ,")
    previous = None
    while previous != name:
        previous = name
        name = _SUFFIX.sub("", name).strip(" ,.")
    return name or registry_name.strip()


def parse(source: Path) -> list[tuple[int, str]]:
    entries: list[tuple[int, str]] = []
    for line in source.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        number, _, rest = line.partition("\t")
        if not number.strip().isdigit():
            continue
        name = rest.split("\t#", 1)[0].strip()
        if name:
            entries.append((int(number), name))
    return entries


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else SOURCE
    output = Path(argv[2]) if len(argv) > 2 else OUTPUT
    if not source.is_file():
        print(f"{source} not found: apt-get install -y libwireshark-data", file=sys.stderr)
        return 1
    entries = parse(source)
    lines = []
    for number, name in entries:
        short = PREFERRED.get(number) or short_name(name)
        lines.append(f"{number}\t{'' if short == name else short}\t{name}\n")
    output.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the file byte-identical across runs so regeneration shows no spurious diff.
    with open(output, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write("".join(lines).encode())
    print(f"{len(entries)} enterprises -> {output} ({output.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
