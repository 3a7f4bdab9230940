"""The street office's pages 街道: worklist, persons, registration and correction, the needs survey."""
