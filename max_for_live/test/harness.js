// A node stand-in for Max for Live around the device's ES5 file: a Live set answering the
// Live Object Model paths, properties and functions the device uses (per Ableton's LOM
// reference), Max's js globals (outlet, post, messagename, jsarguments), and udpsend /
// udpreceive as real UDP sockets with a small OSC 1.0 codec (int32, float32, string).
"use strict";

const dgram = require("node:dgram");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const DEVICE = path.join(__dirname, "..", "device", "magenta_bridge.js");
const PATCHER = path.join(__dirname, "..", "device", "magenta_bridge.maxpat");

// ---------------------------------------------------------------------------------------
// OSC 1.0

function pad4(buffer) {
  const size = Math.ceil((buffer.length + 1) / 4) * 4; // strings end with at least one NUL
  const out = Buffer.alloc(size);
  buffer.copy(out);
  return out;
}

// Max's udpsend types a whole number as int32, any other number as float32, text as string.
function encodeOsc(address, args) {
  let tags = ",";
  const parts = [];
  for (const arg of args) {
    if (typeof arg === "number" && Number.isInteger(arg)) {
      tags += "i";
      const b = Buffer.alloc(4);
      b.writeInt32BE(arg);
      parts.push(b);
    } else if (typeof arg === "number") {
      tags += "f";
      const b = Buffer.alloc(4);
      b.writeFloatBE(arg);
      parts.push(b);
    } else if (typeof arg === "string") {
      tags += "s";
      parts.push(pad4(Buffer.from(arg, "utf8")));
    } else {
      throw new TypeError(`cannot send ${JSON.stringify(arg)} over OSC from Max`);
    }
  }
  return Buffer.concat([pad4(Buffer.from(address)), pad4(Buffer.from(tags)), ...parts]);
}

function readString(buffer, offset) {
  const end = buffer.indexOf(0, offset);
  if (end < 0) throw new Error("OSC string without a NUL");
  return [buffer.toString("utf8", offset, end), Math.ceil((end + 1) / 4) * 4];
}

function decodeOsc(buffer) {
  if (buffer.toString("ascii", 0, 7) === "#bundle") throw new Error("bundles are not expected");
  let [address, offset] = readString(buffer, 0);
  let tags;
  [tags, offset] = readString(buffer, offset);
  if (tags[0] !== ",") throw new Error(`no type tags in ${address}`);
  const args = [];
  for (const tag of tags.slice(1)) {
    if (tag === "i") {
      args.push(buffer.readInt32BE(offset));
      offset += 4;
    } else if (tag === "f") {
      args.push(buffer.readFloatBE(offset));
      offset += 4;
    } else if (tag === "s") {
      let text;
      [text, offset] = readString(buffer, offset);
      args.push(text);
    } else {
      throw new Error(`OSC type ${tag} in ${address} is not one the device handles`);
    }
  }
  return { address, args };
}

// ---------------------------------------------------------------------------------------
// The Live set: LOM objects with ids, canonical paths, properties and functions

class LiveSet {
  constructor({ tempo = 120, numerator = 4, denominator = 4, rootNote = 0, scaleName = "Major", liveVersion = 12 } = {}) {
    this.byId = new Map();
    this.nextId = 1;
    this.calls = []; // every call(): {path, name, args}, for tests to inspect
    this.undoSteps = []; // the calls made between each begin_undo_step and end_undo_step
    this.openStep = null;
    this.app = this.object("Application", { major_version: liveVersion });
    this.song = this.object("Song", {
      tempo, signature_numerator: numerator, signature_denominator: denominator,
      root_note: rootNote, scale_name: scaleName,
    });
    this.song.tracks = [];
    this.song.scenes = [];
    this.song.view = this.object("Song.View", { detail_clip: null });
  }

  object(type, props) {
    const obj = { id: this.nextId++, type, props };
    this.byId.set(obj.id, obj);
    return obj;
  }

  addScene() {
    this.song.scenes.push(this.object("Scene", { name: "" }));
    for (const track of this.song.tracks) track.clip_slots.push(this.clipSlot(track));
  }

