"""What gcp-setup writes for people and machines: the report, the JSON document, JUnit, GitHub Actions."""
