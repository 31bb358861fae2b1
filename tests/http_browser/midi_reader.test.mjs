// The web page's MIDI reader (bridge/frontends/http/static/midi.js) and piano roll geometry
// under node. Run by test_midi_reader_js.py, which also hands over MIDI files written by
// bridge.music.midi with what read_midi finds in them (MAGENTA_BRIDGE_MIDI_CASES, a JSON file).

import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const STATIC = join(REPO, "bridge", "frontends", "http", "static");

// The page's modules are plain ".js" files with no package.json saying they are ES modules (a
// browser needs none): node imports copies from a folder whose package.json says so.
const copies = mkdtempSync(join(tmpdir(), "magenta-bridge-static-"));
writeFileSync(join(copies, "package.json"), JSON.stringify({ type: "module" }));
for (const name of ["midi.js", "pianoroll.js"]) copyFileSync(join(STATIC, name), join(copies, name));
const browserModule = (name) => import(pathToFileURL(join(copies, name)).href);

const { readMidi, qpmOf, MidiError } = await browserModule("midi.js");
const { layout } = await browserModule("pianoroll.js");

// --- building files byte by byte ------------------------------------------------------------

function varlen(value) {
  const out = [value & 0x7f];
  for (value = Math.floor(value / 128); value > 0; value = Math.floor(value / 128))
    out.unshift((value & 0x7f) | 0x80);
  return out;
}

