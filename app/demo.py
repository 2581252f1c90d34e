"""Deterministic demo data for a Vietnamese office-supplies trading company.

``seed_demo`` fills an empty database with about three years of customers, orders,
interactions, complaints, surveys, campaigns, opportunities and partners, shaped so
that every KPI of ``docs/kpis.md`` has something to show (churners, referrals, Tết
seasonality, SLA breaches, duplicates, missing fields...).

Speed matters (medium = 100k customers, 1M interactions in under 3 minutes), so rows
are plain dicts inserted with SQLAlchemy Core in batches, primary keys are assigned
here, and timestamps are handled as integer seconds until the row is built.
Determinism: every table family draws from its own ``random.Random`` derived from the
seed, in customer order, so the same seed and ``today`` always give the same content.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from faker import Faker
from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection, Engine

from app.errors import Conflict, InvalidInput
from app.kpi.summaries import drop_triggers as drop_summary_triggers
from app.kpi.summaries import install_triggers as install_summary_triggers
from app.kpi.summaries import rebuild_summaries
from app.models import (
    Campaign,
    CampaignMember,
    Complaint,
    Contact,
    Customer,
    Inquiry,
    Interaction,
    Opportunity,
    OpportunityStageHistory,
    Order,
    OrderLine,
    Partner,
    PartnerLink,
    Product,
    SurveyResponse,
    Target,
    User,
)

Row = dict[str, Any]

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = dt.UTC
DAY = 86_400
HOUR = 3_600
YEARS_OF_HISTORY = 3
# Customers are processed (and inserted) in chunks to bound memory at the large scale.
CUSTOMER_CHUNK = 5_000
INSERT_BATCH = 20_000
LEGACY_SHARE = 0.25


@dataclass(frozen=True)
class DemoScale:
    """Row volumes of one demo size."""

    name: str
    customers: int
    staff: int
    products: int
    interactions: int
    orders: int
    complaints: int
    opportunities: int
    surveys: int
    inquiries: int
    campaigns: int
    campaign_members: int
    partners: int
    partner_customer_links: int


SCALES: dict[str, DemoScale] = {
    "small": DemoScale(
        name="small",
        customers=2_000,
        staff=8,
        products=60,
        interactions=20_000,
        orders=10_000,
        complaints=1_000,
        opportunities=1_000,
        surveys=2_000,
        inquiries=2_000,
        campaigns=12,
        campaign_members=3_000,
        partners=20,
        partner_customer_links=60,
    ),
    "medium": DemoScale(
        name="medium",
        customers=100_000,
        staff=40,
        products=300,
        interactions=1_000_000,
        orders=500_000,
        complaints=50_000,
        opportunities=50_000,
        surveys=100_000,
        inquiries=100_000,
        campaigns=60,
        campaign_members=150_000,
        partners=200,
        partner_customer_links=2_000,
    ),
    "large": DemoScale(
        name="large",
        customers=1_000_000,
        staff=150,
        products=600,
        interactions=10_000_000,
        orders=5_000_000,
        complaints=500_000,
        opportunities=500_000,
        surveys=1_000_000,
        inquiries=1_000_000,
        campaigns=200,
        campaign_members=1_500_000,
        partners=2_000,
        partner_customer_links=20_000,
    ),
}

# --------------------------------------------------------------------------- vocabulary
# fmt: off
# Data tables are kept compact; the formatter would put every item on its own line.
FAMILY_NAMES: list[tuple[str, float]] = [
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9.5), ("Phạm", 7), ("Hoàng", 5), ("Huỳnh", 4),
    ("Phan", 4.5), ("Vũ", 4), ("Võ", 3.5), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 1.5), ("Hồ", 1.3),
    ("Ngô", 1.3), ("Dương", 1), ("Lý", 0.5), ("Đinh", 0.8), ("Trương", 0.8), ("Lâm", 0.5),
    ("Mai", 0.5), ("Tạ", 0.3), ("Cao", 0.4), ("Lương", 0.4), ("Hà", 0.4),
]
MIDDLE_MALE = [
    "Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Công", "Anh", "Hoàng", "Tuấn", "Xuân", "Ngọc",
    "Thanh", "Quốc", "Trọng",
]
MIDDLE_FEMALE = [
    "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Phương", "Bảo", "Mỹ", "Kim", "Hồng", "Thùy", "Diệu",
    "Khánh", "Hải", "Lan",
]
GIVEN_MALE = [
    "An", "Bảo", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Hải", "Hiếu", "Hùng", "Huy", "Khoa",
    "Khánh", "Long", "Minh", "Nam", "Phong", "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Thành",
    "Toàn", "Trung", "Tuấn", "Việt", "Vinh", "Hoàng", "Lâm",
]
GIVEN_FEMALE = [
    "Anh", "Chi", "Diệp", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Huyền", "Lan",
    "Linh", "Loan", "Mai", "My", "Nga", "Ngọc", "Nhung", "Oanh", "Phương", "Quỳnh", "Tâm", "Thảo",
    "Trang", "Trinh", "Vân", "Yến", "Thư", "Vy",
]

# (province, region, weight): weights roughly follow where trading activity is.
PROVINCES: list[tuple[str, str, float]] = [
    ("Hà Nội", "Miền Bắc", 20), ("Hải Phòng", "Miền Bắc", 4), ("Quảng Ninh", "Miền Bắc", 2.5),
    ("Bắc Ninh", "Miền Bắc", 3), ("Hải Dương", "Miền Bắc", 1.5), ("Hưng Yên", "Miền Bắc", 1.2),
    ("Thái Nguyên", "Miền Bắc", 1.2), ("Vĩnh Phúc", "Miền Bắc", 1.2), ("Nam Định", "Miền Bắc", 1),
    ("Thái Bình", "Miền Bắc", 0.8), ("Phú Thọ", "Miền Bắc", 0.8), ("Bắc Giang", "Miền Bắc", 1),
    ("Đà Nẵng", "Miền Trung", 5), ("Thừa Thiên Huế", "Miền Trung", 1.5),
    ("Nghệ An", "Miền Trung", 2), ("Thanh Hóa", "Miền Trung", 2), ("Khánh Hòa", "Miền Trung", 2),
    ("Quảng Nam", "Miền Trung", 1.2), ("Quảng Ngãi", "Miền Trung", 0.8),
    ("Bình Định", "Miền Trung", 1.2), ("Lâm Đồng", "Miền Trung", 1.2),
    ("Đắk Lắk", "Miền Trung", 1), ("Hà Tĩnh", "Miền Trung", 0.6),
    ("TP. Hồ Chí Minh", "Miền Nam", 25), ("Bình Dương", "Miền Nam", 5),
    ("Đồng Nai", "Miền Nam", 4), ("Bà Rịa - Vũng Tàu", "Miền Nam", 2),
    ("Cần Thơ", "Miền Nam", 2.5), ("Long An", "Miền Nam", 1.5), ("Tiền Giang", "Miền Nam", 1),
    ("An Giang", "Miền Nam", 1), ("Kiên Giang", "Miền Nam", 1), ("Tây Ninh", "Miền Nam", 0.8),
    ("Cà Mau", "Miền Nam", 0.6),
]
ORG_TYPES = [("Công ty TNHH", 60), ("Công ty Cổ phần", 30), ("Công ty TNHH MTV", 10)]
ORG_TRADES: list[tuple[str, str]] = [
    ("Thương mại", "Bán buôn - Bán lẻ"), ("Thương mại Dịch vụ", "Bán buôn - Bán lẻ"),
    ("Xây dựng", "Xây dựng"), ("Sản xuất", "Sản xuất"), ("Công nghệ", "Công nghệ thông tin"),
    ("Đầu tư", "Tài chính - Bất động sản"), ("Vận tải", "Logistics"), ("Logistics", "Logistics"),
    ("Thực phẩm", "Thực phẩm - Đồ uống"), ("Dược phẩm", "Y tế - Dược"),
    ("Thiết bị Y tế", "Y tế - Dược"), ("Giáo dục", "Giáo dục"), ("Du lịch", "Du lịch - Khách sạn"),
    ("Kỹ thuật", "Sản xuất"), ("In ấn", "Sản xuất"), ("Nội thất", "Bán buôn - Bán lẻ"),
    ("Điện tử", "Công nghệ thông tin"), ("May mặc", "Sản xuất"), ("Nông sản", "Nông nghiệp"),
    ("Bất động sản", "Tài chính - Bất động sản"), ("Tư vấn", "Dịch vụ chuyên môn"),
    ("Kế toán", "Dịch vụ chuyên môn"), ("Nhà hàng", "Du lịch - Khách sạn"),
]
NAME_FIRST = [
    "Thành", "Minh", "Phú", "Hòa", "An", "Tân", "Việt", "Đại", "Hưng", "Phát", "Hoàng", "Nam",
    "Sao", "Kim", "Bảo", "Thiên", "Trường", "Quang", "Đông", "Gia", "Hải", "Sông", "Ngọc",
    "Phương", "Toàn", "Vạn", "Hồng", "Thịnh", "Tâm", "Long",
]
NAME_SECOND = [
    "Phú", "Phát", "Thịnh", "Hưng", "An", "Long", "Thành", "Minh", "Việt", "Lộc", "Tín", "Đạt",
    "Khang", "Nguyên", "Vượng", "Hà", "Sơn", "Mai", "Á", "Dương",
]
FOREIGN_BRANDS = [
    "Sakura", "Hanwha", "Lotte", "Aeon", "Samsung SDS", "Toyo", "Mitsui", "Daewoo", "Shinhan",
    "Panasonic", "Foxconn", "Bosch", "Unilever", "Heineken", "Nestlé",
]
SEGMENTS_ORG = [("Doanh nghiệp lớn", 15), ("SME", 62), ("Đại lý", 23)]
SEGMENT_PERSON = "Cá nhân"
# Orders per year and quantity multiplier per segment.
SEGMENT_PROFILE: dict[str | None, tuple[float, float]] = {
    "Doanh nghiệp lớn": (7.0, 3.0), "SME": (3.5, 1.0), "Đại lý": (9.0, 2.5), "Cá nhân": (1.4, 0.6),
    None: (2.0, 1.0),
}
CHANNEL_WEIGHTS = [
    ("web", 22), ("social", 20), ("inbound_call", 12), ("newsletter", 6), ("event", 8),
    ("sales_visit", 14), ("partner", 8),
]
MOBILE_PREFIXES = [
    "090", "091", "093", "094", "096", "097", "098", "086", "032", "033", "034", "035", "036",
    "037", "038", "039", "070", "076", "077", "078", "079", "081", "082", "083", "084", "085",
    "088",
]
MAIL_HOSTS = [
    ("gmail.com", 70), ("yahoo.com", 10), ("outlook.com", 8), ("hotmail.com", 5),
    ("icloud.com", 4), ("fpt.vn", 3),
]
CONTACT_TITLES = [
    "Giám đốc", "Phó giám đốc", "Trưởng phòng mua hàng", "Kế toán trưởng", "Nhân viên hành chính",
    "Trưởng phòng IT", "Thư ký", "Nhân viên mua hàng",
]

# category -> (product stems, brands or variants, min price, max price)
CATALOGUE: list[tuple[str, list[str], list[str], int, int]] = [
    (
        "Thiết bị văn phòng",
        [
            "Máy in laser",
            "Máy in màu",
            "Máy photocopy",
            "Máy chiếu",
            "Máy hủy tài liệu",
            "Máy chấm công",
            "Máy scan",
            "Điện thoại bàn",
        ],
        ["Canon", "HP", "Brother", "Epson", "Ricoh", "Panasonic", "Sharp"],
        1_500_000,
        50_000_000,
    ),
    (
        "Vật tư tiêu hao",
        [
            "Giấy A4",
            "Giấy A3",
            "Mực in",
            "Hộp mực",
            "Ruy băng mực",
            "Bút bi",
            "Băng keo",
            "Kẹp giấy",
            "Bìa hồ sơ",
            "Sổ tay",
            "Pin AA",
        ],
        ["Double A", "Thiên Long", "IK Plus", "Paper One", "Deli", "Hồng Hà", "Canon"],
        50_000,
        1_500_000,
    ),
    (
        "Điện tử",
        [
            "Laptop",
            "Màn hình",
            "Máy tính để bàn",
            "Ổ cứng di động",
            "Tai nghe",
            "Bàn phím",
            "Chuột không dây",
            "Loa hội nghị",
            "Bộ lưu điện UPS",
        ],
        ["Dell", "Lenovo", "Asus", "Acer", "HP", "Samsung", "LG", "Logitech", "Santak"],
        200_000,
        45_000_000,
    ),
    (
        "Nội thất",
        [
            "Bàn làm việc",
            "Ghế xoay",
            "Tủ hồ sơ",
            "Kệ sách",
            "Bàn họp",
            "Ghế chân quỳ",
            "Vách ngăn",
            "Két sắt",
        ],
        ["Hòa Phát", "Xuân Hòa", "The One", "Fami", "Việt Tiệp"],
        800_000,
        25_000_000,
    ),
    (
        "Phần mềm",
        [
            "Microsoft 365 Business",
            "Phần mềm kế toán",
            "Phần mềm diệt virus",
            "Phần mềm quản lý bán hàng",
            "Windows 11 Pro",
            "Phần mềm hóa đơn điện tử",
            "Chữ ký số",
        ],
        ["Microsoft", "MISA", "Bkav", "Kaspersky", "Fast", "Viettel", "VNPT"],
        300_000,
        30_000_000,
    ),
    (
        "Dịch vụ bảo trì",
        [
            "Gói bảo trì máy in",
            "Gói bảo trì máy photocopy",
            "Bảo trì hệ thống mạng",
            "Vệ sinh máy tính",
            "Bảo trì điều hòa",
            "Hỗ trợ kỹ thuật tại chỗ",
        ],
        ["3 tháng", "6 tháng", "12 tháng", "theo lần", "24 tháng"],
        300_000,
        20_000_000,
    ),
    (
        "Thiết bị mạng - an ninh",
        ["Bộ phát Wi-Fi", "Switch", "Router", "Camera IP", "Đầu ghi hình", "Tủ rack", "Cáp mạng"],
        ["TP-Link", "Cisco", "Ubiquiti", "Hikvision", "Dahua", "Draytek"],
        200_000,
        35_000_000,
    ),
]
SERVICE_CATEGORY = "Dịch vụ bảo trì"
# Prices rose over the three years: factor for orders placed 2+, 1+ and <1 year ago.
PRICE_LEVELS = (0.92, 0.96, 1.0)

INTERACTION_KINDS = [
    ("call", 30), ("email", 25), ("meeting", 8), ("visit", 7), ("sms", 10), ("social", 12),
    ("feedback", 8),
]
INTERACTION_SUBJECTS: dict[str, list[str]] = {
    "call": [
        "Gọi điện tư vấn sản phẩm",
        "Gọi xác nhận đơn hàng",
        "Gọi chăm sóc sau bán hàng",
        "Gọi nhắc thanh toán",
        "Khách gọi hỏi giá",
        "Gọi hỏi thăm nhu cầu quý mới",
    ],
    "email": [
        "Gửi báo giá",
        "Gửi catalogue sản phẩm mới",
        "Email xác nhận đơn hàng",
        "Email cảm ơn khách hàng",
        "Gửi hợp đồng nguyên tắc",
        "Gửi hóa đơn điện tử",
    ],
    "meeting": [
        "Họp giới thiệu giải pháp",
        "Họp thương thảo hợp đồng",
        "Họp đánh giá hợp tác quý",
        "Demo phần mềm cho khách",
    ],
    "visit": [
        "Thăm khách hàng định kỳ",
        "Khảo sát nhu cầu tại văn phòng khách",
        "Lắp đặt và hướng dẫn sử dụng",
        "Kiểm tra thiết bị tại chỗ",
    ],
    "sms": [
        "SMS nhắc lịch giao hàng",
        "SMS chúc mừng sinh nhật",
        "SMS thông báo khuyến mãi",
        "SMS nhắc hạn thanh toán",
    ],
    "social": [
        "Trả lời tin nhắn Zalo",
        "Tư vấn qua Facebook Messenger",
        "Phản hồi bình luận fanpage",
        "Gửi ưu đãi qua Zalo OA",
    ],
    "feedback": [
        "Khách góp ý về sản phẩm",
        "Khách phản hồi chất lượng dịch vụ",
        "Khách khen nhân viên giao hàng",
        "Khách đề xuất thêm mặt hàng",
    ],
}
INTERACTION_OUTCOMES = [
    "Khách quan tâm", "Hẹn gọi lại", "Đã gửi báo giá", "Không liên lạc được", "Đã xử lý xong",
    "Khách chưa có nhu cầu", "Chuyển bộ phận liên quan",
]
INTERACTION_NOTES = [
    "Khách muốn nhận báo giá trước cuối tuần.", "Cần tư vấn thêm về chính sách bảo hành.",
    "Khách yêu cầu giao hàng ngoài giờ hành chính.", "Khách so sánh giá với nhà cung cấp khác.",
    "Đã gửi tài liệu qua email, chờ phản hồi.",
]
UNMET_REASONS = [
    "Hết hàng", "Giá cao hơn đối thủ", "Không đáp ứng được thời gian giao hàng",
    "Sản phẩm không có trong danh mục", "Khách hàng chưa có ngân sách",
    "Số lượng đặt dưới mức tối thiểu",
]
ORDER_NOTES = [
    "Giao hàng giờ hành chính", "Xuất hóa đơn VAT", "Gọi trước khi giao", "Giao tại kho của khách",
    "Thanh toán chuyển khoản",
]
SEASONAL_PROMOTIONS = [
    "Ưu đãi khách hàng thân thiết", "Giảm 5% cho đơn hàng lớn", "Miễn phí vận chuyển nội thành",
    "Tặng kèm vật tư tiêu hao",
]
TET_PROMOTION = "Khuyến mãi Tết"
CUSTOMISED_NOTE = "Hàng theo yêu cầu: in logo, cấu hình riêng"

STAGE_FLOW = ["lead", "qualified", "proposal", "negotiation", "won"]
# Probability of moving on from each open stage, and mean days spent there.
STAGE_ADVANCE = {"lead": 0.7, "qualified": 0.72, "proposal": 0.75, "negotiation": 0.7}
STAGE_DAYS = {"lead": 6.0, "qualified": 10.0, "proposal": 12.0, "negotiation": 14.0}
LOST_REASONS = [
    ("Giá cao", 30), ("Chọn đối thủ", 25), ("Không có ngân sách", 18), ("Không liên lạc được", 10),
    ("Nhu cầu thay đổi", 10), ("Thời gian giao hàng không đáp ứng", 7),
]
OPPORTUNITY_TITLES = [
    "Trang bị thiết bị văn phòng mới", "Gói bảo trì năm", "Mua vật tư quý",
    "Nâng cấp hệ thống mạng", "Mua bản quyền phần mềm", "Trang bị nội thất", "Thay thế máy in",
    "Lắp đặt camera an ninh", "Hợp đồng cung cấp giấy in",
]

COMPLAINT_CATEGORIES = [
    ("Chất lượng sản phẩm", 30), ("Giao hàng chậm", 25), ("Thái độ phục vụ", 10),
    ("Thanh toán", 10), ("Bảo hành", 15), ("Giao sai hoặc thiếu hàng", 10),
]
COMPLAINT_DETAILS = {
    "Chất lượng sản phẩm": "sản phẩm lỗi sau vài ngày sử dụng",
    "Giao hàng chậm": "hàng giao trễ so với hẹn",
    "Thái độ phục vụ": "nhân viên trả lời thiếu nhiệt tình", "Thanh toán": "hóa đơn sai số tiền",
    "Bảo hành": "chờ bảo hành quá lâu",
    "Giao sai hoặc thiếu hàng": "giao thiếu số lượng so với đơn",
}
COMPLAINT_RESOLUTIONS = [
    "Đổi sản phẩm mới cho khách", "Hoàn tiền phần chênh lệch", "Xin lỗi và tặng voucher",
    "Giao bổ sung hàng còn thiếu", "Cử kỹ thuật viên đến xử lý", "Điều chỉnh lại hóa đơn",
]
SEVERITIES = [("low", 35), ("medium", 40), ("high", 18), ("critical", 7)]
SLA_HOURS = {"critical": 4, "high": 24, "medium": 72, "low": 168}
FIRST_RESPONSE_HOURS = {"critical": 0.7, "high": 3.0, "medium": 10.0, "low": 20.0}
COMPLAINT_CHANNELS = [("call", 40), ("email", 25), ("feedback", 15), ("visit", 8), ("social", 12)]
SURVEY_COMMENTS_GOOD = [
    "Hàng tốt, giao nhanh", "Nhân viên tư vấn nhiệt tình", "Sẽ giới thiệu cho đối tác",
    "Giá cả hợp lý",
]
SURVEY_COMMENTS_BAD = [
    "Giao hàng còn chậm", "Xử lý khiếu nại quá lâu", "Giá cao hơn nơi khác",
    "Cần cải thiện chăm sóc sau bán hàng",
]

CAMPAIGN_CHANNELS = ["email", "sms", "social", "event", "telemarketing", "web", "print"]
CAMPAIGN_PURPOSES = [("acquisition", 40), ("retention", 35), ("awareness", 25)]
PARTNER_KINDS = [("supplier", 30), ("distributor", 25), ("agent", 30), ("service_provider", 15)]
PARTNER_BRANDS = [
    "Canon", "Epson", "HP", "Dell", "Lenovo", "Brother", "Ricoh", "Hòa Phát", "Thiên Long",
    "Double A", "Xuân Hòa", "Samsung", "LG", "Cisco", "TP-Link", "MISA", "Bkav", "Asus", "Acer",
    "Sharp", "Hikvision", "Logitech",
]
STAFF_DEPARTMENT_CYCLE = [
    "Kinh doanh", "Kinh doanh", "Chăm sóc khách hàng", "Kinh doanh", "Marketing", "Kinh doanh",
    "Kế toán", "Giao hàng", "Chăm sóc khách hàng", "Kinh doanh",
]
COMPANY_MAIL_DOMAIN = "vanphongxanh.vn"

# Lunar new year days: orders peak in the weeks before and stop during the holiday.
TET_DAYS = [
    dt.date(y, m, d)
    for y, m, d in (
        (2019, 2, 5),
        (2020, 1, 25),
        (2021, 2, 12),
        (2022, 2, 1),
        (2023, 1, 22),
        (2024, 2, 10),
        (2025, 1, 29),
        (2026, 2, 17),
        (2027, 2, 6),
        (2028, 1, 26),
        (2029, 2, 13),
        (2030, 2, 3),
        (2031, 1, 23),
        (2032, 2, 11),
        (2033, 1, 31),
        (2034, 2, 19),
        (2035, 2, 8),
    )
]
MONTH_WEIGHT = [1.35, 1.2, 1.0, 0.95, 0.9, 0.8, 0.75, 0.8, 0.95, 1.0, 1.05, 1.2]

# fmt: on


# --------------------------------------------------------------------------- helpers
def _unaccent(value: str) -> str:
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _slug(value: str) -> str:
    return "".join(ch for ch in _unaccent(value).lower() if ch.isalnum())


def _cum(weights: Sequence[float]) -> list[float]:
    total = 0.0
    out: list[float] = []
    for weight in weights:
        total += weight
        out.append(total)
    return out


class _Picker:
    """Weighted choice with precomputed cumulative weights (fast and deterministic)."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]):
        self.items = list(items)
        self.cum = _cum(weights)
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


