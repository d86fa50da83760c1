"""What a container runs, read from the image: PATH lookup through symlinks, shebangs,
shell-form commands, wrappers, and entrypoint scripts such as the official node image's."""

from __future__ import annotations

from collections.abc import Sequence

from deadweight import static as S
from deadweight.analysis.entrypoint import (
    Reading,
    command_lines,
    health_line,
    path_dirs,
    read_command,
)
from deadweight.analysis.launchers import shebang
from deadweight.filetree.resolve import Resolver
from deadweight.filetree.tree import stack
from deadweight.mutate import layer_deltas

# the official node image's docker-entrypoint.sh, as it ships
NODE_ENTRYPOINT = b"""#!/bin/sh
set -e

# Run command with node if the first argument contains a "-" or is not a system command. The last
# part inside the "{}" is a workaround for the following bug in ash/dash:
# https://bugs.debian.org/cgi-bin/bugreport.cgi?bug=874264
IF_LINE
  set -- node "$@"
fi

exec "$@"
""".replace(
    b"IF_LINE",
    b'if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] '
    b'|| { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then',
)
ELF = b"\x7fELF" + bytes(60)


def reading(entries: Sequence[S.Entry], argv: list[str], args_from: int | None = None,
            path: tuple[str, ...] = ("/usr/local/bin", "/usr/bin", "/bin")) -> Reading:  # fmt: skip
    img = S.image([S.Step("ADD", S.layer(list(entries)))])
    tree = stack(layer_deltas(img))
    texts = {e.path: e.data for e in entries if isinstance(e, S.File)}
    return read_command(
        argv, resolver=Resolver(tree), read=texts.get, path=path, args_from=args_from
    )


BASE: list[S.Entry] = [
    S.Dir("usr"),
    S.Dir("usr/bin"),
    S.Symlink("bin", "usr/bin"),
    S.File("usr/bin/dash", ELF, 0o755),
    S.Symlink("usr/bin/sh", "dash"),
    S.Dir("usr/local/bin"),
    S.File("usr/local/bin/node", ELF, 0o755),
    S.File("usr/local/bin/docker-entrypoint.sh", NODE_ENTRYPOINT, 0o755),
    S.Dir("usr/local/lib/node_modules/npm/bin"),
    S.File(
        "usr/local/lib/node_modules/npm/bin/npm-cli.js", b"#!/usr/bin/env node\nrequire()", 0o755
    ),
    S.Symlink("usr/local/bin/npm", "../lib/node_modules/npm/bin/npm-cli.js"),
    S.File("usr/bin/env", ELF, 0o755),
]


def test_node_entrypoint_passes_its_arguments_and_may_prefix_node() -> None:
    r = reading(BASE, ["docker-entrypoint.sh", "npm", "start"], args_from=1)
    assert r.passes_args
    assert "node" in r.names and "npm" in r.names
    assert r.from_args == ("npm",)  # node comes from the script's `set -- node "$@"`
    paths = r.paths()
    for p in ("usr/local/bin/docker-entrypoint.sh", "usr/bin/dash", "usr/local/bin/node"):
        assert p in paths
    # npm through its link, then its #! line: env, which runs node
    assert "usr/local/bin/npm" in paths
    assert "usr/local/lib/node_modules/npm/bin/npm-cli.js" in paths
    assert "usr/bin/env" in paths
    assert "usr/bin/sh" in paths and "bin" in paths  # #!/bin/sh crosses both links
    assert not r.unknown and not r.missing


def test_shell_form_keeps_the_shell_and_reads_the_string() -> None:
    r = reading(BASE, ["/bin/sh", "-c", "node server.js && exec npm start"])
    assert {"sh", "node", "npm"} <= set(r.names)
    assert "bin" in r.paths()  # /bin/sh crosses the /bin -> usr/bin link
    assert "usr/bin/dash" in r.paths()


def test_wrappers_run_their_command() -> None:
    entries = [
        *BASE,
        S.File("usr/bin/tini", ELF, 0o755),
        S.File("usr/bin/gosu", ELF, 0o755),
    ]
    r = reading(entries, ["tini", "-s", "--", "gosu", "node:node", "env", "A=1", "node", "x.js"])
    assert r.names == ("tini", "gosu", "env", "node")


def test_not_executable_and_missing_and_unknown() -> None:
    entries = [
        *BASE,
        S.File("usr/local/bin/tool", b"#!/bin/sh\n", 0o644),
        S.File("usr/bin/tool", ELF, 0o755),
    ]
    r = reading(entries, ["tool"])
    assert r.programs[0].path == "usr/bin/tool"  # execvp skips the file without x bits
    r = reading(BASE, ["/bin/sh", "-c", 'nosuch; eval "$X"; $CMD run'])
    assert r.missing == ("nosuch",)
    assert len(r.unknown) == 2


def test_script_sourcing_and_functions() -> None:
    entries = [
        *BASE,
        S.File("usr/local/bin/lib.sh", b"helper() { node -v; }\n", 0o644),
        S.File(
            "usr/local/bin/start",
            b"#!/bin/sh\n. /usr/local/bin/lib.sh\nhelper\nmain() {\n  exec node app.js\n}\nmain\n",
            0o755,
        ),
    ]
    r = reading(entries, ["start"])
    assert "usr/local/bin/lib.sh" in r.paths()
    assert "helper" not in r.names and "main" not in r.names
    assert "node" in r.names and not r.missing


def test_shebang_and_command_lines() -> None:
    assert shebang(b"#!/usr/bin/env node\n") == ["/usr/bin/env", "node"]
    assert shebang(b"#! /bin/sh -e\n") == ["/bin/sh", "-e"]
    config = {"Entrypoint": ["docker-entrypoint.sh"], "Cmd": ["node"], "Env": ["PATH=/a:/b"]}
    assert command_lines(config, [["worker", "--x"]]) == [
        ["docker-entrypoint.sh", "node"],
        ["docker-entrypoint.sh", "worker", "--x"],
    ]
    assert path_dirs(config) == ("/a", "/b")
    assert path_dirs({})[0] == "/usr/local/sbin"


def test_health_line_as_the_engine_runs_it() -> None:
    def health(*test: str, **more: object) -> list[str]:
        return health_line({"Healthcheck": {"Test": list(test)}, **more})

    assert health("CMD", "curl", "-f", "http://x/") == ["curl", "-f", "http://x/"]
    assert health("CMD-SHELL", "curl -f http://x/ || exit 1") == [
        "/bin/sh",
        "-c",
        "curl -f http://x/ || exit 1",
    ]
    assert health("CMD-SHELL", "wget -q x", Shell=["/bin/bash", "-o", "pipefail", "-c"]) == [
        "/bin/bash",
        "-o",
        "pipefail",
        "-c",
        "wget -q x",
    ]
    assert health("NONE") == [] and health("CMD") == [] and health_line({}) == []
    assert health_line({"Healthcheck": "junk"}) == []
