"""Documents 文书: explanations, statements, 附件3 and its register, coverage, progress and quota reports."""
