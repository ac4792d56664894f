"""Cron expressions said in words on the flow page (prefect_server/ui/cron_words.py)."""

from __future__ import annotations

import pytest

from prefect_server.ui.cron_words import describe


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("0 6 * * 1-5", "at 06:00, on Monday through Friday"),
        ("*/5 * * * *", "every 5 minutes"),
        ("* * * * *", "every minute"),
        ("0 * * * *", "every hour on the hour"),
        ("15 * * * *", "every hour at minute 15"),
        ("0,30 * * * *", "every hour at minutes 0 and 30"),
        ("1-10/2 * * * *", "every hour at minutes 1, 3, 5, 7 and 9"),
        ("0 */2 * * *", "every 2 hours, on the hour"),
        ("*/10 */3 * * *", "every 10 minutes of every 3rd hour"),
        ("30 9,17 * * *", "at 09:30 and 17:30"),
        ("0 8-18/2 * * *", "at 08:00, 10:00, 12:00, 14:00, 16:00 and 18:00"),
        ("0 9-17 * * mon-fri", "on the hour during hours 9 through 17, on Monday through Friday"),
        ("0 0 1,15 * *", "at 00:00, on days 1 and 15 of the month"),
        ("0 0 */2 * *", "at 00:00, on every 2nd day of the month"),
        ("0 0 1 */3 *", "at 00:00, on day 1 of the month, in every 3rd month"),
        ("0 0 1 jan *", "at 00:00, on day 1 of the month, in January"),
        ("5 4 * * sun", "at 04:05, on Sunday"),
        ("0 6 * * 7", "at 06:00, on Sunday"),
        ("@daily", "at 00:00"),
        ("@weekly", "at 00:00, on Sunday"),
        ("@hourly", "every hour on the hour"),
    ],
)
def test_said_in_words(expression: str, words: str) -> None:
    assert describe(expression) == words


def test_day_of_month_and_week_follow_day_or() -> None:
    # croniter's day_or (Prefect's default True): either day matches; False: both must.
    assert describe("0 12 1 * 1") == "at 12:00, on day 1 of the month or on Monday"
    assert describe("0 12 1 * 1", day_or=False) == "at 12:00, on day 1 of the month and on Monday"


@pytest.mark.parametrize(
    "expression",
    [
        "0 0 L * *",
        "0 0 0 * *",
        "61 * * * *",
        "*/0 * * * *",
        "0 0 * * 1#2",
        "0 0 0 * * *",
        "",
        "5-1 * * * *",
    ],
)
def test_what_it_cannot_read_is_left_unsaid(expression: str) -> None:
    assert describe(expression) is None