def _picker(pairs: Sequence[tuple[Any, float]]) -> _Picker:
    return _Picker([item for item, _ in pairs], [weight for _, weight in pairs])


def _between(rng: random.Random, lo: int, hi: int) -> int:
    """A second in [lo, hi) (lo when the interval is empty)."""
    return lo + int(rng.random() * (hi - lo)) if hi > lo else lo


def _allocate(rng: random.Random, weights: Sequence[float], total: int) -> list[int]:
    """Split exactly ``total`` items over the weighted slots (a multinomial draw)."""
    counts = [0] * len(weights)
    cum = _cum(weights)
    if total <= 0 or not cum or cum[-1] <= 0:
        return counts
    top = cum[-1]
    for _ in range(total):
        counts[bisect.bisect_right(cum, rng.random() * top)] += 1
    return counts


def _dec(value: int) -> Decimal:
    return Decimal(value)


_SMALL_DEC = [Decimal(i) for i in range(1001)]
DISCOUNTS = {0: Decimal(0), 5: Decimal("0.05"), 10: Decimal("0.1")}


@dataclass
class _Frame:
    """The time frame: integer seconds since local midnight of the first day."""

    today: dt.date
    day0: dt.date
    days: int
    t0: dt.datetime
    end: int
    day_weight: list[float]
    month_key: list[int]
    near_tet: list[bool]  # within 25 days of a lunar new year: Tết promotions run

    def at(self, seconds: int) -> dt.datetime:
        return self.t0 + dt.timedelta(seconds=seconds)

    def date(self, seconds: int) -> dt.date:
        return self.day0 + dt.timedelta(days=seconds // DAY)

    def when(self, rng: random.Random, lo: int, hi: int) -> int:
        """A second in [lo, hi), usually in office hours (07:30-18:00 local)."""
        if hi - lo <= DAY:
            return _between(rng, lo, hi)
        day = (lo + int(rng.random() * (hi - lo))) // DAY
        moment = day * DAY + 27_000 + int(rng.random() * 37_800)
        return moment if lo <= moment < hi else _between(rng, lo, hi)

    def seasonal(self, rng: random.Random, lo: int, hi: int) -> int:
        """Like ``when`` but following the order seasonality (Tết peak, summer low)."""
        if hi - lo <= DAY:
            return _between(rng, lo, hi)
        for _ in range(12):
            moment = self.when(rng, lo, hi)
            if rng.random() * 2.0 < self.day_weight[moment // DAY]:
                return moment
        return moment


def _make_frame(today: dt.date) -> _Frame:
    day0 = today - dt.timedelta(days=365 * YEARS_OF_HISTORY)
    days = (today - day0).days + 1
    t0 = dt.datetime.combine(day0, dt.time(0), LOCAL_TZ).astimezone(UTC)
    day_weight: list[float] = []
    month_key: list[int] = []
    near_tet: list[bool] = []
    for offset in range(days):
        day = day0 + dt.timedelta(days=offset)
        weight = MONTH_WEIGHT[day.month - 1]
        near = False
        for tet in TET_DAYS:
            gap = (tet - day).days
            if 0 < gap <= 21:
                weight *= 1.4
            elif -6 <= gap <= 0:
                weight *= 0.3
            near = near or abs(gap) <= 25
        day_weight.append(weight)
        month_key.append(day.year * 12 + day.month - 1)
        near_tet.append(near)
    return _Frame(today, day0, days, t0, days * DAY, day_weight, month_key, near_tet)


@dataclass
class _Ids:
    """Next primary key per table, starting after whatever the table already holds."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


@dataclass
class _Product:
    id: int
    category: str
    prices: tuple[int, int, int]
    costs: tuple[int, int, int]
    dec_prices: tuple[Decimal, Decimal, Decimal]
    dec_costs: tuple[Decimal, Decimal, Decimal]


@dataclass
class _Campaign:
    id: int
    name: str
    purpose: str
    start: int
    stop: int  # exclusive, clipped to the end of today


@dataclass
class _Profile:
    """What is decided about every customer before any row is written."""

    created: int
    org: bool
    segment: str | None
    buyer: bool
    stop: int  # orders happen in [created, stop); churners stop early
    rate: float
    owner: int | None
    channel: str
    referred_by: int | None  # index of an earlier customer
    acq_campaign: int | None  # index into campaigns


@dataclass
class _Ctx:
    """Everything the generators share."""

    scale: DemoScale
    seed: int
    frame: _Frame
    ids: _Ids
    users: dict[str, int]
    sales: list[int]
    support: list[int]
    marketing: list[int]
    staff: list[int]
    manager: int
    products: list[_Product] = field(default_factory=list)
    product_pick: _Picker | None = None
    category_pick: dict[str, _Picker] = field(default_factory=dict)
    campaigns: list[_Campaign] = field(default_factory=list)
    partners: list[tuple[int, str, int]] = field(default_factory=list)  # id, kind, created
    street_names: list[str] = field(default_factory=list)

    def rng(self, family: str) -> random.Random:
        # String seeds are hashed with SHA-512, so this is stable across runs and hosts.
        return random.Random(f"{self.seed}:{family}")


class _Writer:
    """Inserts rows in batches with SQLAlchemy Core and counts them per table."""

    def __init__(self, connection: Connection, counts: dict[str, int]):
        self.connection = connection
        self.counts = counts

    def insert(self, table: Table, rows: list[Row]) -> None:
        for start in range(0, len(rows), INSERT_BATCH):
            self.connection.execute(table.insert(), rows[start : start + INSERT_BATCH])
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)


def _table(model: Any) -> Table:
    return model.__table__


# --------------------------------------------------------------------------- public API
def database_is_empty(engine: Engine) -> bool:
    """Whether the database holds no customers (seed-demo only fills such a database)."""
    with engine.connect() as connection:
        return connection.execute(select(_table(Customer).c.id).limit(1)).first() is None


def default_today() -> dt.date:
    """Today's date in Vietnam."""
    return dt.datetime.now(LOCAL_TZ).date()


def seed_demo(
    *,
    engine: Engine,
    scale: str = "small",
    seed: int = 20240601,
    today: dt.date | None = None,
) -> dict[str, int]:
    """Fill an empty database with deterministic demo data; return rows per table."""
    if scale not in SCALES:
        raise InvalidInput({"scale": "must be one of small, medium, large"})
    if not database_is_empty(engine):
        raise Conflict(
            "The database already holds customers; seed-demo only fills an empty database."
        )
    frame = _make_frame(today or default_today())
    counts: dict[str, int] = {}
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as connection:
        if sqlite:
            # A bigger page cache keeps the randomly-ordered index inserts in memory.
            connection.exec_driver_sql("PRAGMA cache_size=-262144")
        ids = _Ids({name: _max_id(connection, _table(model)) + 1 for name, model in _ID_TABLES})
        writer = _Writer(connection, counts)
        # One rebuild of the KPI summaries at the end beats a trigger call per order; the
        # DDL is transactional, so a failed seed rolls the triggers back in as well.
        drop_summary_triggers(connection)
        try:
            ctx = _setup_users(connection, writer, SCALES[scale], seed, frame, ids)
            _street_pool(ctx)
            _products(ctx, writer)
            _campaigns(ctx, writer)
            _partners(ctx, writer)
            profiles = _customer_profiles(ctx)
            stats = _customers_and_activity(ctx, writer, profiles)
            _partner_partner_links(ctx, writer)
            _targets(ctx, writer, stats)
            rebuild_summaries(connection)
            install_summary_triggers(connection)
            if not sqlite:
                _reset_sequences(connection)
        finally:
            if sqlite:  # back to SQLite's default for this pooled connection
                connection.exec_driver_sql("PRAGMA cache_size=-2000")
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    return counts


_ID_TABLES: list[tuple[str, Any]] = [
    ("app_user", User),
    ("product", Product),
    ("campaign", Campaign),
    ("partner", Partner),
    ("partner_link", PartnerLink),
    ("customer", Customer),
    ("contact", Contact),
    ("sales_order", Order),
    ("order_line", OrderLine),
    ("interaction", Interaction),
    ("inquiry", Inquiry),
    ("campaign_member", CampaignMember),
    ("opportunity", Opportunity),
    ("opportunity_stage_history", OpportunityStageHistory),
    ("complaint", Complaint),
    ("survey_response", SurveyResponse),
    ("target", Target),
]


def _max_id(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())


def _reset_sequences(connection: Connection) -> None:
    # Explicit ids bypass the serial sequences; move them past the rows we wrote.
    for _, model in _ID_TABLES:
        table = _table(model)
        next_id = _max_id(connection, table) + 1
        sequence = func.pg_get_serial_sequence(table.name, "id")
        connection.execute(select(func.setval(sequence, next_id, False)))


# --------------------------------------------------------------------------- users
def _person_name(rng: random.Random, family: _Picker, male: bool) -> tuple[str, str, str]:
    """(full name, family name, given name) in Vietnamese order."""
    last = family(rng)
    if male:
        middle, given = rng.choice(MIDDLE_MALE), rng.choice(GIVEN_MALE)
    else:
        middle, given = rng.choice(MIDDLE_FEMALE), rng.choice(GIVEN_FEMALE)
    return f"{last} {middle} {given}", last, given


_FAMILY = _picker(FAMILY_NAMES)


def _setup_users(
    connection: Connection,
    writer: _Writer,
    scale: DemoScale,
    seed: int,
    frame: _Frame,
    ids: _Ids,
) -> _Ctx:
    rng = random.Random(f"{seed}:users")
    table = _table(User)
    existing = {
        username: user_id
        for username, user_id in connection.execute(select(table.c.username, table.c.id))
    }
    created = frame.at(0)
    specs: list[tuple[str, str, str | None, str]] = [
        ("admin", "Quản trị hệ thống", "Công nghệ thông tin", "admin"),
        ("exec", "", "Ban giám đốc", "executive"),
        ("manager", "", "Kinh doanh", "manager"),
        ("manager2", "", "Chăm sóc khách hàng", "manager"),
    ]
    for number in range(1, scale.staff + 1):
        department = STAFF_DEPARTMENT_CYCLE[(number - 1) % len(STAFF_DEPARTMENT_CYCLE)]
        specs.append((f"staff{number}", "", department, "staff"))
    rows: list[Row] = []
    users: dict[str, int] = {}
    departments: dict[str, str | None] = {}
    for username, display, department, role in specs:
        name = display or _person_name(rng, _FAMILY, rng.random() < 0.5)[0]
        departments[username] = department
        if username in existing:
            users[username] = existing[username]
            continue
        user_id = ids.take("app_user")
        users[username] = user_id
        rows.append(
            {
                "id": user_id,
                "username": username,
                "display_name": name,
                "email": f"{username}@{COMPANY_MAIL_DOMAIN}",
                "department": department,
                "role": role,
                "active": True,
                "password_hash": None,
                "failed_attempts": 0,
                "locked_until": None,
                "created_at": created,
            }
        )
    writer.insert(table, rows)

    def members(department: str) -> list[int]:
        return [
            users[u]
            for u, d in departments.items()
            if d == department and u != "manager" and u != "manager2"
        ] or [users["manager"]]

    # Dict order here is insertion order of the spec list, which is deterministic.
    staff = [users[u] for u, _ in departments.items() if u.startswith("staff")]
    return _Ctx(
        scale=scale,
        seed=seed,
        frame=frame,
        ids=ids,
        users=users,
        sales=members("Kinh doanh"),
        support=members("Chăm sóc khách hàng"),
        marketing=members("Marketing"),
        staff=staff or [users["manager"]],
        manager=users["manager"],
    )


def _street_pool(ctx: _Ctx) -> None:
    # Faker is slow per call; a small pool of real Vietnamese street names is enough.
    fake = Faker("vi_VN")
    fake.seed_instance(ctx.seed)
    pool: list[str] = []
    for _ in range(300):
        name = fake.street_name()
        if name not in pool:
            pool.append(name)
    ctx.street_names = pool


# --------------------------------------------------------------------------- products
def _products(ctx: _Ctx, writer: _Writer) -> None:
    rng = ctx.rng("products")
    rows: list[Row] = []
    weights: list[float] = []
    by_category: dict[str, tuple[list[int], list[float]]] = {}
    for number in range(ctx.scale.products):
        category, stems, brands, low, high = CATALOGUE[number % len(CATALOGUE)]
        stem, brand = rng.choice(stems), rng.choice(brands)
        if category == SERVICE_CATEGORY:
            name = f"{stem} {brand}"
        else:
            model = f"{rng.choice('ABCDEFGHKLMPRSTVX')}{rng.randint(100, 9900)}"
            name = f"{stem} {brand} {model}"
        price = max(1_000, int(round(math.exp(rng.uniform(math.log(low), math.log(high))), -3)))
        margin = rng.uniform(0.55, 0.85)
        prices = tuple(max(1_000, int(round(price * f, -3))) for f in PRICE_LEVELS)
        costs = tuple(max(1_000, min(p, int(round(p * margin, -3)))) for p in prices)
        product_id = ctx.ids.take("product")
        product = _Product(
            product_id,
            category,
            prices,
            costs,  # type: ignore[arg-type]
            tuple(_dec(p) for p in prices),
            tuple(_dec(c) for c in costs),  # type: ignore[arg-type]
        )
        ctx.products.append(product)
        # Cheap consumables sell more often than expensive equipment.
        weight = rng.uniform(0.3, 1.0) / math.sqrt(price / 100_000)
        weights.append(weight)
        index = len(ctx.products) - 1
        by_category.setdefault(category, ([], []))
        by_category[category][0].append(index)
        by_category[category][1].append(weight)
        rows.append(
            {
                "id": product_id,
                "code": f"SP{product_id:05d}",
                "name": name,
                "category": category,
                "unit_price": product.dec_prices[2],
                "unit_cost": product.dec_costs[2],
                "active": rng.random() > 0.05,
            }
        )
    writer.insert(_table(Product), rows)
    ctx.product_pick = _Picker(list(range(len(ctx.products))), weights)
    ctx.category_pick = {cat: _Picker(items, w) for cat, (items, w) in by_category.items()}


# --------------------------------------------------------------------------- campaigns
def _campaign_name(rng: random.Random, purpose: str, start: dt.date) -> str:
    if start.month in (12, 1):
        lunar_year = start.year + 1 if start.month == 12 else start.year
        return f"Khuyến mãi Tết {lunar_year}"
    options = {
        "acquisition": [
            "Chào khách hàng mới",
            "Dùng thử miễn phí dịch vụ bảo trì",
            "Hội thảo giải pháp văn phòng số",
            "Ưu đãi đơn hàng đầu tiên",
        ],
        "retention": [
            "Tri ân khách hàng thân thiết",
            "Ưu đãi gia hạn hợp đồng",
            "Chăm sóc khách hàng Đại lý",
            "Quà tặng sinh nhật khách hàng",
        ],
        "awareness": [
            "Ra mắt sản phẩm mới",
            "Tuần lễ thương hiệu",
            "Triển lãm thiết bị văn phòng",
            "Chiến dịch mạng xã hội",
        ],
    }[purpose]
    if start.month in (8, 9) and rng.random() < 0.5:
        return f"Mùa tựu trường {start.year}"
    return f"{rng.choice(options)} {start.month:02d}/{start.year}"


def _campaigns(ctx: _Ctx, writer: _Writer) -> None:
    rng = ctx.rng("campaigns")
    frame = ctx.frame
    purpose_pick = _picker(CAMPAIGN_PURPOSES)
    rows: list[Row] = []
    count = ctx.scale.campaigns
    for number in range(count):
        # Spread evenly over the history, the last ones possibly still running.
        start_day = int((number + rng.random()) / count * (frame.days - 10))
        length = rng.randint(7, 60)
        end_day = start_day + length
        purpose = purpose_pick(rng)
        start_date = frame.day0 + dt.timedelta(days=start_day)
        end_date = frame.day0 + dt.timedelta(days=end_day)
        # Budgets follow the reach: about 50k-400k VND per contacted customer.
        reach = ctx.scale.campaign_members / count
        budget = max(5, round(reach * rng.uniform(0.05, 0.4))) * 1_000_000
        elapsed = min(1.0, (frame.days - start_day) / (length + 1))
        actual = round(budget * rng.uniform(0.78, 1.12) * elapsed, -3)
        segment = None
        if purpose == "retention" or rng.random() < 0.3:
            segment = rng.choice(["Doanh nghiệp lớn", "SME", "Đại lý", SEGMENT_PERSON])
        campaign_id = ctx.ids.take("campaign")
        name = _campaign_name(rng, purpose, start_date)
        created = max(0, start_day * DAY - rng.randint(3, 20) * DAY) + 30_000
        rows.append(
            {
                "id": campaign_id,
                "name": name,
                "channel": rng.choice(CAMPAIGN_CHANNELS),
                "purpose": purpose,
                "start_date": start_date,
                "end_date": end_date,
                "budget": _dec(budget),
                "actual_cost": _dec(int(actual)),
                "target_segment": segment,
                "description": f"Chiến dịch {name.lower()} nhắm tới "
                f"{(segment or 'mọi khách hàng').lower()}.",
                "created_at": frame.at(created),
            }
        )
        ctx.campaigns.append(
            _Campaign(
                campaign_id, name, purpose, start_day * DAY, min((end_day + 1) * DAY, frame.end)
            )
        )
    writer.insert(_table(Campaign), rows)


# --------------------------------------------------------------------------- partners
def _partners(ctx: _Ctx, writer: _Writer) -> None:
    rng = ctx.rng("partners")
    kind_pick = _picker(PARTNER_KINDS)
    province_pick = _picker([(p[0], p[2]) for p in PROVINCES])
    rows: list[Row] = []
    for number in range(ctx.scale.partners):
        # Guarantee every kind exists even at the smallest scale.
        kind = PARTNER_KINDS[number][0] if number < len(PARTNER_KINDS) else kind_pick(rng)
        proper = f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_SECOND)}"
        province = province_pick(rng)
        if kind == "supplier":
            name = f"Công ty TNHH {PARTNER_BRANDS[number % len(PARTNER_BRANDS)]} Việt Nam"
            if number >= len(PARTNER_BRANDS):
                name += f" - Chi nhánh {province}"
        elif kind == "distributor":
            name = f"Công ty Cổ phần Phân phối {proper}"
        elif kind == "agent":
            name = f"Đại lý {proper} {province}"
        else:
            name = (
                f"Công ty TNHH Dịch vụ {rng.choice(['Giao nhận', 'Kỹ thuật', 'Bảo trì'])} {proper}"
            )
        partner_id = ctx.ids.take("partner")
        created = ctx.frame.when(rng, 0, 60 * DAY)
        ctx.partners.append((partner_id, kind, created))
        rows.append(
            {
                "id": partner_id,
                "name": name,
                "kind": kind,
                "province": province,
                "phone": _mobile(rng) if rng.random() < 0.9 else None,
                "email": f"lienhe@{_slug(proper)}{partner_id}.vn" if rng.random() < 0.85 else None,
                "notes": None if rng.random() < 0.7 else "Đối tác chiến lược",
                "created_at": ctx.frame.at(created),
                "archived": rng.random() < 0.05,
            }
        )
    writer.insert(_table(Partner), rows)


