"""`reconciler local`: a real Kafka cluster (kafka/) and an MSK endpoint (msk/) on loopback.

No re-exports: importers import the module they need, so using one never loads the other's
client libraries.
"""
