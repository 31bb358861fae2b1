"""The web page the daemon serves, in a real headless Chromium driven by Selenium, against a
real daemon with the bundled folk model: models listed, a clip uploaded through the file
input, `continue` run with its progress streamed, the results drawn as piano rolls, heard as
previews and downloadable as MIDI, the job in the history, a dropped non-MIDI file's problem
detail shown; Cancel; and a daemon with a token. Screenshots of each step are checked."""

from __future__ import annotations

import io
import json
import shutil
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tool_daemons import MODELS

from bridge.config import load_config
from bridge.frontends.daemon import Daemon
from bridge.music.midi import read_midi
from bridge.render import RenderError, find_soundfont

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium missing (pip install -e '.[dev]')"
)
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MELODY = REPO / "examples" / "folk_melody.mid"
CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
)
DRIVER = shutil.which("chromedriver") or shutil.which("chromium-driver")
WIDTH, HEIGHT = 1280, 800
FINAL = ("done", "failed", "cancelled", "timeout", "refused")  # the page's job-status at the end
WAIT_S = 120  # generous: a first job also warms the model up on 2 shared cores


def _can_render() -> bool:
    """Whether the daemon will render previews: FluidSynth's SoundFont is found (setup.sh)."""
    try:
        find_soundfont(None)
    except RenderError:
        return False
    return True


pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="chromium or chromium-driver missing (setup.sh installs them with apt)",
)


@pytest.fixture
def daemon(request, tmp_path: Path) -> Iterator[Daemon]:
    """The daemon with the folk melody model, OSC and HTTP on ephemeral loopback ports (more
    http settings by indirect parametrization)."""
    config = {
        "default_model": "folk",
        "models": {"folk": MODELS["folk"]},
        "osc": {"port": 0},
        "http": {"port": 0, **getattr(request, "param", {})},
        "data_folder": str(tmp_path / "data"),
        "midi": {"enabled": False},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    running = Daemon(load_config(path), announce=lambda _: None)
    yield running
    running.close()


@pytest.fixture
def base_url(daemon: Daemon) -> str:
    http = getattr(daemon, "http", None)
    if http is None:
        pytest.fail("the daemon serves no HTTP (bridge/frontends/http): nothing to open")
    return http.url.rstrip("/")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # tests may run as root, where Chromium's sandbox cannot start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WIDTH},{HEIGHT}",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    # The page's viewport exactly 1280x800 at one pixel per CSS pixel, whatever the window adds.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
    )
    yield driver
    driver.quit()


def _wait(driver, condition, what: str):
    try:
        return WebDriverWait(driver, WAIT_S, poll_frequency=0.2).until(condition)
    except TimeoutException:
        error = driver.find_element(By.ID, "error")
        shown = error.text if error.is_displayed() else "none"
        status = driver.find_element(By.ID, "job-status").text
        pytest.fail(f"waited {WAIT_S} s for {what}; the page says {status!r}, error: {shown}")


def _screenshot(driver, folder: Path, name: str) -> Path:
    """A screenshot of the page, checked: a PNG of the window's size with more than a few colours
    (a blank or half-drawn page has a handful)."""
    from PIL import Image

    png = driver.get_screenshot_as_png()
    path = folder / f"{name}.png"
    path.write_bytes(png)
    assert png.startswith(b"\x89PNG\r\n\x1a\n"), name
    image = Image.open(io.BytesIO(png))
    assert image.size == (WIDTH, HEIGHT), (name, image.size)
    colours = image.convert("RGB").getcolors(maxcolors=WIDTH * HEIGHT)
    assert len(colours) > 50, f"{name}: only {len(colours)} colours, the page looks blank"
    return path


# Pixels of a canvas in a clear colour: notes (the grid and background are grey).
COLOURED_PIXELS = """
const canvas = arguments[0];
const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
let count = 0;
for (let i = 0; i < data.length; i += 4) {
  const high = Math.max(data[i], data[i + 1], data[i + 2]);
  const low = Math.min(data[i], data[i + 1], data[i + 2]);
  if (data[i + 3] > 0 && high - low > 60) count++;
}
return count;
"""


# Drop a file on a drop zone as a user dragging it from their desktop would.
DROP_FILE = """
const [zone, name, bytes] = arguments;
const transfer = new DataTransfer();
transfer.items.add(new File([new Uint8Array(bytes)], name, { type: 'audio/midi' }));
for (const type of ['dragenter', 'dragover', 'drop']) {
  const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
  zone.dispatchEvent(new DragEvent(type, init));
}
"""


