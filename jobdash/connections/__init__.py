"""Named connections (a cloud from clouds.yaml, or the ambient one): how each is built from
settings, grouped for display, and opened lazily for the entries that use it."""
