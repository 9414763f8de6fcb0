"""Secrets: the typed `Secret`, the files that hold them, the `.env`, and GitHub Actions' env files."""
