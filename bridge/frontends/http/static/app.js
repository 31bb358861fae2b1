// The page: pick a tool, give it clips, run it, watch it (Server-Sent Events), see and hear the
// results; beside it the daemon's queue, models and history. It only speaks the REST API
// (README: "HTTP and the web page"); the tool form is built from GET /v1/tools, so a new tool
// or parameter appears here with no change to this file.

import { readMidi } from "./midi.js";
import { drawPianoRoll } from "./pianoroll.js";

const HEALTH_EVERY_MS = 3000;
const HISTORY_EVERY_MS = 10000;
const HISTORY_PAGE = 8;
const FINAL = new Set(["done", "failed", "cancelled", "timeout"]);
const TOKEN_KEY = "magenta-bridge-token";

const $ = (selector) => document.querySelector(selector);

const state = {
  tools: [],
  files: [null, null], // the clip chosen for each input slot, kept across tool changes
  job: null, // {job_id, status_url, events_url, tool} while one runs
  events: null, // its EventSource
  poll: 0, // the status poll timer when events could not be followed
  historyOffset: 0,
  token: sessionStorage.getItem(TOKEN_KEY) || "", // http.token, for a daemon that has one
};

/** A page element with attributes and children, in one call. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

// --- talking to the daemon ----------------------------------------------------------------

/** An error the daemon answered with (problem details) or a failure to reach it. */
class ApiError extends Error {
  constructor(title, detail, status = 0) {
    super(detail || title);
    this.title = title;
    this.detail = detail;
    this.status = status;
  }
}

async function problemOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: the status line is all there is
  }
  if (body && typeof body === "object" && (body.detail || body.title)) {
    return new ApiError(body.title || `HTTP ${response.status}`, body.detail || "", response.status);
  }
  return new ApiError(
    `HTTP ${response.status}`,
    response.statusText || "the request failed",
    response.status,
  );
}

function authorised(headers = {}) {
  return state.token ? { ...headers, Authorization: `Bearer ${state.token}` } : headers;
}

async function send(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { ...options, headers: authorised(options.headers) });
  } catch (error) {
    throw new ApiError("The daemon did not answer", `${error.message}. Is magenta-bridge serve running?`);
  }
  if (response.status === 401) $("#token-form").hidden = false; // the daemon has a token: ask for it
  if (!response.ok) throw await problemOf(response);
  return response;
}

async function api(path, options = {}) {
  const response = await send(path, {
    ...options,
    headers: { Accept: "application/json", ...options.headers },
  });
  return response.status === 204 ? null : response.json();
}

/** A link to a daemon file. With a token, a plain link cannot send it: the click fetches the
 * file with the token and saves that instead. */
function fileLink(attributes, url) {
  return el("a", {
    ...attributes,
    href: url,
    onclick: async (event) => {
      if (!state.token) return;
      event.preventDefault();
      try {
        const blob = await (await send(url)).blob();
        const link = el("a", { href: URL.createObjectURL(blob), download: attributes.download });
        link.click();
        setTimeout(() => URL.revokeObjectURL(link.href), 10000);
      } catch (error) {
        showError(error);
      }
    },
  });
}

function saveToken(event) {
  event.preventDefault();
  state.token = $("#token").value.trim();
  sessionStorage.setItem(TOKEN_KEY, state.token);
  $("#token-form").hidden = Boolean(state.token);
  clearError();
  loadTools();
  loadModels();
  loadHistory();
}

function showError(error) {
  const box = $("#error");
  box.replaceChildren(
    el("strong", { text: error.title || "Error" }),
    error.detail ? el("span", { class: "detail", text: error.detail }) : null,
  );
  box.hidden = false;
}

function clearError() {
  $("#error").hidden = true;
  $("#error").replaceChildren();
}

// --- the tool form --------------------------------------------------------------------------

async function loadTools() {
  try {
    state.tools = await api("/v1/tools");
  } catch (error) {
    showError(error);
    return;
  }
  const select = $("#tool");
  select.replaceChildren(...state.tools.map((tool) => el("option", { value: tool.name, text: tool.name })));
  select.disabled = false;
  const wanted = new URLSearchParams(location.search).get("tool");
  if (wanted && state.tools.some((tool) => tool.name === wanted)) select.value = wanted;
  showTool();
  $("#run").disabled = state.job !== null;
}

