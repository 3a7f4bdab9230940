"""The upper bound of every money amount the agencies exchange (issue 14, defect 3).

Every command that takes an amount refuses one above ``MAX_AMOUNT_FEN`` (422 naming the field), so no
producer emits one. The payload models do not refuse it when read: a tighter bound on a field breaks
stored events (rehab_contracts.compatibility), and events recorded before the bound must still be read,
so that `rehab verify` and `rehab replay` can name such an amount instead of failing on it.
"""

from __future__ import annotations

MAX_AMOUNT_FEN = 100_000_000
"""100,000,000 fen = 1,000,000 yuan (100万元) for one item, one charge or one approved amount.

The largest figure of the policies in the seeds is 2万元 per child and year (2,000,000 fen, children's
rehabilitation training, Shapingba 2023); the dearest single service of the catalogue, a cochlear
implant, costs a few 10万元. The bound leaves 50 times the largest standard, and a billion amounts at
the bound still sum within a signed 64-bit integer (10^17 < 9.2 x 10^18).
"""

AMOUNT_BOUND = f"At most {MAX_AMOUNT_FEN:,} fen (MAX_AMOUNT_FEN, 100万元): producers refuse more."
"""The sentence every amount field's description ends with."""
