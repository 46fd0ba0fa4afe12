"""When a stock line is low: the one predicate `fleet stock`, `fleet stock --low`, the dashboard and the console use.

A line is low when what is available (on hand - reserved) is at or below its reorder level. At, not only below: the
reorder point must still keep the service level *after* the reservation that brings the line down to it, so the
order goes out as the shelf reaches the level, not one unit later (with one unit on the shelf and a level of one,
`<` ordered nothing and the site then held none for the whole lead time). A level of 0 asks for no stock at all
(no demand worth a spare: no installed base), so an empty shelf there is not low. What is on order from the supplier
counts with what is available (the inventory position).
"""

from __future__ import annotations


def is_low(available: int, level: int, on_order: int = 0) -> bool:
    """`on_order`: units ordered from the supplier and not yet received. They count towards the inventory position
    (available + on order), so a line whose order is on its way is not low again and ordered twice."""
    return level > 0 and available + on_order <= level
