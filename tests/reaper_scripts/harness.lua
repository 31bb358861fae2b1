-- A fake REAPER for the Magenta Bridge scripts under lua5.4: the ReaScript functions they call,
-- with the signatures and return orders of https://www.reaper.fm/sdk/reascript/reascripthelp.html,
-- over a small project (tracks, items, takes, MIDI notes in ticks, a tempo map with tempo
-- changes, ExtState) and REAPER's defer loop. Everything else is real: os.execute starts real
-- processes, files are real files, and the scripts' client talks to a real daemon.
--
-- A driver builds a project (harness.tempo_map, add_track, add_item...), runs an action with
-- harness.run(script) and writes what the project became with harness.dump(path). A call to a
-- function the harness does not model fails loudly, as would a typo against the real API.

local harness = {}

local PPQ = 960 -- ticks per quarter note of REAPER's MIDI takes
local POLL = 0.03 -- seconds between defer cycles: REAPER runs them about 30 times a second

local real_execute = os.execute
local state = {
  tempo = {}, tracks = {}, extstate = {}, cursor = 0,
  time_selection = { 0, 0 }, loop = { 0, 0 }, -- seconds; start == end: none
  messages = {}, tooltips = {}, prompts = {}, answers = {}, executed = {},
  undo = {}, undo_depth = 0, unblocked_edits = {}, refresh = 0, errors = {},
  deferred = {}, at_exit = {}, callbacks = 0, longest_callback = 0,
}
local ids = 0

local function new_id(kind)
  ids = ids + 1
  return ("{%s-%04d}"):format(kind, ids)
end

local function fail(message)
  error("harness: " .. message, 3)
end

