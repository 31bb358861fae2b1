"""The Max for Live device's patcher (max_for_live/device/magenta_bridge.maxpat): its structure
is consistent with the device JavaScript and the daemon's default config."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "max_for_live" / "device"
PATCHER = SRC / "magenta_bridge.maxpat"
DEVICE_JS = SRC / "magenta_bridge.js"


@pytest.fixture(scope="module")
def patcher() -> dict:
    return json.loads(PATCHER.read_text())["patcher"]


@pytest.fixture(scope="module")
def boxes(patcher: dict) -> dict[str, dict]:
    return {entry["box"]["id"]: entry["box"] for entry in patcher["boxes"]}


def _objects(boxes: dict[str, dict], name: str) -> list[dict]:
    """The object boxes whose text starts with the object's name."""
    return [b for b in boxes.values() if b["maxclass"] == "newobj" and b["text"].split()[0] == name]


def _js_declares(name: str) -> int:
    found = re.search(rf"^{name}\s*=\s*(\d+);", DEVICE_JS.read_text(), re.MULTILINE)
    assert found, f"{DEVICE_JS.name} declares no {name}"
    return int(found.group(1))


def test_box_ids_are_unique(patcher: dict) -> None:
    ids = [entry["box"]["id"] for entry in patcher["boxes"]]
    assert len(ids) == len(set(ids))


def test_every_box_has_its_counts(boxes: dict[str, dict]) -> None:
    for box in boxes.values():
        assert isinstance(box["numinlets"], int) and box["numinlets"] >= 0, box["id"]
        assert isinstance(box["numoutlets"], int) and box["numoutlets"] >= 0, box["id"]
        assert len(box.get("outlettype", [])) == box["numoutlets"], box["id"]
        if box["maxclass"] in ("newobj", "message"):
            assert box.get("text"), f"{box['id']} has no text"


def test_patchlines_join_existing_inlets_and_outlets(patcher: dict, boxes: dict[str, dict]) -> None:
    assert patcher["lines"]
    for entry in patcher["lines"]:
        line = entry["patchline"]
        (source, outlet), (destination, inlet) = line["source"], line["destination"]
        assert source in boxes and destination in boxes, line
        assert 0 <= outlet < boxes[source]["numoutlets"], line
        assert 0 <= inlet < boxes[destination]["numinlets"], line


def test_js_box_names_the_device_file_and_its_inlets_and_outlets(boxes: dict[str, dict]) -> None:
    (js,) = _objects(boxes, "js")
    assert (SRC / js["text"].split()[1]).is_file()
    assert js["numinlets"] == _js_declares("inlets")
    assert js["numoutlets"] == _js_declares("outlets")


def test_udp_ports(boxes: dict[str, dict]) -> None:
    config = yaml.safe_load((REPO / "config" / "default.yaml").read_text())
    (send,) = _objects(boxes, "udpsend")
    assert send["text"].split()[1:] == [config["osc"]["host"], str(config["osc"]["port"])]
    # The reply port udpreceive listens on is the one the JS names in each request.
    (receive,) = _objects(boxes, "udpreceive")
    (js,) = _objects(boxes, "js")
    assert receive["text"].split()[1] == js["text"].split()[2]


def test_wiring(patcher: dict, boxes: dict[str, dict]) -> None:
    joins = [e["patchline"] for e in patcher["lines"]]
    lines = {(tuple(j["source"]), tuple(j["destination"])) for j in joins}
    (js,) = _objects(boxes, "js")
    (send,) = _objects(boxes, "udpsend")
    (receive,) = _objects(boxes, "udpreceive")
    assert ((js["id"], 0), (send["id"], 0)) in lines, "outlet 0 (OSC) goes to udpsend"
    assert ((receive["id"], 0), (js["id"], 0)) in lines, "the daemon's replies reach the js"
    status = [d for (s, d) in lines if s == (js["id"], 1)]
    assert status, "outlet 1 (status) goes somewhere"
    assert all(boxes[d[0]]["maxclass"] == "comment" for d in status), "outlet 1 sets a comment"


