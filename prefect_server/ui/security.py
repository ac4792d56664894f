"""Who may use the UI, and proof that a POST came from one of its own forms.

With ``PREFECT_SERVER__API_KEYS`` unset the UI is open, as Server 1's was. With keys
set, a person logs in once with a key and keeps a signed session cookie. The cookie's
signing secret is derived from the keys themselves, so every replica with the same
settings accepts it and removing a key ends the sessions signed under the old set.

Every action is a POST carrying the CSRF token of the browser's session (a random
value kept in a SameSite=Strict cookie and repeated in the form): a page on another
site can make a browser send the cookie's session along, never read the token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

SESSION_COOKIE = "ps_session"
CSRF_COOKIE = "ps_csrf"
FLASH_COOKIE = "ps_flash"
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 1024 * 1024


class NotLoggedIn(Exception):
    pass


class CsrfRefused(Exception):
    pass


class FormTooLarge(Exception):
    pass


def _keys(request: Request) -> tuple[str, ...]:
    return tuple(request.app.state.settings.api_keys)


def login_required(request: Request) -> bool:
    return bool(_keys(request))


def _secret(keys: tuple[str, ...]) -> bytes:
    material = "\0".join(sorted(keys)).encode()
    return hashlib.sha256(b"prefect-server ui session\0" + material).digest()


def same(a: str, b: str) -> bool:
    """A constant-time comparison of any two texts (``compare_digest`` raises on a
    ``str`` that is not ASCII, and a cookie or a form can hold anything)."""
    return hmac.compare_digest(a.encode(), b.encode())


def _sign(keys: tuple[str, ...], payload: str) -> str:
    return hmac.new(_secret(keys), payload.encode(), hashlib.sha256).hexdigest()


def session_value(keys: tuple[str, ...], lifetime_seconds: float) -> str:
    payload = f"{int(time.time() + lifetime_seconds)}.{secrets.token_hex(8)}"
    return f"{payload}.{_sign(keys, payload)}"


def valid_session(keys: tuple[str, ...], value: str | None) -> bool:
    if not value or value.count(".") != 2:
        return False
    expires, nonce, signature = value.split(".")
    if not same(_sign(keys, f"{expires}.{nonce}"), signature):
        return False
    return expires.isdigit() and int(expires) > time.time()


def is_logged_in(request: Request) -> bool:
    keys = _keys(request)
    return not keys or valid_session(keys, request.cookies.get(SESSION_COOKIE))


def key_accepted(request: Request, key: str) -> bool:
    return any(same(key.strip(), allowed) for allowed in _keys(request))


def _secure(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded.split(",")[0].strip() == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, **kw: Any) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict" if name == CSRF_COOKIE else "lax",
        secure=_secure(request),
        path="/ui",
        **kw,
    )


def csrf_token(request: Request) -> str:
    """The browser's CSRF token; a new one is issued (and set by ``finish``) if it has none."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return token


async def read_form(request: Request) -> dict[str, str]:
    """The POSTed form (urlencoded), read once; the last value of a repeated field wins."""
    cached = getattr(request.state, "form", None)
    if cached is not None:
        return dict(cached)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormTooLarge()
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    request.state.form = form
    return dict(form)


async def check_post(request: Request) -> None:
    """Refuse a POST whose form does not carry this browser's CSRF token."""
    form = await read_form(request)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = form.get(CSRF_FIELD, "")
    if not cookie or not sent or not same(cookie, sent):
        raise CsrfRefused()


def flash(response: Response, request: Request, message: str) -> None:
    set_cookie(request, response, FLASH_COOKIE, quote(message[:500]), max_age=60)


def pop_flash(request: Request) -> str | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    request.state.flash_shown = True
    return unquote(raw)


def redirect(request: Request, url: str, message: str | None = None) -> RedirectResponse:
    """After an action: see the result at ``url`` with a one-line message (303: a GET)."""
    response = RedirectResponse(url, status_code=303)
    if message:
        flash(response, request, message)
    return response


def finish(request: Request, response: Response) -> None:
    """Set the cookies a rendered page issued, and clear a flash message it showed."""
    new_csrf = getattr(request.state, "new_csrf", None)
    if new_csrf:
        set_cookie(request, response, CSRF_COOKIE, new_csrf)
    if getattr(request.state, "flash_shown", False):
        response.delete_cookie(FLASH_COOKIE, path="/ui")
