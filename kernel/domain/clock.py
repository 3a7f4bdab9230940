"""Business time: the policy texts count days in China Standard Time (UTC+8)."""

from datetime import date, datetime, time, timedelta, timezone

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")


def business_time(day: date) -> datetime:
    """The moment a date-only business fact (a survey date, a signature date) is recorded as occurring."""
    return datetime.combine(day, time(0, 0), tzinfo=CHINA_STANDARD_TIME)


def business_date(moment: datetime) -> date:
    """The business date of a moment, in China Standard Time."""
    return moment.astimezone(CHINA_STANDARD_TIME).date()


def today() -> date:
    return datetime.now(CHINA_STANDARD_TIME).date()


def cn_date(day: date) -> str:
    """2024年11月2日: a date in a message a clerk reads, written as the console writes every date."""
    return f"{day.year}年{day.month}月{day.day}日"
