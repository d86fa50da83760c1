from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deadweight.dockerfile.shell import Command, _read, read_script


def _cmds(text: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(c.name, c.args) for c in read_script(text).commands]


def test_operators_assignments_and_quotes() -> None:
    assert _cmds("A=1 B='x y' go build -o \"/out dir\" && echo 'a b' || true; ls") == [
        ("go", ("build", "-o", "/out dir")),
        ("echo", ("a b",)),
        ("true", ()),
        ("ls", ()),
    ]


def test_pipes_and_substitutions() -> None:
    s = read_script('echo "$(id -u)" `whoami` | tee /x 2>&1 >/dev/null')
    assert [c.name for c in s.commands] == ["id", "whoami", "echo", "tee"]
    assert s.has_pipe is True
    assert read_script("a || b").has_pipe is False


def test_compound_commands() -> None:
    text = 'if [ -n "$X" ]; then apt-get update; fi\nfor d in a b; do mkdir $d; done\n'
    text += "case $x in a|b) echo 1;; *) ls;; esac\nwhile true; do break; done"
    assert [c.name for c in read_script(text).commands] == [
        "[",
        "apt-get",
        "mkdir",
        "echo",
        "ls",
        "true",
        "break",
    ]


def test_heredoc_body_is_not_commands_and_comments_are_skipped() -> None:
    s = read_script("cat <<EOF > /f\nrm -rf /\nEOF\necho done # rm x\n")
    assert [(c.name, c.args) for c in s.commands] == [("cat", ()), ("echo", ("done",))]


def test_flags_and_positional_like_hadolint() -> None:
    c = Command("apt-get", ("-qq", "install", "--no-install-recommends", "-t", "bookworm", "x"))
    assert c.flags == ("q", "q", "no-install-recommends", "t")
    assert c.positional("t") == ("install", "x")
    assert c.has_arg("install") and not c.has_flag("y")


_PLAIN_WORDS = st.sampled_from(
    [
        "apt-get",
        "install",
        "-y",
        "A=1",
        "B+=2",
        "x[1]=y",
        "=a",
        "if",
        "for",
        "in",
        "do",
        "case",
        "esac",
        "function",
        "{",
        "}",
        "!",
        "time",
        "then",
        "npm",
        "ci",
        "a=b=c",
        "\r",
    ]
) | st.text(alphabet="abz-_=.:/+,@%^*~?[]{}!\r\u00a0", max_size=6)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PLAIN_WORDS, max_size=6), st.lists(st.integers(1, 3), min_size=7, max_size=7))
def test_words_and_spaces_are_read_as_the_character_reader_reads_them(
    words: list[str], gaps: list[int]
) -> None:
    # read_script takes a shortcut for such scripts (issue 16); it must say the same
    text = "".join(" " * g + w for g, w in zip(gaps, words, strict=False)) + " " * gaps[-1]
    for hadolint in (False, True):
        assert read_script(text, hadolint=hadolint) == _read(text, 0, hadolint)


@pytest.mark.parametrize(
    ("text", "names", "pipe"),
    [
        ("a; &b | c", ["a"], False),  # ShellCheck stops at the "&": what came before stays
        ("a; ; b", ["a"], False),
        ("a; b) c", ["a", "b"], False),
        ("a; $v = (b c); d", ["a"], False),  # a "(" after words stops before them
        ("[Net.X]::Y = 1; a", [], False),  # a "[" glued to a word: it fails, no command
        ("a | | b", [], False),
        ("a && ; b", [], False),
        ("f (b c)", [], False),  # a function's parameters
        ("a && (for /D %i in (x) do b)", [], False),
        ("for i in (x); do b; done", [], False),
        ("echo $(a; &b) c", [], False),  # inside $(...) a stop fails the whole
        ("echo `a; &b`; c", ["a", "echo", "c"], False),  # backticks are read apart
        ("a && $X/b | c", ["a", "c"], True),  # no literal name, no command
        ('a && "$@"', ["a"], False),
        ("a &; b", ["a", "b"], False),
        ("x=$(case $(u) in a) b;; *) c;; esac); d", ["u", "b", "c", "d"], False),
        ("case x in a) b;; esac; c", ["b", "c"], False),
        ("for ((i=0;i<2;i++)); do a; done; b", ["a", "b"], False),
        ("[ -f x ] && [[ -d y ]] && a", ["[", "[[", "a"], False),
        ('a; b "c', [], False),  # a quote, backtick, $( or ${ never closed: it fails
        ("a; b 'c", [], False),
        ('a; echo "x `y"', [], False),
        ("a; b $(c", [], False),
        ("a; b ${c", [], False),
    ],
)
def test_read_as_hadolint_stops_and_fails_where_shellcheck_does(
    text: str, names: list[str], pipe: bool
) -> None:
    script = read_script(text, hadolint=True)
    assert [c.name for c in script.commands] == names
    assert script.has_pipe is pipe


def test_read_for_other_uses_keeps_every_command() -> None:
    # the entrypoint analysis wants ``$JAVA_HOME/bin/java`` and what follows a stray "&"
    script = read_script('a; &b; $J/bin/java "$@"')
    assert [c.name for c in script.commands] == ["a", "b", "$J/bin/java"]
    assert not script.broken


def test_expansions_read_as_hadolint_writes_them() -> None:
    """hadolint's ``simplify``: ``$NAME`` is ``${NAME}``, ``$(cmd args)`` the command's
    words run together in ``${...}``, backticks and arithmetic ``${VAR}``, a pipe inside
    ``$(...)`` nothing; read as the shell reads it otherwise."""
    script = read_script(
        'useradd -u $UID "$1-$@" $(id -u) `id -u` $((1+2)) $(a | b) ${X:-y}', hadolint=True
    )
    assert script.named("useradd")[0].args == (
        "-u",
        "${UID}",
        "${1}-${@}",
        "${id-u}",
        "${VAR}",
        "${VAR}",
        "${}",
        "${X:-y}",
    )
    assert read_script("echo $UID $(id -u)").named("echo")[0].args == ("$UID", "$(id -u)")
