"""person pages of the console."""
