"""Small request and response helpers shared by the resources."""

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

import falcon

from engine.adapters.http.auth import Principal
from engine.adapters.http.request_ids import next_request_id
from engine.errors import ErrorDetail
from engine.wire.parse import InvalidParams

JSON_TYPE = "application/json; charset=utf-8"
PAGE_PARAMS = frozenset({"page", "per_page"})


def request_id(req: falcon.Request) -> str:
    found: str | None = getattr(req.context, "request_id", None)
    if found is None:  # an error raised before the gate ran
        found = req.context.request_id = next_request_id()
    return found


def principal(req: falcon.Request) -> Principal:
    found: Principal = req.context.principal
    return found


def send(resp: falcon.Response, body: bytes, status: int = 200) -> None:
    resp.status = status
    resp.data = body


def no_content(resp: falcon.Response) -> None:
    """204, as Sell's deletes answer: no body, so no Content-Type either."""
    resp.status = 204
    resp.data = None
    resp.content_type = None


def read_body(req: falcon.Request) -> bytes:
    """The body, read by the app's BodyReader (engine.adapters.http.body), which the
    gate put on the request: JSON only, at most 1 MiB, within the read deadline."""
    raw: bytes = req.context.bodies.read(req)
    return raw


def query(req: falcon.Request) -> dict[str, str]:
    """The query parameters as single strings; a parameter given twice is refused."""
    found: dict[str, str] = {}
    repeated: list[ErrorDetail] = []
    params: Mapping[str, str | list[str]] = req.params
    for name, value in params.items():
        if isinstance(value, list):
            repeated.append(ErrorDetail("invalid_param", f"{name} must be given once", name))
        else:
            found[name] = value
    if repeated:
        raise InvalidParams(repeated)
    return found


def listing_url(req: falcon.Request) -> str:
    """The request's absolute URL without `page`/`per_page` (wire.render.page_links adds
    them), built from the server's public base URL (`serve --public-url`), which the
    gate put on the request: never from the request's `Host` header."""
    kept = [
        (name, value)
        for name, value in parse_qsl(req.query_string, keep_blank_values=True)
        if name not in PAGE_PARAMS
    ]
    url = f"{req.context.public_url}{req.path}"
    return f"{url}?{urlencode(kept)}" if kept else url
