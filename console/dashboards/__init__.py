"""dashboards pages of the console."""
