"""Loaded by the live schemathesis run (SCHEMATHESIS_HOOKS): one extra check.

The run lets a schema-valid request be answered 422, because the document states
refusals no schema can express (an id that names nothing in the caller's account,
a resource already enrolled, a state change the lifecycle forbids, a step position
that is not its index, a clock moved back); the 422 response documents them. This
check holds that allowance to exactly those: a schema-valid request refused for its
shape (a type, a range, a length, a missing or unknown field) still fails the run.
"""

import re

import schemathesis

SEMANTIC = re.compile(
    r"does not exist|is not a user of this account|already has an ongoing enrollment"
    r"|position must be the step's index|time never moves back|the clock cannot pass"
    r"|cannot .* from state|a task cannot move to another resource|cannot be reopened"
    r"|not found")


@schemathesis.check
def semantic_refusals_only(ctx, response, case):  # type: ignore[no-untyped-def]
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    for item in response.json()["errors"]:
        error = item["error"]
        if error["code"] not in ("incorrect_value", "already_exists") or not SEMANTIC.search(
                error["message"]):
            raise AssertionError(f"a schema-valid request was refused for its shape: {error}")
    return None
