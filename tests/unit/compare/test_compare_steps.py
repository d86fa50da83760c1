"""Step alignment in a gap pairs the most similar same-keyword steps, in build order."""

from __future__ import annotations

from deadweight.compare.steps import Step, align


def _steps(side: str, *instructions: str) -> list[Step]:
    """Steps whose diff_ids differ between sides: nothing is the same layer."""
    return [Step(i, f"sha256:{side}{i}", s, 10 * (i + 1)) for i, s in enumerate(instructions)]


def test_gap_pairs_by_shared_words_not_position() -> None:
    a = _steps("a", "RUN npm install -g npm@8.5.1", "WORKDIR /usr/src/app", "RUN npm install")
    b = _steps(
        "b", "RUN apk add --update nodejs npm", "RUN adduser -D backend", "RUN npm ci --omit=dev"
    )
    got = [(c.status, c.a_instruction, c.b_instruction) for c in align(a, b)]
    assert got == [
        ("changed", "RUN npm install -g npm@8.5.1", "RUN apk add --update nodejs npm"),
        ("removed", "WORKDIR /usr/src/app", ""),
        ("added", "", "RUN adduser -D backend"),
        ("changed", "RUN npm install", "RUN npm ci --omit=dev"),
    ]


def test_different_keywords_never_pair() -> None:
    got = [c.status for c in align(_steps("a", "COPY . ."), _steps("b", "RUN make"))]
    assert got == ["removed", "added"]
