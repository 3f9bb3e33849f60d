"""The hand-kept OpenAPI document and a Swagger UI page that reads it."""

from importlib.resources import files

import falcon

from engine.adapters.http.responses import send

SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>seqengine API</title>
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{url: "/openapi.json", dom_id: "#swagger-ui"}});
</script>
</body>
</html>
""".encode()


def openapi_document() -> bytes:
    """The document shipped as package data next to this package."""
    return files("engine.adapters.http").joinpath("openapi.json").read_bytes()


class OpenApi:
    def __init__(self) -> None:
        self.body = openapi_document()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        send(resp, self.body)


class Docs:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = "text/html; charset=utf-8"
        send(resp, PAGE)
