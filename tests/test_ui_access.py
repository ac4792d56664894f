"""Who gets into the UI: open without keys, a key login with a signed cookie when keys are
set, CSRF on every POST, and the switch that turns the UI off."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from prefect_server.app import create_app
from prefect_server.settings import Settings

from uiutil import browser, csrf, text_of

KEY = "s3cret-key"


@pytest.fixture
async def keyed_app(settings: Settings, db: Any) -> AsyncIterator[Any]:
    application = create_app(settings.replace(api_keys=(KEY, "other-key")))
    async with application.router.lifespan_context(application):
        yield application


async def test_open_without_keys(app: Any) -> None:
    async with browser(app) as client:
        page = await client.get("/ui/")
        assert page.status_code == 200
        assert "Log out" not in page.text
        assert (await client.get("/ui/login")).status_code == 303


async def test_keys_ask_for_a_login_once_and_keep_a_signed_cookie(keyed_app: Any) -> None:
    async with browser(keyed_app) as client:
        first = await client.get("/ui/?window=1h")
        assert first.status_code == 303
        assert first.headers["location"] == "/ui/login?next=%2Fui%2F%3Fwindow%3D1h"
        form = await client.get(first.headers["location"])
        assert form.status_code == 200 and 'type="password"' in form.text
        assert 'aria-label="Main"' not in form.text  # no nav: every link leads back here
        token = await csrf(client, "/ui/login")

        wrong = await client.post(
            "/ui/login", data={"csrf_token": token, "key": "nope", "next": "/ui/"}
        )
        assert wrong.status_code == 401
        assert "not one of this server's API keys" in text_of(wrong.text)
        assert "ps_session" not in client.cookies

        right = await client.post(
            "/ui/login", data={"csrf_token": token, "key": KEY, "next": "/ui/?window=1h"}
        )
        assert right.status_code == 303 and right.headers["location"] == "/ui/?window=1h"
        cookie = right.headers["set-cookie"]
        assert "ps_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        page = await client.get("/ui/?window=1h")
        assert page.status_code == 200 and "Log out" in page.text
        assert 'aria-label="Main"' in page.text

        # The GraphQL API still wants its bearer key, cookie or not.
        api = await client.post("/graphql", json={"query": "{ hello }"})
        assert "UNAUTHENTICATED" in api.text

        out = await client.post("/ui/logout", data={"csrf_token": token})
        assert out.status_code == 303
        assert (await client.get("/ui/")).status_code == 303


async def test_a_forged_or_foreign_session_cookie_is_refused(keyed_app: Any) -> None:
    async with browser(keyed_app) as client:
        client.cookies.set("ps_session", "9999999999.abcd.deadbeef", path="/ui")
        assert (await client.get("/ui/")).status_code == 303


async def test_login_never_redirects_to_another_site(keyed_app: Any) -> None:
    async with browser(keyed_app) as client:
        token = await csrf(client, "/ui/login")
        for target in ("https://evil.example/", "//evil.example/ui", "/graphql"):
            response = await client.post(
                "/ui/login", data={"csrf_token": token, "key": KEY, "next": target}
            )
            assert response.headers["location"] == "/ui/"


async def test_cookies_are_secure_behind_https(keyed_app: Any) -> None:
    async with browser(keyed_app) as client:
        response = await client.get("/ui/login", headers={"x-forwarded-proto": "https"})
        assert "Secure" in response.headers["set-cookie"]


async def test_a_post_without_the_csrf_token_is_refused_and_writes_nothing(app: Any) -> None:
    async with browser(app) as client:
        await client.get("/ui/")
        for data in ({}, {"csrf_token": "forged"}):
            refused = await client.post("/ui/logout", data=data)
            assert refused.status_code == 403
            assert "This form has expired" in refused.text
        # A token in the form but no cookie (another site's page) is refused too.
        token = client.cookies["ps_csrf"]
    async with browser(app) as stranger:
        refused = await stranger.post("/ui/logout", data={"csrf_token": token})
        assert refused.status_code == 403


async def test_no_ui_turns_the_pages_off(settings: Settings, db: Any) -> None:
    off = settings.replace(ui=dataclasses.replace(settings.ui, enabled=False))
    application = create_app(off)
    async with application.router.lifespan_context(application):
        async with browser(application) as client:
            assert (await client.get("/ui/")).status_code == 404
            root = await client.get("/")
            assert root.status_code == 200  # the API explorer, as before the UI existed
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://t"
        ) as api:
            answer = await api.post("/", json={"query": "{ hello }"})
            assert answer.status_code == 200 and "hello" in answer.json()["data"]


async def test_an_action_without_a_login_is_sent_to_the_login_and_writes_nothing(
    keyed_app: Any,
) -> None:
    from sqlalchemy import select

    from prefect_server.database.models import FlowRun

    import factories

    db = keyed_app.state.db
    _, flow_id = await factories.flow_chain(db)
    run = await factories.running_flow_run(db, flow_id)
    async with browser(keyed_app) as client:
        token = await csrf(client, "/ui/login")  # a valid CSRF pair, but no session
        refused = await client.post(f"/ui/flow-runs/{run}/cancel", data={"csrf_token": token})
        fragment = await client.get(f"/ui/flow-runs/{run}?_fragment=live_state")
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/ui/login?next=")
    assert fragment.status_code == 303  # live refreshes stop at the login too
    async with db.session() as session:
        assert await session.scalar(select(FlowRun.state).where(FlowRun.id == run)) == "Running"


async def test_a_key_or_a_session_cookie_of_any_text_is_refused_not_a_500(keyed_app: Any) -> None:
    async with browser(keyed_app) as client:
        token = await csrf(client, "/ui/login")
        wrong = await client.post("/ui/login", data={"csrf_token": token, "key": "clé ☃"})
    async with browser(keyed_app) as stranger:
        raw = {"cookie": "ps_session=9999999999.abcd.ünïcode".encode()}
        page = await stranger.get("/ui/", headers=raw)
    assert wrong.status_code == 401
    assert page.status_code == 303
