"""The documentation site builds with --strict, renders the OpenAPI document, lists
every page, and stays self-contained."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
MKDOCS = Path(sys.executable).with_name("mkdocs")
# paths of the product's private folders, which readers do not have
OUTSIDE = re.compile(r"\]\(\.\./|\.\./(shared|spec)\b|shared/spec|\bspec/[\w-]+\.md|\bhttp-api\.md")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr
    return out


def test_the_api_reference_shows_every_operation_of_the_openapi_document(site: Path) -> None:
    page = (site / "api-reference" / "index.html").read_text(encoding="utf-8")
    document = json.loads((ROOT / "engine/adapters/http/openapi.json").read_text())
    assert "<!-- openapi -->" not in page
    for path, item in document["paths"].items():
        for method in ("get", "post", "put", "delete"):
            if method in item:
                assert f"{method.upper()} {path}" in page, (method, path)
    for schema in document["components"]["schemas"]:
        assert f'id="schema-{schema.lower().replace("_", "-")}"' in page, schema


def test_every_page_is_in_the_navigation_and_every_picture_exists(site: Path) -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in DOCS.glob("*.md"):
        assert f": {page.name}" in config, f"{page.name} is not in mkdocs.yml's nav"
    for page in DOCS.glob("*.md"):
        for picture in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text(encoding="utf-8")):
            assert (DOCS / picture).is_file(), (page.name, picture)
    assert (site / "img" / "architecture.svg").is_file()


@pytest.mark.parametrize("page", sorted(DOCS.rglob("*.md")), ids=lambda p: p.name)
def test_the_docs_are_self_contained_and_speak_to_users(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert not OUTSIDE.findall(text), f"{page.name} points outside the repository"
    assert not re.search(r"\bthe seed\b|\bseed's\b|\bseeds \(", text, re.I), (
        f"{page.name} says 'the seed': name Sell's reference page instead"
    )
