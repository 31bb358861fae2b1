-- Magenta Bridge - Groove
-- Groove each selected drum item: humanized timing and velocities from a GrooVAE,
-- as new takes of the item. Runs on a magenta-bridge daemon; defaults in Settings.
local folder = ({ reaper.get_action_context() })[2]:match("^(.*)[/\\]")
package.path = folder .. "/?.lua;" .. package.path
require("magenta_bridge.actions").run("groove", folder)
