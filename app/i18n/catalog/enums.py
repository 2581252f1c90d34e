"""Labels of stored enum values: ``<EnumClassName>_<value>`` for every member of every str Enum.

The one source for showing a stored value (stage, status, channel, severity...) in a
table, chart, filter or form; read through ``app.i18n.enum_label`` /
``components.i18n.enum_label``. A test checks every member of every enum has a label.
"""

EN = {
    # Role
    "Role_admin": "Administrator",
    "Role_executive": "Executive",
    "Role_manager": "Manager",
    "Role_staff": "Staff",
    # CustomerKind
    "CustomerKind_organisation": "Organisation",
    "CustomerKind_person": "Person",
    # Gender
    "Gender_female": "Female",
    "Gender_male": "Male",
    "Gender_other": "Other",
    # Channel (how a customer was acquired)
    "Channel_referral": "Referral",
    "Channel_web": "Website",
    "Channel_social": "Social media",
    "Channel_inbound_call": "Inbound call",
    "Channel_newsletter": "Newsletter",
    "Channel_event": "Event",
    "Channel_sales_visit": "Sales visit",
    "Channel_partner": "Partner",
    "Channel_campaign": "Campaign",
    # Lifecycle
    "Lifecycle_lead": "Lead",
    "Lifecycle_prospect": "Prospect",
    "Lifecycle_customer": "Customer",
    "Lifecycle_inactive": "Inactive",
    # InteractionKind
    "InteractionKind_call": "Call",
    "InteractionKind_email": "Email",
    "InteractionKind_meeting": "Meeting",
    "InteractionKind_visit": "Visit",
    "InteractionKind_sms": "SMS",
    "InteractionKind_social": "Social media",
    "InteractionKind_feedback": "Feedback",
    # Direction
    "Direction_inbound": "Inbound",
    "Direction_outbound": "Outbound",
    # InquiryStatus
    "InquiryStatus_open": "Open",
    "InquiryStatus_fulfilled": "Fulfilled",
    "InquiryStatus_unmet": "Unmet",
    # OrderStatus
    "OrderStatus_draft": "Draft",
    "OrderStatus_confirmed": "Confirmed",
    "OrderStatus_delivered": "Delivered",
    "OrderStatus_paid": "Paid",
    "OrderStatus_cancelled": "Cancelled",
    # Stage (opportunity)
    "Stage_lead": "Lead",
    "Stage_qualified": "Qualified",
    "Stage_proposal": "Proposal",
    "Stage_negotiation": "Negotiation",
    "Stage_won": "Won",
    "Stage_lost": "Lost",
    # CampaignChannel
    "CampaignChannel_email": "Email",
    "CampaignChannel_sms": "SMS",
    "CampaignChannel_social": "Social media",
    "CampaignChannel_event": "Event",
    "CampaignChannel_telemarketing": "Telemarketing",
    "CampaignChannel_web": "Web",
    "CampaignChannel_print": "Print",
    # CampaignPurpose
    "CampaignPurpose_acquisition": "Acquisition",
    "CampaignPurpose_retention": "Retention",
    "CampaignPurpose_awareness": "Awareness",
    # Severity
    "Severity_low": "Low",
    "Severity_medium": "Medium",
    "Severity_high": "High",
    "Severity_critical": "Critical",
    # ComplaintStatus
    "ComplaintStatus_open": "Open",
    "ComplaintStatus_in_progress": "In progress",
    "ComplaintStatus_resolved": "Resolved",
    "ComplaintStatus_closed": "Closed",
    "ComplaintStatus_reopened": "Reopened",
    # PartnerKind
    "PartnerKind_supplier": "Supplier",
    "PartnerKind_distributor": "Distributor",
    "PartnerKind_agent": "Agent",
    "PartnerKind_service_provider": "Service provider",
    # AuditAction
    "AuditAction_create": "Create",
    "AuditAction_update": "Update",
    "AuditAction_archive": "Archive",
    "AuditAction_restore": "Restore",
    "AuditAction_merge": "Merge",
    "AuditAction_delete": "Delete",
    "AuditAction_sign_in": "Sign in",
    "AuditAction_sign_out": "Sign out",
    "AuditAction_sign_in_failed": "Failed sign-in",
    # Permission (app/services/access.py)
    "Permission_read": "Read dashboards",
    "Permission_export": "Export",
    "Permission_write": "Enter and change records",
    "Permission_assign_owner": "Assign owners",
    "Permission_restore": "Restore archived records",
    "Permission_merge": "Merge duplicates",
    "Permission_catalogue": "Edit catalogues",
    "Permission_targets": "Edit targets",
    "Permission_settings": "Change settings",
    "Permission_users": "Manage users",
    "Permission_audit": "Read the audit log",
}

