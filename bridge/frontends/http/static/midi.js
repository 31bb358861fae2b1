// A small Standard MIDI File reader for the page: the notes of a file, in beats and seconds.
//
// It reads notes as bridge/music/midi.py's read_midi does, so the page shows what the daemon
// sees: every track and channel merged; a note-on of velocity 0 is a note-off; a note-off ends
// the oldest sounding note of its pitch on its channel; notes still sounding at the end of
// their track end there; zero-length notes are dropped; notes of a track named "muted" are
// muted. The length is the "clip end" marker's, else the bar line nearest the end of the last
// track (past the last note's start, at least one bar). qpm is the earliest tempo's, as the
// shortest decimal giving its microseconds. Plain ES2020, no imports: it runs in browsers and
// under node (tests/http_browser/midi_reader.test.mjs).

export class MidiError extends Error {
  constructor(message) {
    super(message);
    this.name = "MidiError";
  }
}

const MUTED_TRACK_NAME = "muted";
const CLIP_END_MARKER = "clip end";
const DRUM_CHANNEL = 9; // channel 10 as musicians count
const MICROSECONDS_PER_MINUTE = 60000000;
const DEFAULT_QPM = 120;
// Data bytes after a channel status, by its high nibble (0x8n .. 0xEn).
const DATA_BYTES = { 0x8: 2, 0x9: 2, 0xa: 2, 0xb: 2, 0xc: 1, 0xd: 1, 0xe: 2 };

/** Reads bytes front to back; every read past the end is a MidiError naming what was cut. */
class Reader {
  constructor(bytes, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  need(count, what) {
    if (this.pos + count > this.end) {
      throw new MidiError(`the data ends too early (in ${what}): the file is cut short`);
    }
  }

  byte(what) {
    this.need(1, what);
    return this.bytes[this.pos++];
  }

  uint(count, what) {
    this.need(count, what);
    let value = 0;
    for (let i = 0; i < count; i++) value = value * 256 + this.bytes[this.pos++];
    return value;
  }

  text(count, what) {
    this.need(count, what);
    let out = "";
    for (let i = 0; i < count; i++) out += String.fromCharCode(this.bytes[this.pos++]);
    return out;
  }

  slice(count, what) {
    this.need(count, what);
    const part = this.bytes.subarray(this.pos, this.pos + count);
    this.pos += count;
    return part;
  }

  /** A variable-length quantity: 7 bits a byte, high bit set on all but the last, 4 bytes at most. */
  varlen(what) {
    let value = 0;
    for (let i = 0; i < 4; i++) {
      const b = this.byte(what);
      value = value * 128 + (b & 0x7f);
      if (!(b & 0x80)) return value;
    }
    throw new MidiError(`a variable-length number in ${what} is longer than 4 bytes`);
  }
}

function asBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new MidiError("MIDI data must be an ArrayBuffer or a Uint8Array");
}

/** Latin-1 text of a meta event (track names and markers are plain ASCII in practice). */
function metaText(data) {
  let out = "";
  for (const b of data) out += String.fromCharCode(b);
  return out;
}

/**
 * One track's events as {tick, kind, ...}: kind "note_on", "note_off", "program", "tempo",
 * "time_signature", "track_name", "marker", "end". Running status is honoured for channel
 * messages; meta and sysex events leave it as it was (the standard says they cancel it, but
 * files relying on it surviving them exist, and mido reads them so too).
 */
