"""Which configured model answers a request, and why: the one policy the daemon and the
command line share, so both say the same thing to the user."""

from __future__ import annotations

from collections.abc import Callable

from bridge.config import Config, ModelSpec
from bridge.music.clip import Clip
from bridge.music.content import Content, ContentGuess, guess_content


def choose_model(
    config: Config,
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
        return config.model(name), "named in the request"
    guess = guess_content(clip) if clip is not None else None
    if guess is None and content is not None:
        guess = ContentGuess(content, "asked for by the client")
    chosen = config.by_content.get(guess.content) if guess else None
    if chosen in config.models and serves(config.models[chosen]):
        return config.models[chosen], f"{guess.content}: {guess.reason}"
    if serves(config.model(None)) and chosen not in config.models:
        missing = f"{guess.content} ({guess.reason}), but {chosen} is missing"
        return config.model(None), missing if chosen in config.missing else "the default model"
    serving = [spec for spec in config.models.values() if serves(spec)]
    fitting = [spec for spec in serving if guess and spec.content == guess.content]
    if fitting:
        return fitting[0], f"{guess.content}: {guess.reason}"
    if serving:
        return serving[0], "the first model serving the tool"
    return config.model(None), "the default model"
