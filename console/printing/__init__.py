"""printing pages of the console."""
