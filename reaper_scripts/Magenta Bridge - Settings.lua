-- Magenta Bridge - Settings
-- The defaults of every Magenta Bridge action (model, temperature, variations, bars, steps,
-- Gibbs steps, key lock, seed, where magenta-bridge is, the daemon's port), kept in REAPER's
-- ExtState.
local folder = ({ reaper.get_action_context() })[2]:match("^(.*)[/\\]")
package.path = folder .. "/?.lua;" .. package.path
require("magenta_bridge.settings").edit(folder)
