ardour {
	["type"]    = "EditorAction",
	name        = "Magenta Bridge",
	license     = "Apache-2.0",
	author      = "Magenta Bridge",
	description = [[Continue or vary the selected MIDI regions with a running Magenta Bridge daemon
(magenta-bridge serve). Add this script once per tool in Edit > Lua Scripts > Script Manager:
the tool and its settings are asked then. Continue places each region's continuations right after
it on its track; vary layers the variations over the region. New regions are named after the tool
and the variation ("continue 1", "vary 2"), and the first variation is on top.]]
}

function action_params ()
	return {
		["tool"]        = { title = "Tool: continue or vary", default = "continue" },
		["variations"]  = { title = "Variations (1-64)", default = "4" },
		["bars"]        = { title = "Bars to continue (1-64, continue only)", default = "4" },
		["temperature"] = { title = "Temperature (0.01-10, blank: the tool's default)", default = "" },
		["seed"]        = { title = "Seed (blank: random)", default = "" },
		["model"]       = { title = "Model (blank: the daemon chooses)", default = "" },
		["program"]     = { title = "magenta-bridge program (full path unless on PATH)", default = "magenta-bridge" },
		["port"]        = { title = "Daemon port (blank: the client's config, 11300)", default = "" },
		["timeout"]     = { title = "Seconds to wait for the daemon", default = "60" },
	}
end

