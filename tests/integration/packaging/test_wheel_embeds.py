"""The built wheel installs into a fresh virtual environment next to a host's own
pinned httpx of another minor version, resolves (dependency ranges, not pins) and
works: a small in-memory flow and the HTTP app called through that httpx."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HOST_HTTPX = "0.27.2"  # the lock has 0.28: a host application may well pin another
FLOW = f"""
from datetime import UTC, datetime

import httpx

from engine import ActionType, DelayUnit, Step, in_memory
from engine.adapters.http import TokenAuth, create_app, issue_token

assert httpx.__version__ == "{HOST_HTTPX}", httpx.__version__
service = in_memory(start=datetime(2020, 12, 15, 19, 58, 53, tzinfo=UTC))
account = service.create_account("Host").id
actor = service.create_user(account).id
sequence = service.create_sequence(account, name="s", creator_id=actor, steps=[
    Step(0, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, email_template_id=1)]).id
service.enroll(account, sequence_id=sequence, resource_type="lead", resource_id=1,
               actor_id=actor)
service.advance(seconds=1)
assert len(service.outbox(account)) == 1
app = create_app(service, auth=TokenAuth(service.store), rate_limit=None,
                 clock_mode="simulated")
token = issue_token(service.store, actor)
with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://host") as client:
    listed = client.get("/v2/sequence_enrollments",
                        headers={{"Authorization": "Bearer " + token}}).json()
assert listed["items"][0]["data"]["state"] == "finished", listed
print("embedded")
"""


def run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                          timeout=900, cwd=cwd)
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.packaging
def test_the_wheel_embeds_beside_another_httpx(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building must not leave files in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "engine", source / "engine",
                    ignore=shutil.ignore_patterns("__pycache__"))
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
        tmp_path / "dist", source)
    [wheel] = (tmp_path / "dist").glob("seqengine-*.whl")
    venv = tmp_path / "host"
    run(sys.executable, "-m", "venv", "--without-pip", venv)  # this pip installs into it
    python = venv / "bin" / "python"
    pip = (sys.executable, "-m", "pip", "--python", python)
    run(*pip, "install", "--quiet", wheel, f"httpx=={HOST_HTTPX}")
    run(*pip, "check")
    assert run(python, "-c", FLOW, cwd=tmp_path).strip() == "embedded"
    version = run(venv / "bin" / "seqengine", "--version")
    assert version.startswith("seqengine ") and "unknown" not in version
    licence = run(python, "-c", "from importlib.metadata import metadata; "
                                "print(metadata('seqengine')['License-Expression'])")
    assert licence.strip() == "MIT"
