"""The hand-kept OpenAPI document and a Swagger UI page that reads it.

Swagger UI's files come from the `swagger-ui-py` package (Apache-2.0; its licence
is served at /docs/LICENSE) and are served by this app, so /docs works offline.
Only its static folder is read: the package itself is never imported.
"""

from functools import cache
from importlib.resources import files
from importlib.util import find_spec
from pathlib import Path

import falcon

from engine.adapters.http.errors import RouteNotFound
from engine.adapters.http.responses import send

ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "LICENSE": "text/plain; charset=utf-8",
}
ASSET_PATHS = frozenset(f"/docs/{name}" for name in ASSETS)
PAGE = b"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>seqengine API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});
</script>
</body>
</html>
"""


def openapi_document() -> bytes:
    """The document shipped as package data next to this package."""
    return files("engine.adapters.http").joinpath("openapi.json").read_bytes()


@cache
def swagger_asset(name: str) -> bytes | None:
    """One file of Swagger UI's distribution, None if the package is missing."""
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "static" / name
    return path.read_bytes() if path.is_file() else None


class OpenApi:
    def __init__(self) -> None:
        self.body = openapi_document()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        send(resp, self.body)


class Docs:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = "text/html; charset=utf-8"
        send(resp, PAGE)


class DocsAsset:
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        body = swagger_asset(name) if name in ASSETS else None
        if body is None:
            raise RouteNotFound(req.path)
        resp.content_type = ASSETS[name]
        resp.cache_control = ["public", "max-age=86400"]
        send(resp, body)