  // A MIDI track with one clip slot per scene and this device on it. `drumRack`: true for a
  // rack of Live's default kit layout (GM keys), or {note: pad name} for the loaded pads.
  addTrack(name, { drumRack = false } = {}) {
    const track = this.midiTrack(name, this.song.tracks.length);
    // This device (a MIDI effect) first, then the instrument: a Drum Rack when `drumRack`.
    track.devices = [this.object("Device", { name: "Magenta Bridge", can_have_drum_pads: 0 })];
    if (drumRack) track.devices.push(this.drumRack(drumRack === true ? DEFAULT_KIT : drumRack));
    for (const device of track.devices) device.parent = track;
    return track;
  }

  // An empty MIDI track inserted at `index` (as Song.create_midi_track makes one: no devices,
  // a clip slot per scene).
  midiTrack(name, index) {
    const track = this.object("Track", { name, playing_slot_index: -1, has_midi_input: 1 });
    track.clip_slots = [];
    track.arrangement_clips = [];
    track.devices = [];
    this.song.tracks.splice(index, 0, track);
    for (let s = 0; s < this.song.scenes.length; s++) track.clip_slots.push(this.clipSlot(track));
    return track;
  }

  // A Drum Rack: 128 pads (one per note), those in `kit` loaded with a chain of that name.
  drumRack(kit) {
    const rack = this.object("RackDevice", { name: "Drum Rack", can_have_drum_pads: 1 });
    rack.drum_pads = [];
    for (let note = 0; note < 128; note++) {
      const loaded = note in kit;
      const pad = this.object("DrumPad", { note, name: loaded ? kit[note] : "" });
      pad.parent = rack;
      pad.chains = loaded ? [this.object("DrumChain", { name: kit[note] })] : [];
      for (const chain of pad.chains) chain.parent = pad;
      rack.drum_pads.push(pad);
    }
    return rack;
  }

  clipSlot(track) {
    const slot = this.object("ClipSlot", { has_clip: 0 });
    slot.parent = track;
    slot.clip = null;
    return slot;
  }

  // A MIDI clip in a slot, notes as get_notes_extended gives them; `length` is the loop's
  // (Clip.length: the loop length of a looped clip).
  putClip(slot, { name = "", length, loopStart = 0, loopEnd = loopStart + length, looping = 1, notes = [] }) {
    const clip = this.object("Clip", {
      name, length, loop_start: loopStart, loop_end: loopEnd, looping, is_midi_clip: 1,
    });
    clip.parent = slot;
    clip.notes = [];
    clip.nextNoteId = 1;
    clip.selected = new Set(); // note ids selected in the clip's editor
    slot.clip = clip;
    slot.props.has_clip = 1;
    addNotes(clip, notes);
    return clip;
  }

  // A MIDI clip in the Arrangement from beat `start`, its markers at 0 and `length`.
  putArrangementClip(track, { name = "", start, length, looping = 0, notes = [] }) {
    const clip = this.object("Clip", {
      name, length, loop_start: 0, loop_end: length, looping, is_midi_clip: 1, start_time: start, end_time: start + length,
    });
    clip.parent = track;
    clip.notes = [];
    clip.nextNoteId = 1;
    clip.selected = new Set();
    track.arrangement_clips.push(clip);
    track.arrangement_clips.sort((a, b) => a.props.start_time - b.props.start_time);
    addNotes(clip, notes);
    return clip;
  }

  // Selects the clip's notes for which `which(note)` holds, as a user does in the clip's editor.
  selectNotes(clip, which) {
    clip.selected = new Set(clip.notes.filter(which).map((n) => n.note_id));
  }

