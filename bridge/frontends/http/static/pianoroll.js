// Piano rolls on <canvas>: the notes readMidi (midi.js) found, time across, pitch up.
//
// `layout` is the geometry alone (tested under node); `drawPianoRoll` paints it. Notes are the
// only saturated colour on the canvas (the grid is grey), so a test can count note pixels.

const GUTTER = 30; // CSS pixels at the left for the C labels
const MIN_SPAN = 24; // semitones shown at least, so a one-note clip is not one tall bar
const NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

export function pitchName(pitch) {
  return `${NAMES[pitch % 12]}${Math.floor(pitch / 12) - 1}`;
}

/**
 * Where everything goes on a width x height canvas (CSS pixels): the pitch range shown, beats
 * across, the grid lines and one rectangle per note, {x, y, w, h, velocity, mute}.
 */
export function layout(parsed, width, height) {
  const pitches = parsed.notes.map((n) => n.pitch);
  let low = pitches.length ? Math.min(...pitches) - 2 : 58;
  let high = pitches.length ? Math.max(...pitches) + 2 : 72;
  if (high - low + 1 < MIN_SPAN) {
    const grow = MIN_SPAN - (high - low + 1);
    low -= Math.floor(grow / 2);
    high += Math.ceil(grow / 2);
  }
  if (low < 0) [low, high] = [0, high - low];
  if (high > 127) [low, high] = [Math.max(0, low - (high - 127)), 127];
  const lastEnd = parsed.notes.reduce((end, n) => Math.max(end, n.start + n.duration), 0);
  const beats = Math.max(parsed.length || 0, lastEnd, 1);
  const rows = high - low + 1;
  const rowHeight = height / rows;
  const beatWidth = (width - GUTTER) / beats;
  const x = (beat) => GUTTER + beat * beatWidth;
  const y = (pitch) => (high - pitch) * rowHeight;
  const beatsPerBar = (parsed.timeSignature[0] * 4) / parsed.timeSignature[1];
  const lines = [];
  for (let beat = 0; beat <= beats + 1e-9; beat += 1) {
    const bar = Math.abs(beat / beatsPerBar - Math.round(beat / beatsPerBar)) < 1e-9;
    lines.push({ x: x(beat), bar });
  }
  const rects = parsed.notes.map((n) => ({
    x: x(n.start),
    y: y(n.pitch),
    w: Math.max(2, n.duration * beatWidth),
    h: Math.max(2, rowHeight),
    velocity: n.velocity,
    mute: n.mute,
  }));
  return { low, high, beats, rowHeight, gutter: GUTTER, lines, rects, y };
}

/** Paint the notes of `parsed` on `canvas` at its CSS size; returns how many notes it drew. */
export function drawPianoRoll(canvas, parsed) {
  const width = canvas.clientWidth || canvas.width;
  const height = canvas.clientHeight || canvas.height;
  const ratio = globalThis.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  const plan = layout(parsed, width, height);

  g.fillStyle = "#fbfbfc";
  g.fillRect(0, 0, width, height);
  for (let pitch = plan.low; pitch <= plan.high; pitch++) {
    if ([1, 3, 6, 8, 10].includes(pitch % 12)) {
      g.fillStyle = "#f0f0f3";
      g.fillRect(plan.gutter, plan.y(pitch), width - plan.gutter, plan.rowHeight);
    }
  }
  for (const line of plan.lines) {
    g.fillStyle = line.bar ? "#b9bcc6" : "#e2e3e8";
    g.fillRect(Math.round(line.x), 0, 1, height);
  }
  g.fillStyle = "#f3f3f6";
  g.fillRect(0, 0, plan.gutter, height);
  g.fillStyle = "#6b6f7b";
  g.font = "10px system-ui, sans-serif";
  g.textBaseline = "middle";
  for (let pitch = plan.low; pitch <= plan.high; pitch++) {
    if (pitch % 12 === 0 && plan.rowHeight * 12 >= 24) {
      g.fillText(pitchName(pitch), 3, plan.y(pitch) + plan.rowHeight / 2);
    }
  }
  for (const r of plan.rects) {
    // Louder is darker; muted notes are outlined only, as a DAW greys them.
    const light = 62 - Math.round((r.velocity / 127) * 24);
    if (r.mute) {
      g.strokeStyle = "#9a9cab";
      g.strokeRect(r.x + 0.5, r.y + 0.5, r.w - 1, r.h - 1);
    } else {
      g.fillStyle = `hsl(252, 75%, ${light}%)`;
      g.fillRect(r.x, r.y, r.w, r.h);
      g.fillStyle = `hsl(252, 80%, ${light - 14}%)`;
      g.fillRect(r.x, r.y, Math.min(2, r.w), r.h); // the note's start, clear between repeats
    }
  }
  canvas.dataset.notes = String(plan.rects.length);
  const pitches = parsed.notes.map((n) => n.pitch);
  const range = pitches.length
    ? `, ${pitchName(Math.min(...pitches))} to ${pitchName(Math.max(...pitches))}`
    : "";
  canvas.setAttribute(
    "aria-label",
    `Piano roll: ${parsed.notes.length} notes over ${formatBeats(plan.beats)} beats${range}`,
  );
  return plan.rects.length;
}

function formatBeats(beats) {
  return Number.isInteger(beats) ? String(beats) : beats.toFixed(2);
}
