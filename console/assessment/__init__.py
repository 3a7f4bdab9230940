"""The designated assessment institutions' pages 定点康复评估机构 (assessment service)."""