VI = {
    # Role
    "Role_admin": "Quản trị viên",
    "Role_executive": "Lãnh đạo",
    "Role_manager": "Quản lý",
    "Role_staff": "Nhân viên",
    # CustomerKind
    "CustomerKind_organisation": "Tổ chức",
    "CustomerKind_person": "Cá nhân",
    # Gender
    "Gender_female": "Nữ",
    "Gender_male": "Nam",
    "Gender_other": "Khác",
    # Channel
    "Channel_referral": "Giới thiệu",
    "Channel_web": "Website",
    "Channel_social": "Mạng xã hội",
    "Channel_inbound_call": "Khách gọi đến",
    "Channel_newsletter": "Bản tin",
    "Channel_event": "Sự kiện",
    "Channel_sales_visit": "Chào hàng trực tiếp",
    "Channel_partner": "Đối tác",
    "Channel_campaign": "Chiến dịch",
    # Lifecycle
    "Lifecycle_lead": "Đầu mối",
    "Lifecycle_prospect": "Tiềm năng",
    "Lifecycle_customer": "Khách hàng",
    "Lifecycle_inactive": "Ngừng giao dịch",
    # InteractionKind
    "InteractionKind_call": "Gọi điện",
    "InteractionKind_email": "Email",
    "InteractionKind_meeting": "Họp",
    "InteractionKind_visit": "Thăm khách hàng",
    "InteractionKind_sms": "SMS",
    "InteractionKind_social": "Mạng xã hội",
    "InteractionKind_feedback": "Góp ý",
    # Direction
    "Direction_inbound": "Khách liên hệ",
    "Direction_outbound": "Chủ động liên hệ",
    # InquiryStatus
    "InquiryStatus_open": "Đang mở",
    "InquiryStatus_fulfilled": "Đã đáp ứng",
    "InquiryStatus_unmet": "Chưa đáp ứng",
    # OrderStatus
    "OrderStatus_draft": "Nháp",
    "OrderStatus_confirmed": "Đã xác nhận",
    "OrderStatus_delivered": "Đã giao",
    "OrderStatus_paid": "Đã thanh toán",
    "OrderStatus_cancelled": "Đã hủy",
    # Stage
    "Stage_lead": "Đầu mối",
    "Stage_qualified": "Đủ điều kiện",
    "Stage_proposal": "Đề xuất",
    "Stage_negotiation": "Đàm phán",
    "Stage_won": "Thành công",
    "Stage_lost": "Thất bại",
    # CampaignChannel
    "CampaignChannel_email": "Email",
    "CampaignChannel_sms": "SMS",
    "CampaignChannel_social": "Mạng xã hội",
    "CampaignChannel_event": "Sự kiện",
    "CampaignChannel_telemarketing": "Tiếp thị qua điện thoại",
    "CampaignChannel_web": "Website",
    "CampaignChannel_print": "Ấn phẩm in",
    # CampaignPurpose
    "CampaignPurpose_acquisition": "Thu hút khách hàng",
    "CampaignPurpose_retention": "Giữ chân khách hàng",
    "CampaignPurpose_awareness": "Nhận diện thương hiệu",
    # Severity
    "Severity_low": "Thấp",
    "Severity_medium": "Trung bình",
    "Severity_high": "Cao",
    "Severity_critical": "Nghiêm trọng",
    # ComplaintStatus
    "ComplaintStatus_open": "Mới mở",
    "ComplaintStatus_in_progress": "Đang xử lý",
    "ComplaintStatus_resolved": "Đã giải quyết",
    "ComplaintStatus_closed": "Đã đóng",
    "ComplaintStatus_reopened": "Mở lại",
    # PartnerKind
    "PartnerKind_supplier": "Nhà cung cấp",
    "PartnerKind_distributor": "Nhà phân phối",
    "PartnerKind_agent": "Đại lý",
    "PartnerKind_service_provider": "Nhà cung cấp dịch vụ",
    # AuditAction
    "AuditAction_create": "Tạo mới",
    "AuditAction_update": "Cập nhật",
    "AuditAction_archive": "Lưu trữ",
    "AuditAction_restore": "Khôi phục",
    "AuditAction_merge": "Gộp bản ghi",
    "AuditAction_delete": "Xóa",
    "AuditAction_sign_in": "Đăng nhập",
    "AuditAction_sign_out": "Đăng xuất",
    "AuditAction_sign_in_failed": "Đăng nhập thất bại",
    # Permission
    "Permission_read": "Xem báo cáo",
    "Permission_export": "Xuất dữ liệu",
    "Permission_write": "Nhập và sửa dữ liệu",
    "Permission_assign_owner": "Phân công phụ trách",
    "Permission_restore": "Khôi phục bản ghi đã lưu trữ",
    "Permission_merge": "Gộp bản ghi trùng",
    "Permission_catalogue": "Sửa danh mục",
    "Permission_targets": "Sửa mục tiêu",
    "Permission_settings": "Thay đổi cài đặt",
    "Permission_users": "Quản lý người dùng",
    "Permission_audit": "Xem nhật ký thao tác",
}