def test_parameters_set_what_the_device_knows(boxes: dict[str, dict]) -> None:
    settings = re.search(r"var settings = \{(.*?)\};", DEVICE_JS.read_text(), re.DOTALL)
    assert settings
    known = set(re.findall(r"(\w+):", settings.group(1)))
    prepends = [b["text"].split() for b in _objects(boxes, "prepend")]
    sets = {words[2] for words in prepends if words[1] == "set"}
    assert sets == known  # every setting has its control (the model: its menu)
    classes = {b["maxclass"] for b in boxes.values()}
    assert {"live.menu", "live.dial", "live.numbox", "live.toggle", "live.text"} <= classes
    (menu,) = [b for b in boxes.values() if b.get("varname") == "Tool"]
    tools = menu["saved_attribute_attributes"]["valueof"]["parameter_enum"]
    assert tools == [
        "continue",
        "generate",
        "interpolate",
        "vary",
        "groove",
        "drumify",
        "harmonize",
        "infill",
    ]
    # The JS answers each of them (continue, a reserved word, through anything()).
    declared = set(re.findall(r"^function (\w+)\(\)", DEVICE_JS.read_text(), re.MULTILINE))
    assert set(tools) - {"continue"} <= declared
    assert re.findall(r'^    "(\w+)": \{ clips', DEVICE_JS.read_text(), re.MULTILINE) == tools
    labels = {b.get("text") for b in boxes.values() if b["maxclass"] == "live.text"}
    assert labels == {"Go", "Cancel", "Confirm", "Refresh"}
    for box in boxes.values():
        if box["maxclass"].startswith("live."):
            assert box.get("parameter_enable") == 1, box["id"]
            assert box["saved_attribute_attributes"]["valueof"]["parameter_longname"], box["id"]


def _lines(patcher: dict) -> set[tuple[tuple[str, int], tuple[str, int]]]:
    return {
        (tuple(e["patchline"]["source"]), tuple(e["patchline"]["destination"]))
        for e in patcher["lines"]
    }


def test_midi_passes_through_the_device(patcher: dict, boxes: dict[str, dict]) -> None:
    """A MIDI effect without midiin -> midiout would silence the track's instrument."""
    (midiin,) = _objects(boxes, "midiin")
    (midiout,) = _objects(boxes, "midiout")
    assert ((midiin["id"], 0), (midiout["id"], 0)) in _lines(patcher)


def _path_to_js(patcher: dict, boxes: dict[str, dict], start: str) -> list[str]:
    """The boxes from `start` to the js object, following patchlines (breadth first)."""
    (js,) = _objects(boxes, "js")
    lines = _lines(patcher)
    paths = [[start]]
    while paths:
        path = paths.pop(0)
        if path[-1] == js["id"]:
            return path
        paths += [[*path, d] for (s, _), (d, _) in lines if s == path[-1] and d not in path]
    return []


def test_the_device_says_hello_once_live_is_ready(patcher: dict, boxes: dict[str, dict]) -> None:
    (thisdevice,) = _objects(boxes, "live.thisdevice")
    path = _path_to_js(patcher, boxes, thisdevice["id"])
    assert [boxes[b].get("text") for b in path[1:-1]] == ["hello"]


def test_buttons_send_their_messages(patcher: dict, boxes: dict[str, dict]) -> None:
    sent = {}
    for box in boxes.values():
        if box["maxclass"] == "live.text":
            path = _path_to_js(patcher, boxes, box["id"])
            assert path, f"{box['text']} reaches the js"
            sent[box["text"]] = boxes[path[-2]].get("text")
    go = "zl reg continue"  # Go sends the tool the menu chose
    assert sent == {"Go": go, "Cancel": "cancel", "Confirm": "confirm", "Refresh": "refresh"}
    declared = set(re.findall(r"^function (\w+)\(\)", DEVICE_JS.read_text(), re.MULTILINE))
    assert {"cancel", "confirm", "hello", "refresh"} <= declared


def test_the_model_menu_is_filled_by_the_js_and_sets_the_model(
    patcher: dict, boxes: dict[str, dict]
) -> None:
    (menu,) = [b for b in boxes.values() if b["maxclass"] == "umenu"]
    (js,) = _objects(boxes, "js")
    assert ((js["id"], 2), (menu["id"], 0)) in _lines(patcher)
    path = _path_to_js(patcher, boxes, menu["id"])
    assert boxes[path[1]]["text"] == "prepend set model"


DEVICE_HEIGHT = 169  # pixels Live gives every device


