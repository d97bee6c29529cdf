"""The Acl kind: who may do what on which topics, groups and transactional ids."""
