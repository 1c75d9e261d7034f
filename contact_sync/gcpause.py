"""Pause the cyclic garbage collector while building large, cycle-free result lists."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic GC inside the block and restore its previous state afterwards.

    Building a million small tuples triggers hundreds of collections, and each older-generation one rescans
    every object alive (the input batch included) without finding anything: the normalisers and the
    ownership step create no reference cycles. Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
