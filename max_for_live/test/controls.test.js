// The presentation's shaping controls (density, polyphony, distance, interpolation mode and
// endpoints, keep hits, backbone, key lock, pitch range), set as the user sets them (through the
// patcher's lines, harness.control): each reaches the request of every tool that takes it,
// and no other; at its "off" or default value it is not sent, so the daemon's default
// applies. Then a few of them end to end against the real daemon in MAGENTA_BRIDGE_PORT.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { LiveSet, loadDevice } = require("./harness.js");
const {
  PORT, SKIP, TWO_BARS, GM_DRUMS, twoBars, checkResults, params, drumSet,
} = require("./fixtures.js");

// Every control away from its default, by the parameter name Live shows.
const TURNED = {
  "Density": 3, "Polyphony": 2, "Distance": 1.5, "Interp Mode": "linear", "Endpoints": 0,
  "Keep Hits": 0, "Backbone": 0, "Key Lock": 1, "Pitch Low": 48, "Pitch High": 84,
};
// What those send, by key.
const SENT = {
  density: 3, polyphony: 2, distance: 1.5, mode: "linear", endpoints: 0, keep_hits: 0, backbone: 0,
  key: "D:dorian", pitch_low: 48, pitch_high: 84,
};
// The daemon's tool table (bridge/tools/registry.py): which of those each tool takes.
const TAKES = {
  continue: ["key", "pitch_low", "pitch_high", "density", "polyphony"],
  generate: ["key", "pitch_low", "pitch_high"],
  interpolate: ["mode", "endpoints", "key", "pitch_low", "pitch_high"],
  vary: ["distance", "key", "pitch_low", "pitch_high"],
  groove: ["keep_hits", "backbone"],
  drumify: ["backbone"],
  harmonize: ["key", "pitch_low", "pitch_high"],
  infill: ["key", "pitch_low", "pitch_high"],
};
const PITCHED = ["key", "pitch_low", "pitch_high"];

// A melody track in D dorian with clips in slots 0 and 1 (interpolate's second), slot 0 shown.
function twoClipSet() {
  const set = new LiveSet({ rootNote: 2, scaleName: "Dorian" });
  const track = set.addTrack("Melody");
  for (let s = 0; s < 3; s++) set.addScene();
  set.song.view.props.detail_clip = set.putClip(track.clip_slots[0], { length: TWO_BARS, notes: twoBars("folk_melody.mid") });
  set.putClip(track.clip_slots[1], { length: TWO_BARS, notes: twoBars("reel_melody.mid") });
  return { set, track };
}

// The shaping keys of the tool's request, sent to a port nobody reads (port 9, discard): the
// request is all these tests look at.
async function shapingSent(set, track, tool, turned) {
  const device = await loadDevice({ set, deviceTrack: track, daemonPort: 9 });
  try {
    for (const [name, value] of Object.entries(turned)) device.control(name, value);
    device.message(tool);
    assert.match(device.statuses.at(-1), new RegExp(`^${tool}: sent `), device.statuses.join(" | "));
    const sent = params(device, tool);
    return Object.fromEntries(Object.keys(SENT).filter((k) => k in sent).map((k) => [k, sent[k]]));
  } finally {
    device.close();
  }
}

for (const tool of Object.keys(TAKES)) {
  test(`${tool}: each control it takes reaches its request, no other`, async () => {
    const { set, track } = twoClipSet();
    const sent = await shapingSent(set, track, tool, TURNED);
    assert.deepEqual(sent, Object.fromEntries(TAKES[tool].map((k) => [k, SENT[k]])));
  });
}

test("controls at their defaults (off) are not sent to any tool", async () => {
  const defaults = {
    "Density": 0, "Polyphony": 0, "Distance": 0.5, "Interp Mode": "spherical", "Endpoints": 1,
    "Keep Hits": 1, "Backbone": 1, "Key Lock": 0, "Pitch Low": 0, "Pitch High": 127,
  };
  for (const tool of Object.keys(TAKES)) {
    const { set, track } = twoClipSet();
    // Turned away and back, as a user would: back at the default is not set.
    assert.deepEqual(await shapingSent(set, track, tool, { ...TURNED, ...defaults }), {}, tool);
  }
});

test("a drum part goes without key and pitch range, with its texture controls", async () => {
  for (const tool of Object.keys(TAKES)) {
    const { set, track } = drumSet();
    set.putClip(track.clip_slots[1], { length: TWO_BARS, notes: twoBars("rock_groove.mid") });
    const sent = await shapingSent(set, track, tool, TURNED);
    const expected = TAKES[tool].filter((k) => !PITCHED.includes(k));
    assert.deepEqual(Object.keys(sent).sort(), expected.sort(), tool);
  }
});

test("a control outside its range or menu is refused by the harness, as the UI would", async () => {
  const { set, track } = twoClipSet();
  const device = await loadDevice({ set, deviceTrack: track, daemonPort: 9 });
  try {
    assert.throws(() => device.control("Density", 65), /Density goes from 0 to 64/);
    assert.throws(() => device.control("Polyphony", 1.5), /whole numbers/);
    assert.throws(() => device.control("Interp Mode", "cubic"), /spherical,linear/);
  } finally {
    device.close();
  }
});

