"""The settlement book: facts, policies and the pure rules that make payments due (no I/O)."""
