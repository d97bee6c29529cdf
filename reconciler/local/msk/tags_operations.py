"""Tags on clusters and configurations, and the read side of cluster operations (V1 and V2)."""

from __future__ import annotations

from reconciler.local.msk.state import BackendState, Operation, paginate
from reconciler.local.msk.wire import ApiError, Json


class TagsAndOperationsApi(BackendState):
    """TagResource, UntagResource, ListTagsForResource; List/DescribeClusterOperation(V2)."""

    # -- tags --------------------------------------------------------------------------------

    def _tags(self, arn: str) -> dict[str, str]:
        if arn in self.clusters:
            return self.clusters[arn].tags
        if arn in self.configurations:
            return self.configurations[arn].tags
        raise ApiError("NotFoundException", f"The resource {arn} does not exist.", "resourceArn")

    def tag_resource(self, params: Json) -> Json:
        self._tags(str(params["ResourceArn"])).update(params.get("Tags") or {})
        self._save()
        return {}

    def untag_resource(self, params: Json) -> Json:
        tags = self._tags(str(params["ResourceArn"]))
        for key in params.get("TagKeys") or []:
            tags.pop(key, None)
        self._save()
        return {}

    def list_tags_for_resource(self, params: Json) -> Json:
        return {"Tags": dict(self._tags(str(params["ResourceArn"])))}

    # -- operations --------------------------------------------------------------------------

    def _cluster_operations(self, arn: str) -> list[Operation]:
        self._cluster(arn)
        found = [o for o in self.operations.values() if o.cluster_arn == arn]
        return sorted(found, key=lambda o: o.start, reverse=True)

    def _operation(self, arn: str) -> Operation:
        operation = self.operations.get(arn)
        if operation is None:
            raise ApiError(
                "NotFoundException", f"The operation {arn} does not exist.", "clusterOperationArn"
            )
        return operation

    def _error_info(self, operation: Operation) -> Json | None:
        if operation.state != "UPDATE_FAILED":
            return None
        return {"ErrorCode": operation.fail_code, "ErrorString": operation.fail_message}

    def _summary_v2(self, operation: Operation) -> Json:
        return {
            "ClusterArn": operation.cluster_arn,
            "ClusterType": "PROVISIONED",
            "StartTime": operation.start,
            "EndTime": operation.end,
            "OperationArn": operation.arn,
            "OperationState": operation.state,
            "OperationType": operation.type,
        }

    def list_cluster_operations_v2(self, params: Json) -> Json:
        operations = self._cluster_operations(str(params["ClusterArn"]))
        return paginate(
            [self._summary_v2(o) for o in operations], params, "ClusterOperationInfoList"
        )

    def describe_cluster_operation_v2(self, params: Json) -> Json:
        operation = self._operation(str(params["ClusterOperationArn"]))
        view = self._summary_v2(operation)
        view["ErrorInfo"] = self._error_info(operation)
        view["Provisioned"] = {
            "OperationSteps": operation.steps(self.now()),
            "SourceClusterInfo": operation.source,
            "TargetClusterInfo": operation.target,
        }
        return {"ClusterOperationInfo": view}

    def _info_v1(self, operation: Operation) -> Json:
        return {
            "ClientRequestId": operation.request_id,
            "ClusterArn": operation.cluster_arn,
            "CreationTime": operation.start,
            "EndTime": operation.end,
            "ErrorInfo": self._error_info(operation),
            "OperationArn": operation.arn,
            "OperationState": operation.state,
            "OperationSteps": operation.steps(self.now()),
            "OperationType": operation.type,
            "SourceClusterInfo": operation.source,
            "TargetClusterInfo": operation.target,
        }

    def list_cluster_operations(self, params: Json) -> Json:
        operations = self._cluster_operations(str(params["ClusterArn"]))
        return paginate([self._info_v1(o) for o in operations], params, "ClusterOperationInfoList")

    def describe_cluster_operation(self, params: Json) -> Json:
        operation = self._operation(str(params["ClusterOperationArn"]))
        return {"ClusterOperationInfo": self._info_v1(operation)}