  pathOf(obj) {
    const song = this.song;
    if (obj === this.app) return "live_app";
    if (obj === song) return "live_set";
    if (obj === song.view) return "live_set view";
    if (obj.type === "Track") return `live_set tracks ${song.tracks.indexOf(obj)}`;
    if (obj.type === "Scene") return `live_set scenes ${song.scenes.indexOf(obj)}`;
    if (obj.type === "Device" || obj.type === "RackDevice") return `${this.pathOf(obj.parent)} devices ${obj.parent.devices.indexOf(obj)}`;
    if (obj.type === "DrumPad") return `${this.pathOf(obj.parent)} drum_pads ${obj.parent.drum_pads.indexOf(obj)}`;
    if (obj.type === "DrumChain") return `${this.pathOf(obj.parent)} chains ${obj.parent.chains.indexOf(obj)}`;
    if (obj.type === "ClipSlot") return `${this.pathOf(obj.parent)} clip_slots ${obj.parent.clip_slots.indexOf(obj)}`;
    if (obj.type === "Clip" && obj.parent.type === "Track") {
      return `${this.pathOf(obj.parent)} arrangement_clips ${obj.parent.arrangement_clips.indexOf(obj)}`;
    }
    if (obj.type === "Clip") return `${this.pathOf(obj.parent)} clip`;
    throw new Error(`no path for ${obj.type}`);
  }

  // "live_set tracks 0 clip_slots 2 clip", "this_device canonical_parent", "id 7"; null when
  // nothing is there (LiveAPI then has id 0).
  resolve(text, device) {
    const words = String(text).trim().split(/\s+/);
    let obj;
    if (words[0] === "live_app") obj = this.app;
    else if (words[0] === "live_set") obj = this.song;
    else if (words[0] === "this_device") obj = device;
    else if (words[0] === "id") return this.byId.get(Number(words[1])) || null;
    else throw new Error(`LiveAPI: bad path root in "${text}"`);
    for (let i = 1; i < words.length && obj; i++) {
      const word = words[i];
      if (word === "canonical_parent") obj = obj.parent || null;
      else if (word === "view" && obj === this.song) obj = this.song.view;
      else if (word === "detail_clip" && obj === this.song.view) obj = this.song.view.props.detail_clip;
      else if (word === "clip" && obj.type === "ClipSlot") obj = obj.clip;
      else if (Array.isArray(obj[word])) {
        const index = Number(words[++i]);
        if (!Number.isInteger(index)) throw new Error(`LiveAPI: ${word} needs an index in "${text}"`);
        obj = obj[word][index] || null;
      } else throw new Error(`LiveAPI: ${obj.type} has no child "${word}" ("${text}")`);
    }
    return obj;
  }
}

// Live's default Drum Rack layout: General MIDI keys, named as Live's kits name them.
const DEFAULT_KIT = { 36: "Kick", 37: "Rim", 38: "Snare", 39: "Clap", 42: "Hihat Closed", 44: "Hihat Pedal",
  45: "Tom Low", 46: "Hihat Open", 48: "Tom Mid", 49: "Crash", 50: "Tom High", 51: "Ride" };

const NOTE_FIELDS = ["note_id", "pitch", "start_time", "duration", "velocity", "mute",
  "probability", "velocity_deviation", "release_velocity"];

// Clip.add_new_notes: the LOM's required and optional keys, ranges, and new note ids.
function addNotes(clip, notes) {
  const ids = [];
  for (const note of notes) {
    for (const key of Object.keys(note)) {
      if (!NOTE_FIELDS.includes(key) || key === "note_id") throw new Error(`add_new_notes: unknown key ${key}`);
    }
    for (const key of ["pitch", "start_time", "duration"]) {
      if (typeof note[key] !== "number") throw new Error(`add_new_notes: note needs ${key}`);
    }
    if (!Number.isInteger(note.pitch) || note.pitch < 0 || note.pitch > 127) throw new Error(`add_new_notes: pitch ${note.pitch}`);
    if (!(note.duration > 0)) throw new Error(`add_new_notes: duration ${note.duration}`);
    const full = {
      note_id: clip.nextNoteId++, pitch: note.pitch, start_time: note.start_time, duration: note.duration,
      velocity: note.velocity ?? 100, mute: note.mute ? 1 : 0, probability: note.probability ?? 1,
      velocity_deviation: note.velocity_deviation ?? 0, release_velocity: note.release_velocity ?? 64,
    };
    if (full.velocity < 0 || full.velocity > 127) throw new Error(`add_new_notes: velocity ${full.velocity}`);
    if (full.probability < 0 || full.probability > 1) throw new Error(`add_new_notes: probability ${full.probability}`);
    clip.notes.push(full);
    ids.push(full.note_id);
  }
  return ids;
}

