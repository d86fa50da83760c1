"""Names vulture cannot see used: each is reached by name, by a framework, an entry point
or a test, never by a call in ``src``. Checked by ``scripts/check`` (``vulture src`` plus
this file); a name goes here only with who reaches it."""

# ruff: noqa: B018, F821
# mypy: ignore-errors

# The import system: PEP 562 module __getattr__ / __dir__ (deadweight, deadweight.cli,
# deadweight.filetree load their public names lazily).
__getattr__
__dir__

# The click entry point: LazyGroup overrides, and the commands it loads by their names in
# deadweight.cli.COMMANDS.
_.list_commands
_.get_command
explore
export
minify

# io and tarfile: the raw-stream protocol io.BufferedReader and tarfile call by name.
_.readable
_.readinto
# The with statement: streams.ByteStream declares it for every layer and blob stream.
_.__exit__
# Tests read layers with tarfile's stream mode through it.
as_file  # streams.as_file

# tarfile.TarInfo fields, read by tarfile when it writes a header.
_.uname
_.gname
_.devmajor
_.devminor
_.pax_headers

# contextlib.ContextDecorator: called by name when the object decorates a function.
_._recreate_cm

# urllib3: attributes of its response and pool manager, read by urllib3.
_.decode_content
_.pool_classes_by_scheme

# textual: class attributes and message handlers the framework finds by name.
BINDINGS
CSS
_.compose
_.on_mount
_.on_resize
_.on_data_table_row_highlighted
_.on_input_changed
_.on_input_submitted
_.on_tree_node_expanded
_.on_tree_node_highlighted
_.on_tree_node_selected
_.action_attributes
_.action_category
_.action_changes_only
_.action_close_filter
_.action_collapse_all
_.action_ctrl_a
_.action_extract
_.action_filter
_.action_help
_.action_largest
_.action_sort
_.show_root
_.guide_depth

# Fields of public results and the empty image, read by the tests (and library users).
EMPTY  # deadweight.static.EMPTY
author  # spec.config.HistoryEntry.author
base_guess  # dockerfile.reconstruct.Reconstruction.base_guess
truncated  # filetree.delta.Captured.truncated
