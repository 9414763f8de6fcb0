"""A local emulator of the Google APIs gcp-setup uses. See server.Emulator."""
