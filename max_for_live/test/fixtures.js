// Shared by the node tests: the daemon's port, Live sets to start from, running a tool
// through the device and checking the clips it wrote.
"use strict";

const assert = require("node:assert/strict");
const path = require("node:path");
const { LiveSet, loadDevice, readMidiNotes } = require("./harness.js");

const PORT = Number(process.env.MAGENTA_BRIDGE_PORT);
const SKIP = !PORT && "MAGENTA_BRIDGE_PORT not set";
const EXAMPLES = path.join(__dirname, "..", "..", "examples");
const TWO_BARS = 8; // beats of 4/4

// The first two bars of an example file's notes.
function twoBars(name) {
  const notes = readMidiNotes(path.join(EXAMPLES, name)).filter((n) => n.start_time < TWO_BARS);
  for (const n of notes) n.duration = Math.min(n.duration, TWO_BARS - n.start_time);
  assert.ok(notes.length > 0, `${name} has notes in its first two bars`);
  return notes;
}

// Runs one tool with the given settings; resolves with the final status line (or the
// first one matching `until`).
async function runTool(set, track, tool, settings, until = /^(done|error)/) {
  const device = await loadDevice({ set, deviceTrack: track, daemonPort: PORT });
  try {
    for (const [name, value] of Object.entries({ seed: 11, ...settings })) device.message("set", name, value);
    device.message(tool);
    const line = await device.waitForStatus(until, 90000);
    return { line, device, model: (device.statuses.find((l) => l.startsWith(`${tool}: running on `)) || "").split(" ").pop() };
  } finally {
    device.close();
  }
}

// The clips the tool wrote: named "<tool> n", 2 bars long, notes inside them.
function checkResults(track, tool, slots, { length = TWO_BARS } = {}) {
  const clips = [];
  slots.forEach((slot, i) => {
    const clip = track.clip_slots[slot] && track.clip_slots[slot].clip;
    assert.ok(clip, `slot ${slot} has a clip`);
    assert.equal(clip.props.name, `${tool} ${i + 1}`);
    assert.equal(clip.props.length, length);
    assert.ok(clip.notes.length > 0, `${tool} ${i + 1} has notes`);
    for (const note of clip.notes) {
      assert.ok(note.start_time >= -1e-6 && note.start_time < length, JSON.stringify(note));
      assert.ok(note.velocity >= 1 && note.velocity <= 127, JSON.stringify(note));
    }
    clips.push(clip);
  });
  return clips;
}

function params(device, tool) {
  const request = device.sent.find((m) => m.address === `/magenta/tool/${tool}`);
  assert.ok(request, `/magenta/tool/${tool} was sent`);
  return Object.fromEntries(request.args.slice(1).flatMap((v, i, a) => (i % 2 ? [] : [[v, a[i + 1]]])));
}

function melodySet() {
  const set = new LiveSet({ tempo: 110 });
  const track = set.addTrack("Melody");
  for (let s = 0; s < 3; s++) set.addScene();
  return { set, track };
}

// A drum track (a Drum Rack after this device) with the rock groove's first two bars.
function drumSet() {
  const set = new LiveSet({ tempo: 100 });
  const track = set.addTrack("Drums", { drumRack: true });
  for (let s = 0; s < 2; s++) set.addScene();
  const source = set.putClip(track.clip_slots[0], { name: "rock", length: TWO_BARS, notes: twoBars("rock_groove.mid") });
  set.song.view.props.detail_clip = source;
  return { set, track, source };
}

// General MIDI percussion: the kit's pitches.
const GM_DRUMS = (pitch) => pitch >= 35 && pitch <= 81;

module.exports = {
  PORT, SKIP, TWO_BARS, GM_DRUMS, twoBars, runTool, checkResults, params, melodySet, drumSet,
};
