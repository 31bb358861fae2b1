// Magenta Bridge device logic for Max's `js` object (ES5 only: Max's js engine is ES5).
//
// Inlet 0 takes the UI's messages (continue, generate, interpolate, vary, groove, drumify,
// cancel, set <param> <value>) and the daemon's replies as udpreceive outputs them
// (the OSC address is the message name). Outlet 0 goes to udpsend (one list per OSC
// message, the address first); outlet 1 gives status lines ("set <text>") for a comment.
//
// Sections: settings, OSC requests, reading the clip (LOM), replies, writing results (LOM).
// The daemon's API is docs/osc-api.md; the Live Object Model is Ableton's LOM reference.

inlets = 1;
outlets = 2;

var OSC_OUT = 0;
var STATUS_OUT = 1;

// ---------------------------------------------------------------------------------------
// Settings

// Notes per clip/notes datagram: 25 bytes a note keeps 100 notes near 2.6 KB, far below
// the daemon's 8192-byte limit and macOS's 9 KB UDP cap.
var NOTES_PER_CHUNK = 100;

// udpsend sends from a random port, so every tool request names the port udpreceive
// listens on; the patcher passes it as the js object's first argument.
var replyPort = (typeof jsarguments !== "undefined" && jsarguments.length > 1) ? jsarguments[1] : 11301;

// keepsNotes: the tool's results hold the source's notes in place (groove re-times the
// clip's own hits), so their probability and velocity deviation carry over.
var TOOLS = {
    "continue": { clips: 1, params: ["bars", "variations", "temperature", "seed", "key", "pitch_low", "pitch_high"] },
    "generate": { clips: 0, params: ["bars", "variations", "temperature", "seed"] },
    "interpolate": { clips: 2, params: ["steps", "temperature", "seed"] },
    "vary": { clips: 1, params: ["variations", "temperature", "seed"] },
    "groove": { clips: 1, params: ["variations", "temperature", "seed"], keepsNotes: true },
    "drumify": { clips: 1, params: ["variations", "temperature", "seed"] }
};

// What the UI set; an empty value is not sent, so the daemon's default applies.
var settings = { bars: 4, variations: 1, temperature: 1.0, steps: 5, seed: "", pitch_low: "",
    pitch_high: "", keylock: 0, model: "" };

// Live's scale_name values that match a daemon mode; others turn key lock off.
var LIVE_SCALES = {
    "Major": "major", "Minor": "minor", "Dorian": "dorian", "Mixolydian": "mixolydian",
    "Lydian": "lydian", "Phrygian": "phrygian", "Locrian": "locrian",
    "Harmonic Minor": "harmonic_minor", "Melodic Minor": "melodic_minor",
    "Major Pentatonic": "major_pentatonic", "Minor Pentatonic": "minor_pentatonic",
    "Minor Blues": "blues"
};
var ROOT_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];

function set(name, value) {
    if (!(name in settings)) { return status("error: unknown setting " + name); }
    settings[name] = value;
}

// ---------------------------------------------------------------------------------------
// OSC requests

var requestCount = 0;
var job = null; // the one job in flight: {id, tool, track, fromSlot, sources, results, ...}

function newRequestId() {
    requestCount += 1;
    // A letter first, so Max keeps it a symbol (an OSC string) rather than a number.
    return "m4l-" + new Date().getTime() + "-" + requestCount;
}

function send(address, args) {
    outlet(OSC_OUT, [address].concat(args));
}

// clip/begin then clip/notes chunks for one input clip.
function sendClip(requestId, slot, clip, song, drums) {
    var flat = [];
    var i;
    for (i = 0; i < clip.notes.length; i++) {
        var n = clip.notes[i];
        flat.push(n.pitch, n.start_time - clip.start, n.duration, n.velocity, n.mute ? 1 : 0);
    }
    send("/magenta/clip/begin", [requestId, slot, clip.notes.length, clip.length,
        song.tempo, song.numerator, song.denominator, drums ? 1 : 0]);
    var width = NOTES_PER_CHUNK * 5;
    for (i = 0; i * width < flat.length; i++) {
        send("/magenta/clip/notes", [requestId, slot, i].concat(flat.slice(i * width, (i + 1) * width)));
    }
}

function toolParams(tool, song) {
    var args = [];
    var names = TOOLS[tool].params;
    for (var i = 0; i < names.length; i++) {
        var name = names[i];
        if (name === "key") {
            var key = songKey(song);
            if (key) { args.push("key", key); }
        } else if (settings[name] !== "") {
            args.push(name, settings[name]);
        }
    }
    if (settings.model) { args.push("model", settings.model); }
    args.push("reply_port", replyPort);
    return args;
}

function songKey(song) {
    if (!settings.keylock) { return ""; }
    var mode = LIVE_SCALES[song.scaleName];
    if (!mode) {
        status("key lock off: Live's scale " + song.scaleName + " has no daemon mode");
        return "";
    }
    return ROOT_NAMES[song.rootNote % 12] + ":" + mode;
}

