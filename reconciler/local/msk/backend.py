"""The MSK backend: one object serving every implemented operation, and the dispatch of an
HTTP request to it.

Each area's operations are a class of their own (clusters.py, updates.py, configurations.py,
tags_operations.py, topics.py, scram_secrets.py, failures.py), all on one `BackendState`;
`MskBackend` combines them so dispatch finds every handler by the operation's snake_case
name on a single object.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping

from reconciler.kinds.msk_cluster import rules
from reconciler.local.msk.clusters import ClusterApi
from reconciler.local.msk.configurations import ConfigurationApi
from reconciler.local.msk.failures import FailureInjection
from reconciler.local.msk.scram_secrets import ScramSecretApi
from reconciler.local.msk.tags_operations import TagsAndOperationsApi
from reconciler.local.msk.updates import ClusterUpdateApi
from reconciler.local.msk.wire import (
    ApiError,
    Json,
    error_statuses,
    parse_request,
    routes,
    service_model,
    to_wire,
)

log = logging.getLogger(__name__)

ADMIN_PREFIX = "/_local/"

#: MSK's topic API and its broker listing, served from the real local Kafka cluster.
TOPIC_OPERATIONS = (
    "ListNodes",
    "ListTopics",
    "DescribeTopic",
    "DescribeTopicPartitions",
    "CreateTopic",
    "UpdateTopic",
    "DeleteTopic",
)
#: The kafka API operations this endpoint serves; every other one answers 501.
IMPLEMENTED = (
    "CreateClusterV2",
    "DescribeClusterV2",
    "DescribeCluster",
    "ListClustersV2",
    "GetBootstrapBrokers",
    "GetCompatibleKafkaVersions",
    "ListKafkaVersions",
    *rules.CLUSTER_OPERATIONS,
    "CreateConfiguration",
    "UpdateConfiguration",
    "DescribeConfiguration",
    "DescribeConfigurationRevision",
    "ListConfigurationRevisions",
    "ListConfigurations",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "ListClusterOperationsV2",
    "DescribeClusterOperationV2",
    "ListClusterOperations",
    "DescribeClusterOperation",
    *TOPIC_OPERATIONS,
    "BatchAssociateScramSecret",
    "BatchDisassociateScramSecret",
    "ListScramSecrets",
)


class MskBackend(
    ClusterApi,
    ClusterUpdateApi,
    ConfigurationApi,
    TagsAndOperationsApi,
    ScramSecretApi,
    FailureInjection,
):
    """The MSK state machine behind the HTTP layer; every public call holds the lock."""

    def dispatch(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        body: bytes,
        headers: Mapping[str, str],
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request -> (status, headers, body); errors become MSK error responses."""
        request_id = str(uuid.uuid4())
        reply = {"x-amzn-RequestId": request_id, "Content-Type": "application/json"}
        try:
            payload = json.loads(body) if body.strip() else {}
            if path.startswith(ADMIN_PREFIX):
                return (
                    200,
                    reply,
                    json.dumps(self.admin(path[len(ADMIN_PREFIX) :], payload)).encode(),
                )
            with self.lock:
                if self.throttled > 0:
                    self.throttled -= 1
                    raise ApiError("TooManyRequestsException", "Too Many Requests")
                self.region = _region(headers) or self.region
                for verb, pattern, name in routes(IMPLEMENTED):
                    match = pattern.match(path)
                    if verb == method and match:
                        return self._call(name, match.groupdict(), query, payload, reply)
            raise ApiError(
                "NotImplemented", f"{method} {path} is not served by the local MSK endpoint"
            )
        except ApiError as error:
            reply["x-amzn-ErrorType"] = error.code
            content = {"message": error.message, "invalidParameter": error.parameter}
            data = {k: v for k, v in content.items() if v is not None}
            return error_statuses().get(error.code, 400), reply, json.dumps(data).encode()
        except (ValueError, KeyError, TypeError) as exc:
            log.exception("bad request %s %s", method, path)
            reply["x-amzn-ErrorType"] = "BadRequestException"
            return 400, reply, json.dumps({"message": f"Invalid request: {exc}"}).encode()

    def _call(
        self,
        name: str,
        path: Mapping[str, str],
        query: Mapping[str, list[str]],
        body: Json,
        reply: dict[str, str],
    ) -> tuple[int, dict[str, str], bytes]:
        operation = service_model().operation_model(name)
        params = parse_request(operation, path, query, body)
        self.advance()
        handler: Callable[[Json], Json] = getattr(self, _snake(name))
        result = handler(params)
        status = int(operation.http.get("responseCode", 200))
        if status == 204 or operation.output_shape is None:
            return status, reply, b""
        try:
            body_out = to_wire(operation.output_shape, result)
        except (KeyError, TypeError, AttributeError) as exc:  # our bug, not the caller's
            log.exception("%s produced a response outside its shape", name)
            raise ApiError("InternalServerErrorException", f"{name}: {exc}") from exc
        return status, reply, json.dumps(body_out).encode()


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _region(headers: Mapping[str, str]) -> str | None:
    """The region of a SigV4 credential scope: .../20240101/us-east-1/kafka/aws4_request."""
    authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    match = re.search(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/kafka/", authorization)
    return match.group(1) if match else None
