"""The page's words in Vietnamese (default, with full diacritics) and English."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LANGUAGES = ("vi", "en")
STATES = ("down", "unreachable", "flapping", "soft_down", "maintenance", "unknown", "up")
"""Worst first: the order of counts on the page."""
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")

TEXT: dict[str, tuple[str, str]] = {
    "title": ("Trạng thái mạng thiết bị", "Device network status"),
    "login": ("Đăng nhập", "Log in"),
    "logout": ("Đăng xuất", "Log out"),
    "token": ("Mã truy cập API", "API token"),
    "token_help": (
        "Dán mã do `ioc init` hoặc `ioc users token` cấp.",
        "Paste a token from `ioc init` or `ioc users token`.",
    ),
    "bad_token": (
        "Mã truy cập không hợp lệ, đã hết hạn hoặc đã bị thu hồi.",
        "Invalid, expired or revoked token.",
    ),
    "session_ended": (
        "Phiên làm việc đã kết thúc. Vui lòng đăng nhập lại.",
        "Your session has ended. Please log in again.",
    ),
    "bad_form": ("Biểu mẫu đã hết hạn. Vui lòng thử lại.", "The form has expired. Please try again."),
    "overview": ("Tổng quan", "Overview"),
    "sites": ("Đơn vị", "Sites"),
    "site": ("Đơn vị", "Site"),
    "devices": ("Thiết bị", "Devices"),
    "device": ("Thiết bị", "Device"),
    "total": ("Tổng", "Total"),
    "worst": ("Tình trạng", "Condition"),
    "map": ("Bản đồ", "Map"),
    "map_note": (
        "Mỗi vòng tròn là một xã/phường, màu theo trạng thái xấu nhất.",
        "Each circle is a commune, coloured by its worst state.",
    ),
    "no_coordinates": ("Chưa có toạ độ cho các xã/phường này.", "No coordinates for these communes."),
    "open_outages": ("Sự cố đang diễn ra", "Open outages"),
    "no_outages": ("Không có sự cố nào.", "No open outages."),
    "started": ("Bắt đầu", "Started"),
    "duration": ("Thời gian", "Duration"),
    "reason": ("Nguyên nhân", "Reason"),
    "suppressed": ("Thiết bị phía sau bị ảnh hưởng (không gửi cảnh báo)", "Devices behind it (not alerted)"),
    "alert": ("Cảnh báo", "Alert"),
    "acknowledge": ("Xác nhận", "Acknowledge"),
    "acknowledged": ("Đã xác nhận", "Acknowledged"),
    "ack_done": ("Đã xác nhận cảnh báo #{id}.", "Alert #{id} acknowledged."),
    "ack_comment": ("Ghi chú (không bắt buộc)", "Comment (optional)"),
    "ack_forbidden": (
        "Vai trò của bạn không được xác nhận cảnh báo.",
        "Your role may not acknowledge alerts.",
    ),
    "firing": ("Đang cảnh báo", "Firing"),
    "resolved": ("Đã xử lý", "Resolved"),
    "state": ("Trạng thái", "State"),
    "since": ("Từ lúc", "Since"),
    "last_checks": ("Lần kiểm tra gần nhất", "Last checks"),
    "check": ("Kiểm tra", "Check"),
    "result": ("Kết quả", "Result"),
    "latency": ("Độ trễ", "Latency"),
    "ok": ("Đạt", "OK"),
    "failed": ("Lỗi", "Failed"),
    "checked_at": ("Kiểm tra lúc", "Checked at"),
    "history": ("Lịch sử trạng thái", "State history"),
    "no_history": ("Chưa có thay đổi trạng thái nào được ghi.", "No state changes recorded."),
    "no_checks": ("Chưa được kiểm tra.", "Not checked yet."),
    "address": ("Địa chỉ", "Address"),
    "kind": ("Loại", "Kind"),
    "root_cause": ("Do lỗi của", "Caused by"),
    "refresh": ("Tự làm mới sau {s} giây", "Refreshing in {s} s"),
    "api_docs": ("Tài liệu API", "API docs"),
    "not_found": ("Không tìm thấy", "Not found"),
    "whole_tree": ("Toàn bộ", "Everything"),
    "role": ("Vai trò", "Role"),
    "language": ("English", "Tiếng Việt"),
    "up": ("Hoạt động", "Up"),
    "soft_down": ("Nghi lỗi", "Soft down"),
    "down": ("Mất kết nối", "Down"),
    "unreachable": ("Không truy cập được", "Unreachable"),
    "flapping": ("Chập chờn", "Flapping"),
    "maintenance": ("Bảo trì", "Maintenance"),
    "unknown": ("Chưa rõ", "Unknown"),
    "none": ("Không có thiết bị", "No devices"),
}


def translate(lang: str, key: str, **values: object) -> str:
    pair = TEXT.get(key)
    if pair is None:
        return key
    text = pair[0] if lang == "vi" else pair[1]
    return text.format(**values) if values else text


def local_time(value: datetime | None) -> str:
    return value.astimezone(ZONE).strftime("%d/%m/%Y %H:%M:%S") if value else "–"


def duration(seconds: float, lang: str) -> str:
    total = int(max(seconds, 0))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    units = ("ngày", "giờ", "phút", "giây") if lang == "vi" else ("d", "h", "min", "s")
    parts = [f"{n} {u}" for n, u in zip((days, hours, minutes, secs), units, strict=True) if n]
    return " ".join(parts[:2]) or f"0 {units[3]}"