// What LiveAPI.get returns: always an array; objects as ["id", n], lists as ["id", a, "id", b...].
function getValue(set, obj, name) {
  if (Array.isArray(obj[name])) return obj[name].flatMap((child) => ["id", child.id]);
  if (name === "canonical_parent") return ["id", obj.parent ? obj.parent.id : 0];
  if (name === "clip" && obj.type === "ClipSlot") return ["id", obj.clip ? obj.clip.id : 0];
  if (!(name in obj.props)) throw new Error(`LiveAPI get: ${obj.type} has no property "${name}"`);
  const value = obj.props[name];
  if (value === null || (typeof value === "object" && "id" in value)) return ["id", value ? value.id : 0];
  return [value];
}

const SETTABLE = { Clip: ["name", "loop_start", "loop_end", "looping"], Song: ["tempo"], Track: ["name"] };

// get_selected_notes_extended's optional dict: {"return": [the note properties to give]}.
function returnedFields(args, name) {
  if (args.length === 0) return NOTE_FIELDS;
  const [dict] = args;
  if (args.length !== 1 || !dict || typeof dict !== "object" || Object.keys(dict).join() !== "return"
      || !Array.isArray(dict.return) || !dict.return.every((key) => NOTE_FIELDS.includes(key))) {
    throw new Error(`${name} takes nothing or a dict {"return": [note properties]}`);
  }
  return dict.return;
}

// Max's js receives a notes dict as a JSON string.
function notesJson(notes, fields = NOTE_FIELDS) {
  return JSON.stringify({ notes: notes.map((n) => Object.fromEntries(fields.map((key) => [key, n[key]]))) });
}

function callFunction(set, obj, name, args) {
  const where = `${obj.type}.${name}`;
  if (where === "Clip.get_notes_extended") {
    if (args.length !== 4) throw new Error("get_notes_extended takes from_pitch, pitch_span, from_time, time_span");
    const [fromPitch, pitchSpan, fromTime, timeSpan] = args;
    const notes = obj.notes.filter((n) => n.pitch >= fromPitch && n.pitch < fromPitch + pitchSpan
      && n.start_time >= fromTime && n.start_time < fromTime + timeSpan);
    return notesJson(notes);
  }
  if (where === "Clip.get_selected_notes_extended") { // Live 11.0: the notes selected in the editor
    return notesJson(obj.notes.filter((n) => obj.selected.has(n.note_id)), returnedFields(args, name));
  }
  if (where === "Clip.remove_notes_by_id") { // Live 11.0: the IDs as a list of ints
    if (args.length === 0) throw new Error("remove_notes_by_id takes a list of note IDs");
    for (const id of args) {
      if (!Number.isInteger(id) || !obj.notes.some((n) => n.note_id === id)) {
        throw new Error(`remove_notes_by_id: ${JSON.stringify(id)} is not the ID of a note in the clip`);
      }
    }
    obj.notes = obj.notes.filter((n) => !args.includes(n.note_id));
    for (const id of args) obj.selected.delete(id);
    return undefined;
  }
  if (where === "Clip.add_new_notes") {
    const dict = args[0];
    if (args.length !== 1 || !dict || !Array.isArray(dict.notes)) throw new Error('add_new_notes takes a dict {"notes": [...]}');
    return addNotes(obj, dict.notes);
  }
  if (where === "Clip.set_notes") return undefined; // deprecated: recorded in calls, tests forbid it
  if (where === "ClipSlot.create_clip") {
    if (obj.props.has_clip) throw new Error("create_clip: the clip slot already has a clip");
    if (!(args[0] > 0)) throw new Error(`create_clip: length must be above 0, got ${args[0]}`);
    set.putClip(obj, { length: args[0] });
    return undefined;
  }
  if (where === "Track.create_midi_clip") {
    const [start, length] = args;
    if (args.length !== 2 || !(start >= 0 && start <= 1576800) || !(length > 0)) {
      throw new Error(`create_midi_clip takes start_time in [0, 1576800] and a length above 0, got ${args}`);
    }
    overwrite(obj, start, start + length);
    set.putArrangementClip(obj, { start, length });
    return undefined;
  }
  if (where === "Application.get_major_version") return obj.props.major_version;
  if (where === "Song.begin_undo_step") {
    if (set.openStep) throw new Error("begin_undo_step: a step is already open");
    set.openStep = [];
    return undefined;
  }
  if (where === "Song.end_undo_step") {
    if (!set.openStep) throw new Error("end_undo_step without begin_undo_step");
    set.undoSteps.push(set.openStep);
    set.openStep = null;
    return undefined;
  }
  if (where === "Song.create_midi_track") { // at index 0..len(tracks), or -1: at the end
    const [index] = args;
    const count = set.song.tracks.length;
    if (args.length !== 1 || !(index === -1 || (Number.isInteger(index) && index >= 0 && index <= count))) {
      throw new Error(`create_midi_track: index must be -1 or 0..${count}, got ${args}`);
    }
    const at = index === -1 ? count : index;
    set.midiTrack(`${at + 1}-MIDI`, at); // Live's default name
    return undefined;
  }
  if (where === "Song.create_scene") {
    const index = args[0];
    if (index !== -1 && !(index >= 0 && index <= set.song.scenes.length)) throw new Error(`create_scene: index ${index}`);
    if (index !== -1 && index !== set.song.scenes.length) throw new Error("harness: only appending scenes is modelled");
    set.addScene();
    return undefined;
  }
  throw new Error(`LiveAPI call: ${where} is not a function the harness models`);
}

