"""The Topic kind: topics, their partitions, replication factor and configs."""
