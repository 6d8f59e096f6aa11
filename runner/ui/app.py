"""The Starlette app of ``runner ui``: its routes (the run list, a run, the schedules, the runs
waiting or stuck), the token check, and what a page says when the store fails.

Read-only by construction: every route is GET (HEAD), the store is opened for reading
(:mod:`runner.ui.reader`), and no page takes a value it would store. With a token, every
request must carry it: an ``Authorization: Bearer`` header, the cookie set by visiting once
with ``?token=``, or ``?token=`` itself (then the answer sets the cookie and sends the browser
to the same page without the token in its address, so it stays out of history and logs).
"""

from __future__ import annotations

import datetime as dt
import hmac
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from runner.errors import InvalidInput, StoreError
from runner.schedule_file import load_schedules
from runner.ui import pages
from runner.ui.reader import STATUSES, Filters, Reader
from runner.ui.stored_report import report_page

PAGE_SIZE = 50
COOKIE = "runner_ui_token"
HEADERS = {"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
           "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


@dataclass
class Config:
    """What the web view serves: the store reader, schedules, its token."""
    reader: Reader
    schedules: str | None  # the schedule file, if any
    token: str | None
    stale_after: float  # seconds of silence after which a queued or running run is stuck
    since: Callable[[str], float]  # the --since text (2h, 3d, a date) as a time


def build_app(config: Config) -> Starlette:
    ui = _Ui(config)
    routes = [Route("/", ui.runs), Route("/runs/{run_id}", ui.run),
              Route("/schedules", ui.schedules), Route("/stuck", ui.stuck)]
    middleware = [Middleware(_Guard, token=config.token)]
    return Starlette(routes=routes, middleware=middleware,
                     exception_handlers={StoreError: ui.store_failed})


class _Guard(BaseHTTPMiddleware):
    """The token (when there is one) and the headers every answer carries."""

    def __init__(self, app: Any, token: str | None) -> None:
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await self._answer(request, call_next)
        response.headers.update(HEADERS)
        return response

    async def _answer(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if self.token is None:
            return await call_next(request)
        given = request.query_params.get("token")
        if given is not None and _same(given, self.token):
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            path = "/" + request.url.path.lstrip("/")  # never "//host": another site
            there = path + ("?" + urlencode(rest) if rest else "")
            response: Response = RedirectResponse(there, status_code=303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict",
                                secure=request.url.scheme == "https")
            return response
        auth = request.headers.get("authorization", "")
        bearer = auth[7:] if auth.lower().startswith("bearer ") else None
        for candidate in (bearer, request.cookies.get(COOKIE)):
            if candidate is not None and _same(candidate, self.token):
                return await call_next(request)
        return HTMLResponse(pages.render(
            "message", here="", store="", title="Token needed",
            message="This runner ui needs its token.",
            hint="Open this address once with ?token=THE_TOKEN (it is then kept in a cookie), "
            "or send Authorization: Bearer THE_TOKEN."), status_code=401)


def _same(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


class _Ui:
    def __init__(self, config: Config) -> None:
        self.c = config
        self.reader = config.reader

    def _page(self, name: str, here: str, title: str, status: int = 200,
              **values: Any) -> HTMLResponse:
        return HTMLResponse(pages.render(name, here=here, store=self.reader.shown, title=title,
                                         **values), status_code=status)

    def runs(self, request: Request) -> HTMLResponse:
        q = request.query_params
        f = Filters(playbook=q.get("playbook") or None, schedule=q.get("schedule") or None,
                    batch=q.get("batch") or None)
        problem = ""
        status = q.get("status") or None
        if status is not None and status not in STATUSES:
            problem = f"status {status!r} is none of {', '.join(STATUSES)}"
        else:
            f.status = status
        since_text = q.get("since") or None
        if since_text:
            try:
                f.since = self.c.since(since_text)
            except InvalidInput as e:
                problem = f"{e}; {e.hint}" if e.hint else str(e)
        try:
            page = max(1, int(q.get("page") or 1))
        except ValueError:
            page = 1
        rows, total = ([], 0) if problem else self.reader.runs(
            f, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        kept = [(k, v) for k, v in q.multi_items() if k != "page" and v]

        def link(n: int) -> str:
            return "/?" + urlencode([*kept, ("page", str(n))])

        first = (page - 1) * PAGE_SIZE + 1
        return self._page("runs", "runs", "Runs", 400 if problem else 200, rows=rows,
                          total=total, f=f, since_text=since_text, statuses=STATUSES,
                          problem=problem, first=first, last=first + len(rows) - 1,
                          prev=link(page - 1) if page > 1 else None,
                          next=link(page + 1) if first - 1 + len(rows) < total else None)

    def run(self, request: Request) -> HTMLResponse:
        run_id = request.path_params["run_id"]
        row = self.reader.run(run_id)
        if row is None:
            return self._page("message", "runs", "No such run", 404,
                              message=f"No run {run_id} in this store.",
                              hint="The run list shows the recorded runs.")
        if row.get("report"):
            html = report_page(row["report"], pages.nav("runs", self.reader.shown, styled=True),
                               playbook=row.get("file"))
            return HTMLResponse(html)
        return self._page("run", "runs", row["run_id"], r=row)

    def schedules(self, request: Request) -> HTMLResponse:
        if not self.c.schedules:
            return self._page("schedules", "schedules", "Schedules", file=None, problem="")
        try:
            loaded = load_schedules(self.c.schedules)
        except InvalidInput as e:  # the file changed since the start, and is wrong now
            return self._page("schedules", "schedules", "Schedules", 500,
                              file=self.c.schedules, problem=str(e), schedules=[])
        runs = self.reader.schedule_runs([s.name for s in loaded])
        now = time.time()
        shown = [{"name": s.name, "enabled": s.enabled, "cron": s.cron, "timezone": s.timezone,
                  "playbook_name": s.playbook_name, "overlap": s.overlap,
                  "catch_up": s.catch_up, "runs": runs[s.name],
                  "next": [_local(t, s.tz) for t in s.next_fires(now, 3)] if s.enabled
                  else ["never (enabled: false)"]} for s in loaded]
        return self._page("schedules", "schedules", "Schedules", file=self.c.schedules,
                          problem="", schedules=shown)

    def stuck(self, request: Request) -> HTMLResponse:
        rows = self.reader.stuck(before=time.time() - self.c.stale_after)
        store = f" --store {shlex.quote(self.reader.shown)}" if self.reader.given else ""
        for r in rows:
            r["why"], r["commands"] = _recovery(r, store)
        return self._page("stuck", "stuck", "Waiting or stuck", rows=rows,
                          stale_after=self.c.stale_after)

    async def store_failed(self, request: Request, exc: Exception) -> Response:
        return self._page("message", "", "Store unavailable", 503,
                          message=f"The run store could not be read: {str(exc)[:300]}",
                          hint="Check that the database is up; this page reloads fine then.")


def _recovery(r: dict[str, Any], store: str) -> tuple[str, list[str]]:
    """Why a run is waiting or stuck, and the commands that take it up again."""
    here = f"runner resume {shlex.quote(r['run_id'])}{store}"
    if r["status"] == "queued":
        return ("Queued and not taken: no worker is listening, or its message was lost. A "
                "worker hands such runs over again; or run it here.",
                [f"runner worker --broker REDIS_URL{store}", here])
    return ("Running with no heartbeat: the process or worker that ran it is gone. Resume it "
            "(finished steps are not sent again), or every such run at once.",
            [here, f"runner resume --stale{store}"])


def _local(t: float, tz: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M:%S %Z")
