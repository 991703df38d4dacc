"""The demo's catalogue: categories, channels, platforms, touchpoints, regions, seasons and
comments of a Douyin-style e-commerce platform, with the effects each has on experience.

Data only; `tables` turns it into draw tables and `generator` draws answers from them.
"""

from datetime import date, timedelta

# Merchants "m_1" .. "m_<merchants>"; these are clearly bad at logistics whenever they exist
# (merchants >= their number). They sit at fixed popularity ranks (BAD_LOGISTICS_RANKS,
# 0 = most answers) so they always have enough answers to stand out in a ranking.
BAD_LOGISTICS_MERCHANTS = ("m_13", "m_42", "m_57", "m_88")
BAD_LOGISTICS_RANKS = (4, 11, 30, 75)

# name, share of merchants, quality offsets (tenths of a rating) for logistics, product, service
CATEGORIES: tuple[tuple[str, float, int, int, int], ...] = (
    ("apparel", 15.0, 0, -4, -2),
    ("beauty", 12.0, 1, 2, 0),
    ("food", 9.0, -3, 1, 0),
    ("fresh_produce", 4.0, -10, -3, -2),
    ("electronics", 7.0, 4, 3, -2),
    ("home", 8.0, -2, 0, 0),
    ("mother_baby", 5.0, 1, 2, 2),
    ("shoes_bags", 6.0, 0, -2, -1),
    ("appliances", 4.0, -4, 2, -1),
    ("digital_accessories", 4.0, 1, -3, -1),
    ("jewelry", 3.0, 2, -5, -3),
    ("sports_outdoor", 3.5, 0, 1, 0),
    ("toys", 3.0, 0, -1, 0),
    ("pets", 3.0, -1, 1, 1),
    ("furniture", 2.5, -8, -1, -3),
    ("health", 3.0, 1, 0, 1),
    ("books", 2.0, 3, 4, 1),
    ("alcohol_beverages", 2.0, -1, 1, 0),
    ("auto_parts", 1.5, -2, -1, -2),
    ("luxury", 1.5, 3, 1, 3),
    ("local_services", 1.0, 0, -2, -3),
)
# name, share of answers, product offset: live commerce over-promises, the mall under-promises
CHANNELS: tuple[tuple[str, float, int], ...] = (
    ("live_stream", 36.0, -5),
    ("short_video", 26.0, -3),
    ("search", 17.0, 2),
    ("mall", 13.0, 4),
    ("recommendation", 8.0, 0),
)
# name, share of answers, app offset
PLATFORMS: tuple[tuple[str, float, int], ...] = (
    ("android", 53.0, 0),
    ("ios", 29.0, 4),
    ("mini_program", 13.0, -6),
    ("web", 5.0, -9),
)
# name, share, offsets (logistics, product, service, app), P(asked) per dimension,
# P(order_id). People who contact customer service or after-sales mostly had a problem.
TOUCHPOINTS: tuple[
    tuple[str, float, tuple[int, int, int, int], tuple[float, float, float, float], float], ...
] = (
    ("post_delivery", 56.0, (0, 0, 0, 0), (0.90, 0.75, 0.12, 0.15), 0.95),
    ("in_app", 22.0, (0, 0, 0, 0), (0.25, 0.40, 0.20, 0.90), 0.10),
    ("customer_service", 13.0, (-3, -4, -6, 0), (0.20, 0.30, 0.95, 0.10), 0.60),
    ("after_sales", 9.0, (-5, -8, -10, 0), (0.45, 0.65, 0.90, 0.10), 0.85),
)
# Share of answers from a full survey that asks all four dimensions, whatever the touchpoint.
FULL_SURVEY_SHARE = 0.15
# ISO 3166-2:CN code, share of answers, logistics offset (remote provinces are slower)
REGIONS: tuple[tuple[str, float, int], ...] = (
    ("CN-GD", 11.0, 3),
    ("CN-JS", 8.0, 3),
    ("CN-ZJ", 8.0, 3),
    ("CN-SD", 7.0, 1),
    ("CN-HA", 6.0, 0),
    ("CN-SC", 6.0, -1),
    ("CN-HE", 5.0, 0),
    ("CN-HB", 4.5, 0),
    ("CN-HN", 4.5, 0),
    ("CN-AH", 4.5, 1),
    ("CN-FJ", 4.0, 2),
    ("CN-SH", 4.0, 4),
    ("CN-BJ", 3.5, 3),
    ("CN-LN", 3.0, -1),
    ("CN-SN", 3.0, -1),
    ("CN-JX", 3.0, 0),
    ("CN-GX", 3.0, -1),
    ("CN-CQ", 2.5, 0),
    ("CN-YN", 2.5, -3),
    ("CN-SX", 2.0, -1),
    ("CN-GZ", 2.0, -3),
    ("CN-HL", 2.0, -3),
    ("CN-TJ", 1.5, 2),
    ("CN-JL", 1.5, -2),
    ("CN-NM", 1.2, -6),
    ("CN-XJ", 1.2, -12),
    ("CN-GS", 1.2, -6),
    ("CN-HI", 0.8, -4),
    ("CN-NX", 0.4, -5),
    ("CN-QH", 0.3, -10),
    ("CN-XZ", 0.2, -15),
)
# Regression weights of the overall score on the four latent experiences (they sum to 1).
DRIVER_WEIGHTS = {"logistics": 0.30, "product": 0.35, "service": 0.20, "app": 0.15}

# Spring Festival (Chinese New Year) dates; outside this range 5 February is assumed.
SPRING_FESTIVAL = {
    2015: date(2015, 2, 19),
    2016: date(2016, 2, 8),
    2017: date(2017, 1, 28),
    2018: date(2018, 2, 16),
    2019: date(2019, 2, 5),
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}
CHINA_OFFSET = timedelta(hours=8)
# Relative answer volume by China local hour (evening peak) and weekday (Monday first).
HOURLY_VOLUME = (
    0.35, 0.20, 0.12, 0.08, 0.07, 0.10, 0.25, 0.50, 0.80, 1.00, 1.05, 1.10,
    1.25, 1.15, 1.00, 0.95, 0.95, 1.00, 1.10, 1.35, 1.60, 1.75, 1.55, 0.90,
)  # fmt: skip
WEEKDAY_VOLUME = (1.05, 1.00, 0.98, 0.97, 1.00, 1.10, 1.12)

COMPLAINTS: dict[str, tuple[str, ...]] = {
    "logistics": (
        "物流太慢了，等了一个星期",
        "快递三天才到，催了好几次",
        "包装破损，外箱都压扁了",
        "快递员没打电话直接放驿站",
        "发货太慢，说好48小时发货",
        "物流信息一直不更新",
        "Parcel arrived late and the box was crushed",
    ),
    "product": (
        "和直播间说的不一样，质量一般",
        "实物和图片差距很大",
        "尺码偏小，穿不上",
        "用了两天就坏了",
        "有异味，不像正品",
        "Not what the video showed",
    ),
    "service": (
        "客服一直不回复",
        "退款拖了很久才到账",
        "客服态度差，问题没解决",
        "售后推来推去",
        "Refund took two weeks",
    ),
    "app": (
        "App 老是闪退",
        "找不到订单入口，页面太乱",
        "支付的时候卡住了",
        "推送太多了",
        "The app keeps crashing at checkout",
    ),
}
PRAISE = (
    "很满意，下次还来",
    "物流很快，第二天就到了",
    "质量很好，和描述一致",
    "客服很耐心",
    "性价比高，推荐",
    "包装很用心",
    "Fast delivery, great quality",
    "好评！",
)
