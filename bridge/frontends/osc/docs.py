"""docs/osc-api.md, generated from the API table and the tool registry.

Regenerate with `python -m bridge.frontends.osc.docs > docs/osc-api.md`; a test fails
when the committed file differs from what this prints.
"""

from __future__ import annotations

from bridge.config import Limits, OscConfig
from bridge.frontends.osc.api import REQUESTS, Address
from bridge.tools.registry import TOOLS

INTRO = f"""# OSC API

Generated from `bridge/frontends/osc/api.py` and `bridge/tools/registry.py`; do not edit.

The daemon (`magenta-bridge serve`) listens on UDP and TCP port {OscConfig.port} of
{OscConfig.host} by default. Over TCP, packets are framed with SLIP (OSC 1.1) and every
reply comes back on the same connection. Over UDP, replies go to the sender's address, or
to `osc.reply_port` when configured (Max's `udpsend` sends from a random port), or to the
`reply_port` given in a tool request; no reply datagram exceeds `osc.max_datagram`
({OscConfig.max_datagram} bytes by default), and neither may a request.

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
A full queue answers `/magenta/error request_id "busy: ..."` at once.
UDP may drop datagrams a busy client does not read in time (large results are many
datagrams): give the receiving socket a large buffer, or use TCP, or ask again with
`job/get` and the job id from `job/accepted`.

Example with liblo's tools (replies to a fixed `osc.reply_port`, read with `oscdump`):

```
oscsend localhost {OscConfig.port} /magenta/clip/file sis r1 0 folk_melody.mid
oscsend localhost {OscConfig.port} /magenta/tool/continue ssisi r1 bars 4 seed 7
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
