"""Resource kinds: one folder each, all with the same parts (see `base.Kind`)."""
