"""Messages of the Forecast page."""

EN = {
    "dashed": "dashed: forecast",
    "empty": "No sales history and no open opportunities to forecast from.",
    "method": "Forecast method",
    "method_seasonal_naive": "Seasonal naive",
    "method_holt_winters": "Holt-Winters",
    "method_seasonal_naive_help": "**Seasonal naive**: each future month repeats the same month "
    "of last year (the last month's value when there is less than a year of history).",
    "method_holt_winters_help": "**Holt-Winters**: exponential smoothing with additive trend "
    "and 12-month seasonality when there are at least 24 months of history, else simple "
    "exponential smoothing; smoothing weights chosen to minimise the one-step-ahead errors.",
    "category": "Product category",
    "all_categories": "All categories",
    "measure": "Measure",
    "measure_revenue": "Revenue",
    "measure_quantity": "Quantity",
    "as_of": "History up to the month before {day}; {horizon} months forecast.",
    "section_demand": "Demand forecast per product category",
    "section_sales": "Weighted sales forecast",
    "sales_note": "Open opportunities × the probability of their stage, by expected close "
    "month; overdue deals count in the current month, deals without a date are left out.",
    "backtest_title": "Backtest error of this method",
    "backtest_note": "The last {horizon} months of history forecast from the earlier ones "
    "(revenue). MAPE: mean absolute percentage error; MAE: mean absolute error.",
    "table_demand": "Table: history and forecast",
    "chart_demand_revenue": "Revenue per category: history and forecast",
    "chart_demand_quantity": "Quantity per category: history and forecast",
    "chart_sales": "Weighted pipeline by expected close month",
    "kind": "Kind",
    "kind_actual": "actual",
    "kind_forecast": "forecast",
    "month": "Month",
    "close_month": "Expected close month",
    "quantity": "Quantity",
    "revenue": "Revenue",
    "revenue_vnd": "Revenue (₫)",
    "weighted": "Weighted pipeline",
    "weighted_vnd": "Weighted pipeline (₫)",
    "mape": "MAPE",
    "mae": "MAE",
    "months_tested": "Months tested",
}

VI = {
    "dashed": "nét đứt: dự báo",
    "empty": "Chưa có lịch sử bán hàng và cơ hội đang mở để dự báo.",
    "method": "Phương pháp dự báo",
    "method_seasonal_naive": "Lặp lại theo mùa",
    "method_holt_winters": "Holt-Winters",
    "method_seasonal_naive_help": "**Lặp lại theo mùa**: mỗi tháng tới lặp lại giá trị của cùng "
    "tháng năm trước (giá trị tháng gần nhất khi lịch sử ngắn hơn một năm).",
    "method_holt_winters_help": "**Holt-Winters**: làm trơn hàm mũ có xu hướng cộng và mùa vụ 12 "
    "tháng khi có ít nhất 24 tháng lịch sử, nếu không thì làm trơn hàm mũ đơn giản; các hệ số "
    "làm trơn được chọn để sai số dự báo một bước là nhỏ nhất.",
    "category": "Nhóm sản phẩm",
    "all_categories": "Tất cả nhóm",
    "measure": "Chỉ tiêu",
    "measure_revenue": "Doanh thu",
    "measure_quantity": "Số lượng",
    "as_of": "Lịch sử đến hết tháng trước ngày {day}; dự báo {horizon} tháng.",
    "section_demand": "Dự báo nhu cầu theo nhóm sản phẩm",
    "section_sales": "Dự báo doanh số có trọng số",
    "sales_note": "Cơ hội đang mở × xác suất của giai đoạn, theo tháng dự kiến chốt; cơ hội "
    "quá hạn tính vào tháng hiện tại, cơ hội chưa có ngày không được tính.",
    "backtest_title": "Sai số kiểm định của phương pháp này",
    "backtest_note": "Dự báo {horizon} tháng cuối của lịch sử từ các tháng trước đó (doanh "
    "thu). MAPE: sai số phần trăm tuyệt đối trung bình; MAE: sai số tuyệt đối trung bình.",
    "table_demand": "Bảng: lịch sử và dự báo",
    "chart_demand_revenue": "Doanh thu theo nhóm: lịch sử và dự báo",
    "chart_demand_quantity": "Số lượng theo nhóm: lịch sử và dự báo",
    "chart_sales": "Giá trị cơ hội có trọng số theo tháng dự kiến chốt",
    "kind": "Loại",
    "kind_actual": "thực tế",
    "kind_forecast": "dự báo",
    "month": "Tháng",
    "close_month": "Tháng dự kiến chốt",
    "quantity": "Số lượng",
    "revenue": "Doanh thu",
    "revenue_vnd": "Doanh thu (₫)",
    "weighted": "Giá trị có trọng số",
    "weighted_vnd": "Giá trị có trọng số (₫)",
    "mape": "MAPE",
    "mae": "MAE",
    "months_tested": "Số tháng kiểm định",
}
