"""Designated assessment institutions 定点康复评估机构: needs assessment and referral 评估转介."""
