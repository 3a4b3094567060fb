"""Bulk import and export of devices as CSV or YAML: the columns a network engineer's spreadsheet has.

All-or-nothing: every row is validated and every cross-reference (sites, credentials, uplinks by
name, cycles, scope) is checked before anything is written; errors name the line and the field.
Rows whose name exists update that device; columns absent from the file leave fields unchanged;
a blank ``credential`` cell keeps the current credential (private credentials cannot be exported).

Split by job: ``parse`` (file -> numbered cells), ``validate`` (cells -> checked plan), ``apply`` (plan ->
rows), ``export`` (rows -> file).
"""

from device_registry.services.importer.apply import ImportResult, import_devices
from device_registry.services.importer.export import export_devices
from device_registry.services.importer.parse import Format, detect_format, parse
from device_registry.services.importer.validate import ImportRow

__all__ = [
    "Format",
    "ImportResult",
    "ImportRow",
    "detect_format",
    "export_devices",
    "import_devices",
    "parse",
]
