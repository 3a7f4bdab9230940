"""Application and approval 申请审批 (附件2): community 居委会 -> street 街道办事处 -> 区残联办."""
