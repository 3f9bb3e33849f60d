"""The calls Zendesk's Zapier integration for Sell makes, rebuilt request for request.

Read from the public zendesk/zendesk-sell-for-zapier repository: `src/auth/
authentication.ts` (the connection test), `src/common/queries.ts` and
`src/utils/api.ts` (searches, dropdowns, triggers: their query parameters and their
order, `per_page=100`, `sort_by=<field>:desc`, paging while `next_page` exists, at
most 5 pages), `src/common/createUpdate.ts` (bodies as `{"data": ...}` of the picked
input fields) and `src/engage/` (sequences and enrollments). Each method sends what
the app sends and returns only what the app reads, so a test fails where the app
would."""

from dataclasses import dataclass
from typing import Any

import httpx

Json = dict[str, Any]
MAX_PAGES = 5  # streamItems' default
ENROLLMENT_FIELDS = ("id", "state", "sell_resource", "sequence_id", "resource_type",
                     "resource_id", "actor_id")  # engage/common.ts createFieldsProcess


class ZapierError(Exception):
    """What formatAndThrowAPIError raises: the app stops with the API's error."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code}: {response.text}")
        self.response = response


@dataclass
class ZapierApp:
    http: httpx.Client  # base_url = the server; the app's `rootUrl()` is SELL_API_URL
    token: str

    def _fetch(self, method: str, path: str, *, params: list[tuple[str, Any]] | None = None,
               body: Json | None = None) -> httpx.Response:
        """`fetch` in utils/http.ts, with `apiTokenBearer` adding the header."""
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.http.request(method, path, params=params, json=body, headers=headers)

    @staticmethod
    def _data(response: httpx.Response) -> Any:
        """unpackSingleItemResponse."""
        if not 200 <= response.status_code <= 299:
            raise ZapierError(response)
        return response.json()["data"]

    @staticmethod
    def _items(response: httpx.Response) -> list[Any]:
        """unpackItemsResponse."""
        if not 200 <= response.status_code <= 299:
            raise ZapierError(response)
        return [item["data"] for item in response.json()["items"]]

    # -- authentication.ts ---------------------------------------------------------

    def test_connection(self) -> Json:
        """`authenticationValidation`: GET users/self, 200 or the connection fails; the
        connection is labelled with `{{name}}`."""
        response = self._fetch("GET", "/v2/users/self")
        if response.status_code != 200:
            raise ZapierError(response)
        user: Json = response.json()["data"]
        return {"id": user["id"], "name": user["name"], "email": user["email"]}

    # -- searches (fetchByCriteria, searchWithPrefixedFields) ----------------------------

    def _find(self, path: str, input_data: Json, supported: tuple[str, ...]) -> list[Any]:
        """searchWithPrefixedFields: `search.`-prefixed inputs; no criteria, no call; an id
        fetches the one resource (404: none found); otherwise the filters, then
        `per_page=100&page=1`."""
        inputs = {k.removeprefix("search."): v for k, v in input_data.items()
                  if k.startswith("search.")}
        filters = [(k, v) for k, v in inputs.items() if k in supported and v is not None]
        identifier = inputs.get("id")
        numeric = isinstance(identifier, int) or str(identifier).isdigit()  # isNumeric
        if not numeric and not filters:
            return []
        if numeric:
            response = self._fetch("GET", f"{path}/{identifier}")
            if response.status_code == 404:
                return []
            return [self._data(response)]
        return self._items(self._fetch("GET", path, params=[*filters, ("per_page", 100),
                                                             ("page", 1)]))

    def find_sequence(self, input_data: Json) -> list[Json]:
        """SequenceSearch: by `search.id` or `search.name`; reads id, name, creator_id."""
        found = self._find("/v2/sequences", input_data, ("id", "name"))
        return [{k: s[k] for k in ("id", "name", "creator_id")} for s in found]

    def find_enrollment(self, input_data: Json) -> list[Json]:
        """EnrollmentSearch: by `search.id`, or `search.resource_type` and
        `search.resource_ids`."""
        return self._find("/v2/sequence_enrollments", input_data,
                          ("id", "resource_type", "resource_ids"))

    # -- dropdowns (fetchItems) and triggers (streamItems) --------------------------------

    def dropdown(self, path: str, zapier_page: int | None = None) -> list[Json]:
        """fetchItems for dynamic dropdowns: only `per_page=100&page=N` (N is
        bundle.meta.page, or 1); each choice is `id` labelled by `name`."""
        page = zapier_page or 1
        found = self._items(self._fetch("GET", path, params=[("per_page", 100), ("page", page)]))
        return [{"id": item["id"], "name": item["name"]} for item in found]

    def trigger(self, path: str, sort_field: str, *, loading_sample: bool = False) -> list[Any]:
        """fetchEnrollmentsTrigger/fetchSequencesTrigger: `sort_by=<field>:desc`, then
        pages 1, 2... of 100 while `meta.links.next_page` is there (at most 5; 1 when
        Zapier loads a sample)."""
        items: list[Any] = []
        last = 1 if loading_sample else MAX_PAGES
        for page in range(1, last + 1):
            params = [("sort_by", f"{sort_field}:desc"), ("per_page", 100), ("page", page)]
            response = self._fetch("GET", path, params=params)
            if not 200 <= response.status_code <= 299:
                raise ZapierError(response)
            document = response.json()
            items += [item["data"] for item in document["items"]]
            if not document["meta"].get("links", {}).get("next_page"):
                break
        return items

    # -- creates and updates (createItem, updateItem) ---------------------------------------

    def create_enrollment(self, input_data: Json) -> Json:
        """CreateEnrollmentAction: POST the picked input fields as `{"data": ...}`."""
        data = {k: v for k, v in input_data.items() if k in ENROLLMENT_FIELDS}
        found: Json = self._data(self._fetch("POST", "/v2/sequence_enrollments",
                                             body={"data": data}))
        return found

    def stop_enrollment(self, input_data: Json) -> Json:
        """StopEnrollmentAction: PUT .../:id with the picked fields, `id` left out."""
        data = {k: v for k, v in input_data.items() if k in ENROLLMENT_FIELDS and k != "id"}
        found: Json = self._data(self._fetch(
            "PUT", f"/v2/sequence_enrollments/{input_data['id']}", body={"data": data}))
        return found

    def stop_all_enrollments(self, input_data: Json) -> Json:
        """StopAllEnrollmentsAction: POST finish_ongoing_for_resource with resource_id,
        resource_type and, optionally, sequence_ids."""
        keys = ("resource_id", "resource_type", "sequence_ids")
        data = {k: v for k, v in input_data.items() if k in keys}
        found: Json = self._data(self._fetch(
            "POST", "/v2/sequence_enrollments/finish_ongoing_for_resource", body={"data": data}))
        return found
