"""MSK configurations and their revisions (server.properties limited to what MSK allows)."""

from __future__ import annotations

import uuid

from reconciler.kinds.msk_cluster import rules
from reconciler.local.msk.state import (
    ACCOUNT_ID,
    BackendState,
    Configuration,
    Revision,
    paginate,
    revision_view,
)
from reconciler.local.msk.wire import ApiError, Json, bad_request


class ConfigurationApi(BackendState):
    """Create/Update/Describe/List configurations and revisions."""

    def _checked_properties(self, blob: bytes) -> str:
        text = blob.decode("utf-8")
        unknown = sorted(set(rules.parse_server_properties(text)) - rules.CUSTOM_CONFIGURATION_KEYS)
        if unknown:
            raise bad_request(
                f"Unsupported properties in a custom configuration: {', '.join(unknown)}.",
                "serverProperties",
            )
        return text

    def create_configuration(self, params: Json) -> Json:
        name = str(params["Name"])
        if not rules.CONFIGURATION_NAME.match(name):
            raise bad_request(f"Invalid configuration name {name!r}.", "name")
        if any(c.name == name for c in self.configurations.values()):
            raise ApiError("ConflictException", rules.NAME_TAKEN, "name")
        now = self.now()
        configuration = Configuration(
            arn=f"arn:aws:kafka:{self.region}:{ACCOUNT_ID}:configuration/{name}/{uuid.uuid4()}-1",
            name=name,
            created=now,
            revisions=[
                Revision(
                    1,
                    now,
                    self._checked_properties(params["ServerProperties"]),
                    params.get("Description"),
                )
            ],
            kafka_versions=list(params.get("KafkaVersions") or []),
            description=params.get("Description"),
        )
        self.configurations[configuration.arn] = configuration
        self._save()
        return {
            "Arn": configuration.arn,
            "CreationTime": now,
            "LatestRevision": revision_view(configuration.revisions[-1]),
            "Name": name,
            "State": "ACTIVE",
        }

    def update_configuration(self, params: Json) -> Json:
        configuration = self._configuration(str(params["Arn"]))
        revision = Revision(
            configuration.revisions[-1].revision + 1,
            self.now(),
            self._checked_properties(params["ServerProperties"]),
            params.get("Description"),
        )
        configuration.revisions.append(revision)
        self._save()
        return {"Arn": configuration.arn, "LatestRevision": revision_view(revision)}

    def _configuration_view(self, configuration: Configuration) -> Json:
        return {
            "Arn": configuration.arn,
            "CreationTime": configuration.created,
            "Description": configuration.description or "",
            "KafkaVersions": list(configuration.kafka_versions),
            "LatestRevision": revision_view(configuration.revisions[-1]),
            "Name": configuration.name,
            "State": "ACTIVE",
        }

    def describe_configuration(self, params: Json) -> Json:
        return self._configuration_view(self._configuration(str(params["Arn"])))

    def describe_configuration_revision(self, params: Json) -> Json:
        configuration = self._configuration(str(params["Arn"]))
        revision = self._revision(configuration, int(params["Revision"]))
        return {
            "Arn": configuration.arn,
            **revision_view(revision),
            "ServerProperties": revision.properties,
        }

    def list_configuration_revisions(self, params: Json) -> Json:
        configuration = self._configuration(str(params["Arn"]))
        revisions = [revision_view(r) for r in configuration.revisions]
        return paginate(revisions, params, "Revisions")

    def list_configurations(self, params: Json) -> Json:
        views = [self._configuration_view(c) for c in self.configurations.values()]
        return paginate(views, params, "Configurations")
