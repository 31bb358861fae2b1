"""The OSC API as data: every address, its arguments and its replies, declared once.

The dispatcher routes by this table and `docs/osc-api.md` is generated from it (a test
fails when the two differ), so the documentation cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.tools.registry import TOOLS

ROOT = "/magenta"


@dataclass(frozen=True)
class Arg:
    name: str
    type: str  # OSC type as a client sees it: int, float, string, number (int or float), any
    help: str
    optional: bool = False
    repeated: bool = False


@dataclass(frozen=True)
class Address:
    path: str
    handler: str  # method name on OscService
    summary: str
    args: tuple[Arg, ...] = ()
    replies: tuple[str, ...] = ()


REQUEST_ID = Arg("request_id", "string", "chosen by the client; echoed by every reply")
NOTE = Arg(
    "pitch start duration velocity mute",
    "number",
    "notes as flat 5-tuples in AbletonOSC's order (beats; mute 0 or 1)",
    repeated=True,
)
REPLY_PORT = Arg(
    "reply_port",
    "int",
    "send the reply to this port of the sender's host (Max's udpsend sends from a random port)",
    optional=True,
)
PARAMS = Arg(
    "key value",
    "any",
    "parameters as key/value pairs (see Tools below)",
    optional=True,
    repeated=True,
)

REQUESTS: tuple[Address, ...] = (
    Address(
        f"{ROOT}/test",
        "test",
        "Health check: whether the job workers are alive, and how many jobs wait and run. "
        "With `osc.token` set, a reply_port needs `auth` first.",
        (Arg("request_id", "string", "echoed", optional=True), REPLY_PORT),
        (
            f"{ROOT}/test request_id status version workers_alive workers queued running "
            "(status 'ok', or 'degraded' when a worker has stopped)",
        ),
    ),
    Address(
        f"{ROOT}/auth",
        "auth",
        "Present the shared token (only needed when `osc.token` is configured); authorises "
        "the socket it came from (UDP host and port, or the TCP connection), whatever reply "
        "port it names later. After 5 wrong tokens in 60 s a host waits before trying again.",
        (REQUEST_ID, Arg("token", "string", "the configured token")),
        (f"{ROOT}/auth request_id 'ok'",),
    ),
    Address(
        f"{ROOT}/models/list",
        "models_list",
        "The loaded models: content is what each is made for (melody, drums, polyphony, "
        "trio or performance), the value of a tool request's `content` key.",
        (REQUEST_ID, REPLY_PORT),
        (f"{ROOT}/models/list request_id (name family device content)...",),
    ),
    Address(
        f"{ROOT}/models/reload",
        "models_reload",
        "Read the config file again and serve the models it names now, without a restart: new "
        "and changed models load (those `magenta-bridge models fetch` installed too), the "
        "others stay warm, removed ones are dropped. All or nothing: if a model fails to load, "
        "the error names it and the models served before stay. Other settings need a restart. "
        "The reply comes once loading is done (seconds for large models) and lists the models "
        "as models/list does.",
        (REQUEST_ID, REPLY_PORT),
        (f"{ROOT}/models/reload request_id (name family device content)...",),
    ),
    Address(
        f"{ROOT}/tools/list",
        "tools_list",
        "The tools this daemon serves.",
        (REQUEST_ID, REPLY_PORT),
        (f"{ROOT}/tools/list request_id name...",),
    ),
    Address(
        f"{ROOT}/clip/begin",
        "clip_begin",
        "Announce a clip for a request; its notes follow in clip/notes chunks.",
        (
            REQUEST_ID,
            Arg("slot", "int", "which input clip (0 for tools taking one clip)"),
            Arg("note_count", "int", "notes that will follow, 0 to limits.max_notes"),
            Arg("length", "number", "clip length in beats"),
            Arg("qpm", "number", "tempo, quarter notes per minute", optional=True),
            Arg("numerator", "int", "time signature numerator (default 4)", optional=True),
            Arg("denominator", "int", "time signature denominator (default 4)", optional=True),
            Arg(
                "drums",
                "int",
                "1: a drum part (Drum Rack, MIDI channel 10), pitches name drums (default 0)",
                optional=True,
            ),
            Arg(
                "reply_port",
                "int",
                "send this upload's replies and errors (clip/notes' too) to this port of the "
                "sender's host (after all the optional arguments before it)",
                optional=True,
            ),
        ),
        (f"{ROOT}/clip/ready request_id slot note_count (once all notes arrived)",),
    ),
    Address(
        f"{ROOT}/clip/notes",
        "clip_notes",
        "One chunk of a clip's notes; chunks may arrive in any order.",
        (
            REQUEST_ID,
            Arg("slot", "int", "as in clip/begin"),
            Arg("chunk", "int", "0, 1, ..."),
            NOTE,
        ),
        (f"{ROOT}/clip/ready request_id slot note_count (after the last chunk)",),
    ),
    Address(
        f"{ROOT}/clip/file",
        "clip_file",
        "Use a MIDI file inside the configured input folder as the clip in a slot.",
        (
            REQUEST_ID,
            Arg("slot", "int", "which input clip"),
            Arg("path", "string", "relative to osc.input_folder (or absolute inside it)"),
            REPLY_PORT,
        ),
        (f"{ROOT}/clip/ready request_id slot note_count",),
    ),
    *(
        Address(
            f"{ROOT}/tool/{name}",
            "tool",
            f"Run {name}: {tool.summary}. Takes the clip(s) uploaded under this request id. "
            "Reserved keys: `model` (default: chosen by the first clip's content with the "
            "config's `by_content`: drums, chords or melody; else the first model serving the "
            "tool; `content` melody, drums or polyphony chooses as a clip of that content would, "
            "for tools taking no clip), `render` (1: also write a WAV preview), `reply_port` "
            "(send this job's replies there), `play` (1: also play the first result on the MIDI "
            "out port, from its next bar line).",
            (REQUEST_ID, PARAMS),
            (
                f"{ROOT}/job/accepted request_id job_id model why_this_model",
                f"{ROOT}/job/progress request_id fraction",
                f"{ROOT}/job/warning request_id text (e.g. some results are silent)",
                f"{ROOT}/job/result request_id index count chunk chunks length drums (notes)...",
                f"{ROOT}/job/preview request_id index wav_path",
                f"{ROOT}/job/file request_id index count midi_path (only when the paths do "
                "not fit in job/done's datagram)",
                f"{ROOT}/job/done request_id job_id midi_path...",
                f"{ROOT}/error request_id message",
            ),
        )
        for name, tool in TOOLS.items()
    ),
    Address(
        f"{ROOT}/midi/learn",
        "midi_learn",
        "Bind a call-and-response control (temperature, bars, model, listen, panic, answer) "
        "to the next control change that arrives on the MIDI in port.",
        (REQUEST_ID, Arg("control", "string", "the control's name")),
        (f"{ROOT}/midi/learn request_id 'ok'",),
    ),
    Address(
        f"{ROOT}/midi/panic",
        "midi_panic",
        "Stop every answer and result playing on the MIDI out port: note offs for what sounds, "
        "then all-notes-off (CC 123) on all 16 channels.",
        (REQUEST_ID,),
        (f"{ROOT}/midi/panic request_id 'ok'",),
    ),
    Address(
        f"{ROOT}/job/cancel",
        "job_cancel",
        "Cancel this client's job with that request id; the job ends with an error 'cancelled'.",
        (REQUEST_ID,),
        (f"{ROOT}/error request_id 'cancelled'",),
    ),
    Address(
        f"{ROOT}/job/get",
        "job_get",
        "Send a finished job's results again, by job id (from accepted or done, or history).",
        (
            REQUEST_ID,
            Arg("job_id", "string", "the daemon's job id"),
            REPLY_PORT,
        ),
        (f"{ROOT}/job/result ...", f"{ROOT}/job/preview ...", f"{ROOT}/job/done ..."),
    ),
)

BY_PATH = {address.path: address for address in REQUESTS}
