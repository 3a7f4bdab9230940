"""Access control: tokens, the caller's agency and scope, the audit log of personal-data reads."""
