"""The carrier webhook: tracking events pushed by a carrier or a tracking aggregator, stored
against the seller's parcels. Integrations authenticate with a staff API token
(``Authorization: Bearer hw_…``, see ``helloword users token``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request

from api.auth import AuthError, Staff
from api.deps import RuntimeDep, signed_in_staff
from commerce.tracking import ingest_events

MAX_EVENTS = 5000  # per request; larger feeds go through `helloword track ingest`


def integration(request: Request, runtime: RuntimeDep) -> Staff:
    """The caller, challenged for a bearer token when it has none that works."""
    try:
        return signed_in_staff(request, runtime)
    except AuthError as error:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        raise HTTPException(error.status, error.message, headers=headers) from error


router = APIRouter(prefix="/api/tracking", tags=["tracking"], dependencies=[Depends(integration)])


@router.post("/events")
def receive(
    events: Annotated[
        list[dict[str, Any]] | dict[str, Any],
        Body(description="One carrier event, or an array of them (carrier, tracking_number, code, occurred_at, …)."),
    ],
    runtime: RuntimeDep,
) -> dict[str, Any]:
    """Store carrier events and move parcel statuses; the answer counts what was stored, skipped
    as a duplicate and rejected (with the reasons, by position in the array, from 1)."""
    batch = [events] if isinstance(events, dict) else events
    if len(batch) > MAX_EVENTS:
        raise HTTPException(422, f"at most {MAX_EVENTS} events per request (this one has {len(batch)})")
    lines = [json.dumps(event, ensure_ascii=False, default=str) for event in batch]
    return ingest_events(runtime.store, lines, now=runtime.clock()).as_json()