def _post_job(base_url: str, tool: str, params: dict, clip: tuple[str, bytes]) -> tuple[int, dict]:
    """POST /v1/jobs as any HTTP client would: its status and JSON body."""
    boundary = uuid.uuid4().hex
    fields = [
        (f'name="{name}"', value.encode())
        for name, value in (("tool", tool), ("params", json.dumps(params)))
    ]
    fields.append((f'name="clip0"; filename="{clip[0]}"\r\nContent-Type: audio/midi', clip[1]))
    body = (
        b"".join(
            f"--{boundary}\r\nContent-Disposition: form-data; {header}\r\n\r\n".encode()
            + data
            + b"\r\n"
            for header, data in fields
        )
        + f"--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{base_url}/v1/jobs",
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _call(base_url: str, path: str, method: str = "GET") -> dict:
    request = urllib.request.Request(f"{base_url}{path}", method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _choose_continue(browser, base_url: str, params: dict[str, str], clip: Path) -> None:
    """Open the page, pick continue, fill in its parameters and choose the clip."""
    browser.get(f"{base_url}/")
    _wait(browser, lambda d: d.find_element(By.ID, "tool").is_enabled(), "the tool list")
    Select(browser.find_element(By.ID, "tool")).select_by_value("continue")
    for name, value in params.items():
        field = browser.find_element(By.ID, f"param-{name}")
        field.clear()
        field.send_keys(value)
    browser.find_element(By.ID, "clip0").send_keys(str(clip))


def test_continue_from_the_web_page(browser, base_url: str, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    browser.get(f"{base_url}/")
    assert browser.title == "Magenta Bridge"

    # The daemon's panels: its model, its queue.
    _wait(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, '#models tr[data-model="folk"]'),
        "the models panel to list folk",
    )
    row = browser.find_element(By.CSS_SELECTOR, '#models tr[data-model="folk"]')
    assert "melody_rnn" in row.text
    _wait(
        browser,
        lambda d: d.find_element(By.CSS_SELECTOR, '#queue [data-key="status"]').text == "ok",
        "the queue panel to show the daemon's health",
    )

    # The form is built from the tool table: continue's parameters with their ranges.
    _wait(browser, lambda d: d.find_element(By.ID, "tool").is_enabled(), "the tool list")
    # A drop zone per clip the tool takes: two for interpolate, none for generate.
    for tool, inputs in (("interpolate", 2), ("generate", 0), ("continue", 1)):
        Select(browser.find_element(By.ID, "tool")).select_by_value(tool)
        assert len(browser.find_elements(By.CSS_SELECTOR, "#clips input[type=file]")) == inputs
        assert len(browser.find_elements(By.CSS_SELECTOR, "#clips .drop")) == inputs
    temperature = browser.find_element(By.ID, "param-temperature")
    assert (temperature.get_attribute("min"), temperature.get_attribute("max")) == ("0.01", "10")
    assert browser.find_element(By.ID, "param-quantize").get_attribute("type") == "checkbox"
    assert "bars to add" in browser.find_element(By.ID, "param-bars").get_attribute("title")
    _screenshot(browser, shots, "1-loaded")

    for name, value in (("bars", "2"), ("variations", "2"), ("seed", "7")):
        field = browser.find_element(By.ID, f"param-{name}")
        field.clear()
        field.send_keys(value)
    render = _can_render()
    if render:
        browser.find_element(By.ID, "render").click()
    browser.find_element(By.ID, "clip0").send_keys(str(MELODY))
    source_notes = len(read_midi(MELODY).notes)
    _wait(
        browser,
        lambda d: f"{source_notes} notes" in d.find_element(By.ID, "clip0-info").text,
        "the chosen clip to be read in the page",
    )
    _screenshot(browser, shots, "2-clip-chosen")

    browser.find_element(By.ID, "run").click()
    _wait(
        browser,
        lambda d: d.find_element(By.ID, "job-status").get_attribute("data-status") in FINAL,
        "the job to end",
    )
    assert browser.find_element(By.ID, "job-status").get_attribute("data-status") == "done", (
        browser.find_element(By.ID, "error").text
    )
    assert browser.find_element(By.ID, "progress").get_attribute("value") == "100"
    assert not browser.find_element(By.ID, "error").is_displayed()

    # Each result drawn as a piano roll from its MIDI file, with a download link.
    cards = browser.find_elements(By.CSS_SELECTOR, "#results li.result")
    assert len(cards) == 2
    _wait(
        browser,
        lambda d: all(
            c.get_attribute("data-notes")
            for c in d.find_elements(By.CSS_SELECTOR, "#results canvas.roll")
        ),
        "the piano rolls to be drawn",
    )
    job_id = browser.find_element(By.ID, "results").get_attribute("data-job-id")
    for card in cards:
        canvas = card.find_element(By.CSS_SELECTOR, "canvas.roll")
        drawn = int(canvas.get_attribute("data-notes"))
        assert drawn > 0, canvas.get_attribute("data-error")
        # Every note is a 16th or longer: some 85 pixels at this size; 40 each at least.
        painted = browser.execute_script(COLOURED_PIXELS, canvas)
        assert painted >= 40 * drawn, f"{painted} note pixels for {drawn} notes"
        link = card.find_element(By.CSS_SELECTOR, "a.download")
        assert link.get_attribute("download").endswith(".mid")
        with urllib.request.urlopen(link.get_attribute("href"), timeout=30) as response:
            data = response.read()
        clip = read_midi(data)
        assert len(clip.notes) == drawn  # the page read the file as the bridge does
        assert clip.length == 8.0  # 2 bars of 4/4
        players = card.find_elements(By.TAG_NAME, "audio")
        assert len(players) == (1 if render else 0)
        if render:  # the preview plays in the page: a WAV whose length the browser decoded
            with urllib.request.urlopen(players[0].get_attribute("src"), timeout=30) as response:
                wav = response.read()
            assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
            _wait(
                browser,
                lambda d, p=players[0]: d.execute_script(
                    "return Number.isFinite(arguments[0].duration) && arguments[0].duration > 3", p
                ),
                "the preview's audio to load",
            )
    _screenshot(browser, shots, "3-results")

    # The job in the history, done, with a link per result.
    row_selector = f'#history tr[data-job-id="{job_id}"]'
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, row_selector), "the job in history")
    row = browser.find_element(By.CSS_SELECTOR, row_selector)
    assert row.get_attribute("data-status") == "done"
    assert "continue" in row.text and "folk" in row.text
    assert len(row.find_elements(By.CSS_SELECTOR, "td.links a")) == 2

    # A file that is not MIDI, dropped on the page: the daemon's problem detail, as it sent it.
    junk = tmp_path / "not_midi.mid"
    junk.write_bytes(b"these are not the bytes of a MIDI file\n" * 4)
    status, problem = _post_job(base_url, "continue", {"bars": 2}, (junk.name, junk.read_bytes()))
    assert 400 <= status < 500 and problem["detail"], problem
    browser.execute_script(
        DROP_FILE,
        browser.find_element(By.CSS_SELECTOR, "#clips .drop"),
        junk.name,
        list(junk.read_bytes()),
    )
    _wait(
        browser,
        lambda d: "not_midi.mid:" in d.find_element(By.ID, "clip0-info").text,
        "the page to read the chosen file",
    )
    assert "not a MIDI file" in browser.find_element(By.ID, "clip0-info").text
    files = "return arguments[0].files[0].name"
    assert browser.execute_script(files, browser.find_element(By.ID, "clip0")) == junk.name
    browser.find_element(By.ID, "run").click()
    _wait(browser, lambda d: d.find_element(By.ID, "error").is_displayed(), "the error")
    shown = browser.find_element(By.ID, "error").text
    assert problem["title"] in shown and problem["detail"] in shown, (shown, problem)
    assert browser.find_element(By.ID, "job-status").get_attribute("data-status") == "refused"
    assert browser.find_element(By.ID, "run").is_enabled()  # the page can be used again
    _screenshot(browser, shots, "4-error")

    uncaught = [e for e in browser.get_log("browser") if "Uncaught" in e.get("message", "")]
    assert not uncaught, uncaught


