"""The GitHub side of the GitOps loop: plan comments, approved digests and drift issues.

Pure parts (markers, bodies, affected environments, the snapshot codec) are separate from
the few functions that talk to the REST API, so the rules are tested without a network.
"""
