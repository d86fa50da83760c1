"""Files out of an image, onto the local disk or into a stream.

:func:`export` writes files of an image below a new directory safely: every path is
relative to it (the layer reader already neutralised absolute and ``..`` names), every
directory on the way is opened without following links (:mod:`.dirs`), symlinks are
created last and never written through (those that lead outside are rewritten to point
inside), set-id bits are dropped, devices are skipped, and the whole tree is built beside
the destination and renamed into place when complete. :func:`copy_file` streams one file
(``cat``). Both take the deltas the caller read (``read_deltas``) and look paths up in
their stacked tree, or, past ``partition.SIZE`` members, in the views of the paths asked
for (``partition.Views``).
:func:`export_all` writes a whole image layer by layer instead, in memory that does not
grow with its files (:mod:`.stream`).
"""

from deadweight.extraction.files import (
    Exported,
    check_destination,
    copy_file,
    export,
    extract_nodes,
    selected,
)
from deadweight.extraction.stream import export_all

__all__ = [
    "Exported",
    "check_destination",
    "copy_file",
    "export",
    "export_all",
    "extract_nodes",
    "selected",
]
