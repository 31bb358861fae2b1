// Harmonize and infill (Coconet) through the device, against the real daemon in
// MAGENTA_BRIDGE_PORT, whose model "chorales" is a small Coconet; eight Gibbs steps keep them
// fast. Harmonize puts each voice on a new track; infill writes a span of the clip again in
// place, every note outside it kept as it was.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { LiveSet, loadDevice, readMidiNotes } = require("./harness.js");
const { PORT, SKIP, TWO_BARS, twoBars, runTool, params } = require("./fixtures.js");

// Four four-voice chords, a bar (4 beats) each: beats 0-16.
const CHORDS = readMidiNotes(path.join(__dirname, "..", "..", "examples", "pad_chords.mid"));
const FAST = { gibbs_steps: 8, temperature: 0.5 };
const VOICES = ["soprano", "alto", "tenor", "bass"];
const TRACKS = ["Soprano", "Alto", "Tenor", "Bass"];

// Times travel as float32.
const near = (a, b) => Math.abs(a - b) < 1e-4;
const byTime = (a, b) => a.start_time - b.start_time || a.pitch - b.pitch;

function assertSameNotes(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: note count`);
  const [a, e] = [[...actual].sort(byTime), [...expected].sort(byTime)];
  a.forEach((note, i) => {
    const want = e[i];
    const same = note.pitch === want.pitch && near(note.start_time, want.start_time)
      && near(note.duration, want.duration) && note.velocity === want.velocity && note.mute === want.mute;
    assert.ok(same, `${what}: ${JSON.stringify(note)} is not ${JSON.stringify(want)}`);
  });
}

// ---------------------------------------------------------------------------------------
// Harmonize

// Track 0 holds the folk melody's first two bars in slot 0 (selected); track 1 another part.
function melodySet(options = {}) {
  const set = new LiveSet({ tempo: 90, ...options });
  const track = set.addTrack("Melody");
  set.addTrack("Keys");
  for (let s = 0; s < 2; s++) set.addScene();
  return { set, track };
}

test("harmonize: four new tracks after the melody's, a voice each, the top voice the melody note for note", { skip: SKIP }, async () => {
  const { set, track } = melodySet();
  const source = set.putClip(track.clip_slots[0], { name: "folk", length: TWO_BARS, looping: 0, notes: twoBars("folk_melody.mid") });
  const melody = source.notes.map((n) => ({ ...n }));
  set.song.view.props.detail_clip = source;
  const { line, device, model } = await runTool(set, track, "harmonize", { variations: 2, ...FAST });
  assert.equal(model, "chorales");
  assert.equal(line, "done: harmonize wrote 8 clip(s) on new tracks Soprano, Alto, Tenor, Bass in slots 0, 1");
  const sent = params(device, "harmonize");
  assert.equal(sent.voices_apart, 1, "each voice its own clip");
  assert.equal(sent.gibbs_steps, 8);
  assert.equal(sent.variations, 2);

  // The voices sit between the melody's track and the next one, each variation in a row.
  assert.deepEqual(set.song.tracks.map((t) => t.props.name), ["Melody", ...TRACKS, "Keys"]);
  assert.equal(set.song.scenes.length, 2, "no scene added");
  for (const [row, suffix] of [[0, ""], [1, " 2"]]) {
    const clips = set.song.tracks.slice(1, 5).map((t) => t.clip_slots[row].clip);
    clips.forEach((clip, k) => {
      assert.ok(clip, `${TRACKS[k]} has a clip in slot ${row}`);
      assert.equal(clip.props.name, VOICES[k] + suffix);
      assert.equal(clip.props.length, TWO_BARS, "the source's length");
      assert.equal(clip.props.looping, 0, "the source's loop switch (off)");
      assert.ok(clip.notes.length > 0, `${clip.props.name} has notes`);
      for (const note of clip.notes) {
        assert.ok(note.start_time >= -1e-6 && note.start_time < TWO_BARS, JSON.stringify(note));
        assert.ok(note.pitch >= 21 && note.pitch <= 96 && note.velocity >= 1, JSON.stringify(note));
      }
    });
    assertSameNotes(clips[0].notes, melody, `soprano${suffix}`);
    assert.ok(clips.slice(1).some((clip) => clip.notes.some((n) => !melody.some((m) => m.pitch === n.pitch))),
      "the lower voices are not the melody again");
  }
  assert.deepEqual(source.notes, melody, "the melody's clip is untouched");
  assert.equal(track.clip_slots[1].clip, null);
  assert.equal(set.song.tracks[5].clip_slots.every((slot) => slot.clip === null), true, "the next track is untouched");
  // One undo step a variation; the first also makes the tracks.
  const steps = set.undoSteps.map((step) => step.map((c) => c.name).join(" "));
  const clipCalls = "create_clip add_new_notes ".repeat(4).trim();
  assert.deepEqual(steps, [`${"create_midi_track ".repeat(4)}${clipCalls}`, clipCalls]);
  assert.deepEqual(set.calls.filter((c) => c.name === "create_midi_track").map((c) => c.args), [[1], [2], [3], [4]]);
});

test("harmonize in the Arrangement: the voices start where the melody does, on new tracks", { skip: SKIP }, async () => {
  const { set, track } = melodySet();
  const source = set.putArrangementClip(track, { name: "folk", start: 16, length: TWO_BARS, notes: twoBars("folk_melody.mid") });
  set.song.view.props.detail_clip = source;
  const { line } = await runTool(set, track, "harmonize", { variations: 1, ...FAST });
  assert.equal(line, "done: harmonize wrote 4 clip(s) on new tracks Soprano, Alto, Tenor, Bass in the Arrangement from beat 16");
  set.song.tracks.slice(1, 5).forEach((voice, k) => {
    assert.deepEqual(voice.arrangement_clips.map((c) => [c.props.name, c.props.start_time, c.props.end_time]),
      [[VOICES[k], 16, 24]]);
    assert.ok(voice.clip_slots.every((slot) => slot.clip === null), "nothing in Session");
  });
  assertSameNotes(set.song.tracks[1].arrangement_clips[0].notes, source.notes, "soprano");
  assert.deepEqual(track.arrangement_clips, [source]);
});

// ---------------------------------------------------------------------------------------
// Infill

// Track 0: the four chords in slot 0 (selected), with a muted note inside the second chord
// and Live's note extras on a note of the first.
function chordSet({ loopStart = 0, length = 16, extra = [] } = {}) {
  const set = new LiveSet({ tempo: 80 });
  const track = set.addTrack("Choir");
  for (let s = 0; s < 2; s++) set.addScene();
  const notes = [...CHORDS, { pitch: 76, start_time: 5, duration: 1, velocity: 90, mute: 1 }, ...extra];
  const source = set.putClip(track.clip_slots[0], { name: "chorale", length, loopStart, notes });
  source.notes[0].probability = 0.5;
  source.notes[0].velocity_deviation = -10;
  set.song.view.props.detail_clip = source;
  return { set, track, source };
}

// The daemon writes again every audible note lying wholly in [start, end] (clip time).
const rewritten = (note, start, end) => !note.mute && note.start_time >= start && note.start_time + note.duration <= end;

function checkInfilled(source, before, start, end) {
  const ids = new Set(before.map((n) => n.note_id));
  for (const note of before) {
    const now = source.notes.find((n) => n.note_id === note.note_id);
    if (rewritten(note, start, end)) assert.equal(now, undefined, `${JSON.stringify(note)} was written again`);
    else assert.deepEqual(now, note, "a note outside the span is kept exactly");
  }
  const added = source.notes.filter((n) => !ids.has(n.note_id));
  assert.ok(added.length > 0, "notes written in the span");
  for (const note of added) {
    assert.ok(note.start_time >= start - 1e-6 && note.start_time + note.duration <= end + 1e-6, `${JSON.stringify(note)} inside ${start}-${end}`);
    assert.equal(note.mute, 0);
  }
  return added;
}

test("infill: the selected notes' span written again in the clip, every other note kept; more versions in new clips", { skip: SKIP }, async () => {
  const { set, track, source } = chordSet();
  set.selectNotes(source, (n) => n.start_time === 4 && !n.mute); // the second chord
  const before = source.notes.map((n) => ({ ...n }));
  const { line, device, model } = await runTool(set, track, "infill", { variations: 2, ...FAST });
  assert.equal(model, "chorales");
  assert.equal(line, 'done: infill wrote beats 4 to 8 of "chorale" again; the other versions: wrote 1 clip(s) in slots 1');
  const sent = params(device, "infill");
  assert.deepEqual([sent.start, sent.end, sent.voices_apart, sent.variations], [4, 8, 0, 2]);
  const added = checkInfilled(source, before, 4, 8);
  // Four voices over the bar: something sounds on its first beat.
  assert.ok(added.some((n) => near(n.start_time, 4)), JSON.stringify(added));

  // In place, one undo step: the rewritten notes go by id, the new ones come.
  const [inPlace, second] = set.undoSteps;
  assert.deepEqual(inPlace.map((c) => `${c.name} ${c.path}`),
    ["remove_notes_by_id live_set tracks 0 clip_slots 0 clip", "add_new_notes live_set tracks 0 clip_slots 0 clip"]);
  assert.deepEqual(inPlace[0].args.sort(), before.filter((n) => rewritten(n, 4, 8)).map((n) => n.note_id).sort());
  assert.deepEqual(second.map((c) => c.name), ["create_clip", "add_new_notes"]);
  assert.equal(set.calls.filter((c) => c.name === "set_notes").length, 0);

  // The second version: the clip's notes with the span written another way.
  const other = track.clip_slots[1].clip;
  assert.equal(other.props.name, "infill 2");
  assert.equal(other.props.length, 16);
  const kept = before.filter((n) => !rewritten(n, 4, 8));
  for (const note of kept) {
    const copy = other.notes.find((n) => n.pitch === note.pitch && near(n.start_time, note.start_time));
    assert.ok(copy && near(copy.duration, note.duration) && copy.mute === note.mute, `${JSON.stringify(note)} kept in infill 2`);
    assert.equal(copy.probability, note.probability, "Live's note extras carry over");
  }
  const generated = other.notes.filter((n) => !kept.some((k) => k.pitch === n.pitch && near(k.start_time, n.start_time)));
  assert.ok(generated.length > 0);
  for (const note of generated) assert.ok(note.start_time >= 4 - 1e-6 && note.start_time + note.duration <= 8 + 1e-6, JSON.stringify(note));
});

test("infill in the Arrangement: the clip itself at once, the other versions after it only on Confirm", { skip: SKIP }, async () => {
  const set = new LiveSet({ tempo: 80 });
  const track = set.addTrack("Choir");
  set.addScene();
  const source = set.putArrangementClip(track, { name: "chorale", start: 0, length: 16, notes: CHORDS });
  set.putArrangementClip(track, { name: "coda", start: 20, length: 8, notes: [{ pitch: 60, start_time: 0, duration: 1 }] });
  set.selectNotes(source, (n) => n.start_time === 12);
  set.song.view.props.detail_clip = source;
  const before = source.notes.map((n) => ({ ...n }));
  const device = await loadDevice({ set, deviceTrack: track, daemonPort: PORT });
  try {
    for (const [name, value] of Object.entries({ seed: 3, variations: 2, ...FAST })) device.message("set", name, value);
    device.message("infill");
    const asked = await device.waitForStatus(/^(done|error|confirm)/, 90000);
    assert.equal(asked, 'confirm: beats 16 to 32 hold "coda": press Confirm to write over them, or Cancel');
    assert.ok(device.statuses.includes('infill: wrote beats 12 to 16 of "chorale" again'), device.statuses.join(" | "));
    checkInfilled(source, before, 12, 16);
    device.message("cancel");
    assert.equal(device.statuses.at(-1), "cancelled: the other versions are not written");
    assert.deepEqual(track.arrangement_clips.map((c) => c.props.name), ["chorale", "coda"]);
  } finally {
    device.close();
  }
});

test("infill without a selection writes the loop region again, beats from the loop start", { skip: SKIP }, async () => {
  const { set, track, source } = chordSet({ loopStart: 4, length: 8 }); // loop over the 2nd and 3rd chords
  const before = source.notes.map((n) => ({ ...n }));
  const { line, device } = await runTool(set, track, "infill", { variations: 1, ...FAST });
  assert.equal(line, 'done: infill wrote beats 4 to 12 of "chorale" again');
  const begin = device.sent.find((m) => m.address === "/magenta/clip/begin");
  assert.deepEqual(begin.args.slice(1, 4), [0, 9, 8], "the loop region's notes (the muted one too), 8 beats");
  const sent = params(device, "infill");
  assert.deepEqual([sent.start, sent.end], [0, 8]);
  checkInfilled(source, before, 4, 12);
  assert.equal(set.undoSteps.length, 1);
  assert.equal(track.clip_slots[1].clip, null, "one version: no new clip");
});

test("infill of a melody's note off the 16th grid: the daemon widens the span, the device writes inside it only", { skip: SKIP }, async () => {
  const set = new LiveSet({ tempo: 80 });
  const track = set.addTrack("Melody");
  set.addScene();
  const notes = twoBars("folk_melody.mid");
  Object.assign(notes[1], { start_time: 2.1, duration: 0.9 }); // a 16th's step at beat 2 is free
  const source = set.putClip(track.clip_slots[0], { name: "folk", length: TWO_BARS, notes });
  set.song.view.props.detail_clip = source;
  set.selectNotes(source, (n) => n.start_time === 2.1);
  const before = source.notes.map((n) => ({ ...n }));
  const { line } = await runTool(set, track, "infill", FAST);
  assert.equal(line, 'done: infill wrote beats 2.1 to 3 of "folk" again');
  const added = checkInfilled(source, before, 2.1, 3);
  assert.ok(added.some((n) => near(n.start_time, 2.1)), "the note the model wrote from beat 2 starts at the span");
});

test("infill of a selection outside the clip's loop: the daemon's reason, nothing written", { skip: SKIP }, async () => {
  const { set, track, source } = chordSet({ length: 8 }); // the loop ends where the third chord starts
  set.selectNotes(source, (n) => n.start_time === 8);
  const before = source.notes.map((n) => ({ ...n }));
  const { line } = await runTool(set, track, "infill", FAST);
  assert.match(line, /^error: infill: the span 8-12 beats must lie inside the clip \(0-8\)/);
  assert.deepEqual(source.notes, before);
  assert.equal(set.undoSteps.length, 0);
});

test("infill of a five-voice chord: the daemon's reason, nothing written", { skip: SKIP }, async () => {
  const { set, track, source } = chordSet({ extra: [{ pitch: 72, start_time: 0, duration: 4, velocity: 80 }] });
  set.selectNotes(source, (n) => n.start_time === 4);
  const before = source.notes.map((n) => ({ ...n }));
  const { line } = await runTool(set, track, "infill", FAST);
  assert.match(line, /^error: infill: 5 notes sound together at beat 0; Coconet writes at most 4 voices/);
  assert.deepEqual(source.notes, before);
  assert.equal(set.calls.filter((c) => c.name !== "get_notes_extended" && c.name !== "get_selected_notes_extended").length, 0);
});

test("infill sends the selection's span in beats from the clip's start, and no voices apart", async () => {
  const { set, track, source } = chordSet({ loopStart: 4, length: 12 });
  set.selectNotes(source, (n) => n.start_time === 8 && n.pitch >= 65); // two notes of the third chord
  const device = await loadDevice({ set, deviceTrack: track, daemonPort: PORT || 9 });
  try {
    device.message("set", "gibbs_steps", -1); // the number box's "auto": the daemon's default
    device.message("infill");
    assert.match(device.statuses.at(-1), /^infill: sent 1 clip/);
    const sent = params(device, "infill");
    assert.deepEqual([sent.start, sent.end, sent.voices_apart], [4, 8, 0]);
    assert.equal("gibbs_steps" in sent, false);
    device.message("cancel");
  } finally {
    device.close();
  }
});

// ---------------------------------------------------------------------------------------
// The harness's Live, as Ableton's LOM reference documents the calls these tools make

test("the harness: selected notes, removal by id and new MIDI tracks as the LOM documents them", async () => {
  const { set, track, source } = chordSet();
  const device = await loadDevice({ set, deviceTrack: track, daemonPort: 9 });
  try {
    const clip = new device.context.LiveAPI("live_set tracks 0 clip_slots 0 clip");
    const selected = (...args) => JSON.parse(clip.call("get_selected_notes_extended", ...args)).notes;
    assert.deepEqual(selected(), [], "nothing selected");
    set.selectNotes(source, (n) => n.start_time === 12);
    assert.deepEqual(selected().map((n) => Object.keys(n)), Array(4).fill(["note_id", "pitch", "start_time", "duration",
      "velocity", "mute", "probability", "velocity_deviation", "release_velocity"]));
    assert.deepEqual(selected({ return: ["note_id", "pitch"] }).map((n) => n.pitch).sort(), [43, 59, 62, 67]);
    assert.throws(() => selected({ pitch: 1 }), /takes nothing or a dict/);
    const ids = selected().map((n) => n.note_id);
    clip.call("remove_notes_by_id", ids[0], ids[1]);
    assert.equal(source.notes.length, CHORDS.length + 1 - 2);
    assert.equal(selected().length, 2, "removed notes leave the selection");
    assert.throws(() => clip.call("remove_notes_by_id", ids[0]), /not the ID of a note/);
    const song = new device.context.LiveAPI("live_set");
    song.call("create_midi_track", -1);
    song.call("create_midi_track", 0);
    assert.deepEqual(set.song.tracks.map((t) => t.props.name), ["1-MIDI", "Choir", "2-MIDI"]);
    assert.equal(set.song.tracks[0].clip_slots.length, 2, "a clip slot per scene");
    assert.deepEqual(set.song.tracks[0].devices, [], "a new track is empty");
    assert.throws(() => song.call("create_midi_track", 4), /index must be -1 or 0\.\.3/);
  } finally {
    device.close();
  }
});
