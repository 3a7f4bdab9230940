"""Settlement 费用结算 (区残联办 with 财政局): archive of consumed events, replayable double-entry ledger."""
