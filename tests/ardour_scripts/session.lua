-- The test's hands in a real headless Ardour, run by ardour7-lua on the Dummy audio backend, one
-- step per process (loading a session after closing another in one process hangs Ardour 7.3):
--   create DIR NAME OPTION... NOTE...   a session with one MIDI track, "Lead", holding one region,
--       "melody": at=BEATS length=BEATS channel=N (0-15), optionally tempo=BEATS:QPM (a tempo
--       change) and trim=BEATS (then trimmed at its front by that much), and notes as
--       pitch:start:length:velocity, in beats from the start of the region before trimming
--   run DIR NAME SCRIPT REGION KEY=VALUE...   load the session, run SCRIPT's action (its factory
--       with these parameters) on the region named REGION, save
--   dump DIR NAME OUT   write the session's tracks, regions and notes to OUT as JSON
-- Times are in beats (quarter notes) and samples, so the test can check the tempo map's part.

AudioEngine:set_backend ("None (Dummy)", "", "")
local PPQ = Temporal.ticks_per_beat
local command, folder, name = arg[1], arg[2], arg[3]

local function ticks (beats) return math.floor (beats * PPQ + 0.5) end

local function beats_of (value) -- Temporal.Beats shows itself as "beats:ticks", nothing else
	local whole, part = value:str ():match ("^(-?%d+):(-?%d+)$")
	return tonumber (whole) + tonumber (part) / PPQ
end

local function options_of (first)
	local options, notes = {}, {}
	for index = first, #arg do
		local key, value = arg[index]:match ("^([%w_]+)=(.*)$")
		if key then
			options[key] = value
		else
			notes[#notes + 1] = arg[index]
		end
	end
	return options, notes
end

local function create ()
	local options, notes = options_of (4)
	assert (create_session (folder, name, 48000), "cannot create the session")
	local midi = ARDOUR.DataType ("midi")
	local track = Session:new_midi_track (ARDOUR.ChanCount (midi, 1), ARDOUR.ChanCount (midi, 1),
		false, ARDOUR.PluginInfo (), nil, nil, 1, "Lead", ARDOUR.PresentationInfo.max_order,
		ARDOUR.TrackMode.Normal, true, false):front ()
	if options.tempo then
		local at, qpm = options.tempo:match ("^([%d.]+):([%d.]+)$")
		local tempo_map = Temporal.TempoMap.fetch_writable ()
		tempo_map:set_tempo (Temporal.Tempo (tonumber (qpm), tonumber (qpm), 4),
			Temporal.timepos_t.from_ticks (ticks (tonumber (at))))
		Temporal.TempoMap.update (tempo_map)
	end
	-- A fresh MIDI source comes only from a bounce of the (empty) track.
	local at, length = ticks (tonumber (options.at)), ticks (tonumber (options.length))
	local region = track:bounce_range (Temporal.timepos_t.from_ticks (at):samples (),
		Temporal.timepos_t.from_ticks (at + length):samples (), ARDOUR.InterThreadInfo (),
		ARDOUR.LuaAPI.nil_proc (), false, "melody")
	region:set_length (Temporal.timecnt_t.from_ticks (length))
	local model = region:to_midiregion ():model ()
	local diff = model:new_note_diff_command ("melody")
	for _, note in ipairs (notes) do
		local pitch, start, duration, velocity = note:match ("^(%d+):([%d.]+):([%d.]+):(%d+)$")
		diff:add (ARDOUR.LuaAPI.new_noteptr (tonumber (options.channel), Temporal.Beats (0, ticks (start)),
			Temporal.Beats (0, ticks (duration)), tonumber (pitch), tonumber (velocity)))
	end
	model:apply_command (Session, diff)
	track:playlist ():add_region (region, Temporal.timepos_t.from_ticks (at), 1, false)
	if options.trim then region:trim_front (Temporal.timepos_t.from_ticks (at + ticks (tonumber (options.trim)))) end
end

local function find_region (wanted)
	for route in Session:get_tracks ():iter () do
		for region in route:to_track ():playlist ():region_list ():iter () do
			if region:name () == wanted then return region end
		end
	end
	error ("no region named " .. wanted)
end

local function run ()
	local params = options_of (6)
	function ardour (header) assert (header.type == "EditorAction", "not an editor action") end
	dofile (arg[4])
	-- As Ardour's script manager: only factory's bytecode (no upvalues), called with the action's
	-- parameters; the action then gets the region where Ardour passes nothing (the selection).
	local action = load (string.dump (factory, true), nil, nil, _ENV) (params)
	action ({ find_region (arg[5]) })
end

local function json (value)
	if type (value) == "table" then
		local parts = {}
		if #value > 0 or next (value) == nil then
			for _, item in ipairs (value) do parts[#parts + 1] = json (item) end
			return "[" .. table.concat (parts, ",") .. "]"
		end
		for key, item in pairs (value) do parts[#parts + 1] = json (key) .. ":" .. json (item) end
		return "{" .. table.concat (parts, ",") .. "}"
	elseif type (value) == "string" then
		return '"' .. value:gsub ('[%c"\\]', function (c) return ("\\u%04x"):format (c:byte ()) end) .. '"'
	end
	return tostring (value)
end

local function dump ()
	local tracks = {}
	for route in Session:get_tracks ():iter () do
		local regions = {}
		for region in route:to_track ():playlist ():region_list ():iter () do
			local notes = {}
			for note in ARDOUR.LuaAPI.note_list (region:to_midiregion ():model ()):iter () do
				notes[#notes + 1] = { pitch = note:note (), start = beats_of (note:time ()),
					length = beats_of (note:length ()), velocity = note:velocity (), channel = note:channel () }
			end
			regions[#regions + 1] = { name = region:name (), id = region:to_stateful ():id ():to_s (),
				layer = region:layer (),
				position = beats_of (region:position ():beats ()), length = beats_of (region:length ():beats ()),
				start = beats_of (region:start ():beats ()), position_samples = region:position ():samples (),
				length_samples = region:length ():samples (), notes = notes,
				source = region:source (0):name () }
		end
		tracks[#tracks + 1] = { name = route:name (), regions = regions }
	end
	local file = assert (io.open (arg[4], "w"))
	file:write (json ({ tracks = tracks }))
	file:close ()
end

local steps = { create = create, run = run, dump = dump }
if command ~= "create" then assert (load_session (folder, name), "cannot load the session") end
local ok, problem = pcall (steps[command])
if not ok then print ("session.lua " .. command .. " failed: " .. tostring (problem)) end
if ok and command ~= "dump" then Session:save_state ("", false, false, false, false, false) end
close_session ()
os.exit (ok and 0 or 1)
