"""The only importers of client libraries (confluent-kafka, boto3, botocore).

Each module wraps one service behind a small facade that returns plain values and raises
`reconciler.core.errors` exceptions, so nothing above this layer sees a library type.
"""
