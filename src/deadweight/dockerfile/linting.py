"""Run the rules over a Dockerfile: parse, check, apply pragmas and configuration."""

from __future__ import annotations

import os
from collections.abc import Sequence

from deadweight.dockerfile.config import LintConfig
from deadweight.dockerfile.findings import Finding, LintResult, Severity
from deadweight.dockerfile.parser import parse
from deadweight.errors import NotFound, UsageError

TYPE_CHECKING = False  # not `typing`: lint start-up (issue 14); mypy reads it as True
if TYPE_CHECKING:
    from os import PathLike

    from deadweight.dockerfile.pragmas import Pragmas
    from deadweight.dockerfile.rule import Rule
    from deadweight.dockerfile.shellcheck import ShellFinding
    from deadweight.dockerfile.stages import Build
    from deadweight.dockerfile.syntax import Dockerfile

SYNTAX_CODE = "DL1000"
# hadolint passes an empty file (exit 0, no finding); docker refuses to build one.
EMPTY_CODE = "DW000"


def lint(
    source: str,
    *,
    path: str = "Dockerfile",
    config: LintConfig | None = None,
    dockerignore: str | None = None,
    has_context: bool = False,
    rules: tuple[Rule, ...] | None = None,
    shellcheck: str | None = None,
    shell_findings: Sequence[ShellFinding] | None = None,
) -> LintResult:
    """Lint Dockerfile text. ``dockerignore`` is the build context's ``.dockerignore``
    text (None when there is none); ``has_context`` says whether the caller knows.
    ``shellcheck`` is the ShellCheck binary to run on RUN bodies (see
    :func:`deadweight.dockerfile.shellcheck.find_shellcheck`); None checks no shell.
    ``shell_findings``, when given, are this text's ShellCheck findings already made (one
    ShellCheck process for many files: :func:`~deadweight.dockerfile.shellcheck.check_files`);
    else ShellCheck runs while the ``rules`` (by default all of them) do.
    """
    config = config or LintConfig()
    dockerfile = parse(source)
    pending = None
    if dockerfile.problems:
        shell_findings = ()  # hadolint checks no shell in a file it cannot parse
    elif shell_findings is None and shellcheck is not None:
        from deadweight.dockerfile import shellcheck as sc

        pending = sc.start(sc.scripts(dockerfile), shellcheck, busy=1)  # beside the rules
    try:
        build, pragmas, ordered, order = _rule_findings(
            dockerfile, config, rules, dockerignore, has_context
        )
    except BaseException:
        if pending is not None:
            pending.findings()  # waits for ShellCheck: no process is left behind
        raise
    if pending is not None:
        shell_findings = [f for f in pending.findings() if f is not None]
    if shell_findings:
        for sc_hit in shell_findings:
            line = sc_hit.instruction.start_line
            if sc_hit.code in config.ignored or (
                not config.disable_ignore_pragma and pragmas.ignores(sc_hit.code, line, build)
            ):
                continue
            severity = config.severity_of(sc_hit.code, sc_hit.severity)
            finding = Finding(
                sc_hit.code, severity, sc_hit.message, line, sc_hit.instruction.end_line, 1
            )
            ordered.append((line, order, finding))
    ordered.sort(key=lambda t: (t[0], t[1]))
    return LintResult(path, tuple(f for _, _, f in ordered))


def _rule_findings(
    dockerfile: Dockerfile,
    config: LintConfig,
    rules: tuple[Rule, ...] | None,
    dockerignore: str | None,
    has_context: bool,
) -> tuple[Build, Pragmas, list[tuple[int, int, Finding]], int]:
    """The syntax problems and the rules' findings (with their order key), and the order
    of ShellCheck's findings after them."""
    # imported here, while ShellCheck works (see lint)
    from deadweight.dockerfile.pragmas import read_pragmas
    from deadweight.dockerfile.rule import Context
    from deadweight.dockerfile.stages import analyze

    if rules is None:
        from deadweight.dockerfile.rules import RULES

        rules = RULES
    build = analyze(dockerfile)
    pragmas = read_pragmas(build)
    ctx = Context(
        build,
        trusted_registries=config.trusted_registries,
        allowed_images=config.allowed_images,
        dockerignore=dockerignore,
        has_context=has_context,
    )
    ordered: list[tuple[int, int, Finding]] = []
    # as hadolint (and BuildKit) does, parsing stops at the first line it cannot read: one
    # DL1000, and hadolint's rules do not run; deadweight's own DW rules still read the
    # instructions around it
    broken = bool(dockerfile.problems)
    if broken and SYNTAX_CODE not in config.ignored:
        p = min(dockerfile.problems, key=lambda q: (q.line, q.column))
        sev = config.severity_of(SYNTAX_CODE, Severity.ERROR)
        ordered.append((p.line, -1, Finding(SYNTAX_CODE, sev, p.message, p.line, p.line, p.column)))
    if not dockerfile.instructions and not dockerfile.problems and EMPTY_CODE not in config.ignored:
        sev = config.severity_of(EMPTY_CODE, Severity.ERROR)
        message = "The Dockerfile has no instructions: docker refuses to build it"
        ordered.append((1, -1, Finding(EMPTY_CODE, sev, message, 1, 1)))
    for order, rule in enumerate(rules):
        if rule.code in config.ignored or not (rule.enabled or config.overridden(rule.code)):
            continue
        if broken and not rule.code.startswith("DW"):
            continue
        severity = config.severity_of(rule.code, rule.severity)
        for hit in rule.check(ctx):
            ins = hit.instruction
            line = ins.start_line
            if not config.disable_ignore_pragma and pragmas.ignores(rule.code, line, build):
                continue
            finding = Finding(
                rule.code,
                severity,
                hit.message or rule.message,
                line,
                ins.end_line,
                1,
                hit.suggestion or rule.suggestion,
                hit.fix,
            )
            ordered.append((line, order, finding))
    return build, pragmas, ordered, len(rules)


def dockerignore_for(dockerfile: str | PathLike[str]) -> str | None:
    """BuildKit's lookup: ``NAME.dockerignore`` beside the Dockerfile, else ``.dockerignore``."""
    path = os.fspath(dockerfile)
    for candidate in (path + ".dockerignore", os.path.join(os.path.dirname(path), ".dockerignore")):
        if os.path.isfile(candidate):
            with open(candidate, encoding="utf-8", errors="replace") as ignore:
                return ignore.read()
    return None


def read_dockerfile(path: str | PathLike[str]) -> str:
    try:
        with open(path, "rb") as dockerfile:
            data = dockerfile.read()
    except FileNotFoundError:
        raise NotFound(f"{os.fspath(path)}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{os.fspath(path)}: is a directory") from None
    return data.decode("utf-8", errors="replace").lstrip("\ufeff")


def lint_file(path: str | PathLike[str], config: LintConfig | None = None) -> LintResult:
    """Lint a Dockerfile on disk, with the ``.dockerignore`` of its folder."""
    source = read_dockerfile(path)
    return lint(
        source,
        path=os.fspath(path),
        config=config,
        dockerignore=dockerignore_for(path),
        has_context=True,
    )
