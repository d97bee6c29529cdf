"""Outside the AWS API: fail the next operation, throttle requests, move the clock, so the
tests reach MSK's failure paths (also served as `/_local/...`).
"""

from __future__ import annotations

from reconciler.local.msk.lifecycle import OperationEngine
from reconciler.local.msk.state import Failure
from reconciler.local.msk.wire import ApiError, Json


class FailureInjection(OperationEngine):
    """What the `/_local/` admin endpoints and `MskServer`'s methods do."""

    def inject_failure(
        self,
        cluster: str = "*",
        operation_type: str | None = None,
        error_code: str = "InternalFailure",
        error_string: str = "The operation failed (injected by the local MSK endpoint).",
    ) -> None:
        """The next matching operation ends UPDATE_FAILED with this ErrorInfo."""
        with self.lock:
            self.failures.append(Failure(cluster, operation_type, error_code, error_string))

    def throttle(self, count: int) -> None:
        """Answer the next `count` API requests with TooManyRequestsException (HTTP 429)."""
        with self.lock:
            self.throttled = count

    def advance_clock(self, seconds: float) -> None:
        """Move the endpoint's clock forward (e.g. past the storage cooldown)."""
        with self.lock:
            self.clock_offset += seconds
            self.advance()
            self._save()

    def admin(self, action: str, body: Json) -> Json:
        if action == "fail-next":
            self.inject_failure(
                str(body.get("cluster", "*")),
                body.get("operationType"),
                str(body.get("errorCode", "InternalFailure")),
                str(body.get("errorString", "The operation failed (injected).")),
            )
        elif action == "throttle":
            self.throttle(int(body.get("count", 1)))
        elif action == "advance-clock":
            self.advance_clock(float(body.get("seconds", 0)))
        elif action != "health":
            raise ApiError("NotFoundException", f"unknown local action {action!r}")
        return {"ok": True}
