// End to end: the device reads a clip from the harness's Live set, asks a real daemon
// (port in MAGENTA_BRIDGE_PORT, started by tests/max_for_live/test_device.py) and writes
// the results back as new Session clips.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { LiveSet, loadDevice, readMidiNotes } = require("./harness.js");

const PORT = Number(process.env.MAGENTA_BRIDGE_PORT);
// A second daemon whose config sets osc.reply_port: the only way errors raised before a job
// starts (bad parameters, incomplete clips) reach Max, whose udpsend cannot receive.
const FIXED_PORT = Number(process.env.MAGENTA_BRIDGE_FIXED_PORT);
const FIXED_REPLY_PORT = Number(process.env.MAGENTA_BRIDGE_REPLY_PORT);
const FOLK = path.join(__dirname, "..", "..", "examples", "folk_melody.mid");

// Track 0: the folk melody in slot 0 (in the detail view), a clip to keep in slot 1, and
// slot 2 empty: two results must fill slot 2, then a new scene's slot 3.
function folkSet() {
  const set = new LiveSet({ tempo: 96, rootNote: 7, scaleName: "Major" });
  const track = set.addTrack("Melody");
  for (let s = 0; s < 3; s++) set.addScene();
  const notes = readMidiNotes(FOLK); // 8 bars of 4/4
  const source = set.putClip(track.clip_slots[0], { name: "folk", length: 32, notes });
  const keep = set.putClip(track.clip_slots[1], { name: "keep me", length: 4, notes: [{ pitch: 60, start_time: 0, duration: 1 }] });
  set.song.view.props.detail_clip = source;
  return { set, track, source, keep };
}

test("continue: folk clip in, two new clips in the next empty slots", { skip: !PORT && "MAGENTA_BRIDGE_PORT not set" }, async () => {
  const { set, track, source, keep } = folkSet();
  assert.ok(source.notes.length >= 8, "the folk clip holds notes");
  const device = await loadDevice({ set, deviceTrack: track, daemonPort: PORT });
  try {
    device.message("set", "variations", 2);
    device.message("set", "bars", 2);
    device.message("set", "seed", 7);
    device.message("set", "keylock", 1);
    device.message("continue");
    const line = await device.waitForStatus(/^(done|error)/);
    assert.match(line, /^done: continue wrote 2 clip\(s\) in slots 2, 3$/);

    // What went to the daemon: the clip chunked under the limits, the song's key, the reply port.
    const begin = device.sent.find((m) => m.address === "/magenta/clip/begin");
    assert.deepEqual(begin.args.slice(1), [0, source.notes.length, 32, 96, 4, 4, 0, device.replyPort]);
    const tool = device.sent.find((m) => m.address === "/magenta/tool/continue");
    const params = Object.fromEntries(tool.args.slice(1).flatMap((v, i, a) => (i % 2 ? [] : [[v, a[i + 1]]])));
    assert.equal(params.key, "G:major");
    assert.equal(params.reply_port, device.replyPort);
    assert.equal(params.variations, 2);
    assert.ok(device.statuses.some((s) => /^continue: running on /.test(s)), device.statuses.join(" | "));

    // The Live set: slot 1 untouched, a scene added, two named clips with notes inside them.
    assert.equal(set.song.scenes.length, 4);
    assert.equal(track.clip_slots[1].clip, keep);
    assert.equal(keep.notes.length, 1);
    const G_MAJOR = new Set([7, 9, 11, 0, 2, 4, 6]);
    for (const [n, slot] of [[1, 2], [2, 3]]) {
      const clip = track.clip_slots[slot].clip;
      assert.ok(clip, `slot ${slot} has a clip`);
      assert.equal(clip.props.name, `continue ${n}`);
      assert.equal(clip.props.length, 8, "2 bars of 4/4");
      assert.ok(clip.notes.length > 0, `continue ${n} has notes`);
      for (const note of clip.notes) {
        assert.ok(note.start_time >= 0 && note.start_time + note.duration <= 8 + 1e-6, JSON.stringify(note));
        assert.ok(G_MAJOR.has(note.pitch % 12), `pitch ${note.pitch} is in G major`);
      }
    }
    const adds = set.calls.filter((c) => c.name === "add_new_notes").map((c) => c.path);
    assert.deepEqual(adds, ["live_set tracks 0 clip_slots 2 clip", "live_set tracks 0 clip_slots 3 clip"]);
    assert.equal(set.calls.filter((c) => c.name === "set_notes").length, 0, "set_notes is deprecated");
    // One undo step a clip: creating it and writing its notes (create_scene is Live's own).
    assert.deepEqual(set.undoSteps.map((step) => step.map((c) => c.name)),
      [["create_clip", "add_new_notes"], ["create_clip", "add_new_notes"]]);
  } finally {
    device.close();
  }
});

test("continue without a clip explains what to select", async () => {
  const set = new LiveSet();
  const track = set.addTrack("Empty");
  set.addScene();
  const device = await loadDevice({ set, deviceTrack: track, daemonPort: PORT || 9 });
  try {
    device.message("continue");
    assert.match(device.statuses.at(-1), /^error: select a MIDI clip/);
    assert.equal(device.sent.length, 0);
  } finally {
    device.close();
  }
});

test("an upload the daemon refuses ends the job with its reason, at the reply port", { skip: !PORT && "MAGENTA_BRIDGE_PORT not set" }, async () => {
  const set = new LiveSet();
  const track = set.addTrack("Melody");
  set.addScene();
  const notes = [];
  for (let i = 0; i < 10001; i++) notes.push({ pitch: 60 + (i % 12), start_time: i * 0.01, duration: 0.01 });
  set.song.view.props.detail_clip = set.putClip(track.clip_slots[0], { length: 120, notes });
  const device = await loadDevice({ set, deviceTrack: track, daemonPort: PORT });
  try {
    device.message("continue");
    assert.match(await device.waitForStatus(/^(done|error)/), /^error: continue: note count must be between 0 and 10000, got 10001/);
    device.message("cancel");
    assert.equal(device.statuses.at(-1), "nothing to cancel", "the job is over");
  } finally {
    device.close();
  }
});

test("a daemon error ends the job and reaches the status line", { skip: !FIXED_PORT && "MAGENTA_BRIDGE_FIXED_PORT not set" }, async () => {
  const { set, track } = folkSet();
  const device = await loadDevice({ set, deviceTrack: track, daemonPort: FIXED_PORT, replyPort: FIXED_REPLY_PORT });
  try {
    device.message("set", "temperature", 99); // outside continue's 0.01..10
    device.message("continue");
    const line = await device.waitForStatus(/^(done|error)/);
    assert.match(line, /^error: continue: .*temperature/);
    assert.equal(set.song.scenes.length, 3, "nothing written");
    device.message("cancel");
    assert.equal(device.statuses.at(-1), "nothing to cancel");
  } finally {
    device.close();
  }
});
