"""Clients of the Google APIs: one module per API, each a class on client.Client (one shape, one execute);
the one retry policy in retry.py; endpoint and credential selection in session.py."""
