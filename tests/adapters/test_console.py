"""The reviewer console through both adapters: sign-in, CSRF, the review forms, the dashboard.

Pages are driven as a browser would: GET a page, read its form's CSRF token, POST the form
(url-encoded), follow nothing automatically. Decisions go through the same ReviewService as
the JSON API, so the queue (read back through the JSON API) and the recording transport show
their effect.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from web_harness import ADMIN, PERSON, PERSON_EMAIL, Harness, MakeApp, as_user, running_app

from walker_channels.web.console import CSRF_FIELD, SESSION_COOKIE

CONSOLE = "/console"
QUEUE_API = f"{ADMIN}/hitl/review-queue"
HOLDING = "Thanks for your message. A member of our team will get back to you shortly."
_CSRF = re.compile(rf'name="{CSRF_FIELD}" value="([^"]*)"')
_NEXT = re.compile(r'name="next" value="([^"]*)"')


def get(app: Harness, path: str, user: str | None = "root") -> httpx.Response:
    """GET a console page as ``user`` (a bearer token; ``None``: only the client's cookies)."""
    headers = as_user(user) if user else {}
    return app.client.get(CONSOLE + path, headers=headers, follow_redirects=False)


def post(
    app: Harness, path: str, fields: dict[str, str], user: str | None = "root"
) -> httpx.Response:
    """POST a console form (url-encoded) as ``user``."""
    headers = as_user(user) if user else {}
    return app.client.post(CONSOLE + path, data=fields, headers=headers, follow_redirects=False)


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token of the page's forms."""
    found = _CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def held(app: Harness, text: str = "I want a refund") -> str:
    """A message the agent is unsure about; the id of the draft it is held as."""
    app.inbound(text)
    items = app.get(QUEUE_API).json()["items"]
    return str(items[-1]["approval_id"])


def pending(app: Harness) -> list[str]:
    """The ids in the review queue, read through the JSON API."""
    return [item["approval_id"] for item in app.get(QUEUE_API).json()["items"]]


def decide(app: Harness, approval_id: str, action: str, **fields: str) -> httpx.Response:
    """Submit one of the draft page's forms, with the page's CSRF token."""
    token = csrf_of(get(app, f"/review/{approval_id}"))
    return post(app, f"/review/{approval_id}/{action}", {CSRF_FIELD: token, **fields})


def sign_in(app: Harness, token: str, next_path: str | None = None) -> httpx.Response:
    """Fill in and send the sign-in form, as a browser without a session would."""
    query = f"?next={next_path}" if next_path else ""
    form = get(app, f"/login{query}", user=None)
    after = _NEXT.search(form.text)
    assert after, form.text
    fields = {CSRF_FIELD: csrf_of(form), "token": token, "next": after.group(1)}
    return post(app, "/login", fields, user=None)


def sent(app: Harness) -> list[str | None]:
    """The texts the recording WhatsApp transport sent."""
    return [message.text for message in app.whatsapp.sent]


def test_pages_without_a_principal_send_the_browser_to_sign_in(app: Harness) -> None:
    approval_id = held(app)

    for path in ("/review", f"/review/{approval_id}", "/dashboard", ""):
        answer = get(app, path, user=None)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith(f"{CONSOLE}/login?next=")
    refused = post(app, f"/review/{approval_id}/approve", {CSRF_FIELD: "x"}, user=None)

    assert refused.status_code == 401
    assert pending(app) == [approval_id]


def test_a_tenant_member_is_refused_the_review_and_dashboard_pages(app: Harness) -> None:
    approval_id = held(app)

    for path in ("/review", f"/review/{approval_id}", "/dashboard"):
        assert get(app, path, user="alice").status_code == 403, path
    assert get(app, "/review", user="root").status_code == 200


def test_signing_in_keeps_the_token_in_an_http_only_same_site_cookie(app: Harness) -> None:
    answer = sign_in(app, "root", next_path=f"{CONSOLE}/dashboard")
    session = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))

    assert answer.status_code == 303
    assert answer.headers["location"] == f"{CONSOLE}/dashboard"
    assert {"HttpOnly", "SameSite=Lax", f"Path={CONSOLE}"} <= set(session.split("; "))
    queue = get(app, "/review", user=None)
    assert queue.status_code == 200
    assert "Review queue" in queue.text

    signed_out = post(app, "/logout", {CSRF_FIELD: csrf_of(queue)}, user=None)
    assert signed_out.headers["location"] == f"{CONSOLE}/login"
    assert get(app, "/review", user=None).status_code == 303