def _partner_partner_links(ctx: _Ctx, writer: _Writer) -> None:
    rng = ctx.rng("partner_links")
    by_kind: dict[str, list[tuple[int, str, int]]] = {}
    for partner in ctx.partners:
        by_kind.setdefault(partner[1], []).append(partner)
    rows: list[Row] = []
    seen: set[tuple[int, int]] = set()

    def link(source: tuple[int, str, int], target: tuple[int, str, int], relation: str) -> None:
        if source[0] == target[0] or (source[0], target[0]) in seen:
            return
        seen.add((source[0], target[0]))
        since = ctx.frame.date(ctx.frame.when(rng, max(source[2], target[2]), ctx.frame.end))
        rows.append(
            {
                "id": ctx.ids.take("partner_link"),
                "partner_id": source[0],
                "other_partner_id": target[0],
                "customer_id": None,
                "relation": relation,
                "since": since,
            }
        )

    suppliers = by_kind.get("supplier", [])
    distributors = by_kind.get("distributor", [])
    for distributor in distributors:
        for _ in range(rng.randint(1, 2)):
            if suppliers:
                link(rng.choice(suppliers), distributor, "Cung cấp hàng hóa")
    for agent in by_kind.get("agent", []):
        if distributors:
            link(rng.choice(distributors), agent, "Phân phối cho đại lý")
    for provider in by_kind.get("service_provider", []):
        link(provider, rng.choice(ctx.partners), "Cung cấp dịch vụ hỗ trợ")
    writer.insert(_table(PartnerLink), rows)


