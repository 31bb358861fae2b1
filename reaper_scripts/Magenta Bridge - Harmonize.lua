-- Magenta Bridge - Harmonize
-- Harmonize each selected MIDI item's melody in four voices: soprano (the melody), alto, tenor
-- and bass, each on a new track below, the variations as takes. Runs on a magenta-bridge daemon.
local folder = ({ reaper.get_action_context() })[2]:match("^(.*)[/\\]")
package.path = folder .. "/?.lua;" .. package.path
require("magenta_bridge.actions").run("harmonize", folder)
