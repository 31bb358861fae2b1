"""One file over HTTP(S) with urllib alone: timeouts, resume, proxies, a progress bar.

Checkpoints run to gigabytes and producers' connections drop, so bytes go to `<file>.part`
and a later run asks for the rest with an HTTP Range request (a server that ignores it and
answers 200 gets the download started over). urllib's default opener reads proxies from
the usual variables (http_proxy, https_proxy, no_proxy) and follows Hugging Face's
redirects; nothing here replaces it. The timeout bounds the connection and every read, so
a stalled server fails the download instead of hanging it.
"""

from __future__ import annotations

import http.client
import os
import re
import sys
import urllib.request
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from tqdm import tqdm

from bridge import __version__
from bridge.downloads.errors import DownloadError, VerificationError

CHUNK = 1 << 20
PART_SUFFIX = ".part"
USER_AGENT = f"magenta-bridge/{__version__}"
CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
CONTENT_RANGE_UNSATISFIED = re.compile(r"bytes \*/(\d+)")
# What a request can fail with once sent: refused or reset connections, timeouts (OSError,
# of which urllib's URLError is one), a broken HTTP exchange.
NETWORK_ERRORS = (OSError, http.client.HTTPException)


def mirrored(url: str, mirror: str | None) -> str:
    """The URL with its scheme and host replaced by the mirror's, its path kept, so a mirror
    serves the official layout (`<mirror>/models/attention_rnn.mag`)."""
    if not mirror:
        return url
    parts = urlsplit(url)
    return mirror.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


def partial_path(target: Path) -> Path:
    """Where the bytes of `target` collect until it is whole."""
    return target.with_name(target.name + PART_SUFFIX)


def download(
    url: str,
    target: Path,
    *,
    size: int | None = None,
    timeout_s: float = 30.0,
    progress: bool = False,
    by_hand: str | None = None,
) -> None:
    """Download `url` to `target`, resuming `target.part` when there is one.

    `size` (bytes), when known, is checked against what the server announces and sends;
    a file of another size is deleted, since resuming it could never give the right one.
    Network failures keep the part for the next run and raise DownloadError; its message
    says where to put the file by hand (`by_hand`: the URL to name for that).
    """
    part = partial_path(target)
    part.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):  # a second try only after a refused resume, from the start
        have = part.stat().st_size if part.exists() else 0
        if size is not None and have > size:
            part.unlink()
            have = 0
        if have and have == size:  # whole already: what it holds is checked by the caller
            break
        try:
            response = _open(url, have, timeout_s, target, by_hand)
        except _RangeRefused as refused:  # the part is whole already, or of another file
            if have == (size if size is not None else refused.whole):
                break
            part.unlink()
            continue
        with response:
            _receive(response, url, part, have, size, timeout_s, progress, _hint(target, by_hand))
        break
    os.replace(part, target)


class _RangeRefused(Exception):
    """The server answered 416 to a resume: nothing lies after the part's bytes."""

    def __init__(self, whole: int | None) -> None:
        super().__init__(whole)
        self.whole = whole  # the file's size, where the server says it


def _open(
    url: str, have: int, timeout_s: float, target: Path, by_hand: str | None
) -> http.client.HTTPResponse:
    """The server's response, asking for the bytes after `have`."""
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        # A new opener each time, so its ProxyHandler reads the proxy variables as they are now.
        return urllib.request.build_opener().open(request, timeout=timeout_s)
    except HTTPError as error:
        error.close()
        if error.code == 416 and have:
            match = CONTENT_RANGE_UNSATISFIED.match(error.headers.get("Content-Range", ""))
            raise _RangeRefused(int(match.group(1)) if match else None) from None
        raise DownloadError(
            f"{url}: HTTP {error.code} {error.reason}{_hint(target, by_hand)}"
        ) from None
    except NETWORK_ERRORS as error:
        raise DownloadError(
            f"cannot download {url}: {_reason(error, timeout_s)}{_hint(target, by_hand)}"
        ) from None


def _receive(
    response: http.client.HTTPResponse,
    url: str,
    part: Path,
    have: int,
    size: int | None,
    timeout_s: float,
    progress: bool,
    hint: str,
) -> None:
    """Write the body into the part, after what it holds when the server resumes (206) or
    over it when the server sends the whole file (200)."""
    start, total = _span(response, url, have)
    if size is not None and total is not None and total != size:
        part.unlink(missing_ok=True)
        raise VerificationError(
            f"{url} is {total} bytes, but {size} bytes were expected; nothing was kept"
        )
    expected = total if total is not None else size
    received = start
    with (
        part.open("r+b" if part.exists() else "wb") as out,
        tqdm(
            total=expected,
            initial=start,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=part.name.removesuffix(PART_SUFFIX),
            disable=not progress,
            file=sys.stderr,
        ) as bar,
    ):
        out.seek(start)
        out.truncate()
        try:
            while chunk := response.read1(CHUNK):  # what has come: a stall loses nothing
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
                if expected is not None and received > expected:
                    break
        except NETWORK_ERRORS as error:
            raise DownloadError(
                f"download of {url} stopped after {received} bytes: "
                f"{_reason(error, timeout_s)}; run the fetch again to resume{hint}"
            ) from None
    if expected is not None and received > expected:
        part.unlink()
        raise VerificationError(f"{url} sent more than the {expected} bytes expected")
    if expected is not None and received < expected:
        raise DownloadError(
            f"download of {url} stopped after {received} of {expected} bytes (the connection "
            f"closed); run the fetch again to resume{hint}"
        )


def _span(response: http.client.HTTPResponse, url: str, have: int) -> tuple[int, int | None]:
    """Where the body starts in the file, and the file's whole size if the server says."""
    if response.status == 206:
        match = CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
        if not match or int(match.group(1)) > have:
            raise DownloadError(f"{url}: the server resumed at a place that was not asked for")
        whole = match.group(3)
        return int(match.group(1)), None if whole == "*" else int(whole)
    length = response.headers.get("Content-Length")
    return 0, int(length) if length and length.isdigit() else None


def _reason(error: BaseException, timeout_s: float) -> str:
    """Why a request failed, in words: a timeout says how long was waited."""
    reason = error.reason if isinstance(error, URLError) else error
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return f"no answer within {timeout_s:g} s (timed out)"
    return str(reason) or type(reason).__name__


def _hint(target: Path, by_hand: str | None) -> str:
    """Where a file downloaded some other way goes, so an offline machine can be served."""
    if by_hand is None:
        return ""
    return (
        f"\nIf this computer is offline or cannot reach the server, download {by_hand} "
        f"some other way and put it at {target}; the fetch then installs it from there."
    )
