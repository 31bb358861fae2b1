// Magenta Bridge device logic for Max's `js` object (ES5 only: Max's js engine is ES5).
//
// Inlet 0 takes the UI's messages (continue, generate, interpolate, vary, groove, drumify,
// harmonize, infill, cancel, confirm, hello, set <param> <value>) and the daemon's replies as
// udpreceive outputs them (the OSC address is the message name). Outlet 0 goes to udpsend (one
// list per OSC message, the address first); outlet 1 gives status lines ("set <text>") for a
// comment; outlet 2 fills the model menu (a umenu: clear, append <name>...).
//
// Sections: settings, the daemon (OSC, watchdog), reading (LOM), the drum kit, replies,
// writing results (LOM), harmonize's voices, infill's span. The daemon's API is
// docs/osc-api.md; the Live Object Model is Ableton's LOM reference.

inlets = 1;
outlets = 3;

var OSC_OUT = 0;
var STATUS_OUT = 1;
var MENU_OUT = 2;

// ---------------------------------------------------------------------------------------
// Settings

// Notes per clip/notes datagram: 25 bytes a note keeps 100 notes near 2.6 KB, far below
// the daemon's 8192-byte limit and macOS's 9 KB UDP cap.
var NOTES_PER_CHUNK = 100;

// Seconds without a word from the daemon before the device says so: a health check and a
// tool request are answered at once (accepted, or an error); a job sends progress as it runs.
var ANSWER_TIMEOUT = 3;
var JOB_TIMEOUT = 120;

// udpsend sends from a random port, so every request (uploads too) names the port
// udpreceive listens on; the patcher passes it as the js object's first argument.
var replyPort = (typeof jsarguments !== "undefined" && jsarguments.length > 1) ? jsarguments[1] : 11301;

// keepsNotes: the tool's results hold the source's notes in place (groove re-times the
// clip's own hits), so their probability and velocity deviation carry over. always: key/value
// pairs sent whatever the UI says, as the tool's writer relies on them. span: the tool writes
// a span of the clip again (the selected notes', else the loop region's). write: the tool's
// own writer, when its results are not plain new clips.
var TOOLS = {
    "continue": { clips: 1, params: ["bars", "variations", "temperature", "seed", "key", "pitch_low", "pitch_high",
        "density", "polyphony"] },
    "generate": { clips: 0, params: ["bars", "variations", "temperature", "seed", "key", "pitch_low", "pitch_high"] },
    "interpolate": { clips: 2, params: ["steps", "mode", "endpoints", "temperature", "seed", "key", "pitch_low",
        "pitch_high"] },
    "vary": { clips: 1, params: ["variations", "distance", "temperature", "seed", "key", "pitch_low", "pitch_high"] },
    "groove": { clips: 1, params: ["variations", "temperature", "seed", "keep_hits", "backbone"], keepsNotes: true },
    "drumify": { clips: 1, params: ["variations", "temperature", "seed", "backbone"] },
    "harmonize": { clips: 1, params: ["variations", "temperature", "seed", "gibbs_steps", "key", "pitch_low",
        "pitch_high"], always: ["voices_apart", 1], write: writeVoices },
    "infill": { clips: 1, params: ["variations", "temperature", "seed", "gibbs_steps", "key", "pitch_low",
        "pitch_high"], always: ["voices_apart", 0], span: true, keepsNotes: true, write: writeInfill }
};

// A key and a pitch range are for pitched parts: a drum part (a Drum Rack's clip, or generate
// on a Drum Rack track) goes without them, as the daemon's drum models refuse them.
var PITCHED = { key: 1, pitch_low: 1, pitch_high: 1 };

// What the UI set; an empty value is not sent, so the daemon's default applies.
// kitmap: on a Drum Rack track, move Magenta's drum pitches to the pads that hold those
// drums (by pad name), and read the pads' notes as the drums they name. gibbs_steps: Coconet's
// passes (harmonize, infill): fewer are faster and rougher; "" leaves the daemon's default.
// density (notes started per bar) and polyphony (notes sounding at once): continue's texture;
// distance: how far vary goes from the clip; mode and endpoints: interpolate's path;
// keep_hits (groove) and backbone (groove, drumify): which drum hits the results keep.
var settings = { bars: 4, variations: 1, temperature: 1.0, steps: 5, seed: "", pitch_low: "",
    pitch_high: "", keylock: 0, model: "", kitmap: 1, gibbs_steps: "", density: "", polyphony: "",
    distance: "", mode: "", endpoints: "", keep_hits: "", backbone: "" };

