"""What every emulated API shares: errors in Google's shape, time formats, paging, long-running operations,
IAM policies with etags, CEL, the authorization of callers (on a project, on a service account, by API key),
the register of routes, and (core.gemini) the Gemini models both the Gemini API and Vertex AI serve.

The import rule (tests/emulator/test_emulator_imports.py): a service package may import another
service's `models` (its state, reached through the world) and nothing else of it; core imports no
service's handlers.
"""
