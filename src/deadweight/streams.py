"""How bytes move: the one read size of every streaming copy and hash.

One MiB a read: large enough that Python's per-call cost vanishes next to inflating and
hashing (1.2 GB/s of sha256 here), small enough that a layer is never held whole.
"""

from __future__ import annotations

CHUNK = 1 << 20
