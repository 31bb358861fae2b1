-- The eight actions: what each reads from the selection, what it asks the daemon, and where its
-- results land. Every action runs the same way: check the settings, write the selection as MIDI
-- files, start one `magenta-bridge client` per request in the background, poll from
-- reaper.defer with a status tooltip, then write every result in one undo block.

local client = require("magenta_bridge.client")
local midi_file = require("magenta_bridge.midi_file")
local project = require("magenta_bridge.project")
local settings = require("magenta_bridge.settings")

local actions = {}

local TITLE = "Magenta Bridge"
-- Seconds a job may take beyond the client's own --timeout (starting Python, the files)
-- before the action stops waiting for it.
local GRACE = 15

local function say(message)
  reaper.ShowMessageBox(message, TITLE, 0)
end

local function append(list, ...)
  for _, value in ipairs({ ... }) do list[#list + 1] = value end
  return list
end

-- Options every tool takes from the settings.
local function common(values)
  local options = {}
  if values.temperature then append(options, "--temperature", values.temperature) end
  if values.seed then append(options, "--seed", values.seed) end
  return options
end

-- The key lock and pitch range, added to `options` for the tools that take them (continue,
-- generate, interpolate, vary, harmonize, infill), except for drum parts: the daemon's drum
-- models refuse them. "auto" reads the key REAPER's key snap stores in `take` (none without).
local function pitched(options, values, drums, take)
  if drums then return options end
  local key = values.key
  if key == "auto" then key = take and project.key_of(take) end
  if key and key ~= "off" then append(options, "--key", key) end
  if values.pitch_low then append(options, "--pitch-low", values.pitch_low) end
  if values.pitch_high then append(options, "--pitch-high", values.pitch_high) end
  return options
end

-- A yes/no setting at "no", for a daemon parameter that is true by default: sent as 0.
local function unless_yes(options, option, setting)
  if setting == "no" then append(options, option, 0) end
  return options
end

local function channel_for(source, drums)
  if source and source.drums == drums then return source.channel end
  return drums and project.DRUM_CHANNEL or 0
end

-- Results as { clip, name, channel } for project.write_takes, named "<tool> <n>".
local function named(tool, clips, source)
  local results = {}
  for index, clip in ipairs(clips) do
    results[index] = { clip = clip, name = ("%s %d"):format(tool, index),
      channel = channel_for(source, clip.drums) }
  end
  return results
end

-- One request per selected MIDI item, each placing its results with `place(source, clips)`.
-- `options_for(source)` gives the client's options, or nil and why the item cannot go.
local function per_item(tool, options_for, place)
  local items = project.selected_midi_items()
  if #items == 0 then return nil, ("Select one or more MIDI items to %s."):format(tool) end
  local requests = {}
  for _, item in ipairs(items) do
    local source = project.read(item)
    if #source.clip.notes == 0 then
      return nil, ("An item on track '%s' has no notes to %s."):format(source.name, tool)
    end
    local options, why = options_for(source)
    if not options then return nil, why end
    requests[#requests + 1] = {
      inputs = { source.clip }, drums = source.drums, options = options,
      place = function(clips) place(source, clips) end,
    }
  end
  return requests
end

-- Results as takes of the item itself: vary and groove.
local function as_takes(tool)
  return function(source, clips)
    project.write_takes(source.item, named(tool, clips, source), source.start_qn, source.end_qn)
  end
end

-- Where the daemon starts a continuation: the first bar line at or after the clip's end,
-- counted from its start, in quarter notes (an item a 16th short of its bar goes on the beat).
local function bar_end(clip)
  local bar = clip.numerator * 4 / clip.denominator
  return math.max(1, math.ceil(clip.length / bar - 1e-9)) * bar
end

local TOOLS = {}

TOOLS.continue = function(values)
  return per_item("continue", function(source)
    local options = append(common(values), "--bars", values.bars, "--variations",
      values.variations)
    pitched(options, values, source.drums, source.take)
    -- 0 (or blank) is the daemon's own default: as the model plays, no cap.
    if (values.density or 0) > 0 then append(options, "--density", values.density) end
    if (values.polyphony or 0) > 0 then append(options, "--polyphony", values.polyphony) end
    return options
  end, function(source, clips)
    -- A new item from the bar line after the source, where the daemon starts the continuation.
    local start_qn = source.start_qn + bar_end(source.clip)
    local end_qn = start_qn + clips[1].length
    local item = project.new_item(source.track, start_qn, end_qn)
    project.write_takes(item, named("continue", clips, source), start_qn, end_qn, true)
  end)
end

TOOLS.vary = function(values)
  return per_item("vary", function(source)
    local options = append(common(values), "--variations", values.variations)
    if values.distance then append(options, "--distance", values.distance) end
    return pitched(options, values, source.drums, source.take)
  end, as_takes("vary"))
end

TOOLS.groove = function(values)
  local requests, why = per_item("groove", function()
    local options = append(common(values), "--variations", values.variations)
    unless_yes(options, "--keep-hits", values.keep_hits)
    return unless_yes(options, "--backbone", values.backbone)
  end, as_takes("groove"))
  -- Grooving says the item is drums, whatever its channel or track.
  for _, request in ipairs(requests or {}) do request.drums = true end
  return requests, why
end

TOOLS.drumify = function(values)
  local drum_tracks = {} -- one new track per source track
  return per_item("drumify", function()
    local options = append(common(values), "--variations", values.variations)
    return unless_yes(options, "--backbone", values.backbone)
  end, function(source, clips)
    drum_tracks[source.track] = drum_tracks[source.track]
      or project.new_track(source.track, "Drumify")
    local item = project.new_item(drum_tracks[source.track], source.start_qn, source.end_qn)
    project.write_takes(item, named("drumify", clips, source), source.start_qn, source.end_qn,
      true)
  end)
end

-- Options of the chorale tools (Coconet's harmonize and infill) for an item.
local function chorale(values, source)
  local options = append(common(values), "--variations", values.variations)
  if values.gibbs_steps then append(options, "--gibbs-steps", values.gibbs_steps) end
  return pitched(options, values, source.drums, source.take)
end

local VOICES = { "soprano", "alto", "tenor", "bass" }

-- Each voice on a track of its own below the item's track ("Lead alto"), in an item where
-- the source lies, the variations as its takes: voices sound together (takes of one item would
-- not), each can have its instrument, and selecting the voices' items and switching takes
-- (T) moves every voice to the same variation, as take n is variation n on every track.
TOOLS.harmonize = function(values)
  local voice_tracks = {} -- per source track, its voices' tracks
  return per_item("harmonize", function(source)
    return append(chorale(values, source), "--voices-apart", 1)
  end, function(source, clips)
    local voices = #clips // values.variations -- a variation is its voices, top first
    if not voice_tracks[source.track] then
      local tracks, above = {}, source.track
      for voice = 1, voices do
        above = project.new_track(above, ("%s %s"):format(project.track_title(source.track),
          VOICES[voice]))
        tracks[voice] = above
      end
      voice_tracks[source.track] = tracks
    end
    for voice, track in ipairs(voice_tracks[source.track]) do
      local results = {}
      for variation = 1, values.variations do
        local result = { clip = clips[(variation - 1) * voices + voice],
          name = ("harmonize %d"):format(variation), channel = source.channel }
        -- The soprano is the melody itself: written from the item, tick for tick (the result
        -- files have half REAPER's ticks), each note on its own channel.
        if voice == 1 then result.clip, result.channel = source.clip, nil end
        results[variation] = result
      end
      local item = project.new_item(track, source.start_qn, source.end_qn)
      project.write_takes(item, results, source.start_qn, source.end_qn, true)
    end
  end)
end

-- The part of each item inside the time selection, written again in its own take (the first
-- variation) and in new takes (the others); everything outside the selection stays.
TOOLS.infill = function(values)
  local from_time, to_time = reaper.GetSet_LoopTimeRange(false, false, 0, 0, false)
  local spans = {} -- per source, the span in beats from its start
  return per_item("infill", function(source)
    if to_time <= from_time then
      return nil, "Make a time selection over the part of the items to infill."
    end
    local from, to = project.span(source, from_time, to_time)
    if not from then
      return nil, ("The time selection does not overlap the item on track '%s'; select the "
        .. "part of it to infill."):format(source.name)
    end
    spans[source] = { from, to }
    return append(chorale(values, source), "--voices-apart", 0, "--start", from, "--end", to)
  end, function(source, clips)
    local span = spans[source]
    project.write_span(source, span[1], span[2], named("infill", clips, source))
  end)
end

TOOLS.interpolate = function(values)
  local items = project.selected_midi_items()
  if #items ~= 2 then
    return nil, "Select two MIDI items: the start and the end of the interpolation "
      .. ("(%d selected)."):format(#items)
  end
  local first, last = project.read(items[1]), project.read(items[2])
  for _, source in ipairs({ first, last }) do
    if #source.clip.notes == 0 then
      return nil, ("The item on track '%s' has no notes to interpolate."):format(source.name)
    end
  end
  -- The steps go between the two items, which stay: never their decoded copies (endpoints 0).
  local options = append(common(values), "--steps", values.steps, "--endpoints", 0)
  if values.mode ~= "spherical" then append(options, "--mode", values.mode) end
  pitched(options, values, first.drums and last.drums, first.take)
  return { {
    inputs = { first.clip, last.clip }, drums = first.drums and last.drums,
    options = options,
    -- The steps, back to back from the end of the first item: in the gap on its track when
    -- they fit there, else on a new track below, never over the second item.
    place = function(clips)
      local start_qn, total = first.end_qn, 0
      for _, clip in ipairs(clips) do total = total + clip.length end
      local fits = first.track ~= last.track or last.start_qn < first.start_qn
        or start_qn + total <= last.start_qn + 1e-6
      local track = fits and first.track or project.new_track(first.track, "Interpolate")
      for _, result in ipairs(named("interpolate", clips, first)) do
        local end_qn = start_qn + result.clip.length
        local item = project.new_item(track, start_qn, end_qn)
        project.write_takes(item, { result }, start_qn, end_qn, true)
        start_qn = end_qn
      end
    end,
  } }
end

TOOLS.generate = function(values)
  local track = reaper.GetSelectedTrack(0, 0)
  local cursor = reaper.GetCursorPosition()
  local _, _, qpm = reaper.TimeMap_GetTimeSigAtTime(0, cursor)
  local start_qn = reaper.TimeMap2_timeToQN(0, cursor)
  local options = append(common(values), "--bars", values.bars, "--variations",
    values.variations, "--qpm", ("%.3f"):format(qpm))
  -- No clip to tell the daemon what to make: a drum track asks for its drum model. No take
  -- either: key lock "auto" locks nothing here, a key of the settings does.
  local drums = track and project.is_drum_track(track)
  if drums then append(options, "--content", "drums") end
  pitched(options, values, drums, nil)
  return { {
    inputs = {},
    options = options,
    -- At the edit cursor, on the selected track (a new one when none is).
    place = function(clips)
      local target = track or project.new_track(nil, "Generate")
      local end_qn = start_qn + clips[1].length
      local item = project.new_item(target, start_qn, end_qn)
      project.write_takes(item, named("generate", clips), start_qn, end_qn, true)
    end,
  } }
end

-- Start a request's client: its inputs written as MIDI files in a job folder of its own.
local function start(tool, request, values, executable)
  local folder, sep = client.job_folder()
  local files, arguments = {}, { "client", "--timeout", values.timeout, "--json" }
  if values.port then append(arguments, "--port", values.port) end
  append(arguments, tool)
  for index, clip in ipairs(request.inputs) do
    files[index] = ("%s%sinput-%d.mid"):format(folder, sep, index)
    local ok, why = midi_file.write(files[index], clip)
    if not ok then return nil, why end
    append(arguments, files[index])
  end
  append(arguments, "-o", folder .. sep .. "result.mid")
  if values.model ~= "" then append(arguments, "--model", values.model) end
  if request.drums then append(arguments, "--drums") end
  table.move(request.options, 1, #request.options, #arguments + 1, arguments)
  local job, why = client.start(executable, arguments, folder, sep)
  if job then job.inputs = files end
  return job, why
end

-- A finished job's result clips, read back from the files the client wrote.
local function result_clips(result)
  local clips = {}
  for index, path in ipairs(result.paths) do
    local clip, why = midi_file.read(path)
    if not clip then return nil, ("cannot read the result %s: %s"):format(path, why) end
    clip.drums = result.drums[index]
    clips[index] = clip
  end
  return clips
end

local function failure(tool, job, executable)
  local result = job.result
  if result.silent then
    return ("Could not run the Magenta Bridge client (%s):\n%s\n\nIs magenta-bridge installed? "
      .. "Set its path in \"Magenta Bridge - Settings\"."):format(executable, result.error)
  end
  return ("%s failed: %s"):format(tool, result.error)
end

-- Write every result in one undo block; say what failed.
local function finish(tool, jobs, executable)
  local placed, problems = {}, {}
  for _, job in ipairs(jobs) do
    local clips, why
    if job.result.ok then clips, why = result_clips(job.result) end
    if clips then
      placed[#placed + 1] = { job = job, clips = clips }
    else
      problems[#problems + 1] = why or failure(tool, job, executable)
    end
  end
  if #placed > 0 then
    reaper.Undo_BeginBlock()
    reaper.PreventUIRefresh(1)
    for _, done in ipairs(placed) do done.job.request.place(done.clips) end
    reaper.PreventUIRefresh(-1)
    reaper.UpdateArrange()
    reaper.Undo_EndBlock(("%s: %s"):format(TITLE, tool), -1)
  end
  for _, job in ipairs(jobs) do
    client.clean(job, append({ table.unpack(job.inputs) }, table.unpack(job.result.paths or {})))
  end
  if #problems > 0 then say(table.concat(problems, "\n\n")) end
end

-- Poll the jobs from reaper.defer until all are done, showing progress near the mouse.
local function wait(tool, jobs, executable, limit)
  local started = reaper.time_precise()
  local x, y = reaper.GetMousePosition()
  local function poll()
    local running, total = 0, 0
    for _, job in ipairs(jobs) do
      local progress = 1
      if not job.result then
        job.result, progress = client.poll(job)
        if not job.result and reaper.time_precise() - started > limit then
          job.result = { ok = false, error = ("no answer after %g s"):format(limit) }
        end
      end
      if not job.result then running = running + 1 end
      total = total + (job.result and 1 or progress)
    end
    if running == 0 then
      reaper.TrackCtl_SetToolTip("", 0, 0, true)
      return finish(tool, jobs, executable)
    end
    reaper.TrackCtl_SetToolTip(("%s: %s... %d%%"):format(TITLE, tool, total / #jobs * 100 // 1),
      x + 16, y + 16, true)
    reaper.defer(poll)
  end
  reaper.defer(poll)
end

-- Run one tool on the selection; `script_folder` is where the action scripts live.
function actions.run(tool, script_folder)
  local values, problems = settings.load()
  if not values then
    return say(("The settings are not valid:\n\n%s\n\nFix them with \"Magenta Bridge - Settings\".")
      :format(table.concat(problems, "\n")))
  end
  local requests, why = TOOLS[tool](values)
  if not requests then return say(why) end
  local executable = client.executable(values.executable, script_folder)
  local jobs = {}
  for _, request in ipairs(requests) do
    local job, problem = start(tool, request, values, executable)
    if not job then return say(("Could not start %s: %s"):format(tool, problem)) end
    job.request = request
    jobs[#jobs + 1] = job
  end
  reaper.atexit(function() reaper.TrackCtl_SetToolTip("", 0, 0, true) end)
  wait(tool, jobs, executable, values.timeout + GRACE)
end

return actions
