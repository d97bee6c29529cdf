"""The kind-agnostic engine: load, plan, apply and verify, snapshots, saved-plan checks.

It iterates over `reconciler.kinds.registry.KINDS` and routes every change by its kind; it
knows no kind by name.
"""