def test_a_token_the_host_refuses_brings_the_reviewer_back_to_sign_in(app: Harness) -> None:
    sign_in(app, "nobody")

    bounced = get(app, "/review", user=None)
    form = get(app, "/login", user=None)

    assert bounced.status_code == 303
    assert "was not accepted" in form.text
    assert any(
        c.startswith(f"{SESSION_COOKIE}=;") and "Max-Age=0" in c
        for c in form.headers.get_list("set-cookie")
    )


def test_the_sign_in_form_needs_its_csrf_token(app: Harness) -> None:
    get(app, "/login", user=None)

    answer = post(app, "/login", {"token": "root", CSRF_FIELD: "0" * 64}, user=None)

    assert answer.status_code == 403
    assert not any(c.startswith(SESSION_COOKIE) for c in answer.headers.get_list("set-cookie"))


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(app: Harness) -> None:
    approval_id = held(app)
    other_credential = csrf_of(get(app, "/review", user="root"))
    sign_in(app, "root")  # the same user, with a session cookie instead of the bearer token

    missing = post(app, f"/review/{approval_id}/approve", {}, user=None)
    forged = post(app, f"/review/{approval_id}/approve", {CSRF_FIELD: "f" * 64}, user=None)
    replayed = post(
        app, f"/review/{approval_id}/approve", {CSRF_FIELD: other_credential}, user=None
    )

    assert [missing.status_code, forged.status_code, replayed.status_code] == [403, 403, 403]
    assert "expired or did not come from the console" in missing.text
    assert pending(app) == [approval_id]
    assert sent(app) == [HOLDING]


def test_approving_through_the_form_sends_the_draft_and_empties_the_queue(app: Harness) -> None:
    approval_id = held(app)

    answer = decide(app, approval_id, "approve")
    queue = get(app, answer.headers["location"].removeprefix(CONSOLE))

    assert answer.status_code == 303
    assert "Approved: the reply was sent." in queue.text
    assert pending(app) == []
    assert sent(app) == [HOLDING, "Echo: I want a refund"]


def test_edit_and_approve_sends_the_reviewers_text(app: Harness) -> None:
    approval_id = held(app)
    page = get(app, f"/review/{approval_id}")

    answer = decide(app, approval_id, "edit", text="Your refund is on its way.")

    assert "Echo: I want a refund" in page.text  # the proposed reply, in the textarea too
    assert answer.status_code == 303
    assert pending(app) == []
    assert sent(app) == [HOLDING, "Your refund is on its way."]


def test_rejecting_sends_the_fallback_only_when_one_is_given(app: Harness) -> None:
    quiet, loud = held(app, "I want a refund"), held(app, "A refund, please")

    decide(app, quiet, "reject", fallback_text="")
    answer = decide(app, loud, "reject", fallback_text="We will call you back.")

    assert answer.headers["location"].endswith("notice=fallback_sent")
    assert pending(app) == []
    assert [text for text in sent(app) if text != HOLDING] == ["We will call you back."]


def test_a_stale_draft_is_sent_only_with_the_override_box_ticked(app: Harness) -> None:
    approval_id = held(app)
    app.inbound("hello again")  # the person wrote after the draft was made

    refused = decide(app, approval_id, "approve")
    approved = decide(app, approval_id, "approve", override_stale="yes")

    assert refused.status_code == 409
    assert "they wrote again" in refused.text.lower()
    assert 'name="override_stale"' in refused.text
    assert approved.status_code == 303
    assert sent(app)[-1] == "Echo: I want a refund"


