"""The Sell client adapter: Zendesk Sell's v2 API (or this engine's server) as typed calls.

    with SellClient(token=token) as sell:
        enrollment = sell.create_enrollment(554, ResourceType.LEAD, 12866615)
        for each in sell.iter_enrollments(resource_type="lead", resource_ids=[12866615]):
            ...

docs/sell-client.md describes the mapping, the retries and the errors.
"""

from engine.adapters.sell.client import DEFAULT_BASE_URL, SellClient
from engine.adapters.sell.errors import (
    SellApiError,
    SellAuthError,
    SellBadRequest,
    SellError,
    SellErrorDetail,
    SellNotFound,
    SellRateLimited,
    SellResponseError,
    SellServerError,
    SellTransportError,
    SellValidationError,
)
from engine.adapters.sell.models import (
    RemoteAction,
    RemoteEnrollment,
    RemotePage,
    RemoteSequence,
    RemoteStep,
    RemoteTask,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "RemoteAction",
    "RemoteEnrollment",
    "RemotePage",
    "RemoteSequence",
    "RemoteStep",
    "RemoteTask",
    "SellApiError",
    "SellAuthError",
    "SellBadRequest",
    "SellClient",
    "SellError",
    "SellErrorDetail",
    "SellNotFound",
    "SellRateLimited",
    "SellResponseError",
    "SellServerError",
    "SellTransportError",
    "SellValidationError",
]
