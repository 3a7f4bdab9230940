"""The few kernel names a service's domain.py may use: refusals, business time, new ids."""