// A new Arrangement clip replaces what lay under it, as recording over clips does: covered
// clips go, overlapped ones are cut back to the part outside.
function overwrite(track, start, end) {
  track.arrangement_clips = track.arrangement_clips.filter((clip) => {
    const p = clip.props;
    if (p.start_time >= start && p.end_time <= end) return false;
    if (p.start_time < start && p.end_time > start) p.end_time = start;
    else if (p.start_time < end && p.end_time > end) p.start_time = end;
    return true;
  });
}

// Max's Task: runs a function once, `schedule(ms)` from now, unless cancelled first.
class Task {
  constructor(fn, owner) { this.fn = fn; this.owner = owner; this.timer = null; }
  schedule(ms = 0) {
    this.cancel();
    this.timer = setTimeout(() => { this.timer = null; this.fn.call(this.owner); }, ms);
    this.timer.unref(); // a pending watchdog does not keep node's test process alive
  }
  cancel() { clearTimeout(this.timer); this.timer = null; }
}

function makeLiveApiClass(set, device) {
  return class LiveAPI {
    constructor(callbackOrPath, maybePath) {
      const text = typeof callbackOrPath === "function" ? maybePath : callbackOrPath;
      this._obj = text === undefined ? null : set.resolve(text, device);
    }
    get id() { return String(this._obj ? this._obj.id : 0); }
    get unquotedpath() { return this._obj ? set.pathOf(this._obj) : ""; }
    get path() { return this._obj ? `"${set.pathOf(this._obj)}"` : ""; }
    get type() { return this._obj ? this._obj.type : undefined; }
    goto(text) { this._obj = set.resolve(text, device); }
    get(name) { return getValue(set, this._live(), name); }
    getcount(name) {
      const obj = this._live();
      if (!Array.isArray(obj[name])) throw new Error(`LiveAPI getcount: ${obj.type} has no list "${name}"`);
      return obj[name].length;
    }
    set(name, value) {
      const obj = this._live();
      if (!(SETTABLE[obj.type] || []).includes(name)) throw new Error(`LiveAPI set: ${obj.type}.${name} is read-only or unknown`);
      obj.props[name] = value;
    }
    call(name, ...args) {
      const obj = this._live();
      const call = { path: set.pathOf(obj), name, args };
      set.calls.push(call);
      if (set.openStep && !name.endsWith("_undo_step")) set.openStep.push(call);
      return callFunction(set, obj, name, args);
    }
    _live() {
      if (!this._obj) throw new Error("LiveAPI: no object at this path (id 0)");
      return this._obj;
    }
  };
}

