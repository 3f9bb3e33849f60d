"""/docs renders Swagger UI offline: its files come from this server, and headless
Chromium, unable to resolve any other host, lists the API's operations."""

import re
import shutil
import subprocess
from pathlib import Path

import httpx
from processes import SEQENGINE, free_port, serving

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         # offline: every host name but the loopback address fails to resolve
         "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]


def test_docs_list_the_operations_in_headless_chromium(tmp_path: Path) -> None:
    assert shutil.which(CHROMIUM), "make test installs Debian's chromium"
    port = free_port()
    command = [SEQENGINE, "--db", f"sqlite:///{tmp_path / 'docs.db'}", "serve", "--port",
               str(port)]
    with serving(command, port, tmp_path) as server:
        page = httpx.get(f"{server.base}/docs").text
        assets = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert assets == ["/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js"]
        assert all(httpx.get(server.base + a).status_code == 200 for a in assets)
        assert "Apache License" in httpx.get(f"{server.base}/docs/LICENSE").text
        dom = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
             "--virtual-time-budget=10000", "--dump-dom", f"{server.base}/docs"],
            capture_output=True, text=True, timeout=120).stdout
    paths = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    assert {"/v2/sequence_enrollments", "/v2/sequence_enrollments/{id}",
            "/v2/sequence_enrollments/finish_ongoing_for_resource", "/v2/sequences",
            "/v2/tasks", "/engine/v1/clock"} <= paths
    assert "Finish the ongoing sequence enrollments of a resource" in dom
