-- Magenta Bridge - Drumify
-- Drumify each selected MIDI item: drum parts played to its rhythm, as takes of an
-- item on a new "Drumify" track below. Runs on a magenta-bridge daemon.
local folder = ({ reaper.get_action_context() })[2]:match("^(.*)[/\\]")
package.path = folder .. "/?.lua;" .. package.path
require("magenta_bridge.actions").run("drumify", folder)
