"""The designated service institutions' pages 定点康复服务机构 (delivery service)."""
