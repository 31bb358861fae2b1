"""docs/osc-api.md, generated from the API table and the tool registry.

Regenerate with `python -m bridge.frontends.osc.docs > docs/osc-api.md`; a test fails
when the committed file differs from what this prints.
"""

from __future__ import annotations

from bridge.config import EngineConfig, Limits, OscConfig
from bridge.frontends.osc.api import REQUESTS, Address
from bridge.tools.registry import TOOLS

INTRO = f"""# OSC API

Generated from `bridge/frontends/osc/api.py` and `bridge/tools/registry.py`; do not edit.

The daemon (`magenta-bridge serve`) listens on UDP and TCP port {OscConfig.port} of
{OscConfig.host} by default, IPv4 or IPv6 as `osc.host` names (`--host ::1`). Any address
beyond loopback needs `osc.token` (or `osc.allow_without_token: true` on a trusted network).

**Transports.** Over TCP, every reply comes back on the same connection, framed as the
client frames its packets: SLIP (OSC 1.1, a first byte 0xC0 or the packet's own) or OSC 1.0's
big-endian int32 length prefix (liblo's `osc.tcp://`; a first byte 0). Over UDP, replies go
to the sender's address, or to `osc.reply_port` when configured, or to the `reply_port` a
request names (Max's `udpsend` and liblo's `oscsend` send from sockets that hear nothing);
no reply datagram exceeds `osc.max_datagram` ({OscConfig.max_datagram} bytes by default),
and neither may a request. Result notes come in numbered chunks; when a job's file paths do
not fit in `job/done`, each comes in a `job/file` first.

**Identity.** A UDP client is its host: uploads and jobs belong to the host that sent them,
whichever socket sent each packet, so a client may send from several sockets (`oscsend`
runs one process per message), and a client on another host never reaches them. A TCP
client is its connection. Request ids are chosen by clients; pick unique ones (a time stamp
and a counter) when several programs on one host talk to the daemon. Authorisation
(`/magenta/auth`) belongs to the socket that sent the token, never to a reply port.

**Limits** (`limits` in the config, defaults below) are enforced at the door: notes per
clip, clip length in beats, MIDI file size, unfinished uploads per client socket (an
upload not finished within 120 s is dropped). The job timeout (`engine.job_timeout_s`,
{EngineConfig.job_timeout_s:g} s from acceptance) is a hard limit: the client hears
`timed out` at the deadline and the job is stopped.

Conventions (as AbletonOSC's): addresses are `/magenta/<noun>/<verb>`; the first argument
of every request is the client's request id, echoed by every reply; notes travel as flat
5-tuples `pitch start duration velocity mute` in beats; parameters are key/value pairs.
Numbers may be sent as ints or floats (Pure Data sends floats). Every request gets either
its documented replies or `/magenta/error request_id message`; a tool request ends with
exactly one of `/magenta/job/done` or `/magenta/error`.

A tool request's life cycle: `clip/begin` + `clip/notes` chunks (or `clip/file`) ->
`clip/ready`; `tool/<name>` -> `job/accepted` -> `job/progress`... -> `job/result` chunks
-> `job/preview` (with `render 1`) -> `job/done` with the paths of the result MIDI files,
which the daemon keeps (see `magenta-bridge history`; `job/get` sends them again).
Result notes are in beats from the result's own start. A continuation starts at the first
bar line at or after the clip's end, counted from the clip's start (a 7.75-beat clip in 4/4
is continued from beat 8), and holds the notes still sounding there; place it at that bar
line in the DAW. The other tools' results start where their input starts.
A full queue answers `/magenta/error request_id "busy: ..."` at once. A result is never an
empty clip without a word: when some results are silent, `job/warning` says which before
the results (and again with `job/get`: the history keeps it), as it says what a tool did
beyond the request (fewer distinct variations, a shorter clip looped); when all results are
silent, the job ends with an error saying so.
UDP may drop datagrams a busy client does not read in time (large results are many
datagrams): give the receiving socket a large buffer, or use TCP, or ask again with
`job/get` and the job id from `job/accepted`.

Example with liblo's tools, with the default config (replies at port 11301, printed by
`oscdump`):

```
oscdump -L 11301 &
oscsend localhost {OscConfig.port} /magenta/clip/file sisi r1 0 folk_melody.mid 11301
oscsend localhost {OscConfig.port} /magenta/tool/continue ssisisi r1 bars 4 seed 7 reply_port 11301
```
"""


def render() -> str:
    """The whole document."""
    parts = [INTRO, "## Requests\n"]
    parts += [_address(address) for address in REQUESTS]
    parts.append("## Tools\n")
    limits = Limits()
    for tool in TOOLS.values():
        parts.append(f"### `{tool.name}`\n\n{tool.summary}; runs on {tool.runs_on}, ")
        parts[-1] += f"takes {tool.inputs} clip(s).\n\n| key | type, range, default | meaning |\n"
        parts[-1] += "|-----|------|---------|\n"
        for param in tool.params:
            parts[-1] += f"| `{param.name}` | {param.describe()} | {param.help} |\n"
    parts.append(
        "Limits (`limits` in the config; defaults): "
        + ", ".join(f"{name} {value}" for name, value in vars(limits).items())
        + ".\n"
    )
    return "\n".join(parts)


def _address(address: Address) -> str:
    args = " ".join(
        f"[{a.name}]" if a.optional else (f"{a.name}..." if a.repeated else a.name)
        for a in address.args
    )
    lines = [f"### `{address.path}` {args}".rstrip(), "", address.summary, ""]
    for arg in address.args:
        lines.append(
            f"- `{arg.name}` ({arg.type}{', optional' if arg.optional else ''}): {arg.help}"
        )
    if address.replies:
        lines += ["", "Replies:", ""]
        lines += [f"- `{reply}`" for reply in address.replies]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