function currentTool() {
  return state.tools.find((tool) => tool.name === $("#tool").value);
}

function showTool() {
  const tool = currentTool();
  if (!tool) return;
  $("#tool-summary").textContent = tool.summary;
  $("#clips").replaceChildren(...clipSlots(tool.inputs));
  $("#params").replaceChildren(el("legend", { text: "Parameters" }), ...tool.params.map(paramField));
  for (let slot = 0; slot < tool.inputs; slot++) showFile(slot);
}

function clipSlots(count) {
  if (count === 0) return [el("p", { class: "hint", text: "This tool takes no clip: it samples new ones." })];
  const names = count === 2 ? ["First clip (start)", "Second clip (end)"] : ["Clip"];
  return names.map((name, slot) => {
    const input = el("input", {
      type: "file",
      id: `clip${slot}`,
      name: `clip${slot}`,
      accept: ".mid,.midi,audio/midi,audio/x-midi",
      "aria-describedby": `clip${slot}-info`,
      onchange: (event) => chooseFile(slot, event.target.files[0] || null),
    });
    const zone = el(
      "div",
      { class: "drop", dataset: { slot: String(slot) } },
      el("label", { for: `clip${slot}`, text: `${name}: drop a MIDI file here or choose one` }),
      input,
      el("p", { id: `clip${slot}-info`, class: "file-info muted", text: "no file yet" }),
      el("canvas", { class: "roll small", id: `clip${slot}-roll`, hidden: true, role: "img" }),
    );
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      const file = event.dataTransfer.files[0];
      if (!file) return;
      input.files = event.dataTransfer.files; // the input names the dropped file too
      chooseFile(slot, file);
    });
    return zone;
  });
}

function chooseFile(slot, file) {
  state.files[slot] = file;
  showFile(slot);
}

/** Show a slot's file in its (new) file input too, as when the tool changes. */
function keepInInput(input, file) {
  if (!file || input.files[0] === file) return;
  const transfer = new DataTransfer();
  transfer.items.add(file);
  input.files = transfer.files;
}

/** The chosen file's name and, when it reads as MIDI, its notes drawn small. The daemon still
 * judges the file: one that does not read here is sent anyway and its answer shown. */
async function showFile(slot) {
  const info = $(`#clip${slot}-info`);
  const roll = $(`#clip${slot}-roll`);
  const file = state.files[slot];
  if (!info) return;
  if (!file) {
    info.textContent = "no file yet";
    roll.hidden = true;
    return;
  }
  keepInInput($(`#clip${slot}`), file);
  try {
    const parsed = readMidi(await file.arrayBuffer());
    info.textContent = `${file.name}: ${parsed.notes.length} notes, ${parsed.length} beats at ${parsed.qpm} qpm`;
    roll.hidden = false;
    drawPianoRoll(roll, parsed);
  } catch (error) {
    info.textContent = `${file.name}: ${error.message}`;
    roll.hidden = true;
  }
}

function paramField(param) {
  const id = `param-${param.name}`;
  const label = param.name.replaceAll("_", " ");
  const help = el("small", { id: `${id}-help`, class: "hint", text: param.help });
  const common = { id, name: param.name, title: param.help, "aria-describedby": `${id}-help` };
  const type = String(param.type).toLowerCase();
  if (type === "bool" || type === "boolean") {
    const box = el("input", { ...common, type: "checkbox", checked: Boolean(param.default) });
    return el(
      "div",
      { class: "param check", dataset: { type: "bool" } },
      el("label", {}, box, ` ${label}`),
      help,
    );
  }
  let input;
  if (Array.isArray(param.choices) && param.choices.length) {
    input = el(
      "select",
      common,
      ...param.choices.map((choice) =>
        el("option", { value: choice, text: choice, selected: choice === param.default }),
      ),
    );
  } else if (type === "int" || type === "integer" || type === "float" || type === "number") {
    const whole = type === "int" || type === "integer";
    input = el("input", {
      ...common,
      type: "number",
      inputmode: whole ? "numeric" : "decimal",
      step: whole ? "1" : "any",
      min: param.min ?? undefined,
      max: param.max ?? undefined,
      value: param.default ?? undefined,
      placeholder: param.default === null || param.default === undefined ? "default" : undefined,
    });
  } else {
    input = el("input", { ...common, type: "text", value: param.default ?? "", placeholder: "default" });
  }
  return el("div", { class: "param", dataset: { type } }, el("label", { for: id, text: label }), input, help);
}

