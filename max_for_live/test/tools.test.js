// End to end, every MusicVAE tool: generate, interpolate, vary, groove and drumify (continue is
// in e2e.test.js, harmonize and infill in chorale.test.js), from the harness's Live set against
// the real daemon in MAGENTA_BRIDGE_PORT, whose config (tests/max_for_live/test_device.py)
// serves each with a MusicVAE. Two bars and few variations keep them fast.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { loadDevice } = require("./harness.js");
const {
  PORT, SKIP, TWO_BARS, GM_DRUMS, twoBars, runTool, checkResults, params, melodySet, drumSet,
} = require("./fixtures.js");

test("generate: no clip selected, two melodies from the top of the device's track", { skip: SKIP }, async () => {
  const { set, track } = melodySet();
  const { line, device, model } = await runTool(set, track, "generate", { variations: 2, bars: 2, temperature: 0.5 });
  assert.equal(model, "melody_vae");
  assert.equal(line, "done: generate wrote 2 clip(s) in slots 0, 1");
  assert.equal(device.sent.filter((m) => m.address === "/magenta/clip/begin").length, 0, "generate sends no clip");
  const sent = params(device, "generate");
  assert.equal(sent.bars, 2);
  assert.equal(sent.variations, 2);
  assert.equal(sent.reply_port, device.replyPort);
  for (const clip of checkResults(track, "generate", [0, 1])) {
    for (const note of clip.notes) assert.ok(note.pitch >= 21 && note.pitch <= 108, `melody pitch ${note.pitch}`);
  }
  assert.equal(set.song.scenes.length, 3, "no scene added");
});

test("interpolate: the selected clip to the next clip below it, steps as new clips", { skip: SKIP }, async () => {
  const { set, track } = melodySet();
  const from = set.putClip(track.clip_slots[0], { name: "folk", length: TWO_BARS, notes: twoBars("folk_melody.mid") });
  const to = set.putClip(track.clip_slots[2], { name: "reel", length: TWO_BARS, notes: twoBars("reel_melody.mid") });
  set.song.view.props.detail_clip = from;
  const { line, device, model } = await runTool(set, track, "interpolate", { steps: 3, temperature: 0.2 });
  // Slot 1 (between the two) first, then after the second clip, in new scenes.
  assert.equal(model, "melody_vae");
  assert.equal(line, "done: interpolate wrote 3 clip(s) in slots 1, 3, 4");
  const begins = device.sent.filter((m) => m.address === "/magenta/clip/begin").map((m) => m.args.slice(1, 3));
  assert.deepEqual(begins, [[0, from.notes.length], [1, to.notes.length]]);
  assert.equal(params(device, "interpolate").steps, 3);
  const clips = checkResults(track, "interpolate", [1, 3, 4]);
  for (const clip of clips) for (const note of clip.notes) assert.ok(note.pitch >= 21 && note.pitch <= 108);
  assert.equal(track.clip_slots[0].clip, from);
  assert.equal(track.clip_slots[2].clip, to);
  assert.equal(to.notes.length, twoBars("reel_melody.mid").length, "the second clip is untouched");
});

test("interpolate without a second clip says so and sends nothing", async () => {
  const { set, track } = melodySet();
  set.song.view.props.detail_clip = set.putClip(track.clip_slots[1], { length: TWO_BARS, notes: twoBars("folk_melody.mid") });
  const device = await loadDevice({ set, deviceTrack: track, daemonPort: PORT || 9 });
  try {
    device.message("interpolate");
    assert.match(device.statuses.at(-1), /^error: interpolate needs a second clip below/);
    assert.equal(device.sent.length, 0);
  } finally {
    device.close();
  }
});

test("vary: variations of the selected melody", { skip: SKIP }, async () => {
  const { set, track } = melodySet();
  const source = set.putClip(track.clip_slots[0], { name: "folk", length: TWO_BARS, notes: twoBars("folk_melody.mid") });
  set.song.view.props.detail_clip = source;
  const { line, device, model } = await runTool(set, track, "vary", { variations: 2, temperature: 0.5 });
  assert.equal(model, "melody_vae");
  assert.equal(line, "done: vary wrote 2 clip(s) in slots 1, 2");
  const begin = device.sent.find((m) => m.address === "/magenta/clip/begin");
  assert.equal(begin.args.at(-2), 0, "a melody track's clip is not a drum part");
  assert.equal(params(device, "vary").variations, 2);
  for (const clip of checkResults(track, "vary", [1, 2])) {
    for (const note of clip.notes) assert.ok(note.pitch >= 21 && note.pitch <= 108);
  }
});

test("groove: the drum clip's own hits, re-timed, on the drum track", { skip: SKIP }, async () => {
  const { set, track, source } = drumSet();
  source.notes[0].probability = 0.5; // Live's note extras carry over where a hit stays put
  const { line, device, model } = await runTool(set, track, "groove", { variations: 1, temperature: 0.5 });
  assert.equal(model, "humanize");
  assert.equal(line, "done: groove wrote 1 clip(s) in slots 1");
  const begin = device.sent.find((m) => m.address === "/magenta/clip/begin");
  assert.equal(begin.args.at(-2), 1, "a Drum Rack's clip goes up as a drum part");
  const [clip] = checkResults(track, "groove", [1]);
  const kit = new Set(source.notes.map((n) => n.pitch));
  assert.equal(clip.notes.length, source.notes.length, "keep_hits: every hit stays");
  for (const note of clip.notes) assert.ok(kit.has(note.pitch), `pitch ${note.pitch} is one of the clip's drums`);
  const moved = clip.notes.filter((n) => !source.notes.some((s) => s.pitch === n.pitch && s.start_time === n.start_time));
  const velocities = new Set(clip.notes.map((n) => n.velocity));
  assert.ok(moved.length > 0 || velocities.size > new Set(source.notes.map((n) => n.velocity)).size,
    "the groove changed timing or dynamics");
  for (const note of clip.notes) {
    const original = source.notes.find((s) => s.pitch === note.pitch && Math.round(s.start_time * 960) === Math.round(note.start_time * 960));
    if (original) assert.equal(note.probability, original.probability);
  }
});

test("drumify: drum parts to the drum clip's rhythm, kit pitches, on the drum track", { skip: SKIP }, async () => {
  const { set, track } = drumSet();
  const { line, device, model } = await runTool(set, track, "drumify", { variations: 2, temperature: 0.5 });
  assert.equal(model, "drumify");
  assert.equal(line, "done: drumify wrote 2 clip(s) in slots 1, 2");
  assert.equal(params(device, "drumify").variations, 2);
  for (const clip of checkResults(track, "drumify", [1, 2])) {
    for (const note of clip.notes) assert.ok(GM_DRUMS(note.pitch), `pitch ${note.pitch} is a General MIDI drum`);
  }
  assert.equal(set.song.scenes.length, 3, "one scene added for the second result");
});

test("vary on the drum track: a drum part goes to the drum MusicVAE, results keep to the kit", { skip: SKIP }, async () => {
  const { set, track } = drumSet();
  const { line, model } = await runTool(set, track, "vary", { variations: 1, temperature: 0.5 });
  assert.equal(model, "drum_vae");
  assert.equal(line, "done: vary wrote 1 clip(s) in slots 1");
  for (const clip of checkResults(track, "vary", [1])) {
    for (const note of clip.notes) assert.ok(GM_DRUMS(note.pitch), `pitch ${note.pitch} is a General MIDI drum`);
  }
});
