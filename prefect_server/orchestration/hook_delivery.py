"""Delivering cloud-hook events over HTTP: the requests per hook type, and sending
them in the background once the state's transaction has committed."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from prefect_server.observability import metrics
from prefect_server.orchestration import hook_events
from prefect_server.settings import HooksSettings

logger = logging.getLogger(__name__)

_PENDING = "prefect_server.pending_hooks"
# Background sends, referenced until done so the loop does not drop them.
_tasks: set[asyncio.Task[None]] = set()


def send_after_commit(
    session: AsyncSession,
    hook_type: str,
    config: dict[str, Any],
    hook_event: dict[str, Any],
    hooks_settings: HooksSettings,
    run_link: str,
) -> None:
    """Queue one delivery; all queued ones start when the session commits, none on rollback."""
    pending: list[tuple[str, dict[str, Any], dict[str, Any]]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []

        def after_commit(sync_session: Session) -> None:
            items = sync_session.info.pop(_PENDING, [])
            if items:
                task = asyncio.get_running_loop().create_task(
                    _send_all(items, hooks_settings, run_link)
                )
                _tasks.add(task)
                task.add_done_callback(_tasks.discard)

        def after_rollback(sync_session: Session) -> None:
            sync_session.info.pop(_PENDING, None)

        event.listen(session.sync_session, "after_commit", after_commit, once=True)
        event.listen(session.sync_session, "after_rollback", after_rollback, once=True)
    pending.append((hook_type, config, hook_event))


async def _send_all(
    items: list[tuple[str, dict[str, Any], dict[str, Any]]],
    hooks_settings: HooksSettings,
    run_link: str,
) -> None:
    for hook_type, config, hook_event in items:
        try:
            await send(hook_type, config, hook_event, hooks_settings, run_link)
        except Exception as exc:
            metrics.hook_delivery(hook_type, delivered=False)
            logger.warning(
                "Cloud hook %s for event %s failed: %s", hook_type, hook_event["id"], exc
            )
        else:
            metrics.hook_delivery(hook_type, delivered=True)


async def drain(timeout: float) -> int:
    """At shutdown: wait up to ``timeout`` seconds for deliveries under way, then drop
    the rest (cloud hooks are best effort, as in Server 1). Returns how many were dropped.

    Only this event loop's deliveries: an embedded server restarted in one process runs
    each app on a loop of its own, and a task of a closed loop cannot be awaited."""
    loop = asyncio.get_running_loop()
    pending = {task for task in _tasks if not task.done() and task.get_loop() is loop}
    if not pending:
        return 0
    _, late = await asyncio.wait(pending, timeout=timeout)
    for task in late:
        task.cancel()
    if late:
        logger.warning("Dropped %d cloud-hook deliveries still under way at shutdown.", len(late))
    return len(late)


async def send(
    hook_type: str,
    config: dict[str, Any],
    hook_event: dict[str, Any],
    hooks_settings: HooksSettings,
    run_link: str,
) -> None:
    """Deliver one event to one hook; raises on any transport or HTTP error."""
    requests = requests_for(hook_type, config, hook_event, hooks_settings, run_link)
    async with httpx.AsyncClient(timeout=hooks_settings.timeout_seconds) as client:
        for request in requests:
            response = await client.request(**request)
            response.raise_for_status()


def _rebase(url: str, base: str) -> str:
    """``url`` with its scheme and host replaced by ``base`` (tests point services locally)."""
    if not base:
        return url
    parsed = httpx.URL(url)
    target = httpx.URL(base)
    return str(parsed.copy_with(scheme=target.scheme, host=target.host, port=target.port))


def requests_for(
    hook_type: str,
    config: dict[str, Any],
    hook_event: dict[str, Any],
    hooks_settings: HooksSettings,
    run_link: str,
) -> list[dict[str, Any]]:
    """The HTTP requests that deliver ``hook_event`` through a hook of ``hook_type``.

    ``run_link`` is the address of the run's page, with ``{tenant_slug}`` and
    ``{flow_run_id}`` to fill in (``Settings.run_page_link``).
    """
    if hook_type == "WEBHOOK":
        return [
            {
                "method": "POST",
                "url": config["url"],
                "json": hook_events.webhook_body(hook_event),
                "headers": {"X-PREFECT-EVENT-ID": hook_event["id"]},
            }
        ]
    # Slack, Twilio and PagerDuty get the messages Server 1 sent (its api/cloud_hooks.py),
    # field for field: users' channels, numbers and rules were set up for them. Server 1
    # wrote the state's message as Python formats it, so a run without one reads "None".
    run, flow = hook_event["flow_run"]["name"], hook_event["flow"]["name"]
    state, message = hook_event["state"]["state"], hook_events.state_message(hook_event)
    slug = hook_event["tenant"]["slug"]
    link = run_link.format(tenant_slug=slug, flow_run_id=hook_event["flow_run"]["id"])
    if hook_type == "SLACK_WEBHOOK":
        lines = [
            f"Run `{run}` of flow `{flow}` entered a new state:",
            f"*State:* `{state}`",
            f"*Message:* {message}",
            f"*Link:* {link}",
        ]
        return [
            {
                "method": "POST",
                "url": _rebase(config["url"], hooks_settings.slack_base_url),
                "json": {
                    "blocks": [
                        {"type": "section", "text": {"type": "mrkdwn", "text": line}}
                        for line in lines
                    ]
                },
            }
        ]
    if hook_type == "TWILIO":
        sid = config["account_sid"]
        url = (
            f"{hooks_settings.twilio_base_url.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
        )
        body = f"Run {run} of flow {flow} entered a new state: {state}. \n Link: {link}"
        return [
            {
                "method": "POST",
                "url": url,
                "auth": (sid, config["auth_token"]),
                # Server 1 sent the messaging service's sid as the sender.
                "data": {"To": number, "From": config["messaging_service_sid"], "Body": body},
            }
            for number in config["to"]
        ]
    if hook_type == "PAGERDUTY":
        return [
            {
                "method": "POST",
                "url": f"{hooks_settings.pagerduty_base_url.rstrip('/')}/v2/enqueue",
                "headers": {"Authorization": f"Token token={config['api_token']}"},
                "json": {
                    "routing_key": config["routing_key"],
                    "event_action": "trigger",
                    "payload": {
                        "summary": f"Run {run} entered a new state: {state}",
                        "severity": config["severity"],
                        "source": f"cloud.prefect.io/{slug}",
                        "component": flow,
                        "group": run,
                        "class": f"State->{state}",
                        "custom_details": {
                            "flow": flow,
                            "flow_run": run,
                            "state": state,
                            "state_message": message or "",
                            "tenant_slug": slug,
                        },
                    },
                    "links": [{"href": link, "text": f"Flow Run {run}"}],
                },
            }
        ]
    raise ValueError(f"Cloud hooks of type {hook_type} send no HTTP requests.")
