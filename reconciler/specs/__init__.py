"""Load and validate spec directories into the typed desired model (pure: files in, values out)."""