def test_cancel_from_the_web_page(browser, base_url: str, tmp_path: Path) -> None:
    """Cancel stops the page's job while it runs: a job far too long to end by itself first
    (64 bars in 16 variations by beam search), which ends as cancelled, not failed."""
    long_job = {"bars": "64", "variations": "16", "beam_size": "16", "branch_factor": "4"}
    _choose_continue(browser, base_url, long_job, MELODY)
    browser.find_element(By.ID, "run").click()
    # Accepted (the page follows it), and running (the queue panel, from the daemon's health).
    _wait(browser, lambda d: d.find_element(By.ID, "cancel").is_enabled(), "the job's acceptance")
    _wait(
        browser,
        lambda d: d.find_element(By.CSS_SELECTOR, '#queue [data-key="running"]').text == "1",
        "the queue panel to count the running job",
    )
    _screenshot(browser, tmp_path, "running")
    browser.find_element(By.ID, "cancel").click()
    _wait(
        browser,
        lambda d: (
            d.find_element(By.ID, "job-status").get_attribute("data-status")
            not in ("queued", "running", "cancelling")
        ),
        "the job to end",
    )
    assert browser.find_element(By.ID, "job-status").get_attribute("data-status") == "cancelled"
    assert not browser.find_element(By.ID, "error").is_displayed()  # not an error: asked for
    assert browser.find_element(By.ID, "run").is_enabled()
    assert not browser.find_element(By.ID, "cancel").is_enabled()
    assert not browser.find_elements(By.CSS_SELECTOR, "#results li.result")
    newest = "#history tr[data-job-id]"  # the history lists the newest job first
    _wait(
        browser,
        lambda d: (
            d.find_element(By.CSS_SELECTOR, newest).get_attribute("data-status") == "cancelled"
        ),
        "the history to show the job cancelled",
    )
    job_id = browser.find_element(By.CSS_SELECTOR, newest).get_attribute("data-job-id")
    job = _call(base_url, f"/v1/jobs/{job_id}")
    assert job["status"] == "cancelled", job
    _screenshot(browser, tmp_path, "cancelled")


