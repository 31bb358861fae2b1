-- Magenta Bridge - Continue
-- Continue each selected MIDI item by some bars: a new item right after it, the
-- variations as its takes. Runs on a magenta-bridge daemon; defaults in Settings.
local folder = ({ reaper.get_action_context() })[2]:match("^(.*)[/\\]")
package.path = folder .. "/?.lua;" .. package.path
require("magenta_bridge.actions").run("continue", folder)
