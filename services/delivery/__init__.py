"""Service delivery 提供康复服务: designated service institutions record the signed 康复服务记录."""
