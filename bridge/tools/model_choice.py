"""Which configured model answers a request, and why: the one policy the daemon and the
command line share, so both say the same thing to the user."""

from __future__ import annotations

from collections.abc import Callable

from bridge.models.catalog import Catalog, ModelSpec
from bridge.music.clip import Clip
from bridge.music.content import Content, ContentGuess, guess_content


def choose_model(
    catalog: Catalog,
    name: str | None,
    clip: Clip | None,
    serves: Callable[[ModelSpec], bool] = lambda _: True,
    content: Content | None = None,
) -> tuple[ModelSpec, str]:
    """The model that answers a request, with the reason, for the user to see.

    The named one; else the one `by_content` gives the clip's content (or, without a clip,
    the `content` the client asked for); else, when that cannot serve the tool (`serves`),
    a serving model made for such content, or the first serving one; else the default.
    """
    if name:
        return catalog.model(name), "named in the request"
    guess = guess_content(clip) if clip is not None else None
    if guess is None and content is not None:
        guess = ContentGuess(content, "asked for by the client")
    chosen = catalog.by_content.get(guess.content) if guess else None
    if chosen in catalog.models and serves(catalog.models[chosen]):
        return catalog.models[chosen], f"{guess.content}: {guess.reason}"
    if serves(catalog.model(None)) and chosen not in catalog.models:
        if guess and chosen in catalog.missing:
            return catalog.model(None), f"{guess.content} ({guess.reason}), but {chosen} is missing"
        return catalog.model(None), "the default model"  # also for a request without clips
    serving = [spec for spec in catalog.models.values() if serves(spec)]
    fitting = [spec for spec in serving if guess and spec.content == guess.content]
    if fitting:
        return fitting[0], f"{guess.content}: {guess.reason}"
    if serving:
        return serving[0], "the first model serving the tool"
    return catalog.model(None), "the default model"
