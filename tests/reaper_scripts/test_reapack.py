"""reaper_scripts/index.xml: a ReaPack index (https://github.com/cfillion/reapack/wiki/Index-Format)
whose package installs every script of reaper_scripts/ and registers each action."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import unquote

from reaper_project import SCRIPTS

BASE = "https://raw.githubusercontent.com/magenta-bridge/magenta-bridge/main/reaper_scripts/"


def test_the_index_installs_every_script_and_registers_the_actions():
    index = ET.parse(SCRIPTS / "index.xml").getroot()
    assert index.tag == "index" and index.get("version") == "1" and index.get("name")
    (package,) = index.iter("reapack")
    assert package.get("type") == "script" and package.get("desc")
    (version,) = package.iter("version")
    assert version.get("name") and version.get("author")
    listed = {}
    for source in version.iter("source"):
        assert source.text.startswith(BASE), source.text
        path = unquote(source.text.removeprefix(BASE))
        assert (SCRIPTS / path).is_file(), f"{path} is listed but missing"
        assert source.get("file") == path  # installed where the actions' require finds it
        listed[path] = source.get("main")
    on_disk = {str(p.relative_to(SCRIPTS)) for p in SCRIPTS.rglob("*.lua")}
    assert set(listed) == on_disk
    actions = {path for path in on_disk if path.startswith("Magenta Bridge - ")}
    assert {path for path, main in listed.items() if main == "main"} == actions
    assert {path for path, main in listed.items() if main is None} == on_disk - actions
    assert len(actions) == 9  # eight tools and the settings