-- Project edits outside an undo block would each be an undo point of their own in REAPER.
local function edit(what)
  if state.undo_depth == 0 then
    state.unblocked_edits[#state.unblocked_edits + 1] = what
  else
    state.undo[#state.undo].edits = state.undo[#state.undo].edits + 1
  end
end

function harness.clock()
  local pipe = io.popen("date +%s.%N")
  local now = pipe:read("n")
  pipe:close()
  return now
end

-- Tempo map ---------------------------------------------------------------------------------

-- Markers { qn, bpm, num, denom } from QN 0, square tempo changes (num and denom carry on).
function harness.tempo_map(markers)
  state.tempo = {}
  local time, previous = 0, nil
  for _, marker in ipairs(markers) do
    if previous then time = previous.time + (marker.qn - previous.qn) * 60 / previous.bpm end
    previous = { qn = marker.qn, time = time, bpm = marker.bpm,
      num = marker.num or (previous and previous.num) or 4,
      denom = marker.denom or (previous and previous.denom) or 4 }
    state.tempo[#state.tempo + 1] = previous
  end
end

local function marker_where(field, value)
  local found = state.tempo[1]
  for _, marker in ipairs(state.tempo) do
    if marker[field] <= value + 1e-9 then found = marker end
  end
  return found
end

local function time_to_qn(time)
  local marker = marker_where("time", time)
  return marker.qn + (time - marker.time) * marker.bpm / 60
end

local function qn_to_time(qn)
  local marker = marker_where("qn", qn)
  return marker.time + (qn - marker.qn) * 60 / marker.bpm
end

harness.time_to_qn, harness.qn_to_time = time_to_qn, qn_to_time

-- Project -----------------------------------------------------------------------------------

local function new_take(item, fields)
  local take = { kind = "MediaItem_Take", item = item, name = "", midi = true, ppq = PPQ,
    notes = {}, startoffs = 0, sorted = true, guid = new_id("take") }
  for key, value in pairs(fields or {}) do take[key] = value end
  return take
end

local function new_item(track, position, length)
  local item = { kind = "MediaItem", track = track, position = position, length = length,
    selected = false, takes = {}, active = 1, guid = new_id("item") }
  track.items[#track.items + 1] = item
  return item
end

function harness.add_track(name, selected)
  local track = { kind = "MediaTrack", name = name or "", items = {}, selected = selected }
  state.tracks[#state.tracks + 1] = track
  return track
end

-- An item from QN `start_qn` to `end_qn` with one MIDI take. `take.notes` are
-- { pitch, start tick, end tick, velocity, channel, muted } counted from the take's source
-- start, which `take.startoffs` seconds before the item (a trimmed item) moves earlier.
-- `take.scale` is { root, mask } as REAPER's key snap stores it.
function harness.add_item(track, start_qn, end_qn, take, selected)
  local position = qn_to_time(start_qn)
  local item = new_item(track, position, qn_to_time(end_qn) - position)
  item.selected = selected
  local notes = {}
  for _, note in ipairs(take.notes or {}) do
    notes[#notes + 1] = { pitch = note[1], start = note[2], stop = note[3], velocity = note[4],
      channel = note[5] or 0, muted = note[6] or false, selected = false }
  end
  item.takes[1] = new_take(item, { name = take.name or "", notes = notes,
    startoffs = take.startoffs or 0, scale = take.scale })
  return item
end

function harness.set_cursor(time)
  state.cursor = time
end

-- The time selection from `start` to `stop` seconds (equal: none). REAPER can link the loop
-- points to it (a preference); here they stay apart, as they are when unlinked.
function harness.set_time_selection(start, stop)
  state.time_selection = { start, stop }
end

function harness.set_extstate(section, key, value)
  state.extstate[section] = state.extstate[section] or {}
  state.extstate[section][key] = value
end

-- The next GetUserInputs dialog answers these values (nil: the user cancels).
function harness.answer(values)
  state.answers[#state.answers + 1] = values or false
end

local function take_start_qn(take)
  return time_to_qn(take.item.position - take.startoffs)
end

local function sort_notes(take)
  table.sort(take.notes, function(a, b)
    if a.start ~= b.start then return a.start < b.start end
    return a.pitch < b.pitch
  end)
  take.sorted = true
end

local function check(value, kind, what)
  if kind == "pointer" then
    if type(value) ~= "table" or not value.kind then fail(what .. " is not a REAPER object") end
  elseif kind == "MediaItem" or kind == "MediaItem_Take" or kind == "MediaTrack" then
    if type(value) ~= "table" or value.kind ~= kind then fail(what .. " is not a " .. kind) end
  elseif type(value) ~= kind then
    fail(("%s is a %s, not a %s"):format(what, type(value), kind))
  end
  return value
end

local function all_items()
  local items = {}
  for _, track in ipairs(state.tracks) do
    local ordered = { table.unpack(track.items) }
    table.sort(ordered, function(a, b) return a.position < b.position end)
    table.move(ordered, 1, #ordered, #items + 1, items)
  end
  return items
end

local function selected_items()
  local selected = {}
  for _, item in ipairs(all_items()) do
    if item.selected then selected[#selected + 1] = item end
  end
  return selected
end

local function track_number(track)
  for index, candidate in ipairs(state.tracks) do
    if candidate == track then return index end
  end
  fail("the track is not in the project")
end

-- State chunks ------------------------------------------------------------------------------

local function source_lines(take)
  local lines = { "<SOURCE MIDI", ("HASDATA 1 %d QN"):format(take.ppq) }
  local events = {}
  for _, note in ipairs(take.notes) do
    events[#events + 1] = { note.start, 1, ("%02x %02x %02x"):format(0x90 | note.channel,
      note.pitch, note.velocity) }
    events[#events + 1] = { note.stop, 0, ("%02x %02x 00"):format(0x80 | note.channel,
      note.pitch) }
  end
  table.sort(events, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  local item = take.item
  local last = 0
  for _, event in ipairs(events) do
    lines[#lines + 1] = ("E %d %s"):format(event[1] - last, event[3])
    last = event[1]
  end
  local source_end = math.floor((time_to_qn(item.position + item.length) - take_start_qn(take))
    * take.ppq + 0.5)
  lines[#lines + 1] = ("E %d b0 7b 00"):format(math.max(source_end - last, 0))
  lines[#lines + 1] = ">"
  return lines
end

local function item_chunk(item)
  local lines = { "<ITEM", ("POSITION %.14g"):format(item.position),
    ("LENGTH %.14g"):format(item.length), ("SEL %d"):format(item.selected and 1 or 0),
    "IGUID " .. item.guid }
  for index, take in ipairs(item.takes) do
    if index > 1 then lines[#lines + 1] = index == item.active and "TAKE SEL" or "TAKE" end
    lines[#lines + 1] = ("NAME %q"):format(take.name)
    lines[#lines + 1] = ("SOFFS %.14g"):format(take.startoffs)
    lines[#lines + 1] = "GUID " .. take.guid
    if take.midi then
      local source = source_lines(take)
      table.move(source, 1, #source, #lines + 1, lines)
    end
  end
  lines[#lines + 1] = ">"
  return table.concat(lines, "\n") .. "\n"
end

-- Notes from a MIDI source block's E lines (note offs end the oldest sounding note).
local function source_notes(block)
  local notes, sounding, tick = {}, {}, 0
  for _, line in ipairs(block) do
    local delta, status, first, second = line:match("^[Ee] (%d+) (%x%x) (%x%x) (%x%x)")
    if delta then
      tick = tick + tonumber(delta)
      status, first, second = tonumber(status, 16), tonumber(first, 16), tonumber(second, 16)
      local kind, channel = status >> 4, status & 0x0F
      local key = channel * 128 + first
      if kind == 0x9 and second > 0 then
        sounding[key] = sounding[key] or {}
        table.insert(sounding[key], { tick = tick, velocity = second })
      elseif (kind == 0x8 or kind == 0x9) and sounding[key] and #sounding[key] > 0 then
        local on = table.remove(sounding[key], 1)
        notes[#notes + 1] = { pitch = first, start = on.tick, stop = tick,
          velocity = on.velocity, channel = channel, muted = false, selected = false }
      end
    end
  end
  return notes
end

-- The takes of an item chunk. A take whose GUID the project knows is that take; any other is
-- new: a MIDI take when its source is in-project MIDI ("<SOURCE MIDI" with HASDATA).
local function parse_item_chunk(item, chunk)
  local lines = {}
  for line in chunk:gmatch("[^\r\n]+") do
    line = line:match("^%s*(.-)%s*$")
    if line ~= "" then lines[#lines + 1] = line end
  end
  if not (lines[1] or ""):match("^<ITEM") or lines[#lines] ~= ">" then
    return nil, "an item chunk runs from <ITEM to >"
  end
  local known, takes, fields, depth, block = {}, {}, nil, 0, nil
  for _, take in ipairs(item.takes) do known[take.guid] = take end
  local position, length
  local function close_take()
    if not fields then return end
    local take = known[fields.guid or ""]
    if not take then
      take = new_take(item, { midi = false })
      local source = fields.source
      for _, line in ipairs(source and source.midi and source.lines or {}) do
        local ppq = line:match("^HASDATA 1 (%d+) QN$")
        if ppq then take.midi, take.ppq = true, tonumber(ppq) end
      end
      if take.midi then take.notes = source_notes(source.lines) end
    end
    take.name = fields.name or take.name
    take.startoffs = fields.startoffs or take.startoffs
    takes[#takes + 1] = { take = take, active = fields.active }
  end
  for index = 2, #lines - 1 do
    local line = lines[index]
    if block then
      block.lines[#block.lines + 1] = line
      if line:sub(1, 1) == "<" then depth = depth + 1 elseif line == ">" then depth = depth - 1 end
      if depth == 0 then block = nil end
    elseif line:match("^<SOURCE") then
      fields = fields or {}
      block = { lines = {}, midi = line == "<SOURCE MIDI" }
      fields.source, depth = block, 1
    elseif line == ">" then
      return nil, "a > closes nothing"
    elseif line:match("^TAKE") then
      close_take()
      fields = { active = line == "TAKE SEL" }
    elseif line:match("^POSITION ") then
      position = tonumber(line:match("^POSITION (%S+)"))
    elseif line:match("^LENGTH ") then
      length = tonumber(line:match("^LENGTH (%S+)"))
    else
      fields = fields or {}
      if line:match("^NAME ") then
        fields.name = line:match('^NAME "(.*)"$') or line:match("^NAME (.*)$")
      elseif line:match("^SOFFS ") then
        fields.startoffs = tonumber(line:match("^SOFFS (%S+)"))
      elseif line:match("^GUID ") then
        fields.guid = line:match("^GUID (%S+)")
      end
    end
  end
  if block then return nil, "a <SOURCE block is not closed" end
  close_take()
  return { position = position, length = length, takes = takes }
end

-- The functions of the `reaper` table -----------------------------------------------------

local api = {}

function api.get_action_context()
  return false, harness.script, 0, 0, -1, -1, -1, ""
end

function api.APIExists(name)
  return api[check(name, "string", "function_name")] ~= nil
end

function api.defer(callback)
  state.deferred[#state.deferred + 1] = check(callback, "function", "the deferred function")
  return true
end

function api.atexit(callback)
  state.at_exit[#state.at_exit + 1] = check(callback, "function", "the atexit function")
end

function api.time_precise()
  return harness.clock()
end

function api.GetMousePosition()
  return 640, 400
end

function api.TrackCtl_SetToolTip(text, x, y, topmost)
  check(text, "string", "fmt")
  check(x, "number", "xpos")
  check(y, "number", "ypos")
  check(topmost, "boolean", "topmost")
  if state.tooltips[#state.tooltips] ~= text then state.tooltips[#state.tooltips + 1] = text end
end

function api.ShowMessageBox(message, title, kind)
  state.messages[#state.messages + 1] = { message = check(message, "string", "msg"),
    title = check(title, "string", "title"), type = check(kind, "number", "type") }
  return 1 -- OK
end

-- captions_csv holds num_inputs captions, then optional extrawidth=N and separator=X fields.
function api.GetUserInputs(title, count, captions_csv, values_csv)
  check(title, "string", "title")
  check(count, "number", "num_inputs")
  check(values_csv, "string", "retvals_csv")
  local separator, captions = ",", {}
  for field in (check(captions_csv, "string", "captions_csv") .. ","):gmatch("(.-),") do
    local special = field:match("^separator=(.)$")
    if special then
      separator = special
    elseif not field:match("^extrawidth=%d+$") then
      captions[#captions + 1] = field
    end
  end
  if #captions ~= count then
    fail(("GetUserInputs got %d captions for %d inputs"):format(#captions, count))
  end
  if count > 16 then fail("GetUserInputs takes at most 16 fields") end
  local shown = {}
  local split = "(.-)" .. separator:gsub("%p", "%%%0")
  for value in (values_csv .. separator):gmatch(split) do shown[#shown + 1] = value end
  state.prompts[#state.prompts + 1] = { title = title, captions = captions, values = shown }
  local answer = table.remove(state.answers, 1)
  if not answer then return false, "" end
  return true, table.concat(answer, separator)
end

function api.GetExtState(section, key)
  local values = state.extstate[check(section, "string", "section")] or {}
  return values[check(key, "string", "key")] or ""
end

function api.HasExtState(section, key)
  local values = state.extstate[check(section, "string", "section")] or {}
  return values[check(key, "string", "key")] ~= nil
end

function api.SetExtState(section, key, value, persist)
  check(persist, "boolean", "persist")
  harness.set_extstate(check(section, "string", "section"), check(key, "string", "key"),
    check(value, "string", "value"))
end

function api.RecursiveCreateDirectory(path, ignored)
  check(ignored, "number", "ignored")
  local quoted = "'" .. check(path, "string", "path"):gsub("'", "'\\''") .. "'"
  local ok = real_execute("mkdir -p " .. quoted)
  return ok and 1 or 0
end

function api.Undo_BeginBlock()
  state.undo_depth = state.undo_depth + 1
  if state.undo_depth == 1 then state.undo[#state.undo + 1] = { name = nil, edits = 0 } end
end

function api.Undo_EndBlock(description, flags)
  check(flags, "number", "extraflags")
  if state.undo_depth == 0 then fail("Undo_EndBlock without Undo_BeginBlock") end
  state.undo_depth = state.undo_depth - 1
  if state.undo_depth == 0 then
    state.undo[#state.undo].name = check(description, "string", "descchange")
  end
end

function api.PreventUIRefresh(count)
  state.refresh = state.refresh + check(count, "number", "prevent_count")
end

function api.UpdateArrange() end

function api.CountTracks(project)
  check(project, "number", "proj")
  return #state.tracks
end

function api.GetTrack(project, index)
  check(project, "number", "proj")
  return state.tracks[check(index, "number", "trackidx") + 1]
end

function api.GetSelectedTrack(project, index)
  check(project, "number", "proj")
  local found = -1
  for _, track in ipairs(state.tracks) do
    if track.selected then
      found = found + 1
      if found == index then return track end
    end
  end
  return nil
end

function api.InsertTrackAtIndex(index, defaults)
  check(defaults, "boolean", "wantDefaults")
  index = math.max(0, math.min(check(index, "number", "idx"), #state.tracks))
  table.insert(state.tracks, index + 1, { kind = "MediaTrack", name = "", items = {} })
  edit("InsertTrackAtIndex")
end

function api.GetMediaTrackInfo_Value(track, parameter)
  check(track, "MediaTrack", "tr")
  if parameter == "IP_TRACKNUMBER" then return track_number(track) end
  fail("GetMediaTrackInfo_Value " .. tostring(parameter) .. " is not modelled")
end

function api.GetSetMediaTrackInfo_String(track, parameter, value, set)
  check(track, "MediaTrack", "tr")
  check(value, "string", "stringNeedBig")
  check(set, "boolean", "setNewValue")
  if parameter ~= "P_NAME" then
    fail("track string " .. tostring(parameter) .. " is not modelled")
  end
  if set then
    track.name = value
    edit("track name")
  end
  return true, track.name
end

function api.GetCursorPosition()
  return state.cursor
end

-- isLoop picks the loop points, else the time selection; isSet sets them to start-end. Both
-- read and set answer the range (start == end when there is none).
function api.GetSet_LoopTimeRange(set, loop, start, stop, autoseek)
  check(set, "boolean", "isSet")
  check(loop, "boolean", "isLoop")
  check(start, "number", "start")
  check(stop, "number", "end")
  check(autoseek, "boolean", "allowautoseek")
  local range = loop and "loop" or "time_selection"
  if set then state[range] = { start, stop } end
  return state[range][1], state[range][2]
end

function api.CountSelectedMediaItems(project)
  check(project, "number", "proj")
  return #selected_items()
end

function api.GetSelectedMediaItem(project, index)
  check(project, "number", "proj")
  return selected_items()[check(index, "number", "selitem") + 1]
end

function api.GetMediaItem_Track(item)
  return check(item, "MediaItem", "item").track
end

function api.GetMediaItemInfo_Value(item, parameter)
  check(item, "MediaItem", "item")
  if parameter == "D_POSITION" then return item.position end
  if parameter == "D_LENGTH" then return item.length end
  if parameter == "B_UISEL" then return item.selected and 1 or 0 end
  fail("GetMediaItemInfo_Value " .. tostring(parameter) .. " is not modelled")
end

function api.CountTakes(item)
  return #check(item, "MediaItem", "item").takes
end

function api.GetTake(item, index)
  return check(item, "MediaItem", "item").takes[check(index, "number", "takeidx") + 1]
end

function api.GetActiveTake(item)
  check(item, "MediaItem", "item")
  return item.takes[item.active]
end

function api.SetActiveTake(take)
  check(take, "MediaItem_Take", "take")
  for index, candidate in ipairs(take.item.takes) do
    if candidate == take then take.item.active = index end
  end
  edit("SetActiveTake")
end

function api.TakeIsMIDI(take)
  return check(take, "MediaItem_Take", "take").midi
end

function api.GetSetMediaItemTakeInfo_String(take, parameter, value, set)
  check(take, "MediaItem_Take", "tk")
  check(value, "string", "stringNeedBig")
  check(set, "boolean", "setNewValue")
  if parameter ~= "P_NAME" then
    fail("take string " .. tostring(parameter) .. " is not modelled")
  end
  if set then
    take.name = value
    edit("take name")
  end
  return true, take.name
end

function api.MIDI_GetScale(take)
  local scale = check(take, "MediaItem_Take", "take").scale
  if not scale then return false, 0, 0, "" end
  return true, scale[1], scale[2], ""
end

function api.TimeMap2_timeToQN(project, time)
  check(project, "number", "proj")
  return time_to_qn(check(time, "number", "tpos"))
end

function api.TimeMap_GetTimeSigAtTime(project, time)
  check(project, "number", "proj")
  local marker = marker_where("time", check(time, "number", "time"))
  return marker.num, marker.denom, marker.bpm
end

function api.MIDI_CountEvts(take)
  local notes = #check(take, "MediaItem_Take", "take").notes
  return notes, notes, 0, 0
end

function api.MIDI_GetNote(take, index)
  check(take, "MediaItem_Take", "take")
  local note = take.notes[check(index, "number", "noteidx") + 1]
  if not note then return false, false, false, 0, 0, 0, 0, 0 end
  return true, note.selected, note.muted, note.start, note.stop, note.channel, note.pitch,
    note.velocity
end

function api.MIDI_GetProjQNFromPPQPos(take, ppq)
  check(take, "MediaItem_Take", "take")
  if not take.midi then return 0 end
  return take_start_qn(take) + check(ppq, "number", "ppqpos") / take.ppq
end

function api.MIDI_GetPPQPosFromProjQN(take, qn)
  check(take, "MediaItem_Take", "take")
  if not take.midi then return -1 end -- a take without a MIDI source has no tick map
  return (check(qn, "number", "projqn") - take_start_qn(take)) * take.ppq
end

local function integer_in(value, low, high, what)
  if math.type(value) ~= "integer" and not (type(value) == "number" and value % 1 == 0) then
    fail(("%s must be a whole number, got %s"):format(what, tostring(value)))
  end
  if value < low or value > high then
    fail(("%s %d is outside %d-%d"):format(what, value, low, high))
  end
  return math.tointeger(value)
end

function api.MIDI_InsertNote(take, selected, muted, start, stop, channel, pitch, velocity, no_sort)
  check(take, "MediaItem_Take", "take")
  check(selected, "boolean", "selected")
  check(muted, "boolean", "muted")
  check(start, "number", "startppqpos")
  check(stop, "number", "endppqpos")
  if no_sort ~= nil then check(no_sort, "boolean", "noSortIn") end
  if not take.midi then return false end
  -- An in-project MIDI source holds events at whole ticks.
  start, stop = math.floor(start + 0.5), math.floor(stop + 0.5)
  take.notes[#take.notes + 1] = { start = start, stop = stop, selected = selected, muted = muted,
    channel = integer_in(channel, 0, 15, "chan"), pitch = integer_in(pitch, 0, 127, "pitch"),
    velocity = integer_in(velocity, 1, 127, "vel") }
  take.sorted = false
  if not no_sort then sort_notes(take) end
  edit("MIDI_InsertNote")
  return true
end

-- Indices are those of MIDI_GetNote: the notes after the deleted one move down by one.
function api.MIDI_DeleteNote(take, index)
  check(take, "MediaItem_Take", "take")
  index = check(index, "number", "noteidx")
  if not take.notes[index + 1] then return false end
  table.remove(take.notes, index + 1)
  edit("MIDI_DeleteNote")
  return true
end

function api.MIDI_Sort(take)
  sort_notes(check(take, "MediaItem_Take", "take"))
end

function api.CreateNewMIDIItemInProj(track, start, stop, qn)
  check(track, "MediaTrack", "track")
  check(start, "number", "starttime")
  check(stop, "number", "endtime")
  if qn then start, stop = qn_to_time(start), qn_to_time(stop) end
  local item = new_item(track, start, stop - start)
  item.takes[1] = new_take(item)
  edit("CreateNewMIDIItemInProj")
  return item
end

function api.GetItemStateChunk(item, chunk, undo)
  check(item, "MediaItem", "item")
  check(chunk, "string", "str")
  check(undo, "boolean", "isundo")
  return true, item_chunk(item)
end

function api.SetItemStateChunk(item, chunk, undo)
  check(item, "MediaItem", "item")
  check(undo, "boolean", "isundo")
  local parsed, why = parse_item_chunk(item, check(chunk, "string", "str"))
  if not parsed then
    state.errors[#state.errors + 1] = "SetItemStateChunk refused: " .. why
    return false
  end
  item.position = parsed.position or item.position
  item.length = parsed.length or item.length
  item.takes, item.active = {}, 1
  for index, entry in ipairs(parsed.takes) do
    item.takes[index] = entry.take
    if entry.active then item.active = index end
  end
  edit("SetItemStateChunk")
  return true
end

reaper = setmetatable({}, {
  __index = function(_, name)
    local found = api[name]
    if not found then error("harness: reaper." .. tostring(name) .. " is not modelled", 2) end
    return found
  end,
  __newindex = function() error("harness: the reaper table is read-only", 2) end,
})

-- ExecProcess runs the command for real (under sh, killed after the timeout), recorded with
-- the rest. Like REAPER it returns the exit code, a newline, then the command's output.
function api.ExecProcess(command, timeout_ms)
  check(command, "string", "cmdline")
  check(timeout_ms, "number", "timeoutmsec")
  state.executed[#state.executed + 1] = command
  local seconds = timeout_ms > 0 and timeout_ms / 1000 or 3600
  local quoted = "'" .. command:gsub("'", "'\\''") .. "'"
  local pipe = io.popen(("timeout %.3f sh -c %s 2>/dev/null"):format(seconds, quoted))
  local output = pipe:read("a")
  local _, _, code = pipe:close()
  return tostring(code) .. "\n" .. output
end

-- The scripts launch their client with os.execute: recorded, then run for real.
os.execute = function(command)
  state.executed[#state.executed + 1] = command
  return real_execute(command)
end

-- Running scripts ---------------------------------------------------------------------------

local function timed(callback)
  local started = harness.clock()
  local ok, why = xpcall(callback, debug.traceback)
  state.callbacks = state.callbacks + 1
  state.longest_callback = math.max(state.longest_callback, harness.clock() - started)
  if not ok then state.errors[#state.errors + 1] = why end
  return ok
end

-- Run a script as REAPER runs an action, then its deferred functions until none is left
-- (or `limit` seconds pass), then its atexit functions.
function harness.run(script, limit)
  harness.script = script
  local deadline = harness.clock() + (limit or 120)
  if timed(function() dofile(script) end) then
    while #state.deferred > 0 do
      if harness.clock() > deadline then
        state.errors[#state.errors + 1] = "deferred functions still running at the time limit"
        break
      end
      real_execute(("sleep %s"):format(POLL))
      local queue = state.deferred
      state.deferred = {}
      for _, callback in ipairs(queue) do
        if not timed(callback) then
          state.deferred = {} -- REAPER stops a script whose deferred function fails
          break
        end
      end
    end
  end
  state.deferred = {}
  for _, callback in ipairs(state.at_exit) do timed(callback) end
  state.at_exit = {}
end

-- JSON dump ---------------------------------------------------------------------------------

local ARRAY = {}

local function array(list)
  return setmetatable(list, ARRAY)
end

local function encode(value)
  local kind = type(value)
  if kind == "nil" then return "null" end
  if kind == "boolean" then return tostring(value) end
  if kind == "number" then
    if value ~= value or value == math.huge or value == -math.huge then return "null" end
    return math.type(value) == "integer" and tostring(value) or ("%.17g"):format(value)
  end
  if kind == "string" then
    return '"' .. value:gsub('[%c"\\]', function(char)
      return ("\\u%04x"):format(char:byte())
    end) .. '"'
  end
  local parts = {}
  if getmetatable(value) == ARRAY then
    for _, entry in ipairs(value) do parts[#parts + 1] = encode(entry) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local keys = {}
  for key in pairs(value) do keys[#keys + 1] = key end
  table.sort(keys)
  for _, key in ipairs(keys) do parts[#parts + 1] = encode(key) .. ":" .. encode(value[key]) end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function dump_take(take)
  local notes = array({})
  for _, note in ipairs(take.notes) do
    local start_qn = api.MIDI_GetProjQNFromPPQPos(take, note.start)
    notes[#notes + 1] = { pitch = note.pitch, velocity = note.velocity, channel = note.channel,
      muted = note.muted, start_tick = note.start, end_tick = note.stop, start_qn = start_qn,
      end_qn = api.MIDI_GetProjQNFromPPQPos(take, note.stop),
      start_time = qn_to_time(start_qn) }
  end
  return { name = take.name, midi = take.midi, sorted = take.sorted, notes = notes }
end

local function dump_project()
  local tracks = array({})
  for _, track in ipairs(state.tracks) do
    local items = array({})
    for _, item in ipairs(all_items()) do
      if item.track == track then
        local takes = array({})
        for _, take in ipairs(item.takes) do takes[#takes + 1] = dump_take(take) end
        items[#items + 1] = { position = item.position, length = item.length,
          start_qn = time_to_qn(item.position), end_qn = time_to_qn(item.position + item.length),
          selected = item.selected, active_take = item.active, takes = takes }
      end
    end
    tracks[#tracks + 1] = { name = track.name, items = items }
  end
  local prompts = array({})
  for _, prompt in ipairs(state.prompts) do
    prompts[#prompts + 1] = { title = prompt.title, captions = array(prompt.captions),
      values = array(prompt.values) }
  end
  return {
    tracks = tracks, messages = array(state.messages), tooltips = array(state.tooltips),
    prompts = prompts, executed = array(state.executed), undo = array(state.undo),
    unblocked_edits = array(state.unblocked_edits), errors = array(state.errors),
    extstate = state.extstate, refresh = state.refresh, undo_depth = state.undo_depth,
    callbacks = state.callbacks, longest_callback = state.longest_callback,
  }
end

-- Write the project and everything the script did to it as JSON.
function harness.dump(path)
  local file = assert(io.open(path, "w"))
  file:write(encode(dump_project()))
  file:close()
end

return harness
