"""SenML unit symbols a payload may use: the IANA "SenML Units" registry (RFC 8428 section 12.1)
and the secondary units added by RFC 8798. Anything else is rejected rather than guessed at, because
a unit typo ("C" for "Cel", "degC") would otherwise silently split a series in the store.
"""

from __future__ import annotations

RFC8428_UNITS = frozenset(
    {
        "m", "kg", "g", "s", "A", "K", "cd", "mol", "Hz", "rad", "sr", "N", "Pa", "J", "W", "C", "V",
        "F", "Ohm", "S", "Wb", "T", "H", "Cel", "lm", "lx", "Bq", "Gy", "Sv", "kat", "m2", "m3", "l",
        "m/s", "m/s2", "m3/s", "l/s", "W/m2", "cd/m2", "bit", "bit/s", "lat", "lon", "pH", "dB", "dBW",
        "Bspl", "count", "/", "%", "%RH", "%EL", "EL", "1/s", "1/min", "beat/min", "beats", "S/m",
        "B", "VA", "VAs", "var", "vars", "J/m", "kg/m3", "deg",
    }
)  # fmt: skip

RFC8798_UNITS = frozenset(
    {
        "ms", "min", "h", "MHz", "kW", "kVA", "kvar", "Ah", "Wh", "kWh", "varh", "kvarh", "kVAh",
        "Wh/km", "KiB", "GB", "Mbit/s", "B/s", "MB/s", "mV", "mA", "dBm", "ug/m3", "mm/h", "m/h",
        "ppm", "/100", "/1000", "hPa", "mm", "cm", "km", "km/h",
    }
)  # fmt: skip

KNOWN_UNITS = RFC8428_UNITS | RFC8798_UNITS
