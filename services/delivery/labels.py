"""Chinese names of the catalogue items as the service record 康复服务记录 prints them, for error messages."""

from kernel.reference.catalogue import ITEM_NAMES, items_text

__all__ = ["ITEM_NAMES", "items_text"]
