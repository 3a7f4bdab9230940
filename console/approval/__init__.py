"""The sign-off pages of 附件2: community, street and the district office 区残联办 (approval service)."""
