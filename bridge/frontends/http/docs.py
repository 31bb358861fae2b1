"""docs/http-api.md, generated from the app's OpenAPI document.

Regenerate with `python -m bridge.frontends.http.docs > docs/http-api.md`; a test fails when
the committed file differs from what this prints.
"""

from __future__ import annotations

from typing import Any

from bridge.config import HttpConfig, Limits
from bridge.frontends.http.app import create_app
from bridge.frontends.metrics import Metrics

INTRO = f"""# HTTP API

Generated from the routes of `bridge/frontends/http/app.py` and the shapes of
`bridge/frontends/http/schemas.py` (the same document the daemon serves at `/openapi.json`);
do not edit.

The daemon (`magenta-bridge serve`) serves HTTP on port {HttpConfig.port} of {HttpConfig.host}
by default, beside OSC, with the same engine, models, store and limits: a job sent over HTTP
queues and batches with OSC's, and appears in the same history. `serve --http-port N` picks
another port (0: any free one), `--no-http` turns HTTP off; the config's `http` section has
`host`, `port`, `token`, `cors_origins` and `max_upload_bytes`
({HttpConfig.max_upload_bytes} bytes by default). `GET /` is the web page, `/static/` its files.

**Security.** On loopback no token is needed. Any other `http.host` needs `http.token` (the
daemon refuses to start without one), and every API request then sends
`Authorization: Bearer <token>`; wrong tokens are counted per host, and a host that sent
5 within a minute gets `429` for a while. `/v1/health` and `/metrics` answer callers on
loopback without the token (a local health check or Prometheus), others with it. A daemon on
loopback answers only Host headers naming loopback (`127.0.0.1`, `localhost`, `[::1]`), so a
web page cannot reach it through a DNS name rebound to 127.0.0.1; `POST` and `DELETE` sent
by a page of another origin are refused (`403`) unless `http.cors_origins` lists it, and
only listed origins get CORS headers. A client is its host (plus the token's fingerprint):
its jobs are the ones it may cancel.

**Errors** are RFC 9457 problem details, `application/problem+json`:
`{{"type": "urn:magenta-bridge:problem:<kind>", "title", "status", "detail"}}`, the detail
saying what to change. `400` a body that cannot be read, `401` no or a wrong token, `403` see
above, `404` no such job or file, `409` a job not in a state for it, `413` a body over
`http.max_upload_bytes` or a file over `limits.max_file_bytes`, `415` another content type,
`422` a request the daemon cannot serve as sent (unknown tool or model, a parameter out of
range, a clip over the limits, a file that is not MIDI), `429` a full queue (`Retry-After`).

**Jobs.** `POST /v1/jobs` takes either a `multipart/form-data` form, with `tool`, `params`
(a JSON object as text, optional) and MIDI files `clip0`, `clip1` (in slot order; their file
names are ignored), or `application/json` `{{"tool", "params": {{...}}, "clips": [{{"notes":
[[pitch, start, duration, velocity, mute], ...], "length", "qpm", "numerator",
"denominator", "drums"}}]}}` (beats, as over OSC). `params` are the tool's (`GET /v1/tools`,
and docs/osc-api.md's tables) plus `model` (a name; default: chosen by the clip's content),
`content` (melody, drums or polyphony, for a tool without clips) and `render` (1: a WAV
preview of each result). Parameters are checked as over OSC. The answer is `202` with the
job's URLs; the job runs asynchronously:

```
curl -F tool=continue -F 'params={{"bars": 4, "seed": 7}}' \\
     -F clip0=@examples/folk_melody.mid http://127.0.0.1:{HttpConfig.port}/v1/jobs
curl -N http://127.0.0.1:{HttpConfig.port}/v1/jobs/JOB_ID/events
curl -o next.mid http://127.0.0.1:{HttpConfig.port}/v1/jobs/JOB_ID/results/0.mid
```

`GET /v1/jobs/{{job_id}}/events` is a stream of Server-Sent Events: `accepted` (data: the
job), `progress` (data: `{{"progress": 0..1}}`), then one final event, `done` (data: the job,
with its results) or `failed` (data: `{{"error", "status", "job"}}`, status `failed`,
`cancelled` or `timeout`); the stream then ends. A job that has already ended sends its final
event at once. Results are numbered from 0, as OSC's `job/result`; each is a MIDI file
(`audio/midi`), and with `render 1` a WAV (`audio/wav`). Every job's inputs and results stay
in the store: `GET /v1/jobs/{{job_id}}` and the history answer for jobs of any frontend, also
after a restart; a job's `warning` is known for jobs run over HTTP since the daemon started.

Limits (`limits` in the config; defaults):
{", ".join(f"{name} {value}" for name, value in vars(Limits()).items())}.
"""


