-- Magenta Bridge - Generate
-- Generate new clips from a MusicVAE at the edit cursor on the selected track (a new
-- track when none is), the variations as takes of one item. Defaults in Settings.
local folder = ({ reaper.get_action_context() })[2]:match("^(.*)[/\\]")
package.path = folder .. "/?.lua;" .. package.path
require("magenta_bridge.actions").run("generate", folder)
