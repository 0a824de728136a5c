"""The console's pure parts: chart geometry, cookies, sign-in tokens and CSRF tokens."""

from __future__ import annotations

import pytest

from walker_channels.exceptions import InvalidInput, PermissionDenied
from walker_channels.models import Principal
from walker_channels.web import Headers
from walker_channels.web.console.charts import HEIGHT, bar_chart, line_chart
from walker_channels.web.console.sessions import (
    SESSION_COOKIE,
    CsrfTokens,
    checked_token,
    cookie,
    request_cookies,
    session_token,
)

ROOT = Principal(user_id="root", is_superuser=True)


def test_bars_scale_to_a_round_top_and_say_their_value() -> None:
    chart = bar_chart("hours", [0.0, 3.0, 7.0], ["00", "01", "02"])

    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0
    assert heights[1] < heights[2]
    assert [tick.text for tick in chart.y_ticks] == ["0", "5", "10"]
    assert chart.bars[2].title == "02: 7"
    assert not chart.empty


def test_a_chart_of_zeros_is_marked_empty() -> None:
    assert bar_chart("hours", [0.0] * 24, [f"{h:02d}" for h in range(24)]).empty
    assert line_chart("rate", [None, None], ["a", "b"]).empty


def test_a_line_breaks_where_a_day_has_no_value() -> None:
    chart = line_chart("rate", [0.5, None, 1.0, 0.0], ["a", "b", "c", "d"])

    assert [len(segment) for segment in chart.segments] == [1, 2]
    assert chart.points[0].title == "a: 50 %"
    assert chart.points[1].y < chart.points[2].y  # 100 % is drawn above 0 %
    assert chart.points[2].y == HEIGHT - 28.0


def test_cookies_are_read_by_name_and_written_http_only_and_same_site() -> None:
    headers = Headers({"Cookie": f'a=1; {SESSION_COOKIE}="tok"; a=2'})

    assert request_cookies(headers) == {"a": "1", SESSION_COOKIE: "tok"}
    assert session_token(headers) == "tok"
    assert cookie("n", "v", path="/console", secure=True) == (
        "n=v; Path=/console; HttpOnly; SameSite=Lax; Secure"
    )


@pytest.mark.parametrize("token", ["", "  ", "has space", "semi;colon", 'quo"te', "é"])
def test_a_token_a_cookie_cannot_hold_unchanged_is_refused(token: str) -> None:
    with pytest.raises(InvalidInput):
        checked_token(token)


def test_csrf_tokens_are_bound_to_the_user_and_their_credential() -> None:
    tokens = CsrfTokens(b"pseudonym-key")
    bearer = Headers({"Authorization": "Bearer root"})
    cookie_session = Headers({"Cookie": f"{SESSION_COOKIE}=root"})
    mine = tokens.for_form(ROOT, bearer)

    tokens.check(mine, tokens.for_form(ROOT, bearer))
    for other in (
        tokens.for_form(ROOT, cookie_session),
        tokens.for_form(Principal(user_id="alice"), bearer),
        CsrfTokens(b"another-key").for_form(ROOT, bearer),
        tokens.for_login("nonce"),
        None,
    ):
        with pytest.raises(PermissionDenied):
            tokens.check(mine, other)
