"""`seqengine demo`: an account, a user, a token and two sequences to try the API with."""

from typing import Any

from engine.app.service import SequenceEngine
from engine.domain.enums import ActionType, DelayUnit
from engine.domain.sequence import Step

WEBINAR = (
    Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 9606, False),
    Step(1, 1, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 9607, False),
)
CALL_FIRST = (
    Step(0, 2, DelayUnit.HOURS, ActionType.TASK, task_content="Research the lead, then call"),
    Step(1, 1, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 9608, True),
)


def create_demo(engine: SequenceEngine, base_url: str = "http://127.0.0.1:8000") -> dict[str, Any]:
    from engine.adapters.http.tokens import issue_token

    account = engine.create_account("Demo account")
    user = engine.create_user(account.id, name="Demo user")
    token = issue_token(engine.store, user.id, frozenset({"read", "write"}))
    webinar = engine.create_sequence(
        account.id, name="Warm approach after webinar", steps=WEBINAR, creator_id=user.id
    )
    call_first = engine.create_sequence(
        account.id, name="Call first", steps=CALL_FIRST, creator_id=user.id
    )
    auth = f'-H "Authorization: Bearer {token}"'
    json_headers = '-H "Accept: application/json" -H "Content-Type: application/json"'
    howto = "\n".join(
        [
            f"Demo account {account.id}, user {user.id}, "
            f"sequences {webinar.id} and {call_first.id}.",
            f"Token (shown once): {token}",
            "",
            "Enroll a lead:",
            f"  curl -s -X POST {base_url}/v2/sequence_enrollments {json_headers} {auth} \\",
            f'    -d \'{{"data": {{"sequence_id": {webinar.id}, "resource_id": 12866615, '
            f'"resource_type": "lead"}}}}\'',
            "List enrollments:",
            f"  curl -s {base_url}/v2/sequence_enrollments {auth}",
            "Finish one (replace ID):",
            f"  curl -s -X PUT {base_url}/v2/sequence_enrollments/ID {json_headers} {auth} "
            '-d \'{"data": {"state": "finished"}}\'',
            f"API docs: {base_url}/docs",
        ]
    )
    return {
        "account_id": account.id,
        "user_id": user.id,
        "token": token,
        "sequence_ids": [webinar.id, call_first.id],
        "howto": howto,
    }