// A control at these values is off, or at the daemon's own default: it is not sent.
var UNSET = { pitch_low: 0, pitch_high: 127, density: 0, polyphony: 0, distance: 0.5, mode: "spherical",
    endpoints: 1, keep_hits: 1, backbone: 1 };

// Live's scale_name values that match a daemon mode; others turn key lock off.
var LIVE_SCALES = {
    "Major": "major", "Minor": "minor", "Dorian": "dorian", "Mixolydian": "mixolydian",
    "Lydian": "lydian", "Phrygian": "phrygian", "Locrian": "locrian",
    "Harmonic Minor": "harmonic_minor", "Melodic Minor": "melodic_minor",
    "Major Pentatonic": "major_pentatonic", "Minor Pentatonic": "minor_pentatonic",
    "Minor Blues": "blues"
};
var ROOT_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];

// A seed or pitch bound of -1 (a number box's "off"), Gibbs steps below 1, a value of UNSET, or
// "" mean: not set.
function set(name, value) {
    if (!(name in settings)) { return status("error: unknown setting " + name); }
    if (name === "model" && value === "auto") { value = ""; }
    if ((name === "seed" || name === "pitch_low" || name === "pitch_high") && value < 0) { value = ""; }
    if (name === "gibbs_steps" && value < 1) { value = ""; }
    if (name in UNSET && value === UNSET[name]) { value = ""; }
    settings[name] = value;
}

// ---------------------------------------------------------------------------------------
// The daemon: requests, the health check, the watchdog

var requestCount = 0;
var job = null; // the one job in flight: {id, tool, place, sources, results, ...}
var pending = null; // results waiting for the user to confirm writing over Arrangement clips
var daemon = { found: false, version: "", models: [] }; // models: [{name, family, content}]
var watchdog = new Task(timedOut, this);
var waitingFor = ""; // what the watchdog waits for: "hello" or "job"
var reloadId = ""; // the models/reload request waiting for its answer

function newRequestId() {
    requestCount += 1;
    // A letter first, so Max keeps it a symbol (an OSC string) rather than a number.
    return "m4l-" + new Date().getTime() + "-" + requestCount;
}

function send(address, args) {
    outlet(OSC_OUT, [address].concat(args));
}

function expect(what, seconds) {
    waitingFor = what;
    watchdog.cancel();
    watchdog.schedule(seconds * 1000);
}

var NO_DAEMON = "no daemon answers on 127.0.0.1:11300: start it with magenta-bridge serve";

function timedOut() {
    if (waitingFor === "hello") {
        daemon.found = false;
        status("error: " + NO_DAEMON);
    } else if (waitingFor === "job" && job) {
        var lost = job;
        job = null;
        status("error: " + lost.tool + ": " + (lost.jobId ? "no word from the daemon for " + JOB_TIMEOUT +
            " s; job " + lost.jobId + " is kept (magenta-bridge history)" : NO_DAEMON));
    }
    waitingFor = "";
}

// Find the daemon and its models: live.thisdevice sends hello once Live's API is ready.
function hello() {
    var id = newRequestId();
    send("/magenta/test", [id, replyPort]);
    send("/magenta/models/list", [id, replyPort]);
    expect("hello", ANSWER_TIMEOUT);
}

// The Refresh button: the daemon reads its config again (models just fetched, or added by
// hand) and the model menu lists what it serves now. Loading takes a while: no watchdog.
function refresh() {
    var id = newRequestId();
    reloadId = id;
    send("/magenta/test", [id, replyPort]);
    send("/magenta/models/reload", [id, replyPort]);
    expect("hello", ANSWER_TIMEOUT);
}

// clip/begin then clip/notes chunks for one input clip.
function sendClip(requestId, slot, clip, song, kit) {
    var flat = [];
    var i;
    for (i = 0; i < clip.notes.length; i++) {
        var n = clip.notes[i];
        var pitch = kit ? kit.toMagenta(n.pitch) : n.pitch;
        flat.push(pitch, n.start_time - clip.start, n.duration, n.velocity, n.mute ? 1 : 0);
    }
    send("/magenta/clip/begin", [requestId, slot, clip.notes.length, clip.length,
        song.tempo, song.numerator, song.denominator, kit ? 1 : 0, replyPort]);
    var width = NOTES_PER_CHUNK * 5;
    for (i = 0; i * width < flat.length; i++) {
        send("/magenta/clip/notes", [requestId, slot, i].concat(flat.slice(i * width, (i + 1) * width)));
    }
}

