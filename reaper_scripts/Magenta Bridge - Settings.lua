-- Magenta Bridge - Settings
-- The defaults of every Magenta Bridge action (model, temperature, variations, bars, steps,
-- Gibbs steps, key lock, seed, where magenta-bridge is, the daemon's port; then, on a second
-- page, the tool controls: pitch range, density, polyphony, vary's distance, interpolation
-- mode, groove's keep hits, the drum backbone), kept in REAPER's ExtState.
local folder = ({ reaper.get_action_context() })[2]:match("^(.*)[/\\]")
package.path = folder .. "/?.lua;" .. package.path
require("magenta_bridge.settings").edit(folder)
