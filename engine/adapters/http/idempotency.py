"""`Idempotency-Key` on POST /v2/sequence_enrollments.

The first successful response to a key is stored (per account, through the unit
of work's `save_idempotent`) together with a fingerprint of the request it
answered. A retry with the same key and the same request (as parsed, so
re-serialised JSON still matches) gets those bytes and that status back instead
of a second enrollment; only `X-Request-Id` differs, and `Idempotent-Replayed:
true` tells the two apart. The same key with a different request is a 422: a key
names one request. Invalid requests are refused before the key is looked at, and
refusals are not stored (they changed nothing, so a corrected retry may still
succeed). Callers hold the guard's write lock around check, create and save, so
two concurrent requests with one key cannot both create.
"""

import hashlib
import re

import falcon

from engine.app.ports import Store, StoredResponse
from engine.errors import ErrorDetail, InvalidParam, ValidationFailed

HEADER = "Idempotency-Key"
KEY_SHAPE = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, as header values allow


class IdempotencyKeys:
    def __init__(self, store: Store, operation: str) -> None:
        self.store, self.operation = store, operation

    @staticmethod
    def key_of(req: falcon.Request) -> str | None:
        key = req.get_header(HEADER)
        if key is None:
            return None
        if KEY_SHAPE.fullmatch(key) is None:
            raise InvalidParam(
                f"{HEADER} must be 1 to 255 visible ASCII characters", field=HEADER)
        return key

    def _names(self, key: str) -> tuple[str, str]:
        return f"{self.operation} {key}", f"{self.operation} {key} request"

    def replay(self, account_id: int, key: str, request: str, resp: falcon.Response) -> bool:
        """Answer from the stored response if this key was answered before."""
        response_name, request_name = self._names(key)
        with self.store.unit_of_work() as uow:
            stored = uow.get_idempotent(account_id, response_name)
            fingerprint = uow.get_idempotent(account_id, request_name)
        if stored is None:
            return False
        if fingerprint is None or fingerprint.body != _fingerprint(request):
            raise ValidationFailed([ErrorDetail(
                "incorrect_value", f"this {HEADER} was used with a different request", HEADER)])
        resp.status = stored.status
        resp.data = stored.body
        resp.set_header("Idempotent-Replayed", "true")
        return True

    def remember(self, account_id: int, key: str, request: str, status: int,
                 body: bytes) -> None:
        response_name, request_name = self._names(key)
        with self.store.unit_of_work() as uow:
            uow.save_idempotent(account_id, request_name,
                                StoredResponse(0, _fingerprint(request)))
            uow.save_idempotent(account_id, response_name, StoredResponse(status, body))
            uow.commit()


def _fingerprint(request: str) -> bytes:
    return hashlib.sha256(request.encode()).hexdigest().encode()
