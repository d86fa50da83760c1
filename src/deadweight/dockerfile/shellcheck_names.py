"""Which of the names a Dockerfile declares (ARG, ENV, Docker's proxy variables) a RUN's
script must export for ShellCheck to find in it what hadolint finds (issue 14).

hadolint puts an ``export NAME=1`` line for every name declared so far ahead of each
RUN's body; ShellCheck spends about a millisecond per line and RUN on them, more than a
small body costs. Leaving out those that cannot change a finding gives the same
findings for a fraction of ShellCheck's time (``test_shellcheck.py`` holds ShellCheck's
output with and without them equal over the corpus).
"""

from __future__ import annotations

from deadweight.dockerfile.regex import lazy

_IDENTIFIER = lazy(r"[A-Za-z_][A-Za-z0-9_]*")

# ShellCheck 0.11's own variables (ShellCheck.Data: genericInternalVariables and
# shellArrayVariables): exporting one of them can be a finding by itself (SC2178 for an
# array), so they are always exported
SHELLCHECK_VARIABLES = frozenset(
    """BASH BASHOPTS BASHPID BASH_ALIASES BASH_ARGC BASH_ARGV BASH_CMDS BASH_COMMAND
    BASH_EXECUTION_STRING BASH_LINENO BASH_REMATCH BASH_SOURCE BASH_SUBSHELL BASH_VERSINFO
    BASH_VERSION COMP_CWORD COMP_KEY COMP_LINE COMP_POINT COMP_TYPE COMP_WORDBREAKS
    COMP_WORDS COPROC DIRSTACK EUID FUNCNAME GROUPS HISTCMD HOSTNAME HOSTTYPE LINENO
    MACHTYPE MAPFILE OLDPWD OPTARG OPTIND OSTYPE PIPESTATUS PPID PWD RANDOM READLINE_LINE
    READLINE_POINT REPLY SECONDS SHELLOPTS SHLVL UID BASH_ENV BASH_XTRACEFD CDPATH COLUMNS
    COMPREPLY EMACS ENV FCEDIT FIGNORE FUNCNEST GLOBIGNORE HISTCONTROL HISTFILE
    HISTFILESIZE HISTIGNORE HISTSIZE HISTTIMEFORMAT HOME HOSTFILE IFS IGNOREEOF INPUTRC
    LANG LC_ALL LC_COLLATE LC_CTYPE LC_MESSAGES LC_MONETARY LC_NUMERIC LC_TIME LINES MAIL
    MAILCHECK MAILPATH OPTERR PATH POSIXLY_CORRECT PROMPT_COMMAND PROMPT_DIRTRIM PS1 PS2
    PS3 PS4 SHELL TIMEFORMAT TMOUT TMPDIR auto_resume histchars USER TZ TERM LOGNAME
    LD_LIBRARY_PATH LANGUAGE DISPLAY KRB5CCNAME XAUTHORITY FLAGS_ARGC FLAGS_ARGV
    FLAGS_ERROR FLAGS_FALSE FLAGS_HELP FLAGS_PARENT FLAGS_RESERVED FLAGS_TRUE
    FLAGS_VERSION flags_error flags_return rest REST""".split()  # noqa: SIM905 - a word list
)


def bearing(name: str, body: str) -> bool:
    """Whether exporting ``name`` ahead of ``body`` can change what ShellCheck finds in it.

    ShellCheck reads an export (hadolint's way of declaring ARG and ENV names, one line
    each, and about a millisecond of ShellCheck's time per name and RUN) for the body's
    references to the name, which name it; for SC2153/SC2154's "did you mean", which
    suggests an assigned name longer than 3 characters within edit distance 2 of a
    referenced one (case aside); and, for its own variables, on the export line itself.
    A name split in three pieces keeps one piece whole through two edits, so a name none
    of whose pieces is in the body (ignoring case) is no such suggestion.
    """
    if name in body or name in SHELLCHECK_VARIABLES or not _IDENTIFIER.fullmatch(name):
        # a name that is no identifier (``ENV A:-$(x) y`` declares ``A:-$(x)``) makes
        # hadolint's export line a finding, or breaks ShellCheck's parse of the body
        return True
    if len(name) <= 3:
        return False
    lowered, text = name.lower(), body.lower()
    third = len(lowered) // 3
    pieces = (lowered[:third], lowered[third : 2 * third], lowered[2 * third :])
    return any(piece in text for piece in pieces)
