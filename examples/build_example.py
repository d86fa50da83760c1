"""Generate the bundled example images offline: a small Node.js backend, as a docker archive.

``backend-node`` is shaped like the story in the README (a node base, an npm self-upgrade
in its own layer, npm install with dev dependencies, COPY . ., CMD npm start as root);
``backend-node-opt`` is its hand-optimised rewrite on the bare base. Content is
deterministic, so the image IDs are the same on every machine.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from deadweight import static as s
from deadweight.image import Image, Layer
from deadweight.sources import archive


def blob(name: str, size: int) -> bytes:
    """Deterministic, incompressible-looking bytes."""
    out = bytearray()
    seed = name.encode()
    while len(out) < size:
        seed = hashlib.sha256(seed).digest()
        out += seed
    return bytes(out[:size])


def main(dest: Path) -> None:
    base = s.layer(
        [s.Dir("bin"), s.File("bin/busybox", blob("busybox", 900_000), 0o755)]
        + [s.Symlink(f"bin/{a}", "busybox") for a in ("sh", "ls", "cat", "rm", "mkdir")]
        + [s.Dir("etc"), s.File("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")],
        "gzip",
    )
    node = s.layer(
        [s.Dir("usr/local/bin"), s.File("usr/local/bin/node", blob("node", 4_200_000), 0o755)],
        "gzip",
    )
    yarn = s.layer([s.File("opt/yarn-v1.22.17/bin/yarn.js", blob("yarn", 776_000))], "gzip")
    npm = s.layer(
        [s.File("usr/local/lib/node_modules/npm/index.js", blob("npm", 1_290_000))]
        + [s.File("root/.npm/_cacache/index-v5/aa", blob("cache", 310_000))],
        "gzip",
    )
    workdir = s.layer([s.Dir("usr/src/app")])
    deps = s.layer(
        [s.File("usr/src/app/node_modules/express/index.js", blob("express", 220_000))]
        + [s.File("usr/src/app/node_modules/jest/index.js", blob("jest", 610_000))],
        "gzip",
    )
    app = s.layer(
        [s.File("usr/src/app/package.json", b'{"scripts":{"start":"node server.js"}}\n')]
        + [s.File("usr/src/app/server.js", b"require('http').createServer().listen(8080)\n")],
        "gzip",
    )
    bk = "buildkit.dockerfile.v0"
    steps = [
        s.Step("/bin/sh -c #(nop) ADD file:5d3ba5b1 in / ", base, "2022-02-10T21:19:44Z"),
        s.Step('/bin/sh -c #(nop)  CMD ["/bin/sh"]', None, "2022-02-10T21:19:44Z"),
        s.Step("/bin/sh -c #(nop)  ENV NODE_VERSION=16.14.0", None, "2022-02-11T04:56:52Z"),
        s.Step(
            "/bin/sh -c addgroup -g 1000 node && adduser -u 1000 …", node, "2022-02-11T04:57:02Z"
        ),
        s.Step("/bin/sh -c #(nop)  ENV YARN_VERSION=1.22.17", None, "2022-02-11T04:57:03Z"),
        s.Step(
            "/bin/sh -c apk add --no-cache --virtual .build-deps-yarn …",
            yarn,
            "2022-02-11T04:57:08Z",
        ),
        s.Step('/bin/sh -c #(nop)  CMD ["node"]', None, "2022-02-11T04:57:09Z"),
        s.Step(
            "RUN /bin/sh -c npm install -g npm@8.5.1 # buildkit", npm, "2026-11-24T10:02:11Z", bk
        ),
        s.Step("WORKDIR /usr/src/app", workdir, "2026-11-24T10:02:12Z", bk),
        s.Step("COPY package*.json ./ # buildkit", None, "2026-11-24T10:02:12Z", bk),
        s.Step("RUN /bin/sh -c npm install # buildkit", deps, "2026-11-24T10:02:31Z", bk),
        s.Step("COPY . . # buildkit", app, "2026-11-24T10:02:32Z", bk),
        s.Step("EXPOSE map[8080/tcp:{}]", None, "2026-11-24T10:02:32Z", bk),
        s.Step('CMD ["/bin/sh" "-c" "npm start"]', None, "2026-11-24T10:02:32Z", bk),
    ]
    image = s.image(
        steps,
        repo_tags=("backend-node:latest",),
        config={
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "NODE_VERSION=16.14.0"],
            "Cmd": ["/bin/sh", "-c", "npm start"],
            "WorkingDir": "/usr/src/app",
            "ExposedPorts": {"8080/tcp": {}},
        },
    )
    archive.write([image, optimized(base)], dest)


def optimized(base: Layer) -> Image:
    """The hand-optimised rewrite: bare alpine, apk's node and npm, no dev deps, non-root."""
    apk = s.layer(
        [s.File("usr/bin/node", blob("apk-node", 3_900_000), 0o755)]
        + [s.File("usr/lib/node_modules/npm/index.js", blob("apk-npm", 1_100_000))]
        + [s.File("lib/apk/db/installed", b"P:nodejs\nV:16.20.2-r0\nI:3900000\n\n")],
        "gzip",
    )
    user = s.layer(
        [
            s.File(
                "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nbackend:x:1000:1000::/app:/bin/sh\n"
            )
        ],
        "gzip",
    )
    deps = s.layer([s.File("app/node_modules/express/index.js", blob("express", 220_000))], "gzip")
    app = s.layer(
        [s.File("app/package.json", b'{"scripts":{"start":"node server.js"}}\n')]
        + [s.File("app/server.js", b"require('http').createServer().listen(8080)\n")],
        "gzip",
    )
    bk = "buildkit.dockerfile.v0"
    steps = [
        s.Step("/bin/sh -c #(nop) ADD file:5d3ba5b1 in / ", base, "2022-02-10T21:19:44Z"),
        s.Step('/bin/sh -c #(nop)  CMD ["/bin/sh"]', None, "2022-02-10T21:19:44Z"),
        s.Step(
            "RUN /bin/sh -c apk add --update nodejs npm # buildkit", apk, "2026-11-24T11:40:02Z", bk
        ),
        s.Step(
            "RUN /bin/sh -c adduser -D -h /app backend # buildkit", user, "2026-11-24T11:40:03Z", bk
        ),
        s.Step("WORKDIR /app", None, "2026-11-24T11:40:03Z", bk),
        s.Step("RUN /bin/sh -c npm ci --omit=dev # buildkit", deps, "2026-11-24T11:40:09Z", bk),
        s.Step("COPY . . # buildkit", app, "2026-11-24T11:40:09Z", bk),
        s.Step("USER backend", None, "2026-11-24T11:40:09Z", bk),
        s.Step("EXPOSE map[8080/tcp:{}]", None, "2026-11-24T11:40:09Z", bk),
        s.Step('CMD ["node" "server.js"]', None, "2026-11-24T11:40:09Z", bk),
    ]
    return s.image(
        steps,
        repo_tags=("backend-node-opt:latest",),
        config={
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
            "Cmd": ["node", "server.js"],
            "WorkingDir": "/app",
            "User": "backend",
            "ExposedPorts": {"8080/tcp": {}},
        },
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("examples/out/backend-node.tar"))
