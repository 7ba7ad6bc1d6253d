"""Who is asking: a browser gets a session key in a cookie when it loads the page, and
only then (HttpOnly, so the page's scripts cannot read it; SameSite=Lax, so other sites'
pages cannot act in its name). A request without a key is a stranger's: it may look,
but nothing is kept for it.

Keys are signed with a secret the server draws when it starts, so it accepts only keys
it gave out. When the server first keeps something for a session (classroom.py), the
browser is given a second cookie, ``KEPT``, naming that session: a browser that brings
it back for a session the server no longer has (its visitor was idle too long, or the
server restarted) is told its work is gone, rather than shown the served model as if
nothing had happened.
"""

import base64
import hashlib
import hmac
import secrets
from typing import NamedTuple

COOKIE = "digitnet-session"
KEPT = "digitnet-kept"  # the session's token, once the server has kept something for it
ENDED = "digitnet-ended"  # why a session with work ended, for the page loaded in its place to say (not HttpOnly)

RESTARTED = "restarted"  # the ways a session with work can end
IDLE = "idle"


class Asking(NamedTuple):
    """The session of a request: its ``key`` (None if it has none this server signed), and
    whether the browser says the server ``kept`` something for it."""
    key: str | None
    kept: bool
    signed: bool


class Sessions:
    def __init__(self, secret=None):
        self.secret = secret or secrets.token_bytes(32)

    def of(self, cookies):
        """Who sends ``cookies`` (a request's, as a dict)."""
        key = cookies.get(COOKIE)
        signed = key is not None and self.signed(key)
        kept = key is not None and cookies.get(KEPT) == token(key)
        return Asking(key if signed else None, kept, signed)

    def new_key(self):
        token = secrets.token_urlsafe(16)
        return f"{token}.{self.signature(token)}"

    def signed(self, key):
        token, _, signature = key.partition(".")
        return hmac.compare_digest(signature, self.signature(token))

    def signature(self, token):
        digest = hmac.new(self.secret, token.encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token(key):
    """The part of a session key that names it (the rest is its signature)."""
    return key.partition(".")[0]


def give(response, key):
    """Set ``response``'s cookie to the session ``key``."""
    response.set_cookie(COOKIE, key, path="/", httponly=True, samesite="lax")


def mark_kept(response, key):
    """Tell the browser the server now keeps something for its session ``key``."""
    response.set_cookie(KEPT, token(key), path="/", httponly=True, samesite="lax")


def forget(response, why):
    """A page load replacing a session that ended with work: drop the mark, and say why."""
    response.delete_cookie(KEPT, path="/")
    response.set_cookie(ENDED, why, path="/", samesite="lax", max_age=600)
