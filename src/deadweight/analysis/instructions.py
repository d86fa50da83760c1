"""Which history instruction wrote each layer."""

from __future__ import annotations

import re

from deadweight.image import Image


def layer_instructions(image: Image) -> tuple[str, ...]:
    """``created_by`` of the history entry of each layer, bottom first ("" when unknown).

    Non-empty history entries map to layers in order (image-spec config.md, "history");
    layers beyond them, or an image without history, get "".
    """
    found = [h.created_by for h in image.history or () if not h.empty_layer]
    n = len(image.layers)
    return tuple(found[:n]) + ("",) * max(0, n - len(found))


_BUILD_ARGS = re.compile(r"^\|\d+ (?:\S+=\S* )*")


def instruction_text(created_by: str, width: int = 0) -> str:
    """A history ``created_by`` as the Dockerfile instruction a person would write.

    Classic builder: ``/bin/sh -c #(nop)  ENV X`` → ``ENV X``, ``/bin/sh -c make`` →
    ``RUN make``, ``|1 A=b /bin/sh -c make`` → ``RUN make``. BuildKit: ``RUN /bin/sh -c make
    # buildkit`` → ``RUN make``. ``width`` > 0 cuts with an ellipsis.
    """
    text = " ".join(created_by.split())
    if text.endswith(" # buildkit"):
        text = text[: -len(" # buildkit")]
    if text.startswith("RUN "):
        text = text[4:]
    text = _BUILD_ARGS.sub("", text)
    if text.startswith("/bin/sh -c #(nop) "):
        text = text[len("/bin/sh -c #(nop) ") :]
    elif text.startswith("/bin/sh -c "):
        text = "RUN " + text[len("/bin/sh -c ") :]
    elif created_by.startswith("RUN "):
        text = "RUN " + text
    if width > 0 and len(text) > width:
        text = text[: width - 1] + "…"
    return text
