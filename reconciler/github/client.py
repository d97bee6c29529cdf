"""A small GitHub REST client: JSON over urllib, Link-header pagination, errors that say why.

Stdlib only, so the workflows need nothing beyond the package itself. `GITHUB_API_URL` points
it at GitHub Enterprise Server or, in tests, at a fake server; the token comes from
`GITHUB_TOKEN`, which every workflow job has.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.core.errors import ReconcilerError

DEFAULT_API_URL = "https://api.github.com"
#: The most items GitHub returns per page; fewer pages mean fewer round trips.
PER_PAGE = 100
#: GET is retried on these (GitHub's transient errors); writes are never retried blindly.
_RETRY_STATUSES = frozenset({502, 503, 504})
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";]+)"?')

_HINTS: Mapping[int, str] = {
    401: "the token is missing, expired or wrong; workflows pass GITHUB_TOKEN: ${{ github.token }}",
    403: "the token lacks a permission; check the job's `permissions:` block",
    404: "not found, or the token cannot see it",
    422: "GitHub refused the content",
}


class GitHubError(ReconcilerError):
    """A GitHub API call failed; `status` is the HTTP status when there was a response."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def next_link(header: str | None) -> str | None:
    """The `rel="next"` URL of a Link header, or None on the last page."""
    for match in _LINK.finditer(header or ""):
        if "next" in match[2].split():
            return str(match[1])
    return None


@dataclass(frozen=True)
class Repo:
    """owner/name, as GITHUB_REPOSITORY spells it."""

    owner: str
    name: str

    @classmethod
    def parse(cls, text: str) -> Repo:
        owner, slash, name = text.strip().partition("/")
        if not slash or not owner or not name or "/" in name:
            raise GitHubError(f"expected a repository as OWNER/NAME, got {text!r}")
        return cls(owner, name)

    @property
    def path(self) -> str:
        quote = urllib.parse.quote
        return f"/repos/{quote(self.owner, safe='')}/{quote(self.name, safe='')}"

    def __str__(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class GitHub:
    """An authenticated connection to one GitHub API root."""

    api_url: str
    token: str
    timeout: float = 30.0
    retries: int = 2

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GitHub:
        env = os.environ if environ is None else environ
        token = env.get("GITHUB_TOKEN", "")
        if not token:
            raise GitHubError("GITHUB_TOKEN is not set; the GitHub commands need a token")
        return cls(env.get("GITHUB_API_URL") or DEFAULT_API_URL, token)

    def url(self, path: str, params: Mapping[str, str | int] | None = None) -> str:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return self.api_url.rstrip("/") + path + query

    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Any:
        """One call; returns the decoded JSON (None for an empty response)."""
        data, _headers = self._send(method, self.url(path, params), body)
        return data

    def paginate(self, path: str, params: Mapping[str, str | int] | None = None) -> Iterator[Any]:
        """Every item of a list endpoint, following Link headers page by page."""
        url: str | None = self.url(path, {"per_page": PER_PAGE, **(params or {})})
        while url is not None:
            data, headers = self._send("GET", url, None)
            if not isinstance(data, list):
                raise GitHubError(f"GitHub GET {path}: expected a list, got {type(data).__name__}")
            yield from data
            url = next_link(headers.get("Link"))
            if url is not None and not url.startswith(self.api_url.rstrip("/") + "/"):
                # Never send the token to a host the Link header names but we did not choose.
                raise GitHubError(f"GitHub GET {path}: next page {url!r} is outside the API root")

    def _send(
        self, method: str, url: str, body: Mapping[str, Any] | None
    ) -> tuple[Any, Mapping[str, str]]:
        payload = None if body is None else json.dumps(body).encode("utf-8")
        attempts = 1 + (self.retries if method == "GET" else 0)
        for attempt in range(attempts):
            request = urllib.request.Request(url, data=payload, method=method)
            # Unredirected: a redirect to another host never receives the token.
            request.add_unredirected_header("Authorization", f"Bearer {self.token}")
            request.add_header("Accept", "application/vnd.github+json")
            request.add_header("X-GitHub-Api-Version", "2022-11-28")
            request.add_header("User-Agent", "msk-reconciler")
            if payload is not None:
                request.add_header("Content-Type", "application/json; charset=utf-8")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    text = response.read().decode("utf-8")
                    return (json.loads(text) if text.strip() else None), dict(response.headers)
            except urllib.error.HTTPError as error:
                if error.code in _RETRY_STATUSES and attempt + 1 < attempts:
                    time.sleep(1.0 * (attempt + 1))
                    continue
                raise _http_error(method, url, error) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                if attempt + 1 < attempts:
                    time.sleep(1.0 * (attempt + 1))
                    continue
                reason = getattr(error, "reason", error)
                raise GitHubError(
                    f"GitHub {method} {_path(url)}: cannot connect ({reason})"
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def _http_error(method: str, url: str, error: urllib.error.HTTPError) -> GitHubError:
    try:
        detail = json.loads(error.read().decode("utf-8")).get("message", "")
    except (ValueError, AttributeError, OSError):
        detail = ""
    hint = _HINTS.get(error.code, "")
    text = "; ".join(part for part in (str(detail), hint) if part)
    return GitHubError(
        f"GitHub {method} {_path(url)}: HTTP {error.code}" + (f" ({text})" if text else ""),
        error.code,
    )
