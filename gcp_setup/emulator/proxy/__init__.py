"""The emulator as an HTTPS proxy for Google's API hosts, so that a user's unmodified program, which
knows only Google's host names, reaches it (docs/emulator.md, "Your own programs")."""