function toolParams(tool, song, drums, span) {
    var args = [];
    var names = TOOLS[tool].params;
    for (var i = 0; i < names.length; i++) {
        var name = names[i];
        if (drums && PITCHED[name]) { continue; }
        if (name === "key") {
            var key = songKey(song);
            if (key) { args.push("key", key); }
        } else if (settings[name] !== "") {
            args.push(name, settings[name]);
        }
    }
    if (TOOLS[tool].always) { args = args.concat(TOOLS[tool].always); }
    if (span) { args.push("start", span.start, "end", span.end); }
    if (settings.model) {
        args.push("model", settings.model);
    } else if (TOOLS[tool].clips === 0) {
        args.push("content", drums ? "drums" : "melody"); // no clip tells the daemon which
    }
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
    pending = null; // a new request drops results still waiting for confirmation
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
        var second = nextClipPath(place);
        if (!second) {
            var where = place.slot >= 0 ? "below the selected one" : "after the selected one";
            return status("error: interpolate needs a second clip " + where);
        }
        sources.push(readClip(second));
    }
    if (!place) { place = { clip: "", track: deviceTrackPath(), slot: -1, session: true }; }
    var kit = drumKit(place.track);
    var span = TOOLS[tool].span ? selectedSpan(sources[0]) : null;
    job = { id: newRequestId(), tool: tool, place: place, sources: sources, kit: kit, span: span,
        variations: Number(settings.variations) || 1, song: song, results: {}, count: -1, jobId: "" };
    for (var i = 0; i < sources.length; i++) { sendClip(job.id, i, sources[i], song, kit); }
    send("/magenta/tool/" + tool, [job.id].concat(toolParams(tool, song, kit !== null, span)));
    expect("job", ANSWER_TIMEOUT);
    status(tool + ": sent " + sources.length + " clip(s), waiting for the daemon");
}

function cancel() {
    if (pending) {
        var dropped = pending;
        pending = null;
        return status(dropped.rewritten ? "cancelled: the other versions are not written"
            : "cancelled: nothing written");
    }
    if (!job) { return status("nothing to cancel"); }
    send("/magenta/job/cancel", [job.id]);
    status(job.tool + ": cancelling");
}

function confirm() {
    if (!pending) { return status("nothing to confirm"); }
    var done = pending;
    pending = null;
    write(done, true);
}

// Max calls the function named like the message: one per tool.
function generate() { runTool("generate"); }
function interpolate() { runTool("interpolate"); }
function vary() { runTool("vary"); }
function groove() { runTool("groove"); }
function drumify() { runTool("drumify"); }
function harmonize() { runTool("harmonize"); }
function infill() { runTool("infill"); }
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
// Reading (Live Object Model)

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
// Arrangement), else the clip playing in this device's track. `session` is false for an
// Arrangement clip, whose results go after it in the Arrangement (Live 12 and later).
function sourcePlace() {
    var detail = new LiveAPI("live_set view detail_clip");
    if (Number(detail.id) !== 0) {
        var words = detail.unquotedpath.split(" ");
        // "live_set tracks T clip_slots S clip" or "live_set tracks T arrangement_clips A"
        var inSession = words[3] === "clip_slots";
        return { clip: detail.unquotedpath, track: words.slice(0, 3).join(" "),
            slot: inSession ? Number(words[4]) : -1, session: inSession };
    }
    var track = deviceTrackPath();
    var playing = new LiveAPI(track).get("playing_slot_index")[0];
    if (playing >= 0) {
        var path = track + " clip_slots " + playing;
        if (new LiveAPI(path).get("has_clip")[0]) {
            return { clip: path + " clip", track: track, slot: playing, session: true };
        }
    }
    return null;
}

function deviceTrackPath() {
    return new LiveAPI("this_device canonical_parent").unquotedpath;
}

