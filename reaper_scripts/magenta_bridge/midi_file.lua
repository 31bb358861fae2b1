-- Standard MIDI files, as much as the bridge exchanges: notes (pitch, beats, velocity, channel,
-- mute), one tempo, one time signature and the clip's length. Pure Lua, so the scripts need
-- nothing installed inside REAPER.
--
-- A clip is { notes = { {pitch, start, duration, velocity, channel, muted}... }, length, qpm,
-- numerator, denominator }, times in beats (quarter notes) from the clip's start. The length is
-- where the tracks end, as magenta-bridge reads it; muted notes go on a track named "muted"
-- (MIDI has no mute flag), the bridge's own convention both ways. A clip read from a file also
-- has `ppq`, the file's ticks per quarter note: how finely its notes were placed.

local midi_file = {}

midi_file.PPQ = 960 -- REAPER's ticks per quarter note
local MUTED_TRACK = "muted"
local CLIP_END_MARKER = "clip end" -- magenta-bridge's length when notes run past it

local function var_length(value)
  local bytes = { string.char(value & 0x7F) }
  value = value >> 7
  while value > 0 do
    table.insert(bytes, 1, string.char((value & 0x7F) | 0x80))
    value = value >> 7
  end
  return table.concat(bytes)
end

local function meta(kind, data)
  return "\255" .. string.char(kind) .. var_length(#data) .. data
end

-- One MTrk chunk from { tick, order, bytes } events; at equal ticks, lower order first.
local function track_chunk(events, end_tick)
  table.sort(events, function(a, b)
    if a.tick ~= b.tick then return a.tick < b.tick end
    return a.order < b.order
  end)
  local parts, last = {}, 0
  for _, event in ipairs(events) do
    parts[#parts + 1] = var_length(event.tick - last) .. event.bytes
    last = event.tick
  end
  parts[#parts + 1] = var_length(math.max(end_tick - last, 0)) .. meta(0x2F, "")
  local data = table.concat(parts)
  return "MTrk" .. string.pack(">I4", #data) .. data
end

local function ticks(beats)
  return math.floor(beats * midi_file.PPQ + 0.5)
end

-- Note offs before note ons at the same tick, so a note restruck where the last one ends
-- is not cut by that note's off.
local OFF, ON = 1, 2

local function note_events(notes)
  local events = {}
  for _, note in ipairs(notes) do
    local channel = note.channel or 0
    local on, off = ticks(note.start), ticks(note.start + note.duration)
    if off > on then
      events[#events + 1] = { tick = on, order = ON,
        bytes = string.char(0x90 | channel, note.pitch, math.max(note.velocity, 1)) }
      events[#events + 1] = { tick = off, order = OFF,
        bytes = string.char(0x80 | channel, note.pitch, 0) }
    end
  end
  return events
end

-- The clip as format 1 bytes: a tempo track, the notes, and the muted notes if any.
function midi_file.encode(clip)
  local end_tick = ticks(clip.length)
  local log2 = math.floor(math.log(clip.denominator, 2) + 0.5)
  local tempo = math.floor(60000000 / clip.qpm + 0.5)
  local conductor = {
    { tick = 0, order = 0, bytes = meta(0x51, string.pack(">I3", tempo)) },
    { tick = 0, order = 0, bytes = meta(0x58, string.char(clip.numerator, log2, 24, 8)) },
    -- The item's exact length: without the marker magenta-bridge reads the bar grid.
    { tick = end_tick, order = 0, bytes = meta(0x06, CLIP_END_MARKER) },
  }
  local played, muted = {}, {}
  for _, note in ipairs(clip.notes) do
    table.insert(note.muted and muted or played, note)
  end
  local chunks = { track_chunk(conductor, end_tick), track_chunk(note_events(played), end_tick) }
  if #muted > 0 then
    local events = note_events(muted)
    events[#events + 1] = { tick = 0, order = 0, bytes = meta(0x03, MUTED_TRACK) }
    chunks[#chunks + 1] = track_chunk(events, end_tick)
  end
  return "MThd" .. string.pack(">I4I2I2I2", 6, 1, #chunks, midi_file.PPQ) .. table.concat(chunks)
end

function midi_file.write(path, clip)
  local file, why = io.open(path, "wb")
  if not file then return false, why end
  file:write(midi_file.encode(clip))
  file:close()
  return true
end

local function read_var_length(data, pos)
  local value = 0
  repeat
    local byte = data:byte(pos)
    if not byte then error("truncated variable-length number", 0) end
    value = (value << 7) | (byte & 0x7F)
    pos = pos + 1
  until byte < 0x80
  return value, pos
end

-- Data bytes after each channel status (high nibble).
local DATA_BYTES = { [0x8] = 2, [0x9] = 2, [0xA] = 2, [0xB] = 2, [0xC] = 1, [0xD] = 1, [0xE] = 2 }

-- One track's notes (a note off ends the oldest sounding note of its pitch and channel; notes
-- still sounding end with the track), its metas and its end tick.
local function read_track(data, pos, stop, found)
  local tick, status, sounding, notes, muted = 0, nil, {}, {}, false
  while pos < stop do
    local delta
    delta, pos = read_var_length(data, pos)
    tick = tick + delta
    local byte = data:byte(pos)
    if byte == 0xFF then
      local kind = data:byte(pos + 1)
      local length
      length, pos = read_var_length(data, pos + 2)
      local body = data:sub(pos, pos + length - 1)
      pos = pos + length
      if kind == 0x51 and not found.tempo then
        found.tempo = string.unpack(">I3", body)
      elseif kind == 0x58 and not found.numerator then
        found.numerator, found.denominator = body:byte(1), 1 << body:byte(2)
      elseif kind == 0x03 and body == MUTED_TRACK then
        muted = true
      elseif kind == 0x06 and body == CLIP_END_MARKER then
        found.clip_end = tick
      end
    elseif byte == 0xF0 or byte == 0xF7 then
      local length
      length, pos = read_var_length(data, pos + 1)
      pos = pos + length
    else
      if byte >= 0x80 then
        status, pos = byte, pos + 1
      elseif not status then
        error("data byte without a status", 0)
      end
      local kind, channel = status >> 4, status & 0x0F
      local first, second = data:byte(pos), data:byte(pos + 1)
      pos = pos + DATA_BYTES[kind]
      local key = channel * 128 + (first or 0)
      if kind == 0x9 and second > 0 then
        sounding[key] = sounding[key] or {}
        table.insert(sounding[key], { tick = tick, velocity = second })
      elseif (kind == 0x8 or kind == 0x9) and sounding[key] and #sounding[key] > 0 then
        local on = table.remove(sounding[key], 1)
        notes[#notes + 1] = { pitch = first, on = on.tick, off = tick, velocity = on.velocity,
          channel = channel }
      end
    end
  end
  for key, ons in pairs(sounding) do
    for _, on in ipairs(ons) do
      notes[#notes + 1] = { pitch = key % 128, on = on.tick, off = tick, velocity = on.velocity,
        channel = key // 128 }
    end
  end
  for _, note in ipairs(notes) do note.muted = muted end
  return notes, tick
end

-- A clip from MIDI bytes (format 0 or 1, any ticks per quarter note); nil and why otherwise.
function midi_file.decode(data)
  local ok, clip = pcall(function()
    if data:sub(1, 4) ~= "MThd" then error("not a MIDI file", 0) end
    local header_length, _, track_count, division = string.unpack(">I4I2I2I2", data, 5)
    if division >= 0x8000 then error("SMPTE timing is not supported", 0) end
    local pos, found, notes, end_tick = 9 + header_length, {}, {}, 0
    for _ = 1, track_count do
      if data:sub(pos, pos + 3) ~= "MTrk" then error("missing track chunk", 0) end
      local length = string.unpack(">I4", data, pos + 4)
      local track_notes, track_end = read_track(data, pos + 8, pos + 8 + length, found)
      table.move(track_notes, 1, #track_notes, #notes + 1, notes)
      end_tick = math.max(end_tick, track_end)
      pos = pos + 8 + length
    end
    local clip = {
      notes = {},
      length = (found.clip_end or end_tick) / division,
      qpm = found.tempo and 60000000 / found.tempo or 120,
      numerator = found.numerator or 4,
      denominator = found.denominator or 4,
      ppq = division,
    }
    for _, note in ipairs(notes) do
      if note.off > note.on then
        clip.notes[#clip.notes + 1] = { pitch = note.pitch, start = note.on / division,
          duration = (note.off - note.on) / division, velocity = note.velocity,
          channel = note.channel, muted = note.muted }
      end
    end
    table.sort(clip.notes, function(a, b)
      if a.start ~= b.start then return a.start < b.start end
      return a.pitch < b.pitch
    end)
    return clip
  end)
  if ok then return clip end
  return nil, clip
end

function midi_file.read(path)
  local file, why = io.open(path, "rb")
  if not file then return nil, why end
  local data = file:read("a")
  file:close()
  return midi_file.decode(data)
end

return midi_file