// ---------------------------------------------------------------------------------------
// UI messages

function runTool(tool) {
    if (job) { return status("busy: " + job.tool + " is running (Cancel first)"); }
    try {
        startJob(tool);
    } catch (error) {
        job = null;
        status("error: " + tool + ": " + error.message);
    }
}

function startJob(tool) {
    var song = readSong();
    var place = sourcePlace();
    if (!place && TOOLS[tool].clips > 0) {
        return status("error: select a MIDI clip (or play one in this device's track)");
    }
    var sources = [];
    if (TOOLS[tool].clips >= 1) { sources.push(readClip(place.clip)); }
    if (TOOLS[tool].clips === 2) {
        var second = nextClipPath(place.track, place.slot);
        if (!second) { return status("error: interpolate needs a second clip below the selected one"); }
        sources.push(readClip(second));
    }
    var track = place ? place.track : deviceTrackPath();
    job = { id: newRequestId(), tool: tool, track: track, fromSlot: place ? place.slot : -1,
        sources: sources, results: {}, count: -1, jobId: "" };
    // A Drum Rack on the source's track: its clips are drum parts (pitches name drums).
    var drums = sources.length > 0 && hasDrumRack(place.track);
    for (var i = 0; i < sources.length; i++) { sendClip(job.id, i, sources[i], song, drums); }
    send("/magenta/tool/" + tool, [job.id].concat(toolParams(tool, song)));
    status(tool + ": sent " + sources.length + " clip(s), waiting for the daemon");
}

function cancel() {
    if (!job) { return status("nothing to cancel"); }
    send("/magenta/job/cancel", [job.id]);
    status(job.tool + ": cancelling");
}

// Max calls the function named like the message: one per tool.
function generate() { runTool("generate"); }
function interpolate() { runTool("interpolate"); }
function vary() { runTool("vary"); }
function groove() { runTool("groove"); }
function drumify() { runTool("drumify"); }
// `continue` is a reserved word: Max routes that message through anything().

function anything() {
    var args = Array.prototype.slice.call(arguments);
    if (messagename === "continue") { return runTool("continue"); }
    if (messagename.charAt(0) === "/") { return reply(messagename, args); }
    status("error: unknown message " + messagename);
}

function status(text) {
    outlet(STATUS_OUT, ["set", text]);
}

// ---------------------------------------------------------------------------------------
// Reading the clip (Live Object Model)

function readSong() {
    var song = new LiveAPI("live_set");
    return {
        tempo: song.get("tempo")[0],
        numerator: song.get("signature_numerator")[0],
        denominator: song.get("signature_denominator")[0],
        rootNote: song.get("root_note")[0],
        // Max may split a string property into words: join them back.
        scaleName: song.get("scale_name").join(" ")
    };
}

// The clip to read and where it lives: the clip in Live's detail view (Session or
// Arrangement), else the clip playing in this device's track.
function sourcePlace() {
    var detail = new LiveAPI("live_set view detail_clip");
    if (Number(detail.id) !== 0) {
        var words = detail.unquotedpath.split(" ");
        // "live_set tracks T clip_slots S clip" or "live_set tracks T arrangement_clips A"
        var slot = words[3] === "clip_slots" ? Number(words[4]) : -1;
        return { clip: detail.unquotedpath, track: words.slice(0, 3).join(" "), slot: slot };
    }
    var track = deviceTrackPath();
    var playing = new LiveAPI(track).get("playing_slot_index")[0];
    if (playing >= 0) {
        var path = track + " clip_slots " + playing;
        if (new LiveAPI(path).get("has_clip")[0]) {
            return { clip: path + " clip", track: track, slot: playing };
        }
    }
    return null;
}

function deviceTrackPath() {
    return new LiveAPI("this_device canonical_parent").unquotedpath;
}

// Whether a device on the track can hold drum pads (a Drum Rack, Live's drum instruments).
function hasDrumRack(track) {
    var count = new LiveAPI(track).getcount("devices");
    for (var d = 0; d < count; d++) {
        if (new LiveAPI(track + " devices " + d).get("can_have_drum_pads")[0]) { return true; }
    }
    return false;
}

function nextClipPath(track, fromSlot) {
    var count = new LiveAPI(track).getcount("clip_slots");
    for (var s = fromSlot + 1; s < count; s++) {
        if (new LiveAPI(track + " clip_slots " + s).get("has_clip")[0]) {
            return track + " clip_slots " + s + " clip";
        }
    }
    return null;
}