def test_a_second_decision_on_the_same_draft_is_a_conflict_page(app: Harness) -> None:
    approval_id = held(app)
    token = csrf_of(get(app, f"/review/{approval_id}"))

    first = post(app, f"/review/{approval_id}/approve", {CSRF_FIELD: token})
    second = post(app, f"/review/{approval_id}/reject", {CSRF_FIELD: token})

    assert first.status_code == 303
    assert second.status_code == 409
    assert "approved already" in second.text
    assert sent(app).count("Echo: I want a refund") == 1


def test_no_page_shows_a_raw_number_or_address(app: Harness) -> None:
    approval_id = held(app, f"A refund please, call {PERSON} or write to {PERSON_EMAIL}")
    pages = [
        get(app, "/review"),
        get(app, f"/review/{approval_id}"),
        get(app, "/dashboard"),
        get(app, "/login", user=None),
        decide(app, approval_id, "edit", text=""),  # an error page with the draft
    ]

    for page in pages:
        assert page.status_code in (200, 400), page.text
        assert PERSON.removeprefix("+") not in page.text
        assert PERSON_EMAIL not in page.text
    assert "[phone]" in pages[1].text


def test_the_dashboard_draws_the_statistics_as_inline_svg(app: Harness) -> None:
    held(app)
    app.inbound("hello")

    page = get(app, "/dashboard?days=7")

    assert page.status_code == 200
    assert 'id="inbound-total">2<' in page.text
    hourly = page.text.split('id="hourly-chart"')[1].split("</figure>")[0]
    confidence = page.text.split('id="confidence-chart"')[1].split("</figure>")[0]
    hitl = page.text.split('id="hitl-chart"')[1].split("</figure>")[0]
    assert hourly.count('<rect class="bar"') == 24
    assert confidence.count('<rect class="bar"') == 10
    assert '<polyline class="line"' in hitl
    assert ": 50 %</title>" in hitl  # one of the day's two answers went to review
    assert "<td>echo</td>" in page.text


def test_pages_answer_with_a_strict_content_security_policy(app: Harness) -> None:
    page = get(app, "/review")
    style = app.client.get(f"{CONSOLE}/static/console.css")

    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["cache-control"] == "no-store"
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")


def test_a_next_that_leaves_the_console_is_ignored(app: Harness) -> None:
    for target in ("https://evil.example/x", "//evil.example/x", "/api/v1/admin"):
        app.client.cookies.clear()
        answer = sign_in(app, "root", next_path=target)
        assert answer.headers["location"] == f"{CONSOLE}/review", target


def test_bad_forms_and_unknown_drafts_get_pages_not_server_errors(app: Harness) -> None:
    approval_id = held(app)
    token = csrf_of(get(app, "/review"))

    not_a_form = app.client.post(
        f"{CONSOLE}/review/{approval_id}/approve",
        json={CSRF_FIELD: token},
        headers=as_user("root"),
        follow_redirects=False,
    )
    nul = post(app, f"/review/{approval_id}/edit", {CSRF_FIELD: token, "text": "a\x00b"})
    unknown = get(app, "/review/no-such-draft")
    bad_days = get(app, "/dashboard?days=1000")

    assert [not_a_form.status_code, nul.status_code] == [400, 400]
    assert unknown.status_code == 404
    assert bad_days.status_code == 422
    assert all(r.headers["content-type"].startswith("text/html") for r in (nul, unknown, bad_days))
    assert pending(app) == [approval_id]


