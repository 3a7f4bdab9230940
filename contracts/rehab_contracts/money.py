"""The upper bound of every money amount the agencies exchange (issue 14, defect 3).

Every command that takes an amount refuses one above ``MAX_AMOUNT_FEN`` (422 naming the field), and every
payload field of an amount carries it as its ``maximum``: a consumer dead-letters an event beyond it
(``ValidationError: … less_than_equal``) instead of applying it, so a forged event, or one recorded
before the bound, posts nothing, and no sum of postings can overflow a 64-bit integer.

The bound tightened the v1 schemas of ``approval.application_approved`` and ``delivery.service_delivered``
in place, which the compatibility rule would otherwise refuse: no genuine event ever carried more (the
largest standard of the seeds is 2万元), and an event that did is exactly what must not be applied.
``rehab verify`` (I5) and ``rehab replay`` read such a stored event as a value to name, not a model to
validate, so they report it instead of failing on it.
"""

from __future__ import annotations

MAX_AMOUNT_FEN = 100_000_000
"""100,000,000 fen = 1,000,000 yuan (100万元) for one item, one charge or one approved amount.

The largest figure of the policies in the seeds is 2万元 per child and year (2,000,000 fen, children's
rehabilitation training, Shapingba 2023); the dearest single service of the catalogue, a cochlear
implant, costs a few 10万元. The bound leaves 50 times the largest standard, and a billion amounts at
the bound still sum within a signed 64-bit integer (10^17 < 9.2 x 10^18).
"""

AMOUNT_BOUND = (
    f"At most {MAX_AMOUNT_FEN:,} fen (MAX_AMOUNT_FEN, 100万元): producers refuse more, consumers "
    "dead-letter more."
)
"""The sentence every amount field's description ends with."""