// The notes inside the loop region, with everything get_notes_extended gives (Live 11+).
function readClip(path) {
    var clip = new LiveAPI(path);
    if (!clip.get("is_midi_clip")[0]) { throw new Error("not a MIDI clip: " + path); }
    var start = clip.get("loop_start")[0];
    var end = clip.get("loop_end")[0];
    var notes = JSON.parse(clip.call("get_notes_extended", 0, 128, start, end - start)).notes;
    notes.sort(function (a, b) { return a.start_time - b.start_time || a.pitch - b.pitch; });
    return { path: path, notes: notes, start: start, length: end - start };
}

// ---------------------------------------------------------------------------------------
// Replies (udpreceive -> anything())

function reply(address, args) {
    if (!job || args[0] !== job.id) { return; } // an old job's late datagram
    if (address === "/magenta/job/accepted") {
        job.jobId = args[1];
        status(job.tool + ": running on " + args[2]);
    } else if (address === "/magenta/job/progress") {
        status(job.tool + ": " + Math.round(args[1] * 100) + "%");
    } else if (address === "/magenta/job/result") {
        addResultChunk(args);
    } else if (address === "/magenta/job/done") {
        finish();
    } else if (address === "/magenta/error") {
        var tool = job.tool;
        job = null;
        status("error: " + tool + ": " + args[1]);
    }
}

// job/result request_id index count chunk chunks length drums (notes)...
function addResultChunk(args) {
    var index = args[1];
    job.count = args[2];
    var result = job.results[index];
    if (!result) {
        result = job.results[index] = { chunks: {}, total: args[4], length: args[5], drums: args[6] };
    }
    result.chunks[args[3]] = args.slice(7);
}

function finish() {
    var clips = [];
    for (var i = 0; i < job.count; i++) {
        var result = job.results[i];
        var notes = result ? assemble(result) : null;
        if (!notes) {
            var lost = job;
            job = null;
            return status("error: " + lost.tool + ": result " + (i + 1) + " lost datagrams; job " + lost.jobId +
                " is kept by the daemon (magenta-bridge history)");
        }
        clips.push({ length: result.length, notes: notes });
    }
    var done = job;
    job = null;
    try {
        var slots = writeResults(done, clips);
        status("done: " + done.tool + " wrote " + clips.length + " clip(s) in slots " + slots.join(", "));
    } catch (error) {
        status("error: " + done.tool + ": writing clips failed: " + error.message);
    }
}

function assemble(result) {
    var flat = [];
    for (var c = 0; c < result.total; c++) {
        if (!result.chunks[c]) { return null; }
        flat = flat.concat(result.chunks[c]);
    }
    var notes = [];
    for (var i = 0; i + 4 < flat.length; i += 5) {
        notes.push({ pitch: flat[i], start_time: flat[i + 1], duration: flat[i + 2],
            velocity: flat[i + 3], mute: flat[i + 4] ? 1 : 0 });
    }
    return notes;
}

// ---------------------------------------------------------------------------------------
// Writing results (Live Object Model): new Session clips, never overwriting one

function writeResults(done, clips) {
    var written = [];
    var extras = TOOLS[done.tool].keepsNotes ? noteExtras(done.sources[0]) : {};
    for (var i = 0; i < clips.length; i++) {
        var slot = emptySlot(done.track, done.fromSlot);
        var slotApi = new LiveAPI(done.track + " clip_slots " + slot);
        slotApi.call("create_clip", clips[i].length);
        var clip = new LiveAPI(done.track + " clip_slots " + slot + " clip");
        clip.set("name", done.tool + " " + (i + 1));
        clip.call("add_new_notes", { notes: liveNotes(clips[i].notes, extras) });
        written.push(slot);
    }
    return written;
}

// The first slot below `fromSlot` without a clip; a new scene at the end when none is.
function emptySlot(track, fromSlot) {
    var count = new LiveAPI(track).getcount("clip_slots");
    for (var s = fromSlot + 1; s < count; s++) {
        if (!new LiveAPI(track + " clip_slots " + s).get("has_clip")[0]) { return s; }
    }
    new LiveAPI("live_set").call("create_scene", -1);
    return count;
}

// Probability, velocity deviation and release velocity of the source's notes, by pitch and
// start (groove moves hits a little, so this matches the unmoved ones only).
function noteExtras(source) {
    var extras = {};
    for (var i = 0; i < source.notes.length; i++) {
        var n = source.notes[i];
        extras[noteKey(n.pitch, n.start_time - source.start)] = n;
    }
    return extras;
}

function noteKey(pitch, start) {
    return pitch + "@" + Math.round(start * 960);
}

function liveNotes(notes, extras) {
    var out = [];
    for (var i = 0; i < notes.length; i++) {
        var n = notes[i];
        var note = { pitch: n.pitch, start_time: n.start_time, duration: n.duration,
            velocity: n.velocity, mute: n.mute };
        var original = extras[noteKey(n.pitch, n.start_time)];
        if (original) {
            note.probability = original.probability;
            note.velocity_deviation = original.velocity_deviation;
            note.release_velocity = original.release_velocity;
        }
        out.push(note);
    }
    return out;
}