function readTrack(reader, number) {
  const where = `track ${number + 1}`;
  const events = [];
  let tick = 0;
  let running = 0;
  while (reader.pos < reader.end) {
    tick += reader.varlen(where);
    let status = reader.bytes[reader.pos];
    if (status >= 0x80) {
      reader.pos++;
    } else if (running) {
      status = running;
    } else {
      throw new MidiError(`${where} has a data byte where an event should start (no running status)`);
    }
    if (status === 0xff) {
      const type = reader.byte(where);
      const data = reader.slice(reader.varlen(where), where);
      if (type === 0x2f) {
        events.push({ tick, kind: "end" });
        return { events, end: tick };
      }
      if (type === 0x51) {
        if (data.length !== 3)
          throw new MidiError(`${where} has a tempo event of ${data.length} bytes, not 3`);
        events.push({ tick, kind: "tempo", tempo: (data[0] << 16) | (data[1] << 8) | data[2] });
      } else if (type === 0x58) {
        if (data.length < 2)
          throw new MidiError(`${where} has a time signature event of ${data.length} bytes`);
        events.push({ tick, kind: "time_signature", numerator: data[0], denominator: 2 ** data[1] });
      } else if (type === 0x03) {
        events.push({ tick, kind: "track_name", text: metaText(data) });
      } else if (type === 0x06) {
        events.push({ tick, kind: "marker", text: metaText(data) });
      }
    } else if (status === 0xf0 || status === 0xf7) {
      reader.slice(reader.varlen(where), where); // sysex: skipped
    } else if (status >= 0xf0) {
      throw new MidiError(`${where} has status byte 0x${status.toString(16)}, which a file cannot hold`);
    } else {
      running = status;
      const kind = status >> 4;
      const channel = status & 0x0f;
      const first = reader.byte(where);
      const second = DATA_BYTES[kind] === 2 ? reader.byte(where) : 0;
      if (first > 0x7f || second > 0x7f) {
        throw new MidiError(`${where} has a data byte above 127 at tick ${tick}`);
      }
      if (kind === 0x9 && second > 0) {
        events.push({ tick, kind: "note_on", channel, pitch: first, velocity: second });
      } else if (kind === 0x8 || kind === 0x9) {
        events.push({ tick, kind: "note_off", channel, pitch: first });
      } else if (kind === 0xc) {
        events.push({ tick, kind: "program", channel, program: first });
      }
    }
  }
  return { events, end: tick }; // no end-of-track event: the track ends at its last event
}

/** A track's notes by read_midi's rule, each with its start and end tick and its program. */
function trackNotes(track, number, muted) {
  const programs = new Array(16).fill(0);
  const sounding = new Map(); // channel * 128 + pitch -> [{tick, velocity, program}], oldest first
  const notes = [];
  const add = (key, start, endTick) => {
    if (endTick > start.tick) {
      notes.push({
        track: number,
        channel: key >> 7,
        pitch: key & 0x7f,
        velocity: start.velocity,
        program: start.program,
        startTick: start.tick,
        endTick,
        mute: muted,
      });
    }
  };
  for (const event of track.events) {
    if (event.kind === "program") programs[event.channel] = event.program;
    if (event.kind !== "note_on" && event.kind !== "note_off") continue;
    const key = event.channel * 128 + event.pitch;
    if (event.kind === "note_on") {
      if (!sounding.has(key)) sounding.set(key, []);
      sounding
        .get(key)
        .push({ tick: event.tick, velocity: event.velocity, program: programs[event.channel] });
    } else if (sounding.has(key) && sounding.get(key).length) {
      add(key, sounding.get(key).shift(), event.tick);
    }
  }
  for (const [key, starts] of sounding) for (const start of starts) add(key, start, track.end);
  return notes;
}

/** The earliest event of a kind (and text) over all tracks; ties: the first track's. */
function earliest(tracks, kind, text) {
  let found = null;
  for (const track of tracks) {
    for (const event of track.events) {
      if (event.kind === kind && (text === undefined || event.text === text)) {
        if (found === null || event.tick < found.tick) found = event;
        break; // a track's events are in tick order: its first match is its earliest
      }
    }
  }
  return found;
}

/** The shortest decimal qpm whose MIDI tempo is `tempo` microseconds per beat. */
export function qpmOf(tempo) {
  const exact = MICROSECONDS_PER_MINUTE / tempo;
  for (let digits = 0; digits < 7; digits++) {
    const qpm = roundHalfEven(exact, digits);
    if (qpm > 0 && roundHalfEven(MICROSECONDS_PER_MINUTE / qpm, 0) === tempo) return qpm;
  }
  return exact;
}

/** Python's round(): to `digits` decimals, halves to even. */
function roundHalfEven(value, digits) {
  const scale = 10 ** digits;
  const scaled = value * scale;
  const floor = Math.floor(scaled);
  const rest = scaled - floor;
  let whole = floor;
  if (rest > 0.5 || (rest === 0.5 && floor % 2 !== 0)) whole = floor + 1;
  return digits === 0 ? whole : Number((whole / scale).toFixed(digits));
}

/** Seconds at each tick, following every tempo change in the file (120 qpm until the first). */
function secondsMap(tracks, ticksPerQuarter) {
  const changes = [];
  tracks.forEach((track) => track.events.forEach((e) => e.kind === "tempo" && changes.push(e)));
  changes.sort((a, b) => a.tick - b.tick); // stable: same-tick changes keep file order; last wins
  const segments = [{ tick: 0, seconds: 0, tempo: MICROSECONDS_PER_MINUTE / DEFAULT_QPM }];
  for (const change of changes) {
    const last = segments[segments.length - 1];
    const seconds = last.seconds + ((change.tick - last.tick) * last.tempo) / 1e6 / ticksPerQuarter;
    if (change.tick === last.tick) segments.pop();
    segments.push({ tick: change.tick, seconds, tempo: change.tempo });
  }
  return (tick) => {
    let segment = segments[0];
    for (const s of segments) {
      if (s.tick > tick) break;
      segment = s;
    }
    return segment.seconds + ((tick - segment.tick) * segment.tempo) / 1e6 / ticksPerQuarter;
  };
}

