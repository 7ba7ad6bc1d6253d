"""Who is asking: every browser gets a session key in a cookie (HttpOnly, so the page's
scripts cannot read it; SameSite=Lax, so other sites' pages cannot act in its name).

Keys are signed with a secret the server draws when it starts, so it accepts only
keys it gave out. The key is all this module knows: what a visitor has done is
the classroom's business (classroom.py).
"""

import base64
import hashlib
import hmac
import secrets

from starlette.requests import cookie_parser

COOKIE = "digitnet-session"


class Sessions:
    """ASGI middleware: puts the request's session key in ``request.state.session``,
    giving a browser that has none (or a key this server did not sign) a new one."""

    def __init__(self, app, secret=None):
        self.app = app
        self.secret = secret or secrets.token_bytes(32)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cookies = cookie_parser(dict(scope["headers"]).get(b"cookie", b"").decode("latin-1"))
        key = cookies.get(COOKIE)
        if key is not None and self.signed(key):
            scope.setdefault("state", {})["session"] = key
            return await self.app(scope, receive, send)
        key = self.new_key()
        scope.setdefault("state", {})["session"] = key
        cookie = f"{COOKIE}={key}; Path=/; HttpOnly; SameSite=Lax".encode()

        async def with_cookie(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
            await send(message)

        await self.app(scope, receive, with_cookie)

    def new_key(self):
        token = secrets.token_urlsafe(16)
        return f"{token}.{self.signature(token)}"

    def signed(self, key):
        token, _, signature = key.partition(".")
        return hmac.compare_digest(signature, self.signature(token))

    def signature(self, token):
        digest = hmac.new(self.secret, token.encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
