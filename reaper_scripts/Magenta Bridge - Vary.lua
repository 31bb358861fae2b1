-- Magenta Bridge - Vary
-- Vary each selected MIDI item: its variations become new takes of the item
-- (the first one active). Runs on a magenta-bridge daemon; defaults in Settings.
local folder = ({ reaper.get_action_context() })[2]:match("^(.*)[/\\]")
package.path = folder .. "/?.lua;" .. package.path
require("magenta_bridge.actions").run("vary", folder)
