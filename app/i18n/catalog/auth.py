"""Messages of sign-in and sign-out (components/auth.py): the form, the sidebar, notices."""

EN = {
    "title": "Sign in",
    "username": "Username",
    "password": "Password",
    "submit": "Sign in",
    "sso": "Sign in with single sign-on",
    "sso_other_account": "Use another account",
    "sso_no_account": "No active account has the email {email}; ask an admin to create one "
    "or to set this email on yours.",
    "sso_no_email": "(none)",
    "no_users": "No user account exists yet. Create the first admin from a terminal in the "
    "project folder:\n\n`python -m app create-user --username admin --role admin`",
    "demo_intro": "**Demo mode**: sign in with one of these accounts (`make run` printed "
    "them too).",
    "demo_username": "username",
    "demo_role": "role",
    "demo_password": "password",
    "sign_out": "Sign out",
    "signed_out": "You are signed out.",
    "expired": "You were signed out after {hours} hours without activity. Please sign in again.",
    "inactive": "Your account is no longer active. Ask an admin if this is a mistake.",
}

VI = {
    "title": "Đăng nhập",
    "username": "Tên đăng nhập",
    "password": "Mật khẩu",
    "submit": "Đăng nhập",
    "sso": "Đăng nhập một lần (SSO)",
    "sso_other_account": "Dùng tài khoản khác",
    "sso_no_account": "Không có tài khoản đang hoạt động nào có email {email}; hãy nhờ quản "
    "trị viên tạo tài khoản hoặc gán email này cho tài khoản của bạn.",
    "sso_no_email": "(không có)",
    "no_users": "Chưa có tài khoản người dùng nào. Hãy tạo quản trị viên đầu tiên từ cửa sổ "
    "dòng lệnh trong thư mục dự án:\n\n"
    "`python -m app create-user --username admin --role admin`",
    "demo_intro": "**Chế độ demo**: đăng nhập bằng một trong các tài khoản sau (`make run` "
    "cũng đã in ra).",
    "demo_username": "tên đăng nhập",
    "demo_role": "vai trò",
    "demo_password": "mật khẩu",
    "sign_out": "Đăng xuất",
    "signed_out": "Bạn đã đăng xuất.",
    "expired": "Bạn đã bị đăng xuất sau {hours} giờ không hoạt động. Vui lòng đăng nhập lại.",
    "inactive": "Tài khoản của bạn không còn hoạt động. Hãy hỏi quản trị viên nếu đây là nhầm lẫn.",
}
