"""Every bound deadweight puts on hostile input, in one place (issue 16).

Input past one of these is refused with a typed error (exit 3: :class:`~deadweight.errors.
CorruptImage`, :class:`~deadweight.errors.UnsafeLayer`, :class:`~deadweight.errors.
RegistryError`, :class:`~deadweight.errors.NetworkError`; exit 2 for a ``--format``
template) instead of exhausting the stack, the memory or the clock. The README's exit-code
section lists them; change both together.

Each value is far above what real images, registries and templates reach, and close to
what Go's own libraries (which wrote and read nearly every image in existence) accept.
"""

from __future__ import annotations

# -- JSON documents: configs, manifests, indexes, manifest.json, index.json, registry
# answers. Real ones nest under 10 deep; Python's decoders recurse per level.
JSON_DEPTH = 128
# a manifest, config or index read from an archive or a layout.
DOCUMENT_BYTES = 64 << 20

# -- layer tars ------------------------------------------------------------------------
# pax records and GNU long names are read whole; Go's archive/tar caps them at 1 MiB too.
TAR_SPECIAL = 1 << 20
# a pax number (size, uid, gid, sparse sizes): ASCII digits only, and no more than this
# many (Go parses them as int64: 19 digits; leading zeros are allowed, as in Go).
PAX_DIGITS = 32
# one file in a layer; a header may declare any size.
TAR_MEMBER = 1 << 40
# members in one layer.
TAR_ENTRIES = 2_000_000
# members (entries, whiteouts, opaque markers) in all the layers of one image, for the
# commands that hold its merged tree (analyze, diff, lint IMAGE, minify, explore, cat,
# and optimize when it stacks the layers it squashes): a few hundred bytes a path, so at
# most about 2 GB. The largest real images hold about a million; ``export`` and
# ``history`` stream and are not bounded by it.
IMAGE_ENTRIES = 5_000_000
# bytes after the end-of-archive blocks that are read (and must be zeros or nothing).
TAR_TRAILING = 16 << 20
# bytes of small files (package databases, os-release, ...) kept from one layer.
TAR_CAPTURE_TOTAL = 64 << 20

# -- image layouts and file trees ----------------------------------------------------------
# OCI indexes nested in indexes (real layouts: one or two).
INDEX_NESTING = 8
# symbolic links followed in one path lookup (Linux's MAXSYMLINKS): more is a loop.
SYMLINK_HOPS = 40
# a file ``diff --file`` shows as a unified diff.
DIFF_TEXT = 16 << 20

# -- minify: the loader's configuration read from an image ---------------------------------
# file names the include patterns of ld.so.conf and the files it includes are compared
# with, in all (real ones: one pattern over a few files).
LD_CONF_MATCHES = 1_000_000
# paths the loader's search looks up in one image: a DT_NEEDED name in one directory (or
# one of its glibc-hwcaps subdirectories), and each directory of a file's search list.
# Thousands of DT_RPATH directories times thousands of DT_NEEDED names cost their product;
# a Debian system of 2,800 ELF files (python, chromium, docker) takes 250,000. Each lookup
# is remembered (about 350 bytes): at most about 700 MB and 10 s.
LD_LOOKUPS = 2_000_000

# -- scan: a file listing sources, one a line ---------------------------------------------
# bytes of one line (Linux's PATH_MAX; a reference is shorter): a longer one is no source.
LISTING_LINE = 4096

# -- runs: what a container under test prints and answers (optimize/minify --verify-*) ------
# bytes of a container's last log lines kept (a line may be gigabytes long).
CONTAINER_OUTPUT = 64 << 10
# bytes of one HTTP answer of a probed app; a larger one is not compared.
HTTP_ANSWER = 16 << 20

# -- decompression ---------------------------------------------------------------------
# A layer that inflates to more than BOMB_RATIO times its stored size, past BOMB_FLOOR, is a
# decompression bomb (gzip cannot exceed ~1032:1, zstd bombs reach 30000:1).
BOMB_RATIO = 1000
BOMB_FLOOR = 4 << 30

# -- Go templates (``--format``) ---------------------------------------------------------
# nesting of actions, parentheses and pipelines in one template.
TEMPLATE_DEPTH = 100
# the longest string one template function may build (pad); printf widths stop at 1e6 as
# in Go's fmt.
TEMPLATE_TEXT = 16 << 20
# pieces ``split`` may return.
TEMPLATE_ITEMS = 1 << 20
# characters one execution may write.
TEMPLATE_OUTPUT = 256 << 20
# characters of a number literal (Go's numbers are 64-bit: 20 decimal digits, 16 hex).
TEMPLATE_NUMBER_DIGITS = 64

# -- registries --------------------------------------------------------------------------
MANIFEST_BYTES = 8 << 20  # distribution accepts manifests up to 4 MiB; leave room
CONFIG_BYTES = 64 << 20
TAGS_BYTES = 16 << 20
TAG_PAGES = 10_000
CATALOG_BYTES = 16 << 20  # one page of a registry's repository list
CATALOG_PAGES = 10_000
TOKEN_BYTES = 1 << 20
ERROR_BODY_BYTES = 64 * 1024
# A whole request (its answer's body included) may take the connect timeout plus this many
# read timeouts (DEADWEIGHT_REGISTRY_TIMEOUT; 10 + 2 x 60 s by default), and a blob one
# more second per BODY_MIN_RATE bytes of its length: a body trickled a byte at a time,
# which never trips the per-read timeout, ends there.
REQUEST_READS = 2
BODY_MIN_RATE = 16 << 10
# the longest Retry-After honoured, in seconds.
RETRY_AFTER = 60.0

# -- leftovers of killed runs ----------------------------------------------------------------
# a temp file or directory of ours whose process is gone is removed by the next run that
# writes the same destination once it is this many seconds old (a younger one may belong
# to a run in another PID namespace).
STALE_TEMP = 600.0
