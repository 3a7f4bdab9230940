"""Chinese names of the catalogue items as 附件1 and 附件2 print them, for records and error messages."""

from kernel.reference.catalogue import ITEM_NAMES as ITEM_LABELS
from kernel.reference.catalogue import items_text

__all__ = ["ITEM_LABELS", "items_text"]
