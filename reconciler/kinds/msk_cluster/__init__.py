"""The MskCluster kind: the MSK control plane (brokers, storage, version, configuration,
security, monitoring, logging, tags) through the MSK API."""