# --------------------------------------------------------------------------- customers
def _mobile(rng: random.Random) -> str:
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10_000_000):07d}"


def _customer_profiles(ctx: _Ctx) -> list[_Profile]:
    """Decide creation time, kind, segment and buying behaviour of every customer."""
    rng = ctx.rng("profiles")
    frame = ctx.frame
    n = ctx.scale.customers
    # A quarter is the base the company already had when the history starts (entered in
    # its first months); the rest arrive at a mildly growing pace.
    created = sorted(
        int(
            rng.random() * min(120, frame.days)
            if rng.random() < LEGACY_SHARE
            else rng.random() ** 0.85 * frame.days
        )
        * DAY
        + 27_000
        + int(rng.random() * 37_800)
        for _ in range(n)
    )
    segment_pick = _picker(SEGMENTS_ORG)
    channel_pick = _picker(CHANNEL_WEIGHTS)
    acquisition_by_day: list[list[int]] = [[] for _ in range(frame.days)]
    for index, campaign in enumerate(ctx.campaigns):
        if campaign.purpose == "acquisition":
            for day in range(campaign.start // DAY, (campaign.stop - 1) // DAY + 1):
                acquisition_by_day[day].append(index)
    profiles: list[_Profile] = []
    for index, when in enumerate(created):
        org = rng.random() < 0.45
        segment: str | None = segment_pick(rng) if org else SEGMENT_PERSON
        if rng.random() < 0.03:
            segment = None
        age_days = (frame.end - when) / DAY
        # Recent sign-ups are more often still leads; a steady share never buys.
        buyer = rng.random() > (0.45 if age_days < 90 else 0.12)
        stop = frame.end
        if buyer and age_days > 150 and rng.random() < 0.25:
            stop = when + int((0.1 + 0.8 * rng.random()) * (frame.end - when))
        per_year, _ = SEGMENT_PROFILE[segment]
        rate = per_year * math.exp(rng.gauss(0.0, 0.6)) if buyer else 0.0
        owner = None if rng.random() < 0.08 else rng.choice(ctx.sales)
        referred_by = None
        acq_campaign = None
        if index > 20 and rng.random() < 0.08:
            channel = "referral"
            referred_by = rng.randrange(index)
        else:
            active = acquisition_by_day[when // DAY]
            if active and rng.random() < 0.35:
                channel = "campaign"
                acq_campaign = rng.choice(active)
            else:
                channel = channel_pick(rng)
        profiles.append(
            _Profile(
                when, org, segment, buyer, stop, rate, owner, channel, referred_by, acq_campaign
            )
        )
    return profiles


@dataclass
class _Stats:
    """Monthly totals the targets are set against."""

    revenue: dict[int, int] = field(default_factory=dict)
    new_customers: dict[int, int] = field(default_factory=dict)


@dataclass
class _Buf:
    """Rows of one chunk of customers, per table, in insertion order."""

    customer: list[Row] = field(default_factory=list)
    contact: list[Row] = field(default_factory=list)
    partner_link: list[Row] = field(default_factory=list)
    order: list[Row] = field(default_factory=list)
    line: list[Row] = field(default_factory=list)
    interaction: list[Row] = field(default_factory=list)
    inquiry: list[Row] = field(default_factory=list)
    member: list[Row] = field(default_factory=list)
    opportunity: list[Row] = field(default_factory=list)
    history: list[Row] = field(default_factory=list)
    complaint: list[Row] = field(default_factory=list)
    survey: list[Row] = field(default_factory=list)

    def flush(self, writer: _Writer) -> None:
        for model, rows in (
            (Customer, self.customer),
            (Contact, self.contact),
            (PartnerLink, self.partner_link),
            (Order, self.order),
            (OrderLine, self.line),
            (Interaction, self.interaction),
            (Inquiry, self.inquiry),
            (CampaignMember, self.member),
            (Opportunity, self.opportunity),
            (OpportunityStageHistory, self.history),
            (Complaint, self.complaint),
            (SurveyResponse, self.survey),
        ):
            writer.insert(_table(model), rows)
            rows.clear()


@dataclass
class _OrderInfo:
    at: int
    counted: bool
    row: Row
    lines: list[tuple[int, int]]  # (product index, quantity)


def _customers_and_activity(ctx: _Ctx, writer: _Writer, profiles: list[_Profile]) -> _Stats:
    """Generate and insert customers with everything hanging off them, chunk by chunk."""
    scale, frame = ctx.scale, ctx.frame
    alloc = ctx.rng("allocation")
    order_weights = [
        p.rate * max(1.0, (p.stop - p.created) / DAY) / 365 if p.buyer else 0.0 for p in profiles
    ]
    orders = _allocate(alloc, order_weights, scale.orders)
    interactions = _allocate(
        alloc,
        [
            1.0 + n + 0.5 * (frame.end - p.created) / DAY / 365 + (1.0 if p.org else 0.0)
            for p, n in zip(profiles, orders, strict=True)
        ],
        scale.interactions,
    )
    complaints = _allocate(alloc, [float(n) for n in orders], scale.complaints)
    surveys = _allocate(alloc, [1.0 + 0.25 * n if n else 0.02 for n in orders], scale.surveys)
    opportunities = _allocate(
        alloc,
        [
            (3.0 if p.org else 0.3) * (1.3 if not n else 1.0)
            for p, n in zip(profiles, orders, strict=True)
        ],
        scale.opportunities,
    )
    inquiries = _allocate(alloc, [1.0 + 0.15 * n if n else 2.0 for n in orders], scale.inquiries)
    members = _allocate(alloc, [1.0] * len(profiles), scale.campaign_members)

    gens = {
        name: ctx.rng(name)
        for name in (
            "customers",
            "orders",
            "members",
            "interactions",
            "inquiries",
            "opportunities",
            "complaints",
            "surveys",
            "partner_customer",
        )
    }
    stats = _Stats()
    identities: list[tuple[str, str | None, str | None]] = []  # name, phone, email
    customer_ids: list[int] = []
    email_seen: dict[str, int] = {}
    campaigns_by_stop = sorted(range(len(ctx.campaigns)), key=lambda i: ctx.campaigns[i].stop)
    stops = [ctx.campaigns[i].stop for i in campaigns_by_stop]
    link_rate = scale.partner_customer_links / max(1, scale.customers)
    buf = _Buf()
    for index, profile in enumerate(profiles):
        customer_id = ctx.ids.take("customer")
        customer_ids.append(customer_id)
        order_infos = _orders(ctx, gens["orders"], buf, customer_id, profile, orders[index])
        counted = [o for o in order_infos if o.counted]
        if counted:
            first = counted[0].at
            key = frame.month_key[first // DAY]
            stats.new_customers[key] = stats.new_customers.get(key, 0) + 1
            for info in counted:
                key = frame.month_key[info.at // DAY]
                stats.revenue[key] = stats.revenue.get(key, 0) + info.row["_amount"]
        _customer(
            ctx,
            gens["customers"],
            buf,
            customer_id,
            profile,
            order_infos,
            identities,
            customer_ids,
            email_seen,
            engaged=bool(inquiries[index] or opportunities[index]),
        )
        joined = _campaign_members(
            ctx,
            gens["members"],
            buf,
            customer_id,
            profile,
            members[index],
            counted,
            campaigns_by_stop,
            stops,
        )
        _interactions(ctx, gens["interactions"], buf, customer_id, profile, interactions[index])
        _inquiries(ctx, gens["inquiries"], buf, customer_id, profile, inquiries[index], order_infos)
        _opportunities(
            ctx, gens["opportunities"], buf, customer_id, profile, opportunities[index], joined
        )
        unhappy, complaint_rows = _complaints(
            ctx, gens["complaints"], buf, customer_id, profile, complaints[index], order_infos
        )
        _surveys(
            ctx,
            gens["surveys"],
            buf,
            customer_id,
            profile,
            surveys[index],
            order_infos,
            complaint_rows,
            unhappy,
        )
        _partner_customer_link(ctx, gens["partner_customer"], buf, customer_id, profile, link_rate)
        for info in order_infos:
            del info.row["_amount"]
        if len(buf.customer) >= CUSTOMER_CHUNK:
            buf.flush(writer)
    buf.flush(writer)
    return stats


def _customer(
    ctx: _Ctx,
    rng: random.Random,
    buf: _Buf,
    customer_id: int,
    profile: _Profile,
    order_infos: list[_OrderInfo],
    identities: list[tuple[str, str | None, str | None]],
    customer_ids: list[int],
    email_seen: dict[str, int],
    *,
    engaged: bool,
) -> None:
    frame = ctx.frame
    province, region, _ = PROVINCES[_PROVINCE_PICK(rng)]
    is_foreign = False
    gender = birth_year = industry = tax_code = representative = None
    if profile.org:
        is_foreign = rng.random() < 0.02
        trade, industry = ORG_TRADES[rng.randrange(len(ORG_TRADES))]
        proper = f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_SECOND)}"
        if is_foreign:
            name = f"Công ty TNHH {rng.choice(FOREIGN_BRANDS)} Việt Nam"
        else:
            name = f"{_ORG_TYPE_PICK(rng)} {trade} {proper}"
        tax_code = f"{rng.randrange(100_000_000, 1_000_000_000):010d}"
        if rng.random() < 0.03:
            tax_code += f"-{rng.randint(1, 9):03d}"  # a branch's 13-digit tax code
        representative = _person_name(rng, _FAMILY, rng.random() < 0.6)[0]
        base = _slug(proper if not is_foreign else name.split(" Việt")[0][13:])
        taken = email_seen.get(base, 0)
        email_seen[base] = taken + 1
        domain = f"{base}{taken + 1 if taken else ''}.{rng.choice(['com.vn', 'vn', 'com'])}"
        email = f"{rng.choice(['info', 'lienhe', 'sales', 'kinhdoanh', 'contact'])}@{domain}"
        if rng.random() < 0.05:
            industry = None
        if rng.random() < 0.06:
            representative = None
    else:
        male = rng.random() < 0.49
        name, family, given = _person_name(rng, _FAMILY, male)
        gender = "male" if male else "female"
        if rng.random() < 0.01:
            gender = "other"
        birth_year = frame.today.year - rng.randint(20, 65)
        local = f"{_slug(given)}{_slug(family)}{birth_year % 100:02d}"
        taken = email_seen.get(local, 0)
        email_seen[local] = taken + 1
        host = _MAIL_HOST_PICK(rng)
        email = f"{local}{taken if taken else ''}@{host}"
        domain = ""
        if rng.random() < 0.04:
            gender = None
        if rng.random() < 0.06:
            birth_year = None
    phone: str | None = _mobile(rng)
    if rng.random() < 0.05:  # incomplete records: a missing phone or e-mail
        if rng.random() < 0.5:
            phone = None
        else:
            email = None
    # A few records look like duplicates of an earlier one (typed again by another clerk).
    if identities and rng.random() < 0.006:
        other_name, other_phone, other_email = identities[rng.randrange(len(identities))]
        variant = rng.random()
        if variant < 0.4:
            name = _unaccent(other_name).upper()
            phone = other_phone
        elif variant < 0.75:
            phone = other_phone or phone
        else:
            email = other_email.upper() if other_email else email
    identities.append((name, phone, email))
    if len(identities) > 2_000:
        del identities[:1_000]
    address = None
    if rng.random() > 0.03:
        address = f"Số {rng.randint(1, 399)} {rng.choice(ctx.street_names)}, {province}"
    counted = [o for o in order_infos if o.counted]
    if counted:
        last = counted[-1].at
        lifecycle = "customer" if frame.end - last <= 365 * DAY else "inactive"
    else:
        lifecycle = "prospect" if engaged or order_infos else "lead"
    updated = max([profile.created] + [o.at for o in order_infos])
    if rng.random() < 0.3:
        updated = max(updated, _between(rng, profile.created, frame.end))
    referred_by = None if profile.referred_by is None else customer_ids[profile.referred_by]
    buf.customer.append(
        {
            "id": customer_id,
            "code": f"KH{customer_id:06d}",
            "name": name,
            "kind": "organisation" if profile.org else "person",
            "is_foreign": is_foreign,
            "tax_code": tax_code,
            "industry": industry,
            "segment": profile.segment,
            "province": province,
            "region": region,
            "address": address,
            "phone": phone,
            "email": email,
            "representative": representative,
            "gender": gender,
            "birth_year": birth_year,
            "channel": profile.channel,
            "referred_by_id": referred_by,
            "owner_id": profile.owner,
            "lifecycle": lifecycle,
            "created_at": frame.at(profile.created),
            "updated_at": frame.at(updated),
            "archived": rng.random() < 0.01,
        }
    )
    if profile.org:
        _contacts(ctx, rng, buf, customer_id, profile, representative, domain)


_PROVINCE_PICK = _Picker(list(range(len(PROVINCES))), [p[2] for p in PROVINCES])
_ORG_TYPE_PICK = _picker(ORG_TYPES)
_MAIL_HOST_PICK = _picker(MAIL_HOSTS)


def _contacts(
    ctx: _Ctx,
    rng: random.Random,
    buf: _Buf,
    customer_id: int,
    profile: _Profile,
    representative: str | None,
    domain: str,
) -> None:
    count = rng.choices((1, 2, 3), (50, 35, 15))[0]
    for number in range(count):
        if number == 0 and representative:
            name = representative
        else:
            name = _person_name(rng, _FAMILY, rng.random() < 0.5)[0]
        parts = name.split()
        title = "Giám đốc" if number == 0 and representative else rng.choice(CONTACT_TITLES)
        email = f"{_slug(parts[-1])}.{_slug(parts[0])}@{domain}" if rng.random() < 0.8 else None
        buf.contact.append(
            {
                "id": ctx.ids.take("contact"),
                "customer_id": customer_id,
                "name": name,
                "title": title,
                "phone": _mobile(rng) if rng.random() < 0.85 else None,
                "email": email,
                "is_primary": number == 0,
                "created_at": ctx.frame.at(profile.created + rng.randint(60, 3_600)),
            }
        )


def _partner_customer_link(
    ctx: _Ctx,
    rng: random.Random,
    buf: _Buf,
    customer_id: int,
    profile: _Profile,
    rate: float,
) -> None:
    # Partner-acquired customers are linked to the partner that brought them.
    sellers = [p for p in ctx.partners if p[1] != "supplier"] or ctx.partners
    if profile.channel == "partner" and rng.random() < 0.5:
        relation = "Giới thiệu khách hàng"
    elif rng.random() < rate:
        relation = rng.choice(["Phụ trách khách hàng", "Cung cấp dịch vụ bảo trì"])
    else:
        return
    partner = rng.choice(sellers)
    since = ctx.frame.date(max(profile.created, partner[2]))
    buf.partner_link.append(
        {
            "id": ctx.ids.take("partner_link"),
            "partner_id": partner[0],
            "other_partner_id": None,
            "customer_id": customer_id,
            "relation": relation,
            "since": since,
        }
    )


# --------------------------------------------------------------------------- orders
def _orders(
    ctx: _Ctx,
    rng: random.Random,
    buf: _Buf,
    customer_id: int,
    profile: _Profile,
    count: int,
) -> list[_OrderInfo]:
    if not count:
        return []
    frame = ctx.frame
    _, qty_factor = SEGMENT_PROFILE[profile.segment]
    favourites = rng.sample(range(len(CATALOGUE)), rng.randint(1, 3))
    bulk_buyer = profile.segment in ("Doanh nghiệp lớn", "Đại lý")
    assert ctx.product_pick is not None
    times = sorted(frame.seasonal(rng, profile.created + 600, profile.stop) for _ in range(count))
    infos: list[_OrderInfo] = []
    for moment in times:
        age = frame.end - moment
        roll = rng.random()
        if roll < 0.02:
            status = "draft"
        elif roll < 0.05:
            status = "cancelled"
        elif age < 3 * DAY:
            status = "confirmed"
        elif age < 14 * DAY:
            status = rng.choices(("confirmed", "delivered", "paid"), (50, 35, 15))[0]
        elif age < 45 * DAY:
            status = "delivered" if rng.random() < 0.35 else "paid"
        else:
            status = "delivered" if rng.random() < 0.03 else "paid"
        level = 0 if age > 730 * DAY else (1 if age > 365 * DAY else 2)
        order_id = ctx.ids.take("sales_order")
        amount = cost = 0
        chosen: list[tuple[int, int]] = []
        customised_any = False
        for _ in range(rng.choices((1, 2, 3, 4), (40, 30, 20, 10))[0]):
            if rng.random() < 0.7:
                category = CATALOGUE[rng.choice(favourites)][0]
                product_index = ctx.category_pick[category](rng)
            else:
                product_index = ctx.product_pick(rng)
            if any(product_index == p for p, _ in chosen):
                continue
            product = ctx.products[product_index]
            price = product.prices[level]
            cap = 40 if price < 500_000 else (8 if price < 5_000_000 else 3)
            quantity = 1 + int(rng.random() ** 2 * cap * qty_factor)
            discount = 0
            if rng.random() < (0.3 if bulk_buyer else 0.08):
                discount = 10 if rng.random() < 0.4 else 5
            customised = rng.random() < 0.04
            customised_any = customised_any or customised
            # Prices are whole thousands, so quantity x price x (1 - 5%/10%) is an integer.
            amount += quantity * price * (100 - discount) // 100
            cost += quantity * product.costs[level]
            chosen.append((product_index, quantity))
            buf.line.append(
                {
                    "id": ctx.ids.take("order_line"),
                    "order_id": order_id,
                    "product_id": product.id,
                    "quantity": _SMALL_DEC[quantity] if quantity <= 1000 else Decimal(quantity),
                    "unit_price": product.dec_prices[level],
                    "unit_cost": product.dec_costs[level],
                    "discount": DISCOUNTS[discount],
                    "customised": customised,
                }
            )
        ordered = frame.at(moment)
        ordered_date = frame.date(moment)
        promotion = None
        if frame.near_tet[moment // DAY] and rng.random() < 0.3:
            promotion = TET_PROMOTION
        elif rng.random() < 0.06:
            promotion = rng.choice(SEASONAL_PROMOTIONS)
        notes = (
            CUSTOMISED_NOTE
            if customised_any
            else (rng.choice(ORDER_NOTES) if rng.random() < 0.1 else None)
        )
        row: Row = {
            "id": order_id,
            "code": f"DH{order_id:06d}",
            "customer_id": customer_id,
            "user_id": profile.owner
            if profile.owner and rng.random() < 0.8
            else rng.choice(ctx.sales),
            "ordered_at": ordered,
            "status": status,
            "currency": "VND",
            "payment_due": ordered_date + dt.timedelta(days=30 if profile.org else 7),
            "delivery_due": ordered_date + dt.timedelta(days=rng.randint(2, 10)),
            "campaign_id": None,
            "promotion": promotion,
            "notes": notes,
            "amount": _dec(amount),
            "cost": _dec(cost),
            "created_at": ordered,
            "_amount": amount,
        }
        buf.order.append(row)
        infos.append(_OrderInfo(moment, status in ("confirmed", "delivered", "paid"), row, chosen))
    return infos


# --------------------------------------------------------------------------- campaign members
def _campaign_members(
    ctx: _Ctx,
    rng: random.Random,
    buf: _Buf,
    customer_id: int,
    profile: _Profile,
    count: int,
    counted: list[_OrderInfo],
    campaigns_by_stop: list[int],
    stops: list[int],
) -> list[tuple[int, int]]:
    """Memberships of one customer; returns (campaign index, contacted second) pairs."""
    frame = ctx.frame
    joined: list[tuple[int, int]] = []
    taken: set[int] = set()

    def attribute(campaign: _Campaign, after: int, before: int) -> _OrderInfo | None:
        for info in counted:
            if after < info.at <= before and info.row["campaign_id"] is None:
                info.row["campaign_id"] = campaign.id
                info.row["promotion"] = f"Chương trình: {campaign.name}"[:200]
                return info
        return None

    def add(index: int, contacted: int, responded_at: int | None, converted: bool) -> None:
        taken.add(index)
        joined.append((index, contacted))
        buf.member.append(
            {
                "id": ctx.ids.take("campaign_member"),
                "campaign_id": ctx.campaigns[index].id,
                "customer_id": customer_id,
                "contacted_at": frame.at(contacted),
                "responded": responded_at is not None,
                "responded_at": None if responded_at is None else frame.at(responded_at),
                "converted": converted,
            }
        )

    if profile.acq_campaign is not None:
        # Acquired by this campaign: contacted when the record was created.
        campaign = ctx.campaigns[profile.acq_campaign]
        contacted = profile.created
        answered = min(contacted + rng.randint(60, 2 * HOUR), frame.end - 1)
        info = attribute(campaign, answered, answered + 60 * DAY)
        add(profile.acq_campaign, contacted, answered, info is not None)
    first = bisect.bisect_right(stops, profile.created + HOUR)
    for _ in range(count):
        if first >= len(stops):
            break
        index = campaigns_by_stop[first + rng.randrange(len(stops) - first)]
        if index in taken:
            continue
        campaign = ctx.campaigns[index]
        lo, hi = max(campaign.start, profile.created + 60), campaign.stop
        if hi - lo < 2 * HOUR:
            continue
        if rng.random() < 0.45:
            # Contact shortly before an order in the window: a response that converted.
            candidates = [
                o
                for o in counted
                if lo + HOUR < o.at < hi + 7 * DAY and o.row["campaign_id"] is None
            ]
            if candidates:
                info = candidates[rng.randrange(len(candidates))]
                contacted = _between(rng, max(lo, info.at - 10 * DAY), min(hi, info.at - HOUR))
                answered = _between(rng, contacted, info.at)
                info.row["campaign_id"] = campaign.id
                info.row["promotion"] = f"Chương trình: {campaign.name}"[:200]
                add(index, contacted, answered, True)
                continue
        contacted = frame.when(rng, lo, hi)
        answered = None
        if rng.random() < 0.15:
            answered = min(contacted + rng.randint(HOUR, 3 * DAY), frame.end - 1)
        add(index, contacted, answered, False)
    return joined


# --------------------------------------------------------------------------- interactions
_KIND_PICK = _picker(INTERACTION_KINDS)


def _interactions(
    ctx: _Ctx,
    rng: random.Random,
    buf: _Buf,
    customer_id: int,
    profile: _Profile,
    count: int,
) -> None:
    frame = ctx.frame
    at = frame.at
    lo = profile.created
    # After churning, contact fades out: most interactions fall before stop + 180 days.
    faded = min(frame.end, profile.stop + 180 * DAY) if profile.stop < frame.end else frame.end
    staff = ctx.staff
    rows = buf.interaction
    for _ in range(count):
        hi = faded if rng.random() < 0.85 else frame.end
        moment = frame.when(rng, lo, hi)
        kind = _KIND_PICK(rng)
        if kind == "feedback":
            direction = "inbound"
        elif kind == "social":
            direction = "inbound" if rng.random() < 0.6 else "outbound"
        else:
            direction = "inbound" if rng.random() < 0.25 else "outbound"
        # Feedback lands at customer care, campaign messages come from marketing, the rest
        # mostly from the account owner; a few are logged by the system (no user).
        roll = rng.random()
        user: int | None
        if kind == "feedback":
            user = ctx.support[int(rng.random() * len(ctx.support))]
        elif kind in ("sms", "social") and roll < 0.5:
            user = ctx.marketing[int(rng.random() * len(ctx.marketing))]
        elif profile.owner is not None and roll < 0.6:
            user = profile.owner
        elif roll < 0.98:
            user = staff[int(rng.random() * len(staff))]
        else:
            user = None
        follow = None
        if rng.random() < 0.15:
            follow = frame.date(moment) + dt.timedelta(days=rng.randint(2, 14))
        rows.append(
            {
                "id": ctx.ids.take("interaction"),
                "customer_id": customer_id,
                "user_id": user,
                "kind": kind,
                "direction": direction,
                "occurred_at": at(moment),
                "subject": rng.choice(INTERACTION_SUBJECTS[kind]),
                "notes": rng.choice(INTERACTION_NOTES) if rng.random() < 0.2 else None,
                "outcome": rng.choice(INTERACTION_OUTCOMES) if rng.random() < 0.6 else None,
                "follow_up_due": follow,
            }
        )


# --------------------------------------------------------------------------- inquiries
def _inquiries(
    ctx: _Ctx,
    rng: random.Random,
    buf: _Buf,
    customer_id: int,
    profile: _Profile,
    count: int,
    order_infos: list[_OrderInfo],
) -> None:
    frame = ctx.frame
    assert ctx.product_pick is not None
    counted = [o for o in order_infos if o.counted and o.lines]
    for _ in range(count):
        user = profile.owner or rng.choice(ctx.sales)
        if counted and rng.random() < 0.55:
            # Asked a few days before an order that then fulfilled it.
            info = counted[rng.randrange(len(counted))]
            lo = max(profile.created, info.at - 20 * DAY)
            if info.at - lo > HOUR:
                asked = _between(rng, lo, info.at - HOUR)
                product_index, quantity = info.lines[rng.randrange(len(info.lines))]
                product = ctx.products[product_index]
                buf.inquiry.append(
                    _inquiry_row(
                        ctx, customer_id, product, quantity, asked, user, "fulfilled", None
                    )
                )
                continue
        asked = frame.when(rng, profile.created, frame.end)
        product = ctx.products[ctx.product_pick(rng)]
        recent = frame.end - asked < 14 * DAY
        roll = rng.random()
        if recent and roll < 0.6:
            status, reason = "open", None
        elif roll < 0.45:
            status, reason = "unmet", rng.choice(UNMET_REASONS)
        else:
            status, reason = "fulfilled", None
        with_product = rng.random() < 0.9
        buf.inquiry.append(
            _inquiry_row(
                ctx,
                customer_id,
                product if with_product else None,
                rng.randint(1, 20),
                asked,
                user,
                status,
                reason,
            )
        )


def _inquiry_row(
    ctx: _Ctx,
    customer_id: int,
    product: _Product | None,
    quantity: int,
    asked: int,
    user: int,
    status: str,
    reason: str | None,
) -> Row:
    if product is None:
        need = "Cần tư vấn giải pháp trang bị văn phòng"
    else:
        need = (
            f"Hỏi giá {quantity} sản phẩm loại {product.category.lower()} (mã SP{product.id:05d})"
        )
    return {
        "id": ctx.ids.take("inquiry"),
        "customer_id": customer_id,
        "product_id": None if product is None else product.id,
        "user_id": user,
        "need": need,
        "quantity": _SMALL_DEC[quantity] if quantity <= 1000 else Decimal(quantity),
        "asked_at": ctx.frame.at(asked),
        "status": status,
        "reason": reason,
    }


# --------------------------------------------------------------------------- opportunities
_LOST_PICK = _picker(LOST_REASONS)


def _opportunities(
    ctx: _Ctx,
    rng: random.Random,
    buf: _Buf,
    customer_id: int,
    profile: _Profile,
    count: int,
    joined: list[tuple[int, int]],
) -> None:
    frame = ctx.frame
    for _ in range(count):
        campaign_id = None
        lo = profile.created
        if joined and rng.random() < 0.35:
            index, contacted = joined[rng.randrange(len(joined))]
            campaign_id, lo = ctx.campaigns[index].id, contacted
        if frame.end - lo < 2 * HOUR:
            campaign_id, lo = None, profile.created
        created = frame.when(rng, lo, frame.end - HOUR)
        owner = profile.owner or rng.choice(ctx.sales)
        opportunity_id = ctx.ids.take("opportunity")
        history = [(None, "lead", created)]
        stage, moment = "lead", created
        lost_reason = None
        closed: int | None = None
        while True:
            step = int(rng.expovariate(1.0 / STAGE_DAYS[stage]) * DAY) + HOUR
            if moment + step >= frame.end:
                break  # still open today
            moment += step
            if rng.random() < STAGE_ADVANCE[stage]:
                following = STAGE_FLOW[STAGE_FLOW.index(stage) + 1]
                history.append((stage, following, moment))
                stage = following
                if stage == "won":
                    closed = moment
                    break
            elif rng.random() < 0.9:
                history.append((stage, "lost", moment))
                stage, closed, lost_reason = "lost", moment, _LOST_PICK(rng)
                break
            else:
                break  # stalled: left open at this stage, possibly for long
        if closed is None:
            if rng.random() < 0.85:
                expected = frame.today + dt.timedelta(days=rng.randint(5, 120))
            else:
                expected = frame.date(created) + dt.timedelta(days=rng.randint(20, 90))
        else:
            expected = frame.date(created) + dt.timedelta(days=rng.randint(20, 90))
        if profile.org:
            amount = round(math.exp(rng.uniform(math.log(10e6), math.log(2e9))), -5)
        else:
            amount = round(math.exp(rng.uniform(math.log(2e6), math.log(1e8))), -5)
        buf.opportunity.append(
            {
                "id": opportunity_id,
                "customer_id": customer_id,
                "title": f"{rng.choice(OPPORTUNITY_TITLES)} {frame.date(created).year}",
                "amount": _dec(int(amount)),
                "stage": stage,
                "expected_close": expected,
                "lost_reason": lost_reason,
                "campaign_id": campaign_id,
                "owner_id": owner,
                "created_at": frame.at(created),
                "closed_at": None if closed is None else frame.at(closed),
            }
        )
        for from_stage, to_stage, changed in history:
            buf.history.append(
                {
                    "id": ctx.ids.take("opportunity_stage_history"),
                    "opportunity_id": opportunity_id,
                    "from_stage": from_stage,
                    "to_stage": to_stage,
                    "changed_at": frame.at(changed),
                    "changed_by_id": owner,
                }
            )


# --------------------------------------------------------------------------- complaints
_CATEGORY_PICK = _picker(COMPLAINT_CATEGORIES)
_SEVERITY_PICK = _picker(SEVERITIES)
_COMPLAINT_CHANNEL_PICK = _picker(COMPLAINT_CHANNELS)


@dataclass
class _ComplaintInfo:
    id: int
    opened: int
    responded: int | None
    resolved: int | None


def _complaints(
    ctx: _Ctx,
    rng: random.Random,
    buf: _Buf,
    customer_id: int,
    profile: _Profile,
    count: int,
    order_infos: list[_OrderInfo],
) -> tuple[bool, list[_ComplaintInfo]]:
    """Complaints of one customer; returns (any unresolved or SLA-breaching, the complaints)."""
    frame = ctx.frame
    unhappy = False
    infos: list[_ComplaintInfo] = []
    candidates = [o for o in order_infos if o.at < frame.end - 2 * HOUR]
    for _ in range(count):
        if not candidates:
            break
        order = candidates[rng.randrange(len(candidates))]
        opened = min(order.at + HOUR + int(rng.random() * 20 * DAY), frame.end - HOUR)
        severity = _SEVERITY_PICK(rng)
        category = _CATEGORY_PICK(rng)
        sla = SLA_HOURS[severity] * HOUR
        response = int(rng.expovariate(1.0 / FIRST_RESPONSE_HOURS[severity]) * HOUR) + 300
        # Three in four are solved within the SLA; the rest take 1.1-4x as long.
        if rng.random() < 0.75:
            duration = max(response + 600, int(sla * rng.uniform(0.2, 0.95)))
        else:
            duration = max(response + 600, int(sla * rng.uniform(1.1, 4.0)))
        stuck = rng.random() < 0.015  # forgotten tickets that stay open past their SLA
        responded: int | None = opened + response
        resolved: int | None = opened + duration
        assert responded is not None and resolved is not None
        if responded >= frame.end:
            responded = None
        if stuck or resolved >= frame.end:
            resolved = None
        if resolved is None:
            if responded is None:
                status = "open"
            else:
                status = "reopened" if rng.random() < 0.1 else "in_progress"
        else:
            status = (
                "resolved" if frame.end - resolved < 30 * DAY or rng.random() < 0.2 else "closed"
            )
        if resolved is None or duration > sla:
            unhappy = True
        complaint_id = ctx.ids.take("complaint")
        infos.append(_ComplaintInfo(complaint_id, opened, responded, resolved))
        buf.complaint.append(
            {
                "id": complaint_id,
                "customer_id": customer_id,
                "category": category,
                "severity": severity,
                "channel": _COMPLAINT_CHANNEL_PICK(rng),
                "opened_at": frame.at(opened),
                "first_response_at": None if responded is None else frame.at(responded),
                "resolved_at": None if resolved is None else frame.at(resolved),
                "status": status,
                "description": f"Khách hàng phản ánh {COMPLAINT_DETAILS[category]} "
                f"(đơn {order.row['code']}).",
                "resolution": None if resolved is None else rng.choice(COMPLAINT_RESOLUTIONS),
                "owner_id": rng.choice(ctx.support),
            }
        )
    return unhappy, infos


# --------------------------------------------------------------------------- surveys
def _surveys(
    ctx: _Ctx,
    rng: random.Random,
    buf: _Buf,
    customer_id: int,
    profile: _Profile,
    count: int,
    order_infos: list[_OrderInfo],
    complaints: list[_ComplaintInfo],
    unhappy: bool,
) -> None:
    frame = ctx.frame
    mood = rng.gauss(0.0, 1.0)  # how this customer feels about us overall
    for _ in range(count):
        complaint: _ComplaintInfo | None = None
        answered = -1
        if complaints and rng.random() < 0.4:
            complaint = complaints[rng.randrange(len(complaints))]
            after = complaint.resolved or complaint.responded or complaint.opened
            answered = after + rng.randint(HOUR, 5 * DAY)
            if answered >= frame.end:
                complaint, answered = None, -1
        if answered < 0:
            if order_infos and rng.random() < 0.7:
                base = order_infos[rng.randrange(len(order_infos))].at
                answered = min(base + rng.randint(DAY, 10 * DAY), frame.end - 1)
            else:
                answered = frame.when(rng, profile.created, frame.end)
        penalty = 0.0
        if unhappy:
            penalty += 2.5
        if complaint is not None and complaint.resolved is None:
            penalty += 1.5
        trend = 0.6 * answered / frame.end  # the CRM effort slowly pays off
        noise = 0.6 * mood + 0.8 * rng.gauss(0.0, 1.0)
        nps: int | None = max(0, min(10, round(8.3 + 1.7 * noise + trend - penalty)))
        csat: int | None = max(1, min(5, round(4.0 + 0.8 * noise + 0.3 * trend - 0.45 * penalty)))
        roll = rng.random()
        if roll < 0.18:
            csat = None
        elif roll < 0.30:
            nps = None
        comment = None
        if rng.random() < 0.2:
            good = (nps if nps is not None else (csat or 3) * 2) >= 7
            comment = rng.choice(SURVEY_COMMENTS_GOOD if good else SURVEY_COMMENTS_BAD)
        buf.survey.append(
            {
                "id": ctx.ids.take("survey_response"),
                "customer_id": customer_id,
                "nps": nps,
                "csat": csat,
                "comment": comment,
                "answered_at": frame.at(answered),
                "complaint_id": None if complaint is None else complaint.id,
            }
        )


# --------------------------------------------------------------------------- targets
def _targets(ctx: _Ctx, writer: _Writer, stats: _Stats) -> None:
    rng = ctx.rng("targets")
    frame = ctx.frame
    today = frame.today
    this_month = today.year * 12 + today.month - 1
    rows: list[Row] = []

    def month_start(key: int) -> dt.date:
        return dt.date(key // 12, key % 12 + 1, 1)

    for key in range(this_month - 12, this_month + 1):
        start, end = month_start(key), month_start(key + 1)
        revenue = stats.revenue.get(key, 0)
        new = stats.new_customers.get(key, 0)
        if key == this_month:
            # Extrapolate the month so far to a full-month target.
            elapsed = (today - start).days + 1
            scale = (end - start).days / elapsed
            revenue, new = int(revenue * scale), int(new * scale)
        created = frame.at(max(0, (start - frame.day0).days - 3) * DAY + 30_000)
        values = {
            # Targets sit around the actuals, so some months are met and some are not.
            "revenue": Decimal(int(round(revenue * rng.uniform(0.9, 1.15), -6))),
            "new_customers": Decimal(max(1, round(new * rng.uniform(0.85, 1.2)))),
            "nps": Decimal(15 + 5 * ((key - this_month + 12) // 6)),
        }
        for kpi_id in ("revenue", "new_customers", "nps"):
            rows.append(
                {
                    "id": ctx.ids.take("target"),
                    "kpi_id": kpi_id,
                    "period_start": start,
                    "period_end": end,
                    "segment": None,
                    "target_value": values[kpi_id],
                    "created_by_id": ctx.manager,
                    "created_at": created,
                }
            )
    writer.insert(_table(Target), rows)


# --------------------------------------------------------------------------- demo sign-in
# One account per role with a documented password (README, docs/auth.md). Only for
# demo mode: `make run` sets them and prints them; a real installation has none.
DEMO_ACCOUNTS: dict[str, tuple[str, str]] = {
    "admin": ("admin", "admin-demo-2026"),
    "exec": ("executive", "exec-demo-2026"),
    "manager": ("manager", "manager-demo-2026"),
    "staff1": ("staff", "staff-demo-2026"),
}


def set_demo_passwords(engine: Engine) -> dict[str, str]:
    """Give the demo accounts their documented passwords; return username -> password.

    Only accounts without a password get one; an account whose password was changed
    since keeps it and is left out of the result, so running this again is harmless.
    """
    from app.auth import hash_password, verify_password

    table = _table(User)
    result: dict[str, str] = {}
    with engine.begin() as connection:
        rows = connection.execute(
            select(table.c.id, table.c.username, table.c.password_hash).where(
                table.c.username.in_(list(DEMO_ACCOUNTS))
            )
        ).all()
        for user_id, username, password_hash in rows:
            password = DEMO_ACCOUNTS[username][1]
            if password_hash is None:
                connection.execute(
                    table.update()
                    .where(table.c.id == user_id)
                    .values(password_hash=hash_password(password))
                )
            elif not verify_password(password_hash, password):
                continue
            result[username] = password
    return {username: result[username] for username in DEMO_ACCOUNTS if username in result}


__all__ = [
    "DEMO_ACCOUNTS",
    "SCALES",
    "DemoScale",
    "database_is_empty",
    "default_today",
    "seed_demo",
    "set_demo_passwords",
]
