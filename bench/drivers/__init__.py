"""Client processes: each runs one client library against the emulator and reports figures."""
