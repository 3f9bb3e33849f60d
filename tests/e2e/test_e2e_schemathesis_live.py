"""schemathesis against a live `seqengine serve` (granian, SQLite, rate limit off),
as a user would run it: `--checks all`, a fixed seed, bounded examples (raise them
with SEQENGINE_FUZZ_EXAMPLES and SEQENGINE_FUZZ_SEED, as `make fuzz` does).

0 failures means the OpenAPI document and the server agree to the letter: every
schema-valid request is accepted or refused only for a documented semantic reason
(schemathesis_hooks.py), every schema-invalid one refused, every response and
header as documented."""

import os
import subprocess
import sys
from pathlib import Path

from test_e2e_serve_edge import SIMULATED, run_json, serving

HERE = Path(__file__).parent
EXAMPLES = os.environ.get("SEQENGINE_FUZZ_EXAMPLES", "6")
SEED = os.environ.get("SEQENGINE_FUZZ_SEED", "20201215")


def test_live_schemathesis_finds_nothing(tmp_path):
    db = tmp_path / "live.db"
    made = run_json(db, "demo", "--start", SIMULATED[-1])
    token = run_json(db, "tokens", "create", "--user", str(made["user_id"]),
                     "--scopes", "read,write,admin")["token"]
    with serving(db, *SIMULATED, "--rate-limit", "0") as base:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("schemathesis")),
             "--config-file", str(HERE / "schemathesis.toml"),
             "run", f"{base}/openapi.json", "--checks", "all",
             "-H", f"Authorization: Bearer {token}",
             "--max-examples", EXAMPLES, "--seed", SEED, "--no-color", "--request-timeout", "10"],
            capture_output=True, text=True, timeout=900, cwd=tmp_path,
            env=dict(os.environ, SCHEMATHESIS_HOOKS="schemathesis_hooks", PYTHONPATH=str(HERE)))
    assert done.returncode == 0, done.stdout[-4000:]  # schemathesis exits 1 on any failure
