"""The analytics API behind sign-in: the support report for a period as JSON or CSV, and its
charts as SVG images for the dashboard.

Periods are given as inclusive days, `from=YYYY-MM-DD&to=YYYY-MM-DD` (UTC); without them the
report covers the last 30 days up to now."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from api import charts
from api.deps import RuntimeDep, signed_in_staff
from commerce.analytics import Report, build_report, period
from support.runtime import Runtime

URGENCY_COLOURS = {"red": "#d93025", "orange": "#f29900", "yellow": "#f6c343", "blue": "#1a73e8"}
CACHE_SECONDS = 30.0


def report_csv(report: Report) -> str:
    """The report as CSV: a header, then one `section,name,value` row per figure."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["section", "name", "value"])
    writer.writerows(report.rows())
    return buffer.getvalue()


def render_chart(name: str, report: Report) -> str:
    """One of the dashboard's charts, drawn from the report."""
    period_text = f"{report.start.date().isoformat()} – {(report.end - _EPSILON).date().isoformat()}"
    if name == "volume_by_day":
        return charts.day_chart(f"Conversations per day, {period_text}", report.by_day)
    if name == "sla_by_urgency":
        items = [(level.urgency, level.compliance or 0.0) for level in report.sla if level.cases]
        return charts.bar_chart(
            f"SLA compliance by urgency, {period_text}", items, colours=URGENCY_COLOURS, label=charts.percent, maximum=1.0
        )
    breakdowns: dict[str, tuple[str, dict[str, int]]] = {
        "by_language": ("Conversations by language", report.by_language),
        "by_intent": ("Conversations by intent", report.by_intent),
        "by_marketplace": ("Conversations by marketplace", report.by_marketplace),
        "by_carrier": ("Conversations by carrier", report.by_carrier),
    }
    if name not in breakdowns:
        raise LookupError(f"no chart {name!r}; charts: {', '.join(CHARTS)}")
    title, counts = breakdowns[name]
    items = [(key, float(value)) for key, value in list(counts.items())[:12]]
    return charts.bar_chart(f"{title}, {period_text}", items)


CHARTS = ("volume_by_day", "by_language", "by_intent", "by_marketplace", "by_carrier", "sla_by_urgency")
_EPSILON = dt.timedelta(microseconds=1)
_DAY = r"^\d{4}-\d{2}-\d{2}$"
FirstDay = Annotated[str | None, Query(alias="from", pattern=_DAY, description="The first day, YYYY-MM-DD (UTC)")]
LastDay = Annotated[str | None, Query(alias="to", pattern=_DAY, description="The last day, YYYY-MM-DD (UTC), included")]


class ReportCache:
    """Reports computed in the last CACHE_SECONDS, by period: the dashboard asks for the report
    and each of its charts at once."""

    def __init__(self) -> None:
        self._reports: dict[tuple[str, str], tuple[float, Report]] = {}
        self._lock = threading.Lock()
        self._computing = threading.Lock()

    def _fresh(self, key: tuple[str, str]) -> Report | None:
        with self._lock:
            hit = self._reports.get(key)
            return hit[1] if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS else None

    def report(self, runtime: Runtime, first: str | None, last: str | None) -> Report:
        """The report for the days from `first` to `last` (default: the last 30 days up to now)."""
        start, end = period(first, last, now=runtime.clock())
        key = (start.isoformat(), end.isoformat() if last else "now")
        cached = self._fresh(key)
        if cached is not None:
            return cached
        with self._computing:  # computed once while the other requests of the page wait for it
            cached = self._fresh(key)
            if cached is not None:
                return cached
            with runtime.store.read() as session:
                report = build_report(session, start, end)
            with self._lock:
                if len(self._reports) > 16:
                    self._reports.clear()
                self._reports[key] = (time.monotonic(), report)
        return report


def get_reports(request: Request) -> ReportCache:
    reports: ReportCache = request.app.state.reports
    return reports


ReportsDep = Annotated[ReportCache, Depends(get_reports)]
router = APIRouter(prefix="/api/analytics", tags=["analytics"], dependencies=[Depends(signed_in_staff)])


@router.get("/report")
def report_json(runtime: RuntimeDep, reports: ReportsDep, first: FirstDay = None, last: LastDay = None) -> JSONResponse:
    """The support figures for the period (days inclusive; default the last 30 days)."""
    return JSONResponse(reports.report(runtime, first, last).as_json())


@router.get("/report.csv")
def report_download(runtime: RuntimeDep, reports: ReportsDep, first: FirstDay = None, last: LastDay = None) -> Response:
    """The same figures as CSV (section, name, value), as a download."""
    report = reports.report(runtime, first, last)
    name = f"helloword-report-{report.start.date().isoformat()}-{(report.end - _EPSILON).date().isoformat()}.csv"
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/chart/{name}.svg")
def chart(name: str, runtime: RuntimeDep, reports: ReportsDep, first: FirstDay = None, last: LastDay = None) -> Response:
    """A chart of the period as an SVG image: volume_by_day, by_language, by_intent,
    by_marketplace, by_carrier or sla_by_urgency."""
    if name not in CHARTS:
        raise HTTPException(404, f"no chart {name!r}; charts: {', '.join(CHARTS)}")
    svg = render_chart(name, reports.report(runtime, first, last))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=30"})
