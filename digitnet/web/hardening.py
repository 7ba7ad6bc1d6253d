"""What keeps the server answering sensibly whatever it is sent: request bodies are
limited in size, and every error becomes a 4xx with a one-line ``detail``
(a 405 naming every allowed method), never a 5xx or an echo of the input."""

import json

from fastapi import HTTPException
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ..errors import DigitnetError


def harden(app, max_body):
    """Limit ``app``'s request bodies to ``max_body`` bytes and answer its errors in one line."""
    app.add_middleware(BodyLimit, limit=max_body)

    @app.exception_handler(DigitnetError)
    async def bad_input(request, e):
        return JSONResponse({"detail": str(e)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, e):
        # FastAPI's own answer echoes the input back, which fails on NaN and
        # repeats huge bodies: keep only where and what the problem is.
        problems = [{"loc": list(p["loc"]), "msg": p["msg"], "type": p["type"]} for p in e.errors()]
        return JSONResponse({"detail": problems}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, e):
        if e.status_code == 405:  # Starlette's Allow names only the first route on the path: name them all
            methods = {m for r in api_routes(app.routes) if r.matches(request.scope)[0] == Match.PARTIAL
                       for m in r.methods}
            e.headers = {**(e.headers or {}), "Allow": ", ".join(sorted(methods))}
        return await http_exception_handler(request, e)

    @app.exception_handler(LookupError)
    async def not_found(request, e):
        return JSONResponse({"detail": str(e.args[0])}, status_code=404)


def api_routes(routes):
    """Every APIRoute, also those of routers included whole (which FastAPI keeps as one entry,
    holding the router: their paths carry the router's own prefix)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes: at once if Content-Length says
    so, else as soon as the streamed body passes the limit."""

    def __init__(self, app, limit):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.limit:
            return await too_large(send, self.limit) if length.isdigit() else await bad_length(send)
        received = 0

        async def limited():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise HTTPException(413, f"request body over {self.limit} bytes")
            return message

        await self.app(scope, limited, send)


async def too_large(send, limit):
    await answer(send, 413, f"request body over {limit} bytes")


async def bad_length(send):
    await answer(send, 400, "bad Content-Length header")


async def answer(send, status, detail):
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
