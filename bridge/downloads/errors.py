"""The one family of errors a fetch can end in, so the command line reports each model's
failure in one line and goes on with the next."""

from __future__ import annotations


class FetchError(RuntimeError):
    """A model could not be fetched; the message says what failed and what to do."""


class DownloadError(FetchError):
    """A file could not be downloaded (HTTP error, unreachable host, timeout, cut connection)."""


class VerificationError(FetchError):
    """A downloaded file is not the one expected (size, SHA-256)."""


class ArchiveError(FetchError):
    """An archive is corrupt, or holds a member that must not be unpacked."""


class InstallError(FetchError):
    """A verified download does not hold the model where the catalog says, or cannot be served."""