// The next clip after the source: below it in Session, later on the track in Arrangement.
function nextClipPath(place) {
    var track = new LiveAPI(place.track);
    var s;
    if (place.session) {
        var count = track.getcount("clip_slots");
        for (s = place.slot + 1; s < count; s++) {
            if (new LiveAPI(place.track + " clip_slots " + s).get("has_clip")[0]) {
                return place.track + " clip_slots " + s + " clip";
            }
        }
        return null;
    }
    var end = new LiveAPI(place.clip).get("end_time")[0];
    var best = null;
    var bestStart = 0;
    var clips = track.getcount("arrangement_clips");
    for (s = 0; s < clips; s++) {
        var path = place.track + " arrangement_clips " + s;
        var start = new LiveAPI(path).get("start_time")[0];
        if (start >= end && (best === null || start < bestStart)) {
            best = path;
            bestStart = start;
        }
    }
    return best;
}

// The notes inside the loop region (for an unlooped clip: between its markers), with
// everything get_notes_extended gives (Live 11+).
function readClip(path) {
    var clip = new LiveAPI(path);
    if (!clip.get("is_midi_clip")[0]) { throw new Error("not a MIDI clip: " + path); }
    var start = clip.get("loop_start")[0];
    var end = clip.get("loop_end")[0];
    var notes = JSON.parse(clip.call("get_notes_extended", 0, 128, start, end - start)).notes;
    notes.sort(function (a, b) { return a.start_time - b.start_time || a.pitch - b.pitch; });
    return { path: path, notes: notes, start: start, length: end - start, name: clip.get("name").join(" "),
        looping: clip.get("looping")[0] };
}

// The span infill writes again, in beats from the clip's start (the loop start, as the clip
// goes up): from the first selected note's start to the last one's end (Live 11's
// get_selected_notes_extended), else the whole loop region. A selection outside the loop
// region is sent as it is: the daemon says why it cannot take it.
function selectedSpan(source) {
    var selected = JSON.parse(new LiveAPI(source.path).call("get_selected_notes_extended")).notes;
    if (!selected.length) { return { start: 0, end: source.length }; }
    var first = selected[0].start_time;
    var last = selected[0].start_time + selected[0].duration;
    for (var i = 1; i < selected.length; i++) {
        first = Math.min(first, selected[i].start_time);
        last = Math.max(last, selected[i].start_time + selected[i].duration);
    }
    return { start: first - source.start, end: last - source.start };
}

// ---------------------------------------------------------------------------------------
// The drum kit: Magenta's nine drum classes and the Drum Rack pads that play them

// Each class: the pitch Magenta writes for it, the General MIDI keys Magenta files under it
// (its drum mapping), and words a pad's name uses for it ("Kick 808", "Hihat Closed").
var DRUM_CLASSES = [
    { pitch: 36, keys: [35, 36], words: /kick|bass ?drum|\bbd\b/i },
    { pitch: 38, keys: [27, 28, 31, 32, 33, 34, 37, 38, 39, 40, 56, 65, 66, 75, 85],
        words: /snare|clap|rim|\bsd\b|\bsn\b/i },
    { pitch: 42, keys: [22, 42, 44, 54, 68, 69, 70, 71, 73, 78, 80],
        words: /(closed|cl|ch).*(hat|hh)|(hat|hh).*(closed|cl)|\bch\b|shaker|tambourine/i },
    { pitch: 46, keys: [26, 46, 67, 72, 74, 79, 81], words: /open|\boh\b/i },
    { pitch: 45, keys: [29, 41, 43, 45, 61, 64, 84], words: /(low|lo|floor).*tom|tom.*(low|lo)|\blt\b/i },
    { pitch: 48, keys: [47, 48, 60, 63, 77, 86, 87], words: /(mid|md).*tom|tom.*mid|\bmt\b/i },
    { pitch: 50, keys: [30, 50, 62, 76, 83], words: /(high|hi).*tom|tom.*(high|hi)|\bht\b|tom/i },
    { pitch: 49, keys: [49, 52, 55, 57, 58], words: /crash|splash|china|cymbal/i },
    { pitch: 51, keys: [51, 53, 59, 82], words: /ride|bell/i }
];

function classByName(name) {
    for (var c = 0; c < DRUM_CLASSES.length; c++) {
        if (DRUM_CLASSES[c].words.test(name)) { return DRUM_CLASSES[c]; }
    }
    // A plain "hat" or "hh" is a closed hi-hat unless the name says open (matched above).
    return /hat|\bhh\b/i.test(name) ? DRUM_CLASSES[2] : null;
}