/** The parameters as the daemon takes them: numbers as numbers, empty fields left to defaults. */
function formParams(tool) {
  const params = {};
  for (const param of tool.params) {
    const input = document.getElementById(`param-${param.name}`);
    const type = String(param.type).toLowerCase();
    if (input.type === "checkbox") {
      params[param.name] = input.checked;
    } else if (input.value.trim() === "") {
      continue;
    } else if (input.type === "number") {
      params[param.name] = Number(input.value);
    } else {
      params[param.name] = type === "int" || type === "float" ? Number(input.value) : input.value;
    }
  }
  if ($("#render").checked) params.render = 1;
  if ($("#model").value) params.model = $("#model").value;
  return params;
}

// --- running a job --------------------------------------------------------------------------

async function run(event) {
  event.preventDefault();
  const tool = currentTool();
  if (!tool || state.job) return;
  clearError();
  if (!$("#job-form").reportValidity()) return;
  const missing = state.files.slice(0, tool.inputs).findIndex((file) => !file);
  if (missing >= 0) {
    showError(
      new ApiError(
        "A clip is missing",
        `${tool.name} takes ${tool.inputs} MIDI clip(s): choose clip ${missing + 1}.`,
      ),
    );
    return;
  }
  const body = new FormData();
  body.append("tool", tool.name);
  body.append("params", JSON.stringify(formParams(tool)));
  for (let slot = 0; slot < tool.inputs; slot++)
    body.append(`clip${slot}`, state.files[slot], state.files[slot].name);
  setRunning(true);
  setStatus("sending", 0);
  let accepted;
  try {
    accepted = await api("/v1/jobs", { method: "POST", body });
  } catch (error) {
    setRunning(false);
    setStatus("refused", null);
    $("#progress").value = 0;
    showError(error);
    return;
  }
  state.job = { ...accepted, tool: tool.name };
  setStatus("accepted", 0);
  loadHealth();
  follow(state.job);
}

/** Progress and the end of a job from its event stream; polling its status if the stream fails. */
function follow(job) {
  if (state.token) return pollStatus(job); // EventSource cannot send the token
  const events = new EventSource(job.events_url);
  state.events = events;
  const data = (message) => {
    try {
      return JSON.parse(message.data);
    } catch {
      return {};
    }
  };
  events.addEventListener("accepted", (message) => setStatus(data(message).status || "queued", 0));
  events.addEventListener("progress", (message) => setStatus("running", fraction(data(message).progress)));
  events.addEventListener("done", (message) => finish(job, { status: "done", ...data(message) }));
  // failed: {error, status (failed, cancelled or timeout), job}
  events.addEventListener("failed", (message) => finish(job, { status: "failed", ...data(message) }));
  events.onerror = () => {
    if (state.job !== job) return;
    events.close(); // no reconnecting: the job's status answers from here on
    pollStatus(job);
  };
}

function pollStatus(job) {
  clearTimeout(state.poll);
  state.poll = setTimeout(async () => {
    if (state.job !== job) return;
    try {
      const current = await api(job.status_url);
      if (FINAL.has(current.status)) return finish(job, current);
      setStatus(current.status, fraction(current.progress));
    } catch (error) {
      showError(error);
    }
    pollStatus(job);
  }, 1000);
}

/** The daemon's progress (0..1), kept in range whatever arrives. */
function fraction(progress) {
  return Math.min(1, Math.max(0, Number(progress) || 0));
}

async function cancel() {
  const job = state.job;
  if (!job) return;
  $("#cancel").disabled = true;
  setStatus("cancelling", null);
  try {
    await api(job.status_url, { method: "DELETE" });
  } catch (error) {
    if (error.status !== 409) showError(error); // 409: it ended meanwhile, as the poll will say
  }
  pollStatus(job); // the event stream usually says first; this makes sure the page hears it
}

