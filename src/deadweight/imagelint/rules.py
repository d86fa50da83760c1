"""The checks only an image can answer: their IDs, levels, messages and doc pages.

Each replaces, in ``deadweight lint IMAGE``, the Dockerfile rule that guesses the same
thing from instructions (``REPLACES``): the file system and the config know for sure.
"""

from __future__ import annotations

from dataclasses import dataclass

from deadweight.dockerfile.findings import Severity
from deadweight.dockerfile.rule import Doc

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True, slots=True)
class ImageRule:
    code: str
    severity: Severity
    message: str
    doc: Doc


RULES: tuple[ImageRule, ...] = (
    ImageRule(
        "DW101",
        W,
        "The image runs as root",
        Doc(
            "The config's User is empty, 0 or root, so the container's processes run as "
            "root unless the runtime says otherwise; a breakout starts with full rights.",
            'FROM node:22\nCMD ["node", "server.js"]',
            'FROM node:22\nUSER node\nCMD ["node", "server.js"]',
        ),
    ),
    ImageRule(
        "DW102",
        E,
        "A secret in the image's environment",
        Doc(
            "Env is part of the image config: anyone who can pull the image can read it "
            "(docker inspect). Only exact credential shapes (AWS key IDs, npm and GitHub "
            "tokens, private keys) and password-like names with a real value count.",
            "ENV NPM_TOKEN=npm_0123456789abcdef0123456789abcdef0123",
            "RUN --mount=type=secret,id=npm,env=NPM_TOKEN npm ci",
        ),
    ),
    ImageRule(
        "DW103",
        E,
        "A credential in a file of the image",
        Doc(
            "A private key, an .npmrc auth token, a .env password or a cloud credential "
            "file stays readable in its layer, even when a later layer deletes it. The "
            "content is checked, not just the name; packages' test keys are left out.",
            "COPY .npmrc ./\nRUN npm ci && rm .npmrc",
            "RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci",
        ),
    ),
    ImageRule(
        "DW104",
        W,
        "Files with the setuid or setgid bit",
        Doc(
            "A setuid/setgid program runs with its owner's rights: an escalation path for "
            "anyone in the container. Remove the bit where nothing needs it (a warning for "
            "the image's own layers, information for the base image's).",
            "RUN chmod u+s /usr/local/bin/tool",
            "RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +",
        ),
    ),
    ImageRule(
        "DW105",
        W,
        "World-writable files or directories outside the temp directories",
        Doc(
            "Any user in the container can change these; a program or config there can "
            "be replaced. /tmp, /var/tmp and sticky directories are left out.",
            "RUN chmod -R 777 /app",
            "RUN chown -R app:app /app",
        ),
    ),
    ImageRule(
        "DW106",
        INFO,
        "A package manager's cache is left in the image",
        Doc(
            "apt lists, apk, pip, npm, yarn, Go, Maven and Gradle caches are only needed to "
            "install; clean them in the RUN that fills them or use a cache mount.",
            "RUN apt-get update && apt-get install -y curl",
            "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*",
        ),
    ),
    ImageRule(
        "DW107",
        W,
        "Build tools are left in the image",
        Doc(
            "Compilers, headers and make ship in the final image; build in an earlier stage "
            "and copy the result (a warning for the image's own layers, information for "
            "the base image's).",
            "FROM python:3.12\nRUN apt-get install -y build-essential && pip install .",
            "FROM python:3.12 AS build\n...\nFROM python:3.12-slim\nCOPY --from=build ...",
        ),
    ),
    ImageRule(
        "DW108",
        INFO,
        "The image has no HEALTHCHECK",
        Doc(
            "Without a health check Docker cannot tell a hung container from a working "
            "one. (Informational: orchestrators often probe instead.)",
            'CMD ["node", "server.js"]',
            'HEALTHCHECK CMD ["wget", "-qO-", "http://127.0.0.1:8080/healthz"]',
        ),
    ),
)
BY_CODE: dict[str, ImageRule] = {r.code: r for r in RULES}
# Dockerfile rules an image check answers better, left out of ``lint IMAGE``.
REPLACES: dict[str, str] = {
    "DW001": "DW101",
    "DL3002": "DW101",
    "DW010": "DW102",
    "DW011": "DW103",
    "DW004": "DW106",
    "DW007": "DW107",
    "DW015": "DW108",
    "DL3064": "DW102",  # on ENV rows only, like DW010: ARG rows keep both
}


def explain(code: str) -> str | None:
    """The doc page of an image check, or None when ``code`` is not one."""
    rule = BY_CODE.get(code.strip().upper())
    if rule is None:
        return None
    parts = [f"{rule.code} ({rule.severity.label}): {rule.message} (images only)"]
    parts.append(f"Why:\n  {rule.doc.why}")
    parts.append("Bad:\n" + "\n".join("  " + line for line in rule.doc.bad.splitlines()))
    parts.append("Good:\n" + "\n".join("  " + line for line in rule.doc.good.splitlines()))
    return "\n\n".join(parts) + "\n"
