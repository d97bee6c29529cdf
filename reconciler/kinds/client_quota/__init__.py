"""The ClientQuota kind: how much each user and client id may produce, consume and ask."""
