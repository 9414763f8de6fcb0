"""Clients of the Google APIs, one module per API; endpoint and credential selection in session.py."""