// ---------------------------------------------------------------------------------------
// The device in a Max-like js context, wired to the daemon over UDP

// replyPort: the port udpreceive listens on (0: any free one); a daemon configured with
// osc.reply_port sends every reply there, errors about uploads and parameters included.
async function loadDevice({ set, deviceTrack, daemonPort, replyPort: wanted = 0, host = "127.0.0.1" }) {
  const receive = dgram.createSocket({ type: "udp4", recvBufferSize: 4 << 20 }); // udpreceive
  const sendSock = dgram.createSocket("udp4"); // udpsend: a random source port, as Max's
  await new Promise((resolve) => receive.bind(wanted, host, resolve));
  await new Promise((resolve) => sendSock.bind(0, host, resolve));
  const replyPort = receive.address().port;
  const statuses = [];
  const sent = [];
  const listeners = [];
  const errors = [];
  const menu = []; // the model umenu's items

  const context = {
    LiveAPI: makeLiveApiClass(set, deviceTrack.devices[0]),
    Task,
    jsarguments: ["magenta_bridge.js", replyPort],
    messagename: "",
    post: (...args) => process.stderr.write(`[max post] ${args.join(" ")}\n`),
    outlet(index, list) {
      const items = Array.isArray(list) ? list : [list];
      if (index === 0) {
        sent.push({ address: items[0], args: Array.from(items.slice(1)) }); // this realm's Array
        sendSock.send(encodeOsc(items[0], items.slice(1)), daemonPort, host);
      } else if (index === 1) {
        if (items[0] !== "set") throw new Error(`status outlet got ${items[0]}, not set`);
        statuses.push(items.slice(1).join(" "));
        for (const listener of listeners.splice(0)) listener();
      } else if (index === 2) { // a umenu: clear, append <item>
        if (items[0] === "clear" && items.length === 1) menu.length = 0;
        else if (items[0] === "append" && items.length === 2) menu.push(items[1]);
        else throw new Error(`the model menu got ${items.join(" ")}`);
      } else {
        throw new Error(`outlet ${index} does not exist`);
      }
    },
  };
  vm.createContext(context);
  vm.runInContext(fs.readFileSync(DEVICE, "utf8"), context, { filename: DEVICE });

  // Max calls the function named like the message, else anything() with messagename set.
  function message(name, ...args) {
    context.messagename = name;
    const fn = /^[A-Za-z_]\w*$/.test(name) && typeof context[name] === "function" && name !== "anything"
      ? context[name] : context.anything;
    fn(...args);
  }

  receive.on("message", (data) => {
    try {
      const { address, args } = decodeOsc(data);
      message(address, ...args);
    } catch (error) {
      errors.push(error);
      for (const listener of listeners.splice(0)) listener();
    }
  });

  // Resolves with the first status line matching `pattern` (from now on), or rejects.
  function waitForStatus(pattern, timeoutMs = 60000) {
    const from = statuses.length;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no status matching ${pattern} in ${timeoutMs} ms; got: ${statuses.slice(from).join(" | ")}`)), timeoutMs);
      const check = () => {
        if (errors.length) { clearTimeout(timer); return reject(errors[0]); }
        const hit = statuses.slice(from).find((line) => pattern.test(line));
        if (hit) { clearTimeout(timer); return resolve(hit); }
        listeners.push(check);
      };
      check();
    });
  }

  // The user sets a presentation control (by its varname, as Live names the parameter): the
  // message its patchlines carry to the js, as Max would send it.
  function control(varname, value) {
    message(...controlMessage(varname, value));
  }

  return {
    context, message, control, statuses, sent, errors, replyPort, waitForStatus, menu,
    close() { receive.close(); sendSock.close(); },
  };
}

// ---------------------------------------------------------------------------------------
// The patcher's controls: what a live.* object in the presentation sends to the js

// A live.dial or live.numbox sends its value from outlet 0 (an int for an int parameter), a
// live.toggle 0 or 1, a live.menu its item's text from outlet 1; a `prepend` on the way puts
// its words first. The value must lie in the control's range (its items, for a menu).
function controlMessage(varname, value) {
  const patcher = JSON.parse(fs.readFileSync(PATCHER, "utf8")).patcher;
  const boxes = new Map(patcher.boxes.map((entry) => [entry.box.id, entry.box]));
  const control = [...boxes.values()].find((box) => box.varname === varname && box.presentation);
  if (!control) throw new Error(`no control named ${varname} in the device's presentation`);
  const spec = control.saved_attribute_attributes.valueof;
  let outletIndex = 0;
  let out = value;
  if (control.maxclass === "live.menu") {
    if (!spec.parameter_enum.includes(value)) throw new Error(`${varname} offers ${spec.parameter_enum}, not ${value}`);
    outletIndex = 1;
  } else if (control.maxclass === "live.toggle") {
    if (value !== 0 && value !== 1) throw new Error(`${varname} is a toggle: 0 or 1, not ${value}`);
  } else if (control.maxclass === "live.dial" || control.maxclass === "live.numbox") {
    const low = spec.parameter_mmin || 0;
    if (typeof value !== "number" || value < low || value > spec.parameter_mmax) {
      throw new Error(`${varname} goes from ${low} to ${spec.parameter_mmax}, not ${value}`);
    }
    if (spec.parameter_type === 1 && !Number.isInteger(value)) throw new Error(`${varname} takes whole numbers`);
  } else {
    throw new Error(`${varname} is a ${control.maxclass}, not a control this harness sets`);
  }
  const words = [];
  let at = [control.id, outletIndex];
  for (;;) {
    const line = patcher.lines.find((entry) => entry.patchline.source[0] === at[0] && entry.patchline.source[1] === at[1]);
    if (!line) throw new Error(`${varname}: outlet ${at[1]} of ${at[0]} leads nowhere`);
    const next = boxes.get(line.patchline.destination[0]);
    const text = (next.text || "").split(" ");
    if (text[0] === "js") return [...words, out];
    if (text[0] !== "prepend") throw new Error(`${varname} goes through ${next.text}, which the harness does not model`);
    words.push(...text.slice(1));
    at = [next.id, 0];
  }
}

// ---------------------------------------------------------------------------------------
// Standard MIDI files: the notes of a file as Live note dicts (beats)

function readMidiNotes(file) {
  const data = fs.readFileSync(file);
  if (data.toString("ascii", 0, 4) !== "MThd") throw new Error(`${file} is not a MIDI file`);
  const division = data.readUInt16BE(12);
  if (division & 0x8000) throw new Error("SMPTE time division is not supported");
  const notes = [];
  let offset = 8 + data.readUInt32BE(4);
  while (offset < data.length) {
    const end = offset + 8 + data.readUInt32BE(offset + 4);
    const open = new Map();
    let pos = offset + 8, tick = 0, running = 0;
    const varLen = () => { let v = 0, b; do { b = data[pos++]; v = (v << 7) | (b & 0x7f); } while (b & 0x80); return v; };
    while (pos < end) {
      tick += varLen();
      let statusByte = data[pos];
      if (statusByte & 0x80) pos++; else statusByte = running;
      if (statusByte === 0xff) pos++; // meta type
      if (statusByte === 0xff || statusByte === 0xf0 || statusByte === 0xf7) {
        const size = varLen(); // read before moving pos past the data
        pos += size;
        continue;
      }
      running = statusByte;
      const kind = statusByte & 0xf0;
      const a = data[pos++];
      const b = kind === 0xc0 || kind === 0xd0 ? 0 : data[pos++];
      const key = `${statusByte & 0x0f}:${a}`;
      if (kind === 0x90 && b > 0) open.set(key, { tick, velocity: b });
      else if (kind === 0x80 || kind === 0x90) {
        const on = open.get(key);
        if (on) {
          notes.push({ pitch: a, start_time: on.tick / division, duration: (tick - on.tick) / division,
            velocity: on.velocity, mute: 0, probability: 1, velocity_deviation: 0, release_velocity: 64 });
          open.delete(key);
        }
      }
    }
    offset = end;
  }
  return notes.sort((x, y) => x.start_time - y.start_time || x.pitch - y.pitch);
}

module.exports = { LiveSet, loadDevice, encodeOsc, decodeOsc, readMidiNotes };
