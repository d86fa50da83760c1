"""LazyRegex: compiled on first use, answering as re.Pattern does (issue 14)."""

from __future__ import annotations

import re

from deadweight.dockerfile.regex import lazy


def test_compiled_on_first_use_and_answers_as_re() -> None:
    source, text = r"(?P<k>[A-Z]+)=(\w*)", "A=1 b=2 CC=x"
    pattern = lazy(source)
    assert pattern._compiled is None  # import costs nothing
    real = re.compile(source)
    assert pattern.search(text).group(0) == real.search(text).group(0)  # type: ignore[union-attr]
    assert pattern._compiled is not None
    assert pattern.match(text) is not None and pattern.fullmatch("A=1") is not None
    assert [m.span() for m in pattern.finditer(text)] == [m.span() for m in real.finditer(text)]
    assert pattern.findall(text) == real.findall(text)
    assert pattern.sub(lambda m: m.group("k").lower(), text) == "a b=2 cc"
    assert pattern.split(text) == real.split(text)
    assert lazy("x", re.I).search("X") is not None and pattern.pattern == source


def test_secret_file_names_match_as_their_fnmatch_patterns() -> None:
    import fnmatch

    from deadweight.dockerfile.rules.security import _SECRET_FILES, _secret_file

    names = [p.replace("*", x) for p in _SECRET_FILES for x in ("", "a", ".b", "x/y", "\n")]
    names += ["env", ".envx", "x.env.y", "id_rsa.pub", "A.ENV", "pem", "secrets", "", "key.p"]
    for name in names:
        expected = any(fnmatch.fnmatchcase(name, p) for p in _SECRET_FILES)
        assert _secret_file(name) is expected, name
    assert _secret_file(".env.local") and _secret_file("server.pem")
    assert not _secret_file("environment") and not _secret_file("keys")
