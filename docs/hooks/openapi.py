"""mkdocs hook: renders the server's OpenAPI document into the page that holds the
marker `<!-- openapi -->`, at build time and offline. The document is the one the
server serves at /openapi.json (engine/adapters/http/openapi.json), so the reference
page cannot drift from it."""

import json
from pathlib import Path
from typing import Any

MARKER = "<!-- openapi -->"
SOURCE = Path(__file__).resolve().parents[2] / "engine" / "adapters" / "http" / "openapi.json"
METHODS = ("get", "post", "put", "delete", "patch")


def _anchor(name: str) -> str:
    return "schema-" + name.lower().replace("_", "-")


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = document["components"][kind][name]
    return node


def type_of(schema: dict[str, Any]) -> str:
    """A short, linked description of a schema's type."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{_anchor(name)})"
    for combined in ("oneOf", "anyOf"):
        if combined in schema:
            return " or ".join(type_of(option) for option in schema[combined])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{value}`" for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    if isinstance(kind, list):
        return " or ".join(kind)
    return str(kind) + (f" ({schema['format']})" if "format" in schema else "")


def _cell(text: Any) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def properties_table(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", ()))
    rows = ["| field | type | required | notes |", "|---|---|---|---|"]
    for name, prop in schema.get("properties", {}).items():
        rows.append(
            f"| `{name}` | {_cell(type_of(prop))} | {'yes' if name in required else ''} "
            f"| {_cell(prop.get('description'))} |"
        )
    return rows


def operation(document: dict[str, Any], method: str, path: str, op: dict[str, Any],
              shared: list[dict[str, Any]]) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", "", op.get("summary", ""), ""]
    if op.get("description"):
        lines += [op["description"], ""]
    parameters = [_resolve(document, p) for p in [*shared, *op.get("parameters", [])]]
    if parameters:
        lines += ["| parameter | in | type | notes |", "|---|---|---|---|"]
        for p in parameters:
            lines.append(f"| `{p['name']}` | {p['in']} | {_cell(type_of(p.get('schema', {})))} "
                         f"| {_cell(p.get('description'))} |")
        lines.append("")
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        lines += [f"Request body: {type_of(body['schema'])}", ""]
    lines += ["| status | meaning | body |", "|---|---|---|"]
    for status, response in op.get("responses", {}).items():
        resolved = _resolve(document, response)
        content = resolved.get("content", {}).get("application/json", {})
        schema = type_of(content["schema"]) if "schema" in content else ""
        lines.append(f"| {status} | {_cell(resolved.get('description'))} | {_cell(schema)} |")
    return [*lines, ""]


def reference(document: dict[str, Any]) -> str:
    info = document["info"]
    lines = [f"*{info['title']} {info['version']}, OpenAPI {document['openapi']}.* "
             + info.get("description", ""), ""]
    by_tag: dict[str, list[str]] = {}
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method in item:
                op = item[method]
                tag = (op.get("tags") or ["other"])[0]
                by_tag.setdefault(tag, []).extend(operation(document, method, path, op, shared))
    for tag, operations in by_tag.items():
        lines += [f"## {tag.capitalize()}", "", *operations]
    lines += ["## Schemas", ""]
    for name, schema in document["components"]["schemas"].items():
        lines += [f"### {name} {{#{_anchor(name)}}}", ""]
        if schema.get("description"):
            lines += [schema["description"], ""]
        if "properties" in schema:
            lines += properties_table(schema)
        else:
            lines.append(f"Type: {type_of(schema)}")
        lines.append("")
    return "\n".join(lines)


def on_page_markdown(markdown: str, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    document = json.loads(SOURCE.read_text(encoding="utf-8"))
    return markdown.replace(MARKER, reference(document))