async function finish(job, event) {
  if (state.job !== job) return;
  state.job = null;
  state.events?.close();
  clearTimeout(state.poll);
  let result = event;
  if (event.status === "done" && !Array.isArray(event.results)) {
    try {
      result = await api(job.status_url);
    } catch (error) {
      showError(error);
    }
  }
  setRunning(false);
  setStatus(result.status, result.status === "done" ? 1 : null);
  if (result.status === "failed" || result.status === "timeout") {
    showError(
      new ApiError(
        result.status === "timeout" ? "The job ran out of time" : "The job failed",
        result.error || "",
      ),
    );
  }
  if (result.status === "done") showResults({ job_id: job.job_id, tool: job.tool, ...result });
  loadHistory();
  loadHealth();
}

function setRunning(running) {
  $("#run").disabled = running || !state.tools.length;
  $("#cancel").disabled = !running;
  $("#job-form").setAttribute("aria-busy", String(running));
}

function setStatus(status, progress) {
  const label = $("#job-status");
  label.dataset.status = status;
  label.textContent =
    progress === null || progress === undefined ? status : `${status} ${Math.round(progress * 100)}%`;
  if (progress !== null && progress !== undefined) $("#progress").value = Math.round(progress * 100);
}

// --- results --------------------------------------------------------------------------------

function showResults(job) {
  $("#results-job").textContent =
    `${job.tool || ""} ${job.model ? `on ${job.model}` : ""} · job ${job.job_id}`;
  $("#results-empty").hidden = true;
  const warning = $("#warning");
  warning.textContent = job.warning || "";
  warning.hidden = !job.warning;
  const list = $("#results");
  list.dataset.jobId = job.job_id;
  list.replaceChildren(...(job.results || []).map((result) => resultCard(job, result)));
  if (!(job.results || []).length)
    list.append(el("li", { class: "muted", text: "The job gave no results." }));
}

function resultCard(job, result) {
  const number = result.index + 1;
  const canvas = el("canvas", { class: "roll", role: "img", "aria-label": `Piano roll of result ${number}` });
  const info = el("span", { class: "muted", text: `${result.notes_count} notes` });
  const card = el(
    "li",
    { class: "result", dataset: { index: String(result.index) } },
    el(
      "div",
      { class: "result-head" },
      el("h3", { text: `Result ${number}` }),
      info,
      fileLink(
        {
          class: "download",
          download: `${job.tool || "result"}-${job.job_id}-${number}.mid`,
          text: "Download MIDI",
          "aria-label": `Download result ${number} as MIDI`,
        },
        result.midi_url,
      ),
    ),
    canvas,
    result.preview_url ? preview(result.preview_url, number) : null,
  );
  drawResult(canvas, info, result);
  return card;
}

/** An audio player for a result's WAV preview (fetched with the token when there is one). */
function preview(url, number) {
  const audio = el("audio", {
    controls: true,
    preload: "metadata",
    "aria-label": `Preview of result ${number}`,
  });
  if (!state.token) {
    audio.src = url;
  } else {
    send(url)
      .then((response) => response.blob())
      .then((blob) => (audio.src = URL.createObjectURL(blob)), showError);
  }
  return audio;
}

async function drawResult(canvas, info, result) {
  try {
    const response = await send(result.midi_url);
    const parsed = readMidi(await response.arrayBuffer());
    requestAnimationFrame(() => drawPianoRoll(canvas, parsed));
    info.textContent = `${parsed.notes.length} notes · ${parsed.length} beats · ${parsed.qpm} qpm`;
  } catch (error) {
    canvas.dataset.notes = "0";
    canvas.dataset.error = error.message;
    info.textContent = `cannot draw: ${error.message}`;
  }
}

// --- side panels ----------------------------------------------------------------------------

async function loadHealth() {
  const badge = $("#health");
  try {
    // 503 with the same body: a worker died (degraded); anything else without it is an error.
    const response = await fetch("/v1/health", { headers: authorised({ Accept: "application/json" }) });
    const health = await response.json().catch(() => ({}));
    if (!health.status) throw await problemOf(response);
    const values = {
      status: health.status,
      version: health.version,
      workers: `${health.workers_alive} of ${health.workers}`,
      queued: health.queued,
      running: health.running,
    };
    for (const [key, value] of Object.entries(values))
      $(`#queue [data-key="${key}"]`).textContent = String(value);
    badge.dataset.state = health.status === "ok" ? "ok" : "warn";
    badge.textContent = `${health.status} · ${health.running} running · ${health.queued} queued`;
  } catch (error) {
    badge.dataset.state = "down";
    badge.textContent = "daemon unreachable";
  }
}