def test_the_presentation_shows_every_control_inside_the_device(
    patcher: dict, boxes: dict[str, dict]
) -> None:
    assert patcher["openinpresentation"] == 1
    shown = [b for b in boxes.values() if b.get("presentation")]
    controls = [
        b for b in boxes.values() if b["maxclass"].startswith("live.") or b["maxclass"] == "umenu"
    ]
    hidden = [b["id"] for b in controls if not b.get("presentation")]
    assert not hidden and _js_status_comment(patcher, boxes).get("presentation")
    width = patcher["devicewidth"]
    for box in shown:
        x, y, w, h = box["presentation_rect"]
        assert min(x, y) >= 0 and x + w <= width and y + h <= DEVICE_HEIGHT, box["id"]
    for i, a in enumerate(shown):
        for b in shown[i + 1 :]:
            ax, ay, aw, ah = a["presentation_rect"]
            bx, by, bw, bh = b["presentation_rect"]
            apart = ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay
            assert apart, f"{a['id']} and {b['id']} overlap in the device"


def _js_status_comment(patcher: dict, boxes: dict[str, dict]) -> dict:
    (js,) = _objects(boxes, "js")
    (status,) = [d for (s, d) in _lines(patcher) if s == (js["id"], 1)]
    return boxes[status[0]]


def _js_tool_params() -> dict[str, list[str]]:
    """Each tool's `params` in the JS's TOOLS table: the settings it sends that tool."""
    found = re.findall(
        r'^    "(\w+)": \{ clips: \d, params: \[(.*?)\]',
        DEVICE_JS.read_text(),
        re.MULTILINE | re.DOTALL,
    )
    return {tool: re.findall(r'"(\w+)"', names) for tool, names in found}


def _js_unset() -> dict[str, object]:
    """The JS's UNSET table: the value at which a control is not sent."""
    found = re.search(r"var UNSET = \{(.*?)\};", DEVICE_JS.read_text(), re.DOTALL)
    assert found, "the JS declares no UNSET"
    return {k: json.loads(v) for k, v in re.findall(r'(\w+): ("[^"]*"|[-\d.]+)', found.group(1))}


def _controls(patcher: dict, boxes: dict[str, dict]) -> dict[str, dict]:
    """The setting each presentation control sets (through its `prepend set <setting>`)."""
    controls = {}
    for (source, _), (destination, _) in _lines(patcher):
        words = boxes[destination].get("text", "").split()
        if words[:2] == ["prepend", "set"] and boxes[source]["maxclass"].startswith("live."):
            controls[words[2]] = boxes[source]
    return controls


def test_each_tool_is_sent_the_controls_its_table_declares_and_no_other(
    patcher: dict, boxes: dict[str, dict]
) -> None:
    """A control reaches every tool of the daemon's table that takes it (the key lock toggle
    sends `key`), and never a tool that would refuse it as an unknown parameter."""
    from bridge.tools.registry import TOOLS

    sent = _js_tool_params()
    assert set(sent) == set(TOOLS)
    offered = set(_controls(patcher, boxes)) - {"keylock", "kitmap"} | {"key"}
    for name, tool in TOOLS.items():
        declared = {param.name for param in tool.params}
        assert set(sent[name]) <= declared, f"{name} does not take {set(sent[name]) - declared}"
        assert set(sent[name]) == declared & offered, name
    for setting in ("density", "polyphony", "distance", "mode", "endpoints", "keep_hits"):
        assert setting in offered, f"no control sets {setting}"
    assert "backbone" in offered


def test_each_control_keeps_to_its_parameters_range_and_starts_at_its_default(
    patcher: dict, boxes: dict[str, dict]
) -> None:
    """Ranges and choices as the daemon's parameter table has them (a -1 below a range is a
    number box's "off"); a control the JS does not send at its UNSET value starts there, and
    that value is the daemon's default, so an untouched device sends nothing for it."""
    from bridge.tools.registry import TOOLS

    params = {param.name: param for tool in TOOLS.values() for param in tool.params}
    unset = _js_unset()
    controls = _controls(patcher, boxes)
    for setting, control in controls.items():
        if setting not in params:
            continue
        param = params[setting]
        valueof = control["saved_attribute_attributes"]["valueof"]
        (initial,) = valueof["parameter_initial"]
        if param.choices:
            assert control["maxclass"] == "live.menu", setting
            assert valueof["parameter_enum"] == list(param.choices), setting
            initial = param.choices[initial]
        elif param.kind is bool:
            assert control["maxclass"] == "live.toggle", setting
        else:
            low, high = valueof.get("parameter_mmin", 0), valueof["parameter_mmax"]
            assert param.low is None or low >= param.low or low == -1, setting
            assert param.high is None or high <= param.high, setting
            assert valueof["parameter_type"] == (1 if param.kind is int else 0), setting
        if setting in unset:
            assert unset[setting] == param.default == initial, setting
    assert set(unset) <= set(controls)