/**
 * Parse a Standard MIDI File. Returns {format, ticksPerQuarter, trackCount, trackNames, notes,
 * qpm, timeSignature: [numerator, denominator], length (beats), duration (seconds), drums};
 * each note {pitch, velocity, channel, program, track, mute, start, duration (beats), startTick,
 * endTick, startSeconds, endSeconds}, sorted by start, then pitch. Throws MidiError.
 */
export function readMidi(data) {
  const bytes = asBytes(data);
  const reader = new Reader(bytes);
  if (bytes.length < 4 || reader.text(4, "the header") !== "MThd") {
    throw new MidiError("not a MIDI file: it does not start with MThd");
  }
  const headerLength = reader.uint(4, "the header");
  if (headerLength < 6) throw new MidiError(`the MIDI header is ${headerLength} bytes, less than 6`);
  const headerEnd = reader.pos + headerLength;
  const format = reader.uint(2, "the header");
  reader.uint(2, "the header"); // the track count: the MTrk chunks present are what counts
  const division = reader.uint(2, "the header");
  if (format > 2) throw new MidiError(`MIDI file format ${format} is unknown (0, 1 or 2)`);
  if (division & 0x8000) throw new MidiError("the file has SMPTE (frame-based) timing, not beats");
  if (division === 0) throw new MidiError("the file has 0 ticks per beat");
  reader.pos = headerEnd;

  const tracks = [];
  while (reader.pos + 8 <= bytes.length) {
    const type = reader.text(4, "a chunk header");
    const length = reader.uint(4, "a chunk header");
    const end = reader.pos + length;
    if (end > bytes.length)
      throw new MidiError(`the data ends too early (in a ${type} chunk): the file is cut short`);
    if (type === "MTrk") tracks.push(readTrack(new Reader(bytes, reader.pos, end), tracks.length));
    reader.pos = end; // other chunk types are skipped, as the standard asks
  }

  const trackNames = tracks.map((track) => {
    const names = track.events.filter((e) => e.kind === "track_name");
    return names.length ? names[names.length - 1].text : "";
  });
  const notes = tracks.flatMap((track, number) =>
    trackNotes(
      track,
      number,
      track.events.some((e) => e.kind === "track_name" && e.text === MUTED_TRACK_NAME),
    ),
  );
  const seconds = secondsMap(tracks, division);
  for (const note of notes) {
    note.start = note.startTick / division;
    note.duration = (note.endTick - note.startTick) / division;
    note.startSeconds = seconds(note.startTick);
    note.endSeconds = seconds(note.endTick);
  }
  notes.sort((a, b) => a.start - b.start || a.pitch - b.pitch || a.duration - b.duration);

  const tempo = earliest(tracks, "tempo");
  if (tempo && tempo.tempo === 0) throw new MidiError("the file sets a tempo of 0 microseconds per beat");
  const meter = earliest(tracks, "time_signature");
  const timeSignature = meter ? [meter.numerator, meter.denominator] : [4, 4];
  const marker = earliest(tracks, "marker", CLIP_END_MARKER);
  const endTick = marker ? marker.tick : Math.max(0, ...tracks.map((t) => t.end));
  let length = endTick / division;
  if (!marker) {
    const beatsPerBar = (timeSignature[0] * 4) / timeSignature[1];
    const lastStart = notes.reduce((latest, note) => Math.max(latest, note.start), 0);
    const bars = Math.max(Math.floor(length / beatsPerBar + 0.5), Math.floor(lastStart / beatsPerBar) + 1);
    length = bars * beatsPerBar;
  }
  const channels = new Set(notes.map((note) => note.channel));
  return {
    format,
    ticksPerQuarter: division,
    trackCount: tracks.length,
    trackNames,
    notes,
    qpm: tempo ? qpmOf(tempo.tempo) : DEFAULT_QPM,
    timeSignature,
    length,
    duration: seconds(Math.round(length * division)),
    drums: channels.size === 1 && channels.has(DRUM_CHANNEL),
  };
}
