"""A local fake of DiaLog's write API that checks the contract and injects faults.

``FakeDialog`` serves ``POST``/``PUT /api/regulations``, ``PUT /api/regulations/publish/{id}``,
``DELETE /api/regulations/{id}`` and ``GET /api/organization/identifiers`` from a thread:

- every request must carry ``X-Client-Id``/``X-Client-Secret`` of a known client (401
  ``{"message": "Unauthorized"}`` otherwise) and, with a body, ``Content-Type:
  application/json``;
- a body is validated against ``regulation.schema.json`` (written from the shared standards'
  README): an invalid one gets DiaLog's 422 ``violations``, with French titles;
- the regulations are kept per client, by identifier: a second create of an identifier is a
  422, an update or publish of an unknown one a 404;
- faults: ``script(...)`` queues answers for the next requests (400, 401, 422, 5xx, a hang
  longer than the client's timeout, or "apply then hang": DiaLog did it, the answer is lost),
  ``storm(status, seconds)`` answers every request with ``status`` for a while.
"""

from testing.fakedialog.server import FakeDialog, Fault

__all__ = ["FakeDialog", "Fault"]
