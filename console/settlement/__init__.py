"""The pages of settlement 结算: finance, the district office and auditors (settlement service)."""
