"""The planted image the imagelint and CLI tests share."""

from __future__ import annotations

from deadweight import static
from deadweight.image import Image

NPM = "npm_" + "a" * 36
BK = "buildkit.dockerfile.v0"


def planted() -> Image:
    """A busybox-like base (ADD rootfs + CMD) and a build that plants every problem."""
    base = static.layer(
        [
            static.Dir("bin"),
            static.File("bin/busybox", b"x" * 10, 0o755),
            static.File("bin/su", b"su", 0o4755),
            static.Dir("tmp", 0o1777),
        ]
    )
    own = static.layer(
        [
            static.Dir("app"),
            static.File("app/.npmrc", b"//registry.npmjs.org/:_authToken=" + NPM.encode() + b"\n"),
            static.File("app/.env.example", b"DB_PASSWORD=hunter22\n"),
            static.Dir("data", 0o777),
            static.File("root/.ssh/id_rsa", b"-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n"),
            static.File("usr/local/bin/tool", b"t", 0o6755),
            static.File("var/lib/apt/lists/deb_x", b"l" * 100),
            static.File("usr/bin/gcc-12", b"g" * 50, 0o755),
        ]
    )
    rm = static.layer([static.Whiteout("root/.ssh/id_rsa")])
    return static.image(
        [
            static.Step("/bin/sh -c #(nop) ADD file:abc123 in / ", base),
            static.Step('/bin/sh -c #(nop)  CMD ["/bin/sh"]'),
            static.Step("ENV AWS_KEY_ID=AKIAABCDEFGHIJKLMNOP GPG_KEY=ABCDEF", comment=BK),
            static.Step(
                f"RUN |1 TOKEN={NPM} /bin/sh -c apt-get update && apt-get install -y gcc"
                " # buildkit",
                own,
                comment=BK,
            ),
            static.Step("RUN /bin/sh -c rm /root/.ssh/id_rsa # buildkit", rm, comment=BK),
            static.Step('CMD ["/bin/sh" "-c" "run"]', comment=BK),
        ],
        repo_tags=("planted:1",),
        config={
            "Env": ["PATH=/bin", "AWS_KEY_ID=AKIAABCDEFGHIJKLMNOP", "GPG_KEY=ABCDEF"],
            "Cmd": ["/bin/sh", "-c", "run"],
        },
    )