def test_the_console_path_is_configurable_and_can_be_turned_off(make_app: MakeApp) -> None:
    moved = make_app(walker_console_path="/desk/")
    off = make_app(walker_console_path="")

    answer = moved.client.get("/desk/review", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/desk/login?next=/desk/review")
    assert moved.client.get("/console/review").status_code == 404
    assert off.client.get("/console/login").status_code == 404


def test_console_pages_stay_out_of_the_openapi_document(tmp_path: Path) -> None:
    with running_app("fastapi", tmp_path / "walker.db") as app:
        paths = app.client.get("/openapi.json").json()["paths"]

    assert paths
    assert not [path for path in paths if path.startswith(CONSOLE)]


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_links_and_cookies_follow_the_adapters_prefix(tmp_path: Path, framework: str) -> None:
    with running_app(framework, tmp_path / "walker.db", prefix="/walker") as app:
        bounced = app.client.get("/walker/console/review", follow_redirects=False)
        form = app.client.get("/walker/console/login")

    assert bounced.headers["location"].startswith("/walker/console/login?next=/walker/")
    assert 'action="/walker/console/login"' in form.text
    assert "Path=/walker/console/login" in form.headers["set-cookie"]


# The conversations pages: list by mode, a transcript, takeover / reply / release.

CONVERSATIONS_API = f"{ADMIN}/conversations"
_IDEMPOTENCY = re.compile(r'name="idempotency_key" value="([^"]*)"')


def conversation_id(app: Harness, text: str = "hello") -> str:
    """A message from the person; the id of their conversation (read through the JSON API)."""
    app.inbound(text)
    [item] = app.get(CONVERSATIONS_API).json()["items"]
    return str(item["id"])


def act(app: Harness, cid: str, action: str, user: str = "alice", **fields: str) -> httpx.Response:
    """Submit one of the conversation page's forms as ``user``, with the page's CSRF token."""
    page = get(app, f"/conversations/{cid}", user=user)
    key = _IDEMPOTENCY.search(page.text)
    extra = {"idempotency_key": key.group(1)} if key else {}
    form = {CSRF_FIELD: csrf_of(page), **extra, **fields}
    return post(app, f"/conversations/{cid}/{action}", form, user=user)


def mode_of(app: Harness, cid: str) -> str:
    """The conversation's mode, read through the JSON API."""
    return str(app.get(f"{CONVERSATIONS_API}/{cid}").json()["conversation"]["mode"])


def test_conversation_pages_need_a_principal(app: Harness) -> None:
    cid = conversation_id(app)

    for path in ("/conversations", f"/conversations/{cid}"):
        answer = get(app, path, user=None)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith(f"{CONSOLE}/login?next=")
    refused = post(app, f"/conversations/{cid}/takeover", {CSRF_FIELD: "x"}, user=None)

    assert refused.status_code == 401
    assert mode_of(app, cid) == "agent"


def test_a_member_takes_over_replies_and_releases_through_the_forms(app: Harness) -> None:
    cid = conversation_id(app)
    listing = get(app, "/conversations", user="alice")
    assert f'data-conversation-id="{cid}"' in listing.text
    assert 'action="/console/conversations/' not in listing.text  # no form on the list

    taken = act(app, cid, "takeover")
    assert taken.status_code == 303, taken.text
    assert taken.headers["location"] == f"{CONSOLE}/conversations/{cid}?notice=taken"
    assert mode_of(app, cid) == "human"
    page = get(app, taken.headers["location"].removeprefix(CONSOLE), user="alice")
    assert "You took this conversation over" in page.text
    assert "taken by alice" in page.text
    assert f'data-conversation-id="{cid}"' in get(app, "/conversations?mode=human").text
    assert f'data-conversation-id="{cid}"' not in get(app, "/conversations?mode=agent").text

    app.inbound("is anybody there?")  # recorded and shown, not answered
    assert "is anybody there?" in get(app, f"/conversations/{cid}", user="alice").text
    replied = act(app, cid, "reply", text="Hi, Alice here. How can I help?")
    assert replied.status_code == 303, replied.text
    assert replied.headers["location"].endswith("?notice=sent")
    assert sent(app) == ["Echo: hello", "Hi, Alice here. How can I help?"]
    transcript = app.get(f"{CONVERSATIONS_API}/{cid}").json()["transcript"]
    assert {"type": "human_reply", "by": "alice"}.items() <= transcript[-1].items()

    released = act(app, cid, "release")
    assert released.headers["location"].endswith("?notice=released")
    assert mode_of(app, cid) == "agent"
    app.inbound("thanks")
    assert sent(app)[-1] == "Echo: thanks"


def test_resubmitting_the_same_reply_form_sends_once(app: Harness) -> None:
    cid = conversation_id(app)
    act(app, cid, "takeover")
    page = get(app, f"/conversations/{cid}", user="alice")
    key = _IDEMPOTENCY.search(page.text)
    assert key
    form = {CSRF_FIELD: csrf_of(page), "idempotency_key": key.group(1), "text": "Once only"}

    first = post(app, f"/conversations/{cid}/reply", form, user="alice")
    second = post(app, f"/conversations/{cid}/reply", form, user="alice")

    assert [first.status_code, second.status_code] == [303, 303]
    assert sent(app).count("Once only") == 1


def test_conversation_forms_need_their_csrf_token(app: Harness) -> None:
    cid = conversation_id(app)
    sign_in(app, "alice")

    missing = post(app, f"/conversations/{cid}/takeover", {}, user=None)
    forged = post(app, f"/conversations/{cid}/takeover", {CSRF_FIELD: "f" * 64}, user=None)

    assert [missing.status_code, forged.status_code] == [403, 403]
    assert mode_of(app, cid) == "agent"
    assert act(app, cid, "takeover").status_code == 303  # with the page's token it works


def test_replying_or_releasing_without_a_takeover_is_a_conflict_page(app: Harness) -> None:
    cid = conversation_id(app)

    reply = act(app, cid, "reply", text="Too early", idempotency_key="k1")  # a stale tab
    release = act(app, cid, "release")
    act(app, cid, "takeover")
    again = act(app, cid, "takeover", user="root")
    empty = act(app, cid, "reply", text="   ")

    assert [reply.status_code, release.status_code, again.status_code] == [409, 409, 409]
    assert "take this conversation over" in reply.text
    assert f'action="{CONSOLE}/conversations/{cid}/takeover"' in reply.text
    assert "taken this conversation over already" in again.text
    assert empty.status_code == 400
    assert sent(app) == ["Echo: hello"]


def test_another_tenants_conversation_is_not_found(app: Harness) -> None:
    cid = conversation_id(app)

    listing = get(app, "/conversations", user="bob")
    page = get(app, f"/conversations/{cid}", user="bob")
    token = csrf_of(get(app, "/conversations", user="bob"))
    takeover = post(app, f"/conversations/{cid}/takeover", {CSRF_FIELD: token}, user="bob")
    asked = get(app, "/conversations?tenant_id=tenant-a", user="bob")

    assert listing.status_code == 200
    assert f'data-conversation-id="{cid}"' not in listing.text
    assert [page.status_code, takeover.status_code, asked.status_code] == [404, 404, 403]
    assert mode_of(app, cid) == "agent"
    assert get(app, f"/conversations/{cid}", user="root").status_code == 200  # superuser


def test_no_conversation_page_shows_a_raw_number_or_address(app: Harness) -> None:
    cid = conversation_id(app, f"call me on {PERSON} or write to {PERSON_EMAIL}")
    taken = act(app, cid, "takeover")
    pages = [
        get(app, "/conversations", user="alice"),
        get(app, "/conversations?mode=human", user="alice"),
        get(app, taken.headers["location"].removeprefix(CONSOLE), user="alice"),
        act(app, cid, "reply", text=""),  # an error page with the transcript
    ]

    for page in pages:
        assert page.status_code in (200, 400), page.text
        assert PERSON.removeprefix("+") not in page.text
        assert PERSON_EMAIL not in page.text
    assert "[phone]" in pages[2].text
    assert 'href="/console/conversations"' in pages[0].text  # the navigation links here
