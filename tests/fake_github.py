"""A fake GitHub REST API on loopback, for testing the GitHub side without a network.

It keeps issues, pull requests, comments and labels in memory and serves the endpoints the
`reconciler.github` package uses, the way GitHub does: pagination with `per_page`, `page`
and Link headers, pull requests listed among issues, 65,536-character bodies, UTF-8 JSON,
and only the author (or nobody, for an unknown token) may edit a comment. Every request is
logged, so tests can assert what was (not) written.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BODY_LIMIT = 65_536
DEFAULT_PER_PAGE = 30


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class FakeGitHub:
    """The state of one fake GitHub: one repository, users known by their tokens."""

    repo: str = "acme/kafka-specs"
    tokens: dict[str, str] = field(default_factory=dict)
    #: GitHub allows up to 100 per page; tests lower it to get many pages from a few items.
    max_per_page: int = 100
    url: str = ""
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    commit_pulls: dict[str, list[int]] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1000

    # -- test helpers --------------------------------------------------------------------

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _now(self) -> str:
        return datetime.now(UTC).isoformat().replace("+00:00", "Z")

    def _html(self, kind: str, number: int) -> str:
        return f"https://github.example/{self.repo}/{kind}/{number}"

    def add_pull(
        self,
        number: int,
        *,
        merge_commit_sha: str | None = None,
        merged: bool = False,
        base: str = "main",
        commits: tuple[str, ...] = (),
    ) -> None:
        """A pull request (also an issue, as on GitHub), listed for its commits and merge."""
        with self._lock:
            self.issues[number] = {
                "number": number,
                "title": f"PR {number}",
                "body": "",
                "user": {"login": "alice"},
                "state": "closed" if merged else "open",
                "labels": [],
                "html_url": self._html("pull", number),
                "pull_request": {"url": f"{self.url}/repos/{self.repo}/pulls/{number}"},
                "merged_at": self._now() if merged else None,
                "merge_commit_sha": merge_commit_sha,
                "base": {"ref": base},
            }
            for sha in (*commits, *([merge_commit_sha] if merge_commit_sha else [])):
                self.commit_pulls.setdefault(sha, []).append(number)

    def merge(self, number: int, merge_commit_sha: str) -> None:
        with self._lock:
            pull = self.issues[number]
            pull.update(state="closed", merged_at=self._now(), merge_commit_sha=merge_commit_sha)
            self.commit_pulls.setdefault(merge_commit_sha, []).append(number)

    def add_comment(self, number: int, login: str, body: str) -> int:
        with self._lock:
            return self._comment(number, login, body)["id"]  # type: ignore[no-any-return]

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        with self._lock:
            return [c for c in self.comments.values() if c["issue_number"] == number]

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.log if m != "GET"]

    # -- the API -------------------------------------------------------------------------

    def _comment(self, number: int, login: str, body: str) -> dict[str, Any]:
        if number not in self.issues:
            raise ApiError(404, "Not Found")
        _check_body(body)
        cid = self._id()
        comment = {
            "id": cid,
            "issue_number": number,
            "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
            "body": body,
            "html_url": f"{self._html('issues', number)}#issuecomment-{cid}",
            "created_at": self._now(),
            "updated_at": self._now(),
        }
        self.comments[cid] = comment
        return comment

    def handle(
        self, method: str, path: str, query: dict[str, str], body: Any, login: str
    ) -> tuple[Any, list[Any] | None]:
        """(response, the full list when the response is one page of it)."""
        prefix = f"/repos/{self.repo}"
        if not path.startswith(prefix + "/"):
            raise ApiError(404, "Not Found")
        route = path[len(prefix) :]
        with self._lock:
            for pattern, verb, action in self._routes():
                match = re.fullmatch(pattern, route)
                if match and verb == method:
                    return action(match, query, body, login)  # type: ignore[no-any-return]
        raise ApiError(404, "Not Found")

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            (r"/issues/(\d+)/comments", "GET", self._list_comments),
            (r"/issues/(\d+)/comments", "POST", self._create_comment),
            (r"/issues/comments/(\d+)", "PATCH", self._edit_comment),
            (r"/issues", "GET", self._list_issues),
            (r"/issues", "POST", self._create_issue),
            (r"/issues/(\d+)", "PATCH", self._edit_issue),
            (r"/labels/([^/]+)", "GET", self._get_label),
            (r"/labels", "POST", self._create_label),
            (r"/commits/([0-9a-f]+)/pulls", "GET", self._commit_pulls),
        ]

    def _list_comments(self, m: re.Match[str], q: dict[str, str], b: Any, u: str) -> Any:
        number = int(m[1])
        if number not in self.issues:
            raise ApiError(404, "Not Found")
        items = sorted(
            (c for c in self.comments.values() if c["issue_number"] == number),
            key=lambda c: c["id"],
        )
        return None, items

    def _create_comment(self, m: re.Match[str], q: dict[str, str], b: Any, u: str) -> Any:
        return self._comment(int(m[1]), u, _text(b, "body")), None

    def _edit_comment(self, m: re.Match[str], q: dict[str, str], b: Any, u: str) -> Any:
        comment = self.comments.get(int(m[1]))
        if comment is None:
            raise ApiError(404, "Not Found")
        if comment["user"]["login"] != u:
            raise ApiError(403, "Resource not accessible by integration")
        body = _text(b, "body")
        _check_body(body)
        comment.update(body=body, updated_at=self._now())
        return comment, None

    def _list_issues(self, m: re.Match[str], q: dict[str, str], b: Any, u: str) -> Any:
        state = q.get("state", "open")
        wanted = {name for name in q.get("labels", "").split(",") if name}
        items = [
            i
            for _, i in sorted(self.issues.items())
            if (state == "all" or i["state"] == state)
            and wanted <= {label["name"] for label in i["labels"]}
        ]
        if q.get("direction", "desc") == "desc":
            items.reverse()
        return None, items

    def _create_issue(self, m: re.Match[str], q: dict[str, str], b: Any, u: str) -> Any:
        body = _text(b, "body")
        _check_body(body)
        number = max(self.issues, default=0) + 1
        names = b.get("labels") or []
        for name in names:  # unknown labels are created with the issue
            self.labels.setdefault(name, {"name": name, "color": "ededed", "description": ""})
        self.issues[number] = {
            "number": number,
            "title": _text(b, "title"),
            "body": body,
            "user": {"login": u},
            "state": "open",
            "state_reason": None,
            "labels": [self.labels[n] for n in names],
            "html_url": self._html("issues", number),
        }
        return self.issues[number], None

    def _edit_issue(self, m: re.Match[str], q: dict[str, str], b: Any, u: str) -> Any:
        issue = self.issues.get(int(m[1]))
        if issue is None:
            raise ApiError(404, "Not Found")
        if "body" in b:
            _check_body(_text(b, "body"))
        for key in ("title", "body", "state", "state_reason"):
            if key in b:
                issue[key] = b[key]
        return issue, None

    def _get_label(self, m: re.Match[str], q: dict[str, str], b: Any, u: str) -> Any:
        label = self.labels.get(urllib.parse.unquote(m[1]))
        if label is None:
            raise ApiError(404, "Not Found")
        return label, None

    def _create_label(self, m: re.Match[str], q: dict[str, str], b: Any, u: str) -> Any:
        name = _text(b, "name")
        if name in self.labels:
            raise ApiError(422, "Validation Failed: already_exists")
        self.labels[name] = {
            "name": name,
            "color": b.get("color", ""),
            "description": b.get("description", ""),
        }
        return self.labels[name], None

    def _commit_pulls(self, m: re.Match[str], q: dict[str, str], b: Any, u: str) -> Any:
        return None, [self.issues[n] for n in self.commit_pulls.get(m[1], [])]


def _text(body: Any, key: str) -> str:
    if not isinstance(body, dict) or not isinstance(body.get(key), str):
        raise ApiError(422, f"Validation Failed: {key} is missing")
    return str(body[key])


def _check_body(text: str) -> None:
    if len(text) > BODY_LIMIT:
        raise ApiError(
            422, f"Validation Failed: body is too long (maximum is {BODY_LIMIT} characters)"
        )


def _page(
    fake: FakeGitHub, path: str, query: dict[str, str], items: list[Any]
) -> tuple[list[Any], str | None]:
    per_page = min(int(query.get("per_page", DEFAULT_PER_PAGE)), fake.max_per_page)
    page = int(query.get("page", 1))
    last = max(1, -(-len(items) // per_page))
    links = []

    def url(number: int) -> str:
        return f"{fake.url}{path}?{urllib.parse.urlencode({**query, 'page': number})}"

    if page < last:
        links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    if page > 1:
        links += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
    chunk = items[(page - 1) * per_page : page * per_page]
    return chunk, ", ".join(links) or None


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests read `fake.log` instead

        def _serve(self) -> None:
            split = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(split.query))
            fake.log.append((self.command, split.path))
            try:
                auth = self.headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ").removeprefix("token ")
                login = fake.tokens.get(token)
                if not auth or login is None:
                    raise ApiError(401, "Bad credentials")
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length).decode("utf-8")) if length else None
                result, items = fake.handle(self.command, split.path, query, body, login)
                link = None
                if items is not None:
                    result, link = _page(fake, split.path, query, items)
                status = 201 if self.command == "POST" else 200
                self._send(status, result, link)
            except ApiError as error:
                self._send(error.status, {"message": error.message}, None)

        def _send(self, status: int, data: Any, link: str | None) -> None:
            payload = json.dumps(data, ensure_ascii=False).encode("utf-8")
            self.send_response(status, HTTPStatus(status).phrase)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            if link:
                self.send_header("Link", link)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = _serve

    return Handler


@contextmanager
def serve(fake: FakeGitHub) -> Iterator[FakeGitHub]:
    """Run the fake on 127.0.0.1 on a free port for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