function classByKey(pitch) {
    for (var c = 0; c < DRUM_CLASSES.length; c++) {
        if (DRUM_CLASSES[c].keys.indexOf(pitch) >= 0) { return DRUM_CLASSES[c]; }
    }
    return null;
}

// The track's Drum Rack as a kit, or null when the track has none (not a drum part).
// With kit mapping on, its loaded pads name their drums: a pad's notes go to the daemon
// as that drum's Magenta pitch, and each of Magenta's drums comes back on the pad that fits
// it best: named for it and on its key, else named for it, else on one of its keys.
function drumKit(track) {
    var rack = drumRackPath(track);
    if (!rack) { return null; }
    var toMagenta = {};
    var toPad = {};
    if (settings.kitmap) {
        var count = new LiveAPI(rack).getcount("drum_pads");
        for (var p = 0; p < count; p++) {
            var pad = new LiveAPI(rack + " drum_pads " + p);
            if (pad.getcount("chains") === 0) { continue; } // an empty pad plays nothing
            var note = pad.get("note")[0];
            var named = classByName(pad.get("name").join(" "));
            var drum = named || classByKey(note);
            if (!drum) { continue; }
            toMagenta[note] = drum.pitch;
            var fit = (named ? 2 : 0) + (note === drum.pitch ? 1 : 0);
            if (!(drum.pitch in toPad) || fit > toPad[drum.pitch].fit) {
                toPad[drum.pitch] = { note: note, fit: fit };
            }
        }
    }
    return {
        toMagenta: function (pitch) { return pitch in toMagenta ? toMagenta[pitch] : pitch; },
        toPad: function (pitch) { return pitch in toPad ? toPad[pitch].note : pitch; }
    };
}

// Whether a device on the track can hold drum pads (a Drum Rack, Live's drum instruments).
function drumRackPath(track) {
    var count = new LiveAPI(track).getcount("devices");
    for (var d = 0; d < count; d++) {
        var path = track + " devices " + d;
        if (new LiveAPI(path).get("can_have_drum_pads")[0]) { return path; }
    }
    return null;
}

// ---------------------------------------------------------------------------------------
// Replies (udpreceive -> anything())

function reply(address, args) {
    if (address === "/magenta/test" || address === "/magenta/models/list" ||
        address === "/magenta/models/reload") {
        return daemonReply(address, args);
    }
    if (address === "/magenta/error" && args[0] === reloadId) {
        reloadId = "";
        return status("error: " + args[1]);
    }
    if (!job || args[0] !== job.id) { return; } // an old job's late datagram
    expect("job", JOB_TIMEOUT);
    if (address === "/magenta/job/accepted") {
        job.jobId = args[1];
        status(job.tool + ": running on " + args[2]);
    } else if (address === "/magenta/job/progress") {
        status(job.tool + ": " + Math.round(args[1] * 100) + "%");
    } else if (address === "/magenta/job/result") {
        addResultChunk(args);
    } else if (address === "/magenta/job/done") {
        watchdog.cancel();
        finish();
    } else if (address === "/magenta/error") {
        watchdog.cancel();
        var tool = job.tool;
        job = null;
        status("error: " + tool + ": " + args[1]);
    }
}

