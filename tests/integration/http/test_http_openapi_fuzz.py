"""schemathesis holds the hand-kept OpenAPI document to the wire, in-process:
every operation (examples, coverage and fuzzing phases) and stateful runs along
the document's links, with every default check.

One configuration choice: `positive_data_acceptance` also accepts 422. A schema
cannot say that an enrollment's sequence must exist, that a resource may have only
one ongoing enrollment per sequence or that a finished enrollment cannot be
resumed; those schema-valid requests get the resource error the contract names.

Each stateful scenario starts from a fresh world (same ids, same token): the
server's state is part of what Hypothesis replays when it shrinks a failure.
"""

import os
from typing import Any

import schemathesis
from http_world import EMAIL_STEPS, TASK_STEPS, Api, build_api
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from engine.adapters.http import hash_token
from engine.domain.account import ApiToken

# Bounded so the whole module stays well under a minute; raise them to hunt.
EXAMPLES = int(os.environ.get("SEQENGINE_FUZZ_EXAMPLES", "12"))
SCENARIOS = int(os.environ.get("SEQENGINE_FUZZ_SCENARIOS", "25"))
SEED = int(os.environ.get("SEQENGINE_FUZZ_SEED", "20201215"))
TOKEN = "5eed" * 16


class World:
    """A WSGI app that can start over: a fresh engine with a little data in it."""

    def __init__(self) -> None:
        self.api = self.reset()

    def reset(self) -> Api:
        api = build_api()
        user = api.engine.get_user(api.ids["user"])
        with api.engine.store.unit_of_work() as uow:
            uow.save_token(ApiToken(hash_token(TOKEN), user.id, user.account_id,
                                    frozenset({"read", "write", "admin"})))
            uow.commit()
        sequence = api.sequence(TASK_STEPS)
        api.sequence(EMAIL_STEPS)
        api.enroll(sequence, resource_id=1)
        api.advance(1)  # a task exists for the task routes to find
        self.api = api
        return api

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.api.client.app(environ, start_response)


WORLD = World()
CONFIG = SchemathesisConfig.from_dict({
    "seed": SEED,
    "auth": {"openapi": {"bearer": {"bearer": TOKEN}}},
    "generation": {"max-examples": EXAMPLES},
    "checks": {
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "401", "403", "404", "409", "422"],
        },
    },
})
schema = schemathesis.openapi.from_wsgi("/openapi.json", WORLD, config=CONFIG)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case):
    case.call_and_validate()


class Scenarios(schema.as_state_machine()):  # type: ignore[misc]
    def setup(self) -> None:
        WORLD.reset()


def test_stateful_runs_along_the_links():
    Scenarios.run(settings=settings(max_examples=SCENARIOS, stateful_step_count=8,
                                    deadline=None, suppress_health_check=list(HealthCheck)))
