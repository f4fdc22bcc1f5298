"""What a route is given: the application's runtime, the request limits and metrics, the
signed-in staff member (any role, or an admin), and the conversation a customer's token opens."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request

from api.auth import SESSION_COOKIE, Staff, authenticate, bearer, check_conversation_token, require
from api.limits import RequestLimits
from api.middleware import Metrics
from commerce.models import StaffRole
from support.conversations import ConversationRecord, find_conversation
from support.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_limits(request: Request) -> RequestLimits:
    limits: RequestLimits = request.app.state.limits
    return limits


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
LimitsDep = Annotated[RequestLimits, Depends(get_limits)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


def signed_in_staff(request: Request, runtime: RuntimeDep) -> Staff:
    """The staff member behind the request (session cookie with its CSRF token, or API token)."""
    return authenticate(
        runtime.store,
        runtime.secret,
        cookie=request.cookies.get(SESSION_COOKIE),
        authorization=request.headers.get("authorization"),
        method=request.method,
        csrf_header=request.headers.get("x-csrf-token"),
        now=runtime.clock(),
    )


StaffDep = Annotated[Staff, Depends(signed_in_staff)]


def signed_in_admin(staff: StaffDep) -> Staff:
    return require(staff, StaffRole.ADMIN)


AdminDep = Annotated[Staff, Depends(signed_in_admin)]


def _opened(runtime: Runtime, conversation_id: str, token: str | None) -> ConversationRecord:
    check_conversation_token(runtime.secret, conversation_id, token)
    return find_conversation(runtime.store, conversation_id)


def conversation_by_header(
    conversation_id: str, runtime: RuntimeDep, authorization: Annotated[str | None, Header()] = None
) -> ConversationRecord:
    """The conversation in the path, opened by its token (Authorization: Bearer …)."""
    return _opened(runtime, conversation_id, bearer(authorization))


def conversation_by_header_or_query(
    conversation_id: str,
    runtime: RuntimeDep,
    token: Annotated[str | None, Query(description="The conversation token (EventSource cannot send headers).")] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> ConversationRecord:
    """The conversation in the path, opened by its token in the query or the Authorization header."""
    return _opened(runtime, conversation_id, token or bearer(authorization))


ConversationDep = Annotated[ConversationRecord, Depends(conversation_by_header)]
StreamedConversationDep = Annotated[ConversationRecord, Depends(conversation_by_header_or_query)]