function daemonReply(address, args) {
    if (address === "/magenta/test") {
        watchdog.cancel();
        daemon.found = true;
        daemon.version = args[2];
        status(args[1] === "ok" ? "daemon found: magenta-bridge " + args[2] :
            "error: the daemon's job workers stopped; restart magenta-bridge serve");
        return;
    }
    daemon.models = [];
    outlet(MENU_OUT, "clear");
    outlet(MENU_OUT, ["append", "auto"]);
    for (var i = 1; i + 3 < args.length; i += 4) {
        daemon.models.push({ name: args[i], family: args[i + 1], content: args[i + 3] });
        outlet(MENU_OUT, ["append", args[i]]);
    }
    if (address === "/magenta/models/reload") {
        reloadId = "";
        status("models reloaded: " + daemon.models.length + " served");
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
    done.clips = clips;
    write(done, false);
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
// Writing results (Live Object Model): new clips, each its own undo step, never over an
// existing clip unless the user confirms

function write(done, confirmed) {
    try {
        var what = (TOOLS[done.tool].write || writeClips)(done, confirmed);
        if (what) { status("done: " + done.tool + " " + what); }
    } catch (error) {
        status("error: " + done.tool + ": writing clips failed: " + error.message);
    }
}

// Each result a new clip; "" while they wait for Confirm.
function writeClips(done, confirmed) {
    var where = inSession(done) ? writeSession(done) : writeArrangement(done, confirmed);
    return where ? "wrote " + done.clips.length + " clip(s) " + where : "";
}

function inSession(done) {
    return done.place.session || liveMajorVersion() < 12;
}

// Track.create_midi_clip, which writes into the Arrangement, came with Live 12.
function liveMajorVersion() {
    return Number(new LiveAPI("live_app").call("get_major_version"));
}

// In the next empty slots below the source (new scenes when none is left).
function writeSession(done) {
    var slots = [];
    var extras = noteExtras(done);
    var track = done.place.track;
    for (var i = 0; i < done.clips.length; i++) {
        var slot = emptySlot(track, done.place.slot);
        undoStep(function () {
            new LiveAPI(track + " clip_slots " + slot).call("create_clip", done.clips[i].length);
            fillClip(track + " clip_slots " + slot + " clip", done, i, extras);
        });
        slots.push(slot);
    }
    return "in slots " + slots.join(", ");
}

// One after another from the bar line after the source clip (after the second, for
// interpolate), where the daemon starts a continuation. Other clips in that stretch are only
// written over once the user presses Confirm.
function writeArrangement(done, confirmed) {
    var track = done.place.track;
    var last = new LiveAPI(done.sources[done.sources.length - 1].path);
    var start = barEnd(last.get("start_time")[0], last.get("end_time")[0], done.song);
    var total = 0;
    for (var i = 0; i < done.clips.length; i++) { total += done.clips[i].length; }
    var taken = clipsBetween(track, start, start + total);
    if (taken.length && !confirmed) {
        pending = done;
        status("confirm: beats " + start + " to " + (start + total) + " hold " + taken.join(", ") +
            ": press Confirm to write over them, or Cancel");
        return "";
    }
    var extras = noteExtras(done);
    var at = start;
    for (i = 0; i < done.clips.length; i++) {
        undoStep(function () {
            new LiveAPI(track).call("create_midi_clip", at, done.clips[i].length);
            fillClip(arrangementClipAt(track, at), done, i, extras);
        });
        at += done.clips[i].length;
    }
    return "in the Arrangement from beat " + start;
}

// The first bar line at or after `end`, counting bars from `start` (as the daemon's
// Clip.bar_end does): a clip a 16th short of its bar is followed on the beat.
function barEnd(start, end, song) {
    var bar = song.numerator * 4 / song.denominator;
    return start + Math.max(1, Math.ceil((end - start) / bar - 1e-9)) * bar;
}

function undoStep(edit) {
    var song = new LiveAPI("live_set");
    song.call("begin_undo_step");
    try {
        edit();
    } finally {
        song.call("end_undo_step");
    }
}

function fillClip(path, done, index, extras) {
    var clip = new LiveAPI(path);
    clip.set("name", done.clips[index].name || done.tool + " " + (index + 1));
    clip.call("add_new_notes", { notes: liveNotes(done.clips[index].notes, extras, done.kit) });
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

// Names of the track's Arrangement clips overlapping [start, end).
function clipsBetween(track, start, end) {
    var names = [];
    var count = new LiveAPI(track).getcount("arrangement_clips");
    for (var c = 0; c < count; c++) {
        var clip = new LiveAPI(track + " arrangement_clips " + c);
        if (clip.get("start_time")[0] < end && clip.get("end_time")[0] > start) {
            names.push("\"" + clip.get("name").join(" ") + "\"");
        }
    }
    return names;
}

function arrangementClipAt(track, start) {
    var count = new LiveAPI(track).getcount("arrangement_clips");
    for (var c = 0; c < count; c++) {
        var path = track + " arrangement_clips " + c;
        if (new LiveAPI(path).get("start_time")[0] === start) { return path; }
    }
    throw new Error("Live made no clip at beat " + start);
}

// Probability, velocity deviation and release velocity of the source's notes, by pitch and
// start (groove moves hits a little, so this matches the unmoved ones only).
function noteExtras(done) {
    var extras = {};
    if (!TOOLS[done.tool].keepsNotes) { return extras; }
    var source = done.sources[0];
    for (var i = 0; i < source.notes.length; i++) {
        var n = source.notes[i];
        extras[noteKey(n.pitch, n.start_time - source.start)] = n;
    }
    return extras;
}

function noteKey(pitch, start) {
    return pitch + "@" + Math.round(start * 960);
}

function liveNotes(notes, extras, kit) {
    var out = [];
    for (var i = 0; i < notes.length; i++) {
        var n = notes[i];
        var pitch = kit ? kit.toPad(n.pitch) : n.pitch;
        var note = { pitch: pitch, start_time: n.start_time, duration: n.duration,
            velocity: n.velocity, mute: n.mute };
        var original = extras[noteKey(pitch, n.start_time)];
        if (original) {
            note.probability = original.probability;
            note.velocity_deviation = original.velocity_deviation;
            note.release_velocity = original.release_velocity;
        }
        out.push(note);
    }
    return out;
}

// ---------------------------------------------------------------------------------------
// Harmonize: each voice on a new track

var VOICE_NAMES = ["soprano", "alto", "tenor", "bass"];

// The daemon sends each variation's voices from the top (voices_apart 1). A Live track plays
// one clip at a time, so the voices go on new MIDI tracks right after the source's, one per
// voice and named for it, where they sound together: in Session each variation is a row (the
// source's scene first, then the rows below it, new scenes when none is left), so launching
// the scene plays the chorale; in the Arrangement (Live 12) each variation starts where the
// source does, later ones one after another. New tracks have no instrument yet: the user
// picks one, as for any new MIDI track. Every voice clip keeps the source's length and its
// loop switch. One undo step a variation (the first also makes the tracks).
function writeVoices(done) {
    var voices = done.clips.length / done.variations;
    if (voices !== Math.floor(voices)) {
        throw new Error(done.clips.length + " results do not divide into " + done.variations + " variations");
    }
    var sourceTrack = Number(done.place.track.split(" ")[2]);
    var session = inSession(done);
    var source = done.sources[0];
    var start = session ? 0 : new LiveAPI(source.path).get("start_time")[0];
    var tracks = [];
    var names = [];
    var rows = [];
    for (var k = 0; k < voices; k++) {
        tracks.push("live_set tracks " + (sourceTrack + 1 + k));
        names.push(capitalized(voiceName(k)));
    }
    for (var v = 0; v < done.variations; v++) {
        var row = session ? sceneRow(Math.max(done.place.slot, 0) + v) : -1;
        var at = start + v * done.clips[0].length;
        undoStep(function () {
            if (v === 0) { newTracks(sourceTrack + 1, names); }
            for (var k = 0; k < voices; k++) {
                var result = done.clips[v * voices + k];
                var path;
                if (session) {
                    new LiveAPI(tracks[k] + " clip_slots " + row).call("create_clip", result.length);
                    path = tracks[k] + " clip_slots " + row + " clip";
                } else {
                    new LiveAPI(tracks[k]).call("create_midi_clip", at, result.length);
                    path = arrangementClipAt(tracks[k], at);
                }
                var clip = new LiveAPI(path);
                clip.set("name", voiceName(k) + (v > 0 ? " " + (v + 1) : ""));
                clip.set("looping", source.looping);
                clip.call("add_new_notes", { notes: liveNotes(result.notes, {}, done.kit) });
            }
        });
        rows.push(session ? row : at);
    }
    return "wrote " + done.clips.length + " clip(s) on new tracks " + names.join(", ") +
        (session ? " in slots " + rows.join(", ") : " in the Arrangement from beat " + start);
}

function voiceName(k) {
    return VOICE_NAMES[k] || "voice " + (k + 1);
}

function capitalized(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
}

// MIDI tracks from index `at` on, named in order.
function newTracks(at, names) {
    var song = new LiveAPI("live_set");
    for (var k = 0; k < names.length; k++) {
        song.call("create_midi_track", at + k);
        new LiveAPI("live_set tracks " + (at + k)).set("name", names[k]);
    }
}

// Scene row `row`, made when the set has fewer scenes.
function sceneRow(row) {
    var song = new LiveAPI("live_set");
    while (song.getcount("scenes") <= row) { song.call("create_scene", -1); }
    return row;
}

// ---------------------------------------------------------------------------------------
// Infill: the span written again in the clip itself

// Beats: more than the float32 noise of the wire (up to 6e-5 at beat 1024), so a note the
// daemon may call inside the span is never kept here beside the one it writes instead.
var EPSILON = 1e-4;

// The first variation goes into the source clip, in one undo step: the notes the daemon wrote
// again (those lying wholly in the span, not muted) are removed by id and the new ones added,
// so every other note keeps its id, probability and per-note automation. Further variations
// are new clips, placed as every tool places its results: the source's notes with the span
// written again.
function writeInfill(done, confirmed) {
    var source = done.sources[0];
    var span = done.span;
    if (!done.rewritten) {
        var kept = [];
        for (var i = 0; i < source.notes.length; i++) {
            var n = source.notes[i];
            if (!regenerated(n.start_time - source.start, n, span)) { kept.push(n); }
        }
        var versions = [];
        for (i = 0; i < done.clips.length; i++) {
            versions.push(newNotes(done.clips[i].notes, kept, source, span));
        }
        rewriteSpan(done, versions[0]);
        done.rewritten = "wrote beats " + shown(source.start + span.start) + " to " +
            shown(source.start + span.end) + " of \"" + source.name + "\" again";
        var length = done.clips[0].length;
        done.clips = [];
        for (i = 1; i < versions.length; i++) {
            done.clips.push({ name: "infill " + (i + 1), length: length,
                notes: relative(kept, source).concat(versions[i]) });
        }
        if (!done.clips.length) { return done.rewritten; }
        status("infill: " + done.rewritten);
    }
    var more = writeClips(done, confirmed);
    return more ? done.rewritten + "; the other versions: " + more : "";
}

// Beats for the status line, without float noise.
function shown(beats) {
    return Math.round(beats * 1000) / 1000;
}

// Whether the daemon writes a note again: audible and wholly inside the span (beats from the
// clip's start), as its infill decides.
function regenerated(start, note, span) {
    return !note.mute && start >= span.start - EPSILON && start + note.duration <= span.end + EPSILON;
}

// The generated notes of a result (beats from the clip's start): what is left when the kept
// notes, which the daemon sends back as they were, are taken out; cut to the span, which the
// daemon widens to whole 16ths.
function newNotes(result, kept, source, span) {
    var left = {};
    var i;
    var key;
    for (i = 0; i < kept.length; i++) {
        key = exactKey(kept[i].pitch, kept[i].start_time - source.start, kept[i].duration);
        left[key] = (left[key] || 0) + 1;
    }
    var out = [];
    for (i = 0; i < result.length; i++) {
        var n = result[i];
        key = exactKey(n.pitch, n.start_time, n.duration);
        if (left[key]) {
            left[key] -= 1;
            continue;
        }
        var start = Math.max(n.start_time, span.start);
        var end = Math.min(n.start_time + n.duration, span.end);
        if (end - start > EPSILON) {
            out.push({ pitch: n.pitch, start_time: start, duration: end - start, velocity: n.velocity,
                mute: 0 });
        }
    }
    return out;
}

function exactKey(pitch, start, duration) {
    return noteKey(pitch, start) + "+" + Math.round(duration * 960);
}

// Source notes (absolute clip time) as beats from the clip's start (liveNotes adds their
// probability and velocity deviation back, as infill keepsNotes).
function relative(notes, source) {
    var out = [];
    for (var i = 0; i < notes.length; i++) {
        var n = notes[i];
        out.push({ pitch: n.pitch, start_time: n.start_time - source.start, duration: n.duration,
            velocity: n.velocity, mute: n.mute });
    }
    return out;
}

// The clip's notes in the span now (the user may have edited it while the daemon worked) go,
// the generated ones come, in one undo step.
function rewriteSpan(done, notes) {
    var source = done.sources[0];
    var span = done.span;
    var clip = new LiveAPI(source.path);
    var from = source.start + span.start - EPSILON;
    var now = JSON.parse(clip.call("get_notes_extended", 0, 128, from, span.end - span.start + 2 * EPSILON)).notes;
    var ids = [];
    for (var i = 0; i < now.length; i++) {
        if (regenerated(now[i].start_time - source.start, now[i], span)) { ids.push(now[i].note_id); }
    }
    var placed = [];
    for (i = 0; i < notes.length; i++) {
        var n = notes[i];
        placed.push({ pitch: n.pitch, start_time: n.start_time + source.start, duration: n.duration,
            velocity: n.velocity, mute: 0 });
    }
    undoStep(function () {
        if (ids.length) { clip.call.apply(clip, ["remove_notes_by_id"].concat(ids)); }
        if (placed.length) { clip.call("add_new_notes", { notes: liveNotes(placed, {}, done.kit) }); }
    });
}
