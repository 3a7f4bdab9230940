"""The ledger 记账: its tables, the live book, the fact log, replay, as of a date and under another policy."""
