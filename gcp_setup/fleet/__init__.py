"""A fleet: many projects from one gcp-setup.toml, beside the single-project run."""