def render() -> str:
    """The whole document."""
    document = _document()
    parts = [INTRO, "## Endpoints\n"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            parts.append(_operation(method, path, operation))
    parts.append("## Shapes\n")
    for name, schema in sorted(document["components"]["schemas"].items()):
        parts.append(_shape(name, schema))
    return "\n".join(parts)


def _document() -> dict[str, Any]:
    """The app's OpenAPI document; making it runs no route, so no engine is needed."""
    return create_app(None, Metrics(), HttpConfig()).openapi()  # type: ignore[arg-type]


def _operation(method: str, path: str, operation: dict[str, Any]) -> str:
    lines = [f"### `{method.upper()} {path}`", "", " ".join(operation["description"].split())]
    parameters = operation.get("parameters", [])
    if parameters:
        lines += ["", "Parameters:", ""]
        for parameter in parameters:
            where = parameter["in"]
            lines.append(f"- `{parameter['name']}` ({where}, {_type(parameter['schema'])})")
    body = operation.get("requestBody")
    if body:
        lines += ["", "Body:", ""]
        for media, content in body["content"].items():
            lines.append(f"- `{media}`: {_type(content['schema'])}")
    lines += ["", "Responses:", ""]
    for status, response in sorted(operation["responses"].items()):
        kinds = ", ".join(
            f"`{media}`" + (f" {_type(c['schema'])}" if c.get("schema") else "")
            for media, c in response.get("content", {}).items()
        )
        description = "OK" if response["description"] == "Successful Response" else None
        lines.append(f"- `{status}` {description or response['description']}: {kinds}".rstrip(": "))
    return "\n".join(lines) + "\n"


def _shape(name: str, schema: dict[str, Any]) -> str:
    lines = [f"### `{name}`", ""]
    if schema.get("description"):
        lines += [" ".join(schema["description"].split()), ""]
    lines += ["| field | type | required | meaning |", "|-------|------|----------|---------|"]
    required = set(schema.get("required", ()))
    for field, spec in schema.get("properties", {}).items():
        meaning = " ".join(spec.get("description", "").split())
        default = f" (default {spec['default']!r})" if spec.get("default") is not None else ""
        lines.append(
            f"| `{field}` | {_type(spec)} | {'yes' if field in required else 'no'} | "
            f"{meaning}{default} |"
        )
    return "\n".join(lines) + "\n"


def _type(schema: dict[str, Any]) -> str:
    """A JSON schema in a few words: `Job`, int, list of `Note`, str or null..."""
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[1]}`"
    if "anyOf" in schema:
        return " or ".join(_type(option) for option in schema["anyOf"])
    if "enum" in schema:
        return " or ".join(f'"{value}"' for value in schema["enum"])
    if "const" in schema:
        return f'"{schema["const"]}"'
    kind = schema.get("type")
    if kind == "array" and "prefixItems" in schema:
        return "[" + ", ".join(_type(item) for item in schema["prefixItems"]) + "]"
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if kind == "object" and "properties" in schema:
        return "fields " + ", ".join(f"`{name}`" for name in schema["properties"])
    if kind == "string" and schema.get("format") == "binary":
        return "a file"
    words = {"integer": "int", "number": "float", "string": "str", "boolean": "bool"}
    text = words.get(kind, kind or "any")
    bounds = [f"{key} {schema[key]}" for key in ("minimum", "maximum") if key in schema]
    return f"{text} ({', '.join(bounds)})" if bounds else text


if __name__ == "__main__":
    print(render(), end="")
