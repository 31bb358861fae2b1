// Benchmark helper for bench/bench_daw.py: the Max for Live device's round trip under the
// node harness, against the daemon on the port given. Each request reads the selected 8-bar
// folk melody through the Live Object Model stand-in, uploads it over UDP, asks for a
// continuation and writes the result as a new Session clip; timed from the "continue"
// message to the device's "done" status line.
//
//   node bench/bench_device.js PORT REPEATS BARS
//
// Prints one JSON object: the times in milliseconds, sorted.
"use strict";

const path = require("node:path");
const { LiveSet, loadDevice, readMidiNotes } = require("../max_for_live/test/harness.js");

async function main() {
  const [port, repeats, bars] = process.argv.slice(2).map(Number);
  const set = new LiveSet({ tempo: 120 });
  const track = set.addTrack("Melody");
  set.addScene();
  const notes = readMidiNotes(path.join(__dirname, "..", "examples", "folk_melody.mid"));
  set.song.view.props.detail_clip = set.putClip(track.clip_slots[0], { name: "folk", length: 32, notes });
  const device = await loadDevice({ set, deviceTrack: track, daemonPort: port });
  const times = [];
  try {
    for (const [name, value] of Object.entries({ bars, variations: 1, seed: 7 })) device.message("set", name, value);
    for (let n = 0; n < repeats + 3; n++) { // the first three warm up
      const started = process.hrtime.bigint();
      device.message("continue");
      const line = await device.waitForStatus(/^(done|error)/, 60000);
      if (!line.startsWith("done")) throw new Error(line);
      if (n >= 3) times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  } finally {
    device.close();
  }
  process.stdout.write(JSON.stringify({ times_ms: times.sort((a, b) => a - b) }) + "\n");
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
