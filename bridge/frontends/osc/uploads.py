"""Clips sent in numbered chunks: assembled per client and request, bounded and expiring.

A clip may be larger than one UDP datagram, so the client announces it (`clip/begin`
with the note count) and sends its notes in chunks that may arrive in any order. Every
number is checked against the limits as it arrives, so no client can make the daemon
hold more than `max_notes` notes per upload or a clip longer than `max_length` beats.
Each sending socket may hold `per_sender` uploads and finished clips at once, its oldest
finished clip giving way first, so one client's open uploads never block another's;
`max_uploads` bounds them all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bridge.music.clip import FLAT_FIELDS, Clip
from bridge.music.errors import ClipError

UploadKey = tuple[str, str, int]  # client, request id, slot


@dataclass
class _Upload:
    sender: str  # the socket that began it: quotas count per sender
    note_count: int
    length: float
    qpm: float
    time_signature: tuple[int, int]
    drums: bool
    reply_port: int | None = None  # where the client hears about this upload
    started: float = field(default_factory=time.monotonic)
    chunks: dict[int, list[float]] = field(default_factory=dict)

    @property
    def received(self) -> int:
        return sum(len(values) for values in self.chunks.values()) // len(FLAT_FIELDS)


class Uploads:
    """Clips being received, by (client, request id, slot)."""

    def __init__(
        self,
        max_notes: int,
        max_length: float,
        per_sender: int = 16,
        max_uploads: int = 1024,
        expiry_seconds: float = 120.0,
    ):
        self.max_notes = max_notes
        self.max_length = max_length
        self.per_sender = per_sender
        self.max_uploads = max_uploads
        self.expiry_seconds = expiry_seconds
        self._uploads: dict[UploadKey, _Upload] = {}
        self._clips: dict[UploadKey, tuple[str, Clip]] = {}  # key -> (sender, clip)

    def begin(
        self,
        key: UploadKey,
        sender: str,
        note_count: int,
        length: float,
        qpm: float,
        time_signature: tuple[int, int],
        drums: bool = False,
        reply_port: int | None = None,
    ) -> Clip | None:
        """Start (or restart) an upload; returns the clip at once when it has no notes."""
        self._expire()
        if not 0 <= note_count <= self.max_notes:
            raise ClipError(f"note count must be between 0 and {self.max_notes}, got {note_count}")
        if not length <= self.max_length:  # also refuses NaN
            raise ClipError(
                f"clip length {length:g} beats exceeds the {self.max_length:g}-beat limit "
                "(limits.max_clip_beats)"
            )
        # Check length, tempo and meter now rather than after the last chunk.
        Clip((), length, qpm, time_signature)
        if key not in self._uploads:
            self._make_room(sender, counting_uploads=True)
        self._clips.pop(key, None)
        self._uploads[key] = _Upload(
            sender, note_count, length, qpm, time_signature, drums, reply_port
        )
        return self._complete(key) if note_count == 0 else None

    def reply_port(self, key: UploadKey) -> int | None:
        """The reply port named in the clip/begin of an upload still in progress."""
        upload = self._uploads.get(key)
        return upload.reply_port if upload else None

    def add(self, key: UploadKey, chunk_index: int, values: list[float]) -> Clip | None:
        """Add one chunk of flat notes; returns the clip when the last note has arrived."""
        upload = self._uploads.get(key)
        if upload is None:
            raise ClipError(f"notes for slot {key[2]} arrived before clip/begin (or after expiry)")
        if len(values) % len(FLAT_FIELDS):
            raise ClipError(
                f"chunk {chunk_index} has {len(values)} values; notes are "
                f"{len(FLAT_FIELDS)} values each ({', '.join(FLAT_FIELDS)})"
            )
        if not 0 <= chunk_index < max(upload.note_count, 1):
            raise ClipError(f"chunk index {chunk_index} is out of range")
        previous = len(upload.chunks.get(chunk_index, ())) // len(FLAT_FIELDS)
        if upload.received - previous + len(values) // len(FLAT_FIELDS) > upload.note_count:
            raise ClipError(f"more notes than the {upload.note_count} announced in clip/begin")
        upload.chunks[chunk_index] = values
        return self._complete(key) if upload.received == upload.note_count else None

    def put(self, key: UploadKey, sender: str, clip: Clip) -> None:
        """A clip that arrived whole (a MIDI file named by the client)."""
        self._expire()
        self._uploads.pop(key, None)
        self._clips.pop(key, None)
        self._make_room(sender, counting_uploads=False)
        self._clips[key] = (sender, clip)

    def finished(self, client: str, request_id: str, count: int) -> tuple[Clip, ...]:
        """The finished clips in slots 0..count-1 for a tool request, or an error saying
        what is missing. They stay until `release`, so a refused request can be resent."""
        keys = [(client, request_id, slot) for slot in range(count)]
        for key in keys:
            if key in self._clips:
                continue
            upload = self._uploads.get(key)
            if upload is None:
                raise ClipError(f"no clip was uploaded in slot {key[2]} for request {request_id!r}")
            raise ClipError(
                f"clip in slot {key[2]} is incomplete: {upload.received} of {upload.note_count} "
                f"notes arrived (chunks received: {sorted(upload.chunks)})"
            )
        return tuple(self._clips[key][1] for key in keys)

    def release(self, client: str, request_id: str, count: int) -> None:
        """Forget a request's clips once a job has them."""
        for slot in range(count):
            self._clips.pop((client, request_id, slot), None)

    def _complete(self, key: UploadKey) -> Clip:
        upload = self._uploads.pop(key)
        values = [v for index in sorted(upload.chunks) for v in upload.chunks[index]]
        clip = Clip.from_flat(
            values, upload.length, upload.qpm, upload.time_signature, upload.drums
        )
        self._clips[key] = (upload.sender, clip)
        return clip

    def _make_room(self, sender: str, counting_uploads: bool) -> None:
        """Room for one more of the sender's clips: its oldest finished clip gives way; open
        uploads are never dropped for new ones, so a full quota of them is refused."""
        open_uploads = sum(1 for u in self._uploads.values() if u.sender == sender)
        if counting_uploads and open_uploads >= self.per_sender:
            raise ClipError(
                f"this client has {open_uploads} unfinished clip uploads (limit "
                f"{self.per_sender}, limits.max_uploads_per_client): finish or resend them"
            )
        if counting_uploads and len(self._uploads) >= self.max_uploads:
            raise ClipError(f"too many clip uploads in progress (limit {self.max_uploads})")
        finished = [k for k, (owner, _) in self._clips.items() if owner == sender]
        while finished and open_uploads + len(finished) >= self.per_sender:
            del self._clips[finished.pop(0)]
        while len(self._clips) >= self.max_uploads:
            self._clips.pop(next(iter(self._clips)))

    def _expire(self) -> None:
        cutoff = time.monotonic() - self.expiry_seconds
        for key in [k for k, u in self._uploads.items() if u.started < cutoff]:
            del self._uploads[key]
