"""The one error type for audio previews, so a frontend can report any render failure alike."""


class RenderError(RuntimeError):
    """A preview cannot be rendered; the message names the cause and, where it can, the fix."""