TOKEN = "page-test-token-7d1f"


@pytest.mark.parametrize("daemon", [{"token": TOKEN}], indirect=True)
def test_the_page_with_a_token(browser, base_url: str, tmp_path: Path) -> None:
    """A daemon with http.token: the page asks for it, then sends it with every request, follows
    the job by polling (an EventSource cannot send it) and fetches results with it."""
    browser.get(f"{base_url}/")
    _wait(browser, lambda d: d.find_element(By.ID, "token-form").is_displayed(), "the token form")
    assert "token" in browser.find_element(By.ID, "error").text
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
    _wait(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, '#models tr[data-model="folk"]'),
        "the models, asked for with the token",
    )
    assert not browser.find_element(By.ID, "token-form").is_displayed()
    assert not browser.find_element(By.ID, "error").is_displayed()

    _choose_continue(browser, base_url, {"bars": "1", "seed": "5"}, MELODY)
    browser.find_element(By.ID, "run").click()
    _wait(
        browser,
        lambda d: d.find_element(By.ID, "job-status").get_attribute("data-status") in FINAL,
        "the job to end",
    )
    assert browser.find_element(By.ID, "job-status").get_attribute("data-status") == "done", (
        browser.find_element(By.ID, "error").text
    )
    canvas = browser.find_element(By.CSS_SELECTOR, "#results canvas.roll")
    _wait(browser, lambda d: canvas.get_attribute("data-notes"), "the piano roll")
    assert int(canvas.get_attribute("data-notes")) > 0, canvas.get_attribute("data-error")
    link = browser.find_element(By.CSS_SELECTOR, "#results a.download")
    href = link.get_attribute("href")
    with pytest.raises(urllib.error.HTTPError) as refused:  # without the token: refused
        urllib.request.urlopen(href, timeout=30)
    assert refused.value.code == 401
    # The page saves the file through a fetch with the token: the same bytes.
    saved = browser.execute_async_script(
        """
        const [link, done] = arguments;
        const original = URL.createObjectURL;
        URL.createObjectURL = (blob) => {
          URL.createObjectURL = original;
          blob.arrayBuffer().then((data) => done(Array.from(new Uint8Array(data))));
          return original(blob);
        };
        link.click();
        """,
        link,
    )
    authorised = urllib.request.Request(href, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(authorised, timeout=30) as response:
        assert bytes(saved) == response.read()
    _wait(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, '#history tr[data-status="done"]'),
        "the history, asked for with the token",
    )
    _screenshot(browser, tmp_path, "token")
