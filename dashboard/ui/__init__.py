"""The Textual UI: renders runtime state and sends messages; no file or network I/O."""
