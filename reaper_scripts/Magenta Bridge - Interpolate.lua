-- Magenta Bridge - Interpolate
-- Interpolate between the two selected MIDI items: the steps from the first to the
-- second, one item each, back to back after the first. Defaults in Settings.
local folder = ({ reaper.get_action_context() })[2]:match("^(.*)[/\\]")
package.path = folder .. "/?.lua;" .. package.path
require("magenta_bridge.actions").run("interpolate", folder)
