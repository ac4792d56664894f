"""The UI patterns page: every component, drawn by the real macros and CSS."""

from __future__ import annotations

from typing import Any

from prefect_server.orchestration.state_types import STATE_CLASSES

from uiutil import browser, text_of


async def test_patterns_show_every_component(app: Any) -> None:
    async with browser(app) as client:
        home = await client.get("/ui/")
        response = await client.get("/ui/patterns")
    assert 'href="/ui/patterns"' in home.text
    assert response.status_code == 200
    html = response.text
    for name in STATE_CLASSES:
        if name in ("State", "_MetaState"):
            assert f">{name}</span>" not in html
        else:
            assert f'class="state state-{name.lower()} ' in html
            assert f">{name}</span>" in html
    for marker in (
        'class="primary"',
        'class="danger"',
        'class="link"',
        "<table",
        'class="filters"',
        'class="segmented"',
        'class="field-error"',
        'aria-invalid="true"',
        'class="flash"',
        'class="empty"',
        'class="pager"',
        'class="label"',
        "health-badge healthy",
        "health-badge stale",
        "health-badge lost",
        'class="logs"',
        "lvl-ERROR",
        '<svg class="chart"',
        "<rect",
    ):
        assert marker in html, marker
    # Sample log text goes through autoescape like real logs.
    assert "&lt;bad&gt;" in html and "<bad>" not in html
    assert "Page 2 of 6 · 130 in all" in text_of(html)


async def test_patterns_has_no_live_parts(app: Any) -> None:
    async with browser(app) as client:
        response = await client.get("/ui/patterns?_fragment=live_anything")
    assert response.status_code == 404