-- Ardour keeps only the bytecode of factory, so everything the action needs is defined inside
-- it. The action takes the selected regions; a caller without an editor (ardour7-lua) passes
-- its own list of regions instead.
function factory (params) return function (regions)
	local p = params or {}
	local tool = p.tool or "continue"
	local PPQ = Temporal.ticks_per_beat -- MIDI files in Ardour's own ticks: no rounding either way
	local CLIP_END_MARKER = "clip end" -- magenta-bridge's length when notes run past the clip

	local function tell (message)
		if LuaDialog then
			LuaDialog.Message ("Magenta Bridge", message, LuaDialog.MessageType.Error,
				LuaDialog.ButtonType.Close):run ()
		else
			print ("Magenta Bridge: " .. message)
		end
	end

	-- Temporal.Beats binds no accessor in Ardour 7, only its "beats:ticks" string.
	local function ticks_of (beats)
		local whole, part = beats:str ():match ("^(-?%d+):(-?%d+)$")
		return tonumber (whole) * PPQ + tonumber (part)
	end

	local function var_length (value)
		local bytes = string.char (value & 0x7F)
		value = value >> 7
		while value > 0 do
			bytes = string.char ((value & 0x7F) | 0x80) .. bytes
			value = value >> 7
		end
		return bytes
	end

	local function read_var_length (data, at)
		local value, byte = 0, 0x80
		while byte >= 0x80 do
			byte = data:byte (at)
			value = (value << 7) | (byte & 0x7F)
			at = at + 1
		end
		return value, at
	end

	-- A type 0 standard MIDI file: the clip's notes (times in ticks from its start), its tempo and
	-- metre, and its end with a "clip end" marker, which gives magenta-bridge the region's exact
	-- length (a file without one is read on the bar grid).
	local function write_midi (path, clip)
		local events = {}
		local function add (tick, order, bytes) events[#events + 1] = { tick, order, bytes } end
		local power = 0
		while (1 << power) < clip.denominator do power = power + 1 end
		add (0, 0, "\255\81\3" .. string.pack (">I3", math.floor (60000000 / clip.qpm + 0.5)))
		add (0, 0, "\255\88\4" .. string.char (clip.numerator, power, 24, 8))
		for _, note in ipairs (clip.notes) do
			-- offs before ons at the same tick, so a restruck note is not cut by the last one's off
			add (note.start, 2, string.char (0x90 | note.channel, note.pitch, math.max (note.velocity, 1)))
			add (note.start + note.length, 1, string.char (0x80 | note.channel, note.pitch, 64))
		end
		add (clip.length, 3, "\255\6" .. var_length (#CLIP_END_MARKER) .. CLIP_END_MARKER)
		table.sort (events, function (a, b)
			if a[1] ~= b[1] then return a[1] < b[1] end
			return a[2] < b[2]
		end)
		local parts, last = {}, 0
		for _, event in ipairs (events) do
			parts[#parts + 1] = var_length (event[1] - last) .. event[3]
			last = event[1]
		end
		parts[#parts + 1] = var_length (math.max (clip.length - last, 0)) .. "\255\47\0"
		local track = table.concat (parts)
		local file = assert (io.open (path, "wb"))
		file:write ("MThd", string.pack (">I4I2I2I2", 6, 0, 1, PPQ))
		file:write ("MTrk", string.pack (">I4", #track), track)
		file:close ()
	end

	-- The notes of a magenta-bridge result (any format, tracks merged; a note-off ends the oldest
	-- sounding note of its pitch and channel) and its length, in ticks.
	local function read_midi (path)
		local file = assert (io.open (path, "rb"))
		local data = file:read ("a")
		file:close ()
		local _, tracks, division = string.unpack (">I2I2I2", data, 9)
		local function scaled (tick) return math.floor (tick * PPQ / division + 0.5) end
		local notes, length, clip_end, at = {}, 0, nil, 15
		local function add (pitch, on, off)
			if off > on.tick then
				notes[#notes + 1] = { pitch = pitch, start = scaled (on.tick),
					length = scaled (off) - scaled (on.tick), velocity = on.velocity }
			end
		end
		for _ = 1, tracks do
			local size = string.unpack (">I4", data, at + 4)
			local stop, tick, running, sounding = at + 8 + size, 0, 0, {}
			at = at + 8
			while at < stop do
				local delta
				delta, at = read_var_length (data, at)
				tick = tick + delta
				local status = data:byte (at)
				if status == 0xFF then
					local kind, body_size = data:byte (at + 1), nil
					body_size, at = read_var_length (data, at + 2)
					if kind == 6 and data:sub (at, at + body_size - 1) == CLIP_END_MARKER then clip_end = tick end
					at = at + body_size
				elseif status == 0xF0 or status == 0xF7 then
					local body_size
					body_size, at = read_var_length (data, at + 1)
					at = at + body_size
				else
					if status >= 0x80 then running, at = status, at + 1 end -- else running status
					local kind, pitch, velocity = running & 0xF0, data:byte (at, at + 1)
					local key = (running & 0x0F) * 128 + pitch
					at = at + ((kind == 0xC0 or kind == 0xD0) and 1 or 2)
					if kind == 0x90 and velocity > 0 then
						sounding[key] = sounding[key] or {}
						table.insert (sounding[key], { tick = tick, velocity = velocity })
					elseif (kind == 0x80 or kind == 0x90) and sounding[key] and #sounding[key] > 0 then
						add (pitch, table.remove (sounding[key], 1), tick)
					end
				end
			end
			for key, queue in pairs (sounding) do -- still sounding: they end with their track
				for _, on in ipairs (queue) do add (key % 128, on, tick) end
			end
			length = math.max (length, tick)
		end
		return notes, scaled (clip_end or length)
	end

	-- What the region plays, as a clip: its notes from its start, cut at its end, and the tempo,
	-- metre and channel (of its first note) it starts with.
	local function clip_of (region)
		local first = ticks_of (region:start ():beats ())
		local length = ticks_of (region:length ():beats ())
		local clip = { notes = {}, length = length }
		for note in ARDOUR.LuaAPI.note_list (region:model ()):iter () do
			local start = ticks_of (note:time ()) - first
			if start >= 0 and start < length then
				clip.notes[#clip.notes + 1] = { pitch = note:note (), start = start,
					length = math.min (ticks_of (note:length ()), length - start),
					velocity = note:velocity (), channel = note:channel () }
				clip.channel = clip.channel or note:channel ()
			end
		end
		local tempo_map = Temporal.TempoMap.read ()
		local meter = tempo_map:meter_at (region:position ())
		clip.qpm = tempo_map:tempo_at (region:position ()):quarter_notes_per_minute ()
		clip.numerator, clip.denominator = meter:divisions_per_bar (), meter:note_value ()
		return clip
	end

	-- Where magenta-bridge starts a continuation: the first bar line at or after the clip's end,
	-- counted from its start, in ticks (so a region a 16th short of its bar continues on the beat).
	local function bar_end (clip)
		local bar = clip.numerator * 4 * PPQ // clip.denominator
		return math.max (1, math.ceil (clip.length / bar - 1e-9)) * bar
	end

	local function quote (text) return "'" .. tostring (text):gsub ("'", "'\\''") .. "'" end

	-- Run `magenta-bridge client --json TOOL` on one MIDI file; the result files' paths, or nil
	-- and what went wrong. Ardour waits meanwhile (a fraction of a second with warm models).
	local function ask_daemon (input, output, progress)
		local program = (p.program or "") ~= "" and p.program or "magenta-bridge"
		local words = { quote (program), "client", "--json" }
		local function option (flag, value)
			if value and value ~= "" then words[#words + 1] = flag .. " " .. quote (value) end
		end
		option ("--port", p.port)
		option ("--timeout", p.timeout)
		words[#words + 1] = quote (tool) .. " " .. quote (input) .. " -o " .. quote (output)
		option ("--variations", p.variations)
		if tool == "continue" then option ("--bars", p.bars) end
		option ("--temperature", p.temperature)
		option ("--seed", p.seed)
		option ("--model", p.model)
		local pipe = io.popen (table.concat (words, " ") .. " 2>&1")
		local result, said = nil, {}
		for line in pipe:lines () do
			local fraction = line:match ('^{"progress": ([%d.]+)}')
			if fraction then
				if progress then progress:progress (tonumber (fraction), tool) end
			elseif line:match ('^{"ok": ') then
				result = line
			else
				said[#said + 1] = line
			end
		end
		pipe:close ()
		if not result then -- the client could not even ask (not found, a bad setting)
			return nil, table.concat (said, "\n")
		end
		if not result:match ('^{"ok": true') then
			local problem = (result:match ('"error": "(.*)"}$') or result):gsub ('\\(.)', '%1')
			return nil, problem
		end
		local paths = {}
		for path in result:match ('"paths": %[(.-)%]'):gmatch ('"(.-)"') do paths[#paths + 1] = path end
		return paths
	end

	-- Lua cannot make an empty MIDI source in Ardour 7, but bouncing a stretch of a track (without
	-- processing, as the editor's bounce does) makes a new source of that length: the new region
	-- gets it, and whatever notes that stretch already played are removed from it. Ardour 7 adds
	-- notes only as an undo step of their own (a nested one would abort the action's), so each
	-- new region's notes are one, before the step that places the regions.
	local function new_region (track, name, position, clip, channel)
		local first = Temporal.timepos_t.from_ticks (position):samples ()
		local last = Temporal.timepos_t.from_ticks (position + clip.length):samples ()
		local region = track:bounce_range (first, last, ARDOUR.InterThreadInfo (),
			ARDOUR.LuaAPI.nil_proc (), false, name)
		region:set_length (Temporal.timecnt_t.from_ticks (clip.length)) -- in beats, as the source
		local model = region:to_midiregion ():model ()
		local diff = model:new_note_diff_command ("Magenta Bridge: notes of " .. name)
		for old in ARDOUR.LuaAPI.note_list (model):iter () do diff:remove (old) end
		for _, note in ipairs (clip.notes) do
			diff:add (ARDOUR.LuaAPI.new_noteptr (channel, Temporal.Beats (0, note.start),
				Temporal.Beats (0, note.length), note.pitch, note.velocity))
		end
		model:apply_command (Session, diff)
		return region
	end

	local function track_of (region)
		local id = region:playlist ():to_stateful ():id ():to_s ()
		for route in Session:get_tracks ():iter () do
			local track = route:to_track ()
			if track:playlist ():to_stateful ():id ():to_s () == id then return track end
		end
	end

	if tool ~= "continue" and tool ~= "vary" then
		tell ('The tool must be "continue" or "vary", not "' .. tool .. '": set it in the Script Manager.')
		return
	end
	if not regions then
		regions = {}
		for region in Editor:get_selection ().regions:regionlist ():iter () do
			regions[#regions + 1] = region
		end
	end
	local midi_regions = {}
	for _, region in ipairs (regions) do
		local midi = region:to_midiregion ()
		if not midi:isnil () then midi_regions[#midi_regions + 1] = midi end
	end
	if #midi_regions == 0 then
		tell ("Select one or more MIDI regions first.")
		return
	end

	local progress = LuaDialog and LuaDialog.ProgressWindow ("Magenta Bridge: " .. tool, false)
	local base = os.tmpname () -- an empty file of our own; the job's files are named after it
	local placed = {} -- { track, position, new regions } for each region done
	for _, region in ipairs (midi_regions) do
		local clip = clip_of (region)
		local input = base .. "-in.mid"
		write_midi (input, clip)
		local paths, problem = ask_daemon (input, base .. "-out.mid", progress)
		os.remove (input)
		if not paths then
			tell (tool .. " failed on " .. region:name () .. ": " .. problem)
			break
		end
		local track = track_of (region)
		local position = ticks_of (region:position ():beats ())
		if tool == "continue" then position = position + bar_end (clip) end
		local results = {}
		-- Later regions go on top: the last variation first, so the first one plays.
		for index = #paths, 1, -1 do
			local notes, length = read_midi (paths[index])
			os.remove (paths[index])
			results[#results + 1] = new_region (track, tool .. " " .. index, position,
				{ notes = notes, length = length }, clip.channel or 0)
		end
		placed[#placed + 1] = { track = track, position = position, regions = results }
	end
	os.remove (base)
	if progress then progress:done () end
	if #placed == 0 then return end

	-- One undo step places every new region.
	Session:begin_reversible_command ("Magenta Bridge: " .. tool)
	local changed = {}
	for _, job in ipairs (placed) do
		local playlist = job.track:playlist ()
		local id = playlist:to_stateful ():id ():to_s ()
		if not changed[id] then
			playlist:to_stateful ():clear_changes ()
			changed[id] = playlist
		end
		for _, region in ipairs (job.regions) do
			playlist:add_region (region, Temporal.timepos_t.from_ticks (job.position), 1, false)
		end
	end
	for _, playlist in pairs (changed) do
		Session:add_stateful_diff_command (playlist:to_statefuldestructible ())
	end
	Session:commit_reversible_command (nil)
end end
