"""The one error type for bad musical input, so every frontend reports it the same way."""


class ClipError(ValueError):
    """A clip, note list, MIDI file or key that cannot be used; the message names the problem."""
