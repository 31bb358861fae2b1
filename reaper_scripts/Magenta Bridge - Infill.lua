-- Magenta Bridge - Infill
-- Write the part of each selected MIDI item inside the time selection again, keeping every note
-- outside it; more variations become new takes. Runs on a magenta-bridge daemon.
local folder = ({ reaper.get_action_context() })[2]:match("^(.*)[/\\]")
package.path = folder .. "/?.lua;" .. package.path
require("magenta_bridge.actions").run("infill", folder)
