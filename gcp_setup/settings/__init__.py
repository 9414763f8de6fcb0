"""The settings: their table, parsers, checks, and the Config a run works from."""
