"""History ``created_by`` strings become the instruction a person wrote."""

from __future__ import annotations

import pytest

from deadweight.analysis.instructions import instruction_text


@pytest.mark.parametrize(
    ("created_by", "expected"),
    [
        ("/bin/sh -c #(nop)  ENV PORT=8080", "ENV PORT=8080"),
        ("/bin/sh -c #(nop) WORKDIR /app", "WORKDIR /app"),
        ("/bin/sh -c apk add  --no-cache curl", "RUN apk add --no-cache curl"),
        ("|1 BUILDARG=default /bin/sh -c make", "RUN make"),
        ("RUN /bin/sh -c npm install # buildkit", "RUN npm install"),
        ("RUN |2 A=1 B= /bin/sh -c make all # buildkit", "RUN make all"),
        ("COPY . . # buildkit", "COPY . ."),
        ('CMD ["node" "server.js"]', 'CMD ["node" "server.js"]'),
        ("", ""),
    ],
)
def test_instruction_text(created_by: str, expected: str) -> None:
    assert instruction_text(created_by) == expected


def test_width_cuts_with_an_ellipsis() -> None:
    assert instruction_text("RUN /bin/sh -c " + "x" * 50 + " # buildkit", 10) == "RUN xxxxx…"