// End to end: the daemon takes what the device sends.

async function runWith(set, track, tool, turned) {
  const device = await loadDevice({ set, deviceTrack: track, daemonPort: PORT });
  try {
    device.message("set", "seed", 5);
    for (const [name, value] of Object.entries(turned)) device.control(name, value);
    device.message(tool);
    const line = await device.waitForStatus(/^(done|error)/, 90000);
    return { line, device };
  } finally {
    device.close();
  }
}

test("continue on a drum track: density and polyphony honoured, key lock left out", { skip: SKIP }, async () => {
  const { set, track } = drumSet();
  const { line, device } = await runWith(set, track, "continue",
    { "Variations": 1, "Bars": 2, "Density": 4, "Polyphony": 2, "Key Lock": 1 });
  assert.equal(line, "done: continue wrote 1 clip(s) in slots 1");
  const sent = params(device, "continue");
  assert.equal(sent.density, 4);
  assert.equal(sent.polyphony, 2);
  assert.ok(!("key" in sent), "no key for a drum part");
  const [clip] = checkResults(track, "continue", [1]);
  const onsets = new Map();
  for (const note of clip.notes) {
    assert.ok(GM_DRUMS(note.pitch), `pitch ${note.pitch} is a General MIDI drum`);
    const at = Math.round(note.start_time * 4);
    onsets.set(at, (onsets.get(at) || 0) + 1);
  }
  assert.ok(Math.max(...onsets.values()) <= 2, "at most two drums hit at once");
});

test("continue on a melody model refuses polyphony, naming why", { skip: SKIP }, async () => {
  const { set, track } = twoClipSet();
  const { line } = await runWith(set, track, "continue", { "Bars": 1, "Polyphony": 2 });
  assert.match(line, /^error: continue: polyphony applies to .*, not to a melody_rnn model/);
});

test("generate with key lock and pitch range: every note in the song's key and the range", { skip: SKIP }, async () => {
  const { set, track } = twoClipSet();
  set.song.view.props.detail_clip = null;
  const { line, device } = await runWith(set, track, "generate",
    { "Variations": 2, "Bars": 2, "Key Lock": 1, "Pitch Low": 60, "Pitch High": 76 });
  assert.equal(line, "done: generate wrote 2 clip(s) in slots 2, 3");
  assert.equal(params(device, "generate").key, "D:dorian");
  const D_DORIAN = new Set([2, 4, 5, 7, 9, 11, 0]);
  for (const clip of checkResults(track, "generate", [2, 3])) {
    for (const note of clip.notes) {
      assert.ok(note.pitch >= 60 && note.pitch <= 76, `pitch ${note.pitch} in 60..76`);
      assert.ok(D_DORIAN.has(note.pitch % 12), `pitch ${note.pitch} in D dorian`);
    }
  }
});

test("vary far from the clip, interpolate linear without endpoints: the daemon takes them", { skip: SKIP }, async () => {
  let { set, track } = twoClipSet();
  let run = await runWith(set, track, "vary", { "Variations": 2, "Distance": 1.5 });
  assert.equal(run.line, "done: vary wrote 2 clip(s) in slots 2, 3");
  assert.equal(params(run.device, "vary").distance, 1.5);
  ({ set, track } = twoClipSet());
  run = await runWith(set, track, "interpolate", { "Steps": 3, "Interp Mode": "linear", "Endpoints": 0 });
  assert.equal(run.line, "done: interpolate wrote 3 clip(s) in slots 2, 3, 4");
  const sent = params(run.device, "interpolate");
  assert.equal(sent.mode, "linear");
  assert.equal(sent.endpoints, 0);
});

test("groove drawing its own hits with a backbone, drumify without one", { skip: SKIP }, async () => {
  let { set, track } = drumSet();
  let run = await runWith(set, track, "groove", { "Variations": 1, "Keep Hits": 0 });
  assert.equal(run.line, "done: groove wrote 1 clip(s) in slots 1");
  let sent = params(run.device, "groove");
  assert.equal(sent.keep_hits, 0);
  assert.ok(!("backbone" in sent), "backbone on is the daemon's default");
  // A kick and a snare in every bar the clip plays.
  const [grooved] = checkResults(track, "groove", [1]);
  for (const bar of [0, 1]) {
    const pitches = new Set(grooved.notes.filter((n) => Math.floor(n.start_time / 4) === bar).map((n) => n.pitch));
    assert.ok(pitches.has(36) && pitches.has(38), `bar ${bar + 1} has a kick and a snare`);
  }
  ({ set, track } = drumSet());
  run = await runWith(set, track, "drumify", { "Variations": 1, "Backbone": 0 });
  assert.equal(run.line, "done: drumify wrote 1 clip(s) in slots 1");
  sent = params(run.device, "drumify");
  assert.equal(sent.backbone, 0);
});
