"""The staff console 工作台: Chinese pages for the agencies' clerks over the agencies' APIs (ADR 0012)."""