async function loadModels() {
  let models;
  try {
    models = await api("/v1/models");
  } catch (error) {
    showError(error);
    return;
  }
  $("#models tbody").replaceChildren(
    ...models.map((model) =>
      el(
        "tr",
        { dataset: { model: model.name } },
        el("th", { scope: "row", text: model.name }),
        el("td", { text: model.family }),
        el("td", { text: model.content }),
        el("td", { text: model.device }),
      ),
    ),
  );
  const select = $("#model");
  const chosen = select.value;
  select.replaceChildren(
    el("option", { value: "", text: "automatic", title: "the clip's content chooses" }),
    ...models.map((model) => el("option", { value: model.name, text: `${model.name} (${model.family})` })),
  );
  select.value = models.some((model) => model.name === chosen) ? chosen : "";
}

/** The history page's jobs and total, whatever envelope the daemon wraps them in. */
function historyPage(body) {
  if (Array.isArray(body)) return { jobs: body, total: null };
  const jobs = body.jobs || body.items || body.results || [];
  return { jobs, total: Number.isFinite(body.total) ? body.total : null };
}

async function loadHistory() {
  let page;
  try {
    page = historyPage(await api(`/v1/history?limit=${HISTORY_PAGE}&offset=${state.historyOffset}`));
  } catch (error) {
    $("#history-page").textContent = `cannot load: ${error.detail || error.title}`;
    return;
  }
  const { jobs, total } = page;
  $("#history tbody").replaceChildren(...jobs.map(historyRow));
  if (!jobs.length) {
    $("#history tbody").append(el("tr", {}, el("td", { colspan: "4", class: "muted", text: "no jobs yet" })));
  }
  const first = state.historyOffset + 1;
  const last = state.historyOffset + jobs.length;
  $("#history-page").textContent = jobs.length
    ? `${first}–${last}${total === null ? "" : ` of ${total}`}`
    : "";
  $("#history-newer").disabled = state.historyOffset === 0;
  $("#history-older").disabled = total === null ? jobs.length < HISTORY_PAGE : last >= total;
}

function historyRow(job) {
  const results = (job.results || []).map((result) =>
    fileLink(
      {
        download: `${job.tool}-${job.job_id}-${result.index + 1}.mid`,
        text: String(result.index + 1),
        title: `${result.notes_count ?? "?"} notes`,
        "aria-label": `Download result ${result.index + 1} of job ${job.job_id}`,
      },
      result.midi_url,
    ),
  );
  const when = typeof job.created === "number" ? new Date(job.created * 1000) : null;
  const show = () => api(`/v1/jobs/${encodeURIComponent(job.job_id)}`).then(showResults, showError);
  return el(
    "tr",
    { dataset: { jobId: job.job_id, status: job.status } },
    el("td", {
      title: when ? when.toLocaleString() : "",
      text: when ? when.toLocaleTimeString([], { hour12: false }) : "–",
    }),
    el(
      "td",
      {},
      job.status === "done"
        ? el("button", {
            type: "button",
            class: "link",
            onclick: show,
            title: `Show the results of job ${job.job_id}`,
            text: job.tool,
          })
        : job.tool,
      el("span", { class: "sub", text: job.model || "" }),
    ),
    el("td", {}, el("span", { class: `pill ${job.status}`, title: job.error || "", text: job.status })),
    el("td", { class: "links" }, ...results),
  );
}

// --- start ----------------------------------------------------------------------------------

function start() {
  $("#token-form").addEventListener("submit", saveToken);
  $("#tool").addEventListener("change", showTool);
  $("#job-form").addEventListener("submit", run);
  $("#cancel").addEventListener("click", cancel);
  $("#history-refresh").addEventListener("click", loadHistory);
  $("#history-newer").addEventListener("click", () => {
    state.historyOffset = Math.max(0, state.historyOffset - HISTORY_PAGE);
    loadHistory();
  });
  $("#history-older").addEventListener("click", () => {
    state.historyOffset += HISTORY_PAGE;
    loadHistory();
  });
  loadTools();
  loadModels();
  loadHealth();
  loadHistory();
  setInterval(loadHealth, HEALTH_EVERY_MS);
  setInterval(() => document.hidden || loadHistory(), HISTORY_EVERY_MS);
}

start();