function u32(value) {
  return [(value >>> 24) & 255, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
}

function chunk(type, body) {
  return [...[...type].map((c) => c.charCodeAt(0)), ...u32(body.length), ...body];
}

function smf({ format = 1, division = 96, tracks }) {
  const header = chunk("MThd", [0, format, 0, tracks.length, (division >> 8) & 255, division & 255]);
  return new Uint8Array([...header, ...tracks.flatMap((body) => chunk("MTrk", body))]);
}

const END = [0xff, 0x2f, 0x00];
const tempo = (us) => [0xff, 0x51, 0x03, (us >> 16) & 255, (us >> 8) & 255, us & 255];
const text = (type, s) => [0xff, type, ...varlen(s.length), ...[...s].map((c) => c.charCodeAt(0))];

const simple = (notes) => notes.map((n) => [n.pitch, n.start, n.duration, n.velocity, n.mute]);

// --- hand-made files --------------------------------------------------------------------------

test("running status, note-on velocity 0, and 1-byte messages under running status", () => {
  // prettier-ignore
  const track = [
    0, 0x90, 60, 100, // note on C4
    0, 64, 90, // running status: note on E4
    96, 60, 0, // running status: velocity 0 = note off C4 (1 beat)
    0, 0xc0, 5, // program change: one data byte
    0, 7, // running status: program change again (program 7)
    48, 0x80, 64, 0, // note off E4 after 1.5 beats
    0, 0x90, 67, 80, // G4, played with program 7
    0, 0xff, 0x01, 0x02, 0x68, 0x69, // a text meta event between running-status messages
    96, 67, 0, // running status survives the meta event (as mido reads it)
    0, ...END,
  ];
  const midi = readMidi(smf({ tracks: [track] }));
  assert.equal(midi.ticksPerQuarter, 96);
  assert.deepEqual(simple(midi.notes), [
    [60, 0, 1, 100, false],
    [64, 0, 1.5, 90, false],
    [67, 1.5, 1, 80, false],
  ]);
  const programs = midi.notes.map((n) => n.program);
  assert.deepEqual(programs, [0, 0, 7]);
});

test("tempo changes give seconds; qpm is the earliest tempo's", () => {
  const conductor = [0, ...tempo(500000), ...varlen(192), ...tempo(1000000), 0, ...END]; // 120, then 60 qpm
  const notes = [0, 0x90, 60, 100, ...varlen(384), 0x80, 60, 64, 0, ...END]; // 0..4 beats
  const midi = readMidi(smf({ tracks: [conductor, notes] }));
  const [note] = midi.notes;
  assert.equal(midi.qpm, 120);
  assert.equal(note.startSeconds, 0);
  assert.equal(note.endSeconds, 2 * 0.5 + 2 * 1.0); // two beats at 120, two at 60
  assert.equal(note.duration, 4);
});

test("a note-off ends the oldest sounding note of its pitch and channel", () => {
  // prettier-ignore
  const track = [
    0, 0x90, 60, 100,
    48, 0x90, 60, 50, // the same pitch again, still sounding
    48, 0x80, 60, 0, // ends the first (velocity 100)
    48, 0x91, 60, 70, // another channel: a note of its own
    48, 0x80, 60, 0, // ends the second
    48, 0x81, 60, 0,
    0, ...END,
  ];
  const midi = readMidi(smf({ tracks: [track] }));
  assert.deepEqual(simple(midi.notes), [
    [60, 0, 1, 100, false],
    [60, 0.5, 1.5, 50, false],
    [60, 1.5, 1, 70, false],
  ]);
});

test("notes sounding at the end of their track end there; zero-length notes are dropped", () => {
  const track = [0, 0x90, 62, 100, 0, 0x90, 65, 100, 0, 0x80, 65, 0, ...varlen(192), ...END];
  const midi = readMidi(smf({ tracks: [track] }));
  assert.deepEqual(simple(midi.notes), [[62, 0, 2, 100, false]]);
});

test("sysex and unknown chunks are skipped; format 0 reads", () => {
  const track = [0, 0xf0, 3, 0x7e, 0x01, 0xf7, 0, 0x90, 72, 99, 96, 0x80, 72, 0, 0, ...END];
  const file = smf({ format: 0, division: 480, tracks: [track] });
  const alien = chunk("XFIH", [1, 2, 3, 4]);
  const bytes = new Uint8Array([...file.slice(0, 14), ...alien, ...file.slice(14)]);
  const midi = readMidi(bytes);
  assert.equal(midi.format, 0);
  assert.equal(midi.trackCount, 1);
  assert.deepEqual(simple(midi.notes), [[72, 0, 0.2, 99, false]]);
});

test("a track named muted holds muted notes; channel 10 alone is drums", () => {
  const audible = [0, 0x99, 36, 100, 24, 0x89, 36, 0, 0, ...END];
  const muted = [0, ...text(0x03, "muted"), 0, 0x99, 38, 90, 24, 0x89, 38, 0, 0, ...END];
  const midi = readMidi(smf({ tracks: [audible, muted] }));
  assert.deepEqual(simple(midi.notes), [
    [36, 0, 0.25, 100, false],
    [38, 0, 0.25, 90, true],
  ]);
  assert.equal(midi.drums, true);
  assert.deepEqual(midi.trackNames, ["", "muted"]);
});

test("the length: the nearest bar line past the last start, or the clip end marker", () => {
  const meter = [0xff, 0x58, 0x04, 3, 2, 24, 8]; // 3/4
  const shortOfBar = [0, ...meter, 0, 0x90, 60, 100, ...varlen(276), 0x80, 60, 0, 0, ...END]; // ends at 2.875 beats
  assert.deepEqual(readMidi(smf({ tracks: [shortOfBar] })).timeSignature, [3, 4]);
  assert.equal(readMidi(smf({ tracks: [shortOfBar] })).length, 3);
  const marked = [0, 0x90, 60, 100, 96, 0x80, 60, 0, ...varlen(144), ...text(0x06, "clip end"), 0, ...END];
  assert.equal(readMidi(smf({ tracks: [marked] })).length, 2.5);
  const ringing = [0, 0x90, 60, 100, ...varlen(432), 0x80, 60, 0, 0, ...END]; // 0 to 4.5 beats
  assert.equal(readMidi(smf({ tracks: [ringing] })).length, 4); // less than half a bar past a bar line
  const halfway = [0, 0x90, 60, 100, ...varlen(576), 0x80, 60, 0, 0, ...END]; // 0 to 6 beats
  assert.equal(readMidi(smf({ tracks: [halfway] })).length, 8);
  const lateStart = [...varlen(384), 0x90, 60, 100, 1, 0x80, 60, 0, 0, ...END]; // starts on beat 4
  assert.equal(readMidi(smf({ tracks: [lateStart] })).length, 8); // past the last note's start
  const empty = [0, ...END];
  assert.equal(readMidi(smf({ tracks: [empty] })).length, 4); // at least one bar
});

test("qpm is the shortest decimal giving the file's microseconds", () => {
  assert.equal(qpmOf(500000), 120);
  assert.equal(qpmOf(Math.round(60e6 / 133.33)), 133.33);
  assert.equal(qpmOf(Math.round(60e6 / 97.5)), 97.5);
});

test("broken files are refused with a reason", () => {
  const good = smf({ tracks: [[0, 0x90, 60, 100, 96, 0x80, 60, 0, 0, ...END]] });
  const cases = [
    [new TextEncoder().encode("this is not MIDI at all"), /not a MIDI file/],
    [good.slice(0, good.length - 5), /ends too early/],
    [good.slice(0, 10), /ends too early/],
    [smf({ division: 0xe250, tracks: [[0, ...END]] }), /SMPTE/],
    [smf({ division: 0, tracks: [[0, ...END]] }), /0 ticks per beat/],
    [smf({ tracks: [[0, 60, 100, 0, ...END]] }), /running status/],
    [smf({ tracks: [[0xff, 0xff, 0xff, 0xff, 0x7f, 0x90, 60, 100]] }), /longer than 4 bytes/],
    [smf({ tracks: [[0, 0x90, 200, 100, 0, ...END]] }), /above 127/],
    [smf({ tracks: [[0, 0xf8, 0, ...END]] }), /status byte 0xf8/],
    [smf({ tracks: [[0, ...tempo(0), 0, ...END]] }), /tempo of 0/],
  ];
  for (const [bytes, reason] of cases) {
    assert.throws(
      () => readMidi(bytes),
      (error) => error instanceof MidiError && reason.test(error.message),
    );
  }
  assert.throws(() => readMidi("not bytes"), MidiError);
});

test("piano roll layout: a rectangle per note inside the canvas, pitch up, time across", () => {
  const midi = readMidi(
    smf({ tracks: [[0, 0x90, 60, 100, 96, 0x80, 60, 0, 0, 0x90, 72, 100, 96, 0x80, 72, 0, 0, ...END]] }),
  );
  const plan = layout(midi, 600, 160);
  assert.equal(plan.rects.length, 2);
  for (const r of plan.rects) {
    assert.ok(r.x >= plan.gutter && r.x + r.w <= 600 + 1e-9, JSON.stringify(r));
    assert.ok(r.y >= 0 && r.y + r.h <= 160 + 1e-9, JSON.stringify(r));
  }
  const [low, high] = plan.rects;
  assert.ok(high.y < low.y, "the higher pitch is drawn higher");
  assert.ok(high.x > low.x, "the later note is drawn further right");
  assert.equal(plan.lines.filter((line) => line.bar).length, 2); // 0 and 4 beats: one bar
  assert.ok(plan.high - plan.low + 1 >= 24);
});

// --- files written by bridge.music.midi, compared with read_midi ------------------------------

const casesFile = process.env.MAGENTA_BRIDGE_MIDI_CASES;
const cases = casesFile ? JSON.parse(readFileSync(casesFile, "utf8")) : [];

test(
  "the Python side handed over its cases",
  { skip: casesFile ? false : "MAGENTA_BRIDGE_MIDI_CASES unset" },
  () => {
    assert.ok(cases.length > 0);
  },
);

const close = (a, b) => Math.abs(a - b) < 1e-9;
const order = (a, b) =>
  a[1] - b[1] || a[0] - b[0] || a[2] - b[2] || a[3] - b[3] || Number(a[4]) - Number(b[4]);

for (const expected of cases) {
  test(`as read_midi reads it: ${expected.name}`, () => {
    const midi = readMidi(readFileSync(expected.file));
    const got = simple(midi.notes).sort(order);
    const want = expected.notes.slice().sort(order);
    assert.equal(got.length, want.length, `${expected.name}: note count`);
    got.forEach((note, i) => {
      const other = want[i];
      const same =
        note[0] === other[0] &&
        close(note[1], other[1]) &&
        close(note[2], other[2]) &&
        note[3] === other[3] &&
        note[4] === other[4];
      assert.ok(
        same,
        `${expected.name}: note ${i} is ${JSON.stringify(note)}, read_midi says ${JSON.stringify(other)}`,
      );
    });
    assert.ok(
      close(midi.length, expected.length),
      `length ${midi.length}, read_midi says ${expected.length}`,
    );
    assert.equal(midi.qpm, expected.qpm);
    assert.deepEqual(midi.timeSignature, expected.time_signature);
    assert.equal(midi.drums, expected.drums);
    if (expected.seconds !== undefined) {
      const last = midi.notes.reduce((end, n) => Math.max(end, n.endSeconds), 0);
      assert.ok(
        Math.abs(last - expected.seconds) < 1e-6,
        `last note ends at ${last} s, expected ${expected.seconds}`,
      );
    }
  });
}
