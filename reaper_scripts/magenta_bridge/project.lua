-- Reading clips out of REAPER items and writing results back, through the ReaScript API.
--
-- Positions cross the tempo map as quarter notes (QN): a MIDI take counts ticks in QN from its
-- source's start, and MIDI_GetProjQNFromPPQPos / MIDI_GetPPQPosFromProjQN convert them with the
-- item's tempo map, so a tempo change inside or after an item moves nothing. Seconds appear only
-- where REAPER stores them (item position and length), converted with TimeMap2_*.

local midi_file = require("magenta_bridge.midi_file")

local project = {}

local EPSILON = 1e-6 -- QN; far below a tick (1/960)
project.DRUM_CHANNEL = 9 -- General MIDI's channel 10, as REAPER counts from 0

local function on_tick(qn)
  return math.floor(qn * midi_file.PPQ + 0.5) / midi_file.PPQ
end

local function item_range(item)
  local position = reaper.GetMediaItemInfo_Value(item, "D_POSITION")
  local length = reaper.GetMediaItemInfo_Value(item, "D_LENGTH")
  return position, reaper.TimeMap2_timeToQN(0, position),
    reaper.TimeMap2_timeToQN(0, position + length)
end

function project.track_name(track)
  local _, name = reaper.GetSetMediaTrackInfo_String(track, "P_NAME", "", false)
  return name
end

-- A track whose name says it plays drums ("Drums", "drum bus"), whatever its MIDI channel.
function project.is_drum_track(track)
  return project.track_name(track):lower():find("drum") ~= nil
end

-- The selected items whose active take is MIDI, in timeline order.
function project.selected_midi_items()
  local items = {}
  for index = 0, reaper.CountSelectedMediaItems(0) - 1 do
    local item = reaper.GetSelectedMediaItem(0, index)
    local take = reaper.GetActiveTake(item)
    if take and reaper.TakeIsMIDI(take) then items[#items + 1] = item end
  end
  table.sort(items, function(a, b)
    return reaper.GetMediaItemInfo_Value(a, "D_POSITION")
      < reaper.GetMediaItemInfo_Value(b, "D_POSITION")
  end)
  return items
end

-- A take's note as the item shows it, in beats from the item's start (which starts at QN
-- `start_qn` and ends at `end_qn`), cut at its end; nil for a note that starts outside it.
local function shown_note(take, index, start_qn, end_qn)
  local _, _, muted, on_ppq, off_ppq, channel, pitch, velocity = reaper.MIDI_GetNote(take, index)
  local on = on_tick(reaper.MIDI_GetProjQNFromPPQPos(take, on_ppq) - start_qn)
  local off = on_tick(math.min(reaper.MIDI_GetProjQNFromPPQPos(take, off_ppq), end_qn) - start_qn)
  if on >= 0 and on < end_qn - start_qn - EPSILON and off > on then
    return { pitch = pitch, start = on, duration = off - on, velocity = velocity,
      channel = channel, muted = muted }
  end
  return nil
end

-- An item's active take as a clip (see midi_file): the notes that start inside the item, cut
-- at its end (what a trimmed or extended take hides stays hidden), with their channels,
-- velocities and mutes, and the tempo and metre where the item starts. Also where the item
-- lies (QN), its track, its most used channel and whether it is a drum part: every note on
-- channel 10, or a track whose name says drums.
function project.read(item)
  local take = reaper.GetActiveTake(item)
  local position, start_qn, end_qn = item_range(item)
  local numerator, denominator, qpm = reaper.TimeMap_GetTimeSigAtTime(0, position)
  local track = reaper.GetMediaItem_Track(item)
  local notes, uses = {}, {}
  local _, count = reaper.MIDI_CountEvts(take)
  for index = 0, count - 1 do
    local note = shown_note(take, index, start_qn, end_qn)
    if note then
      notes[#notes + 1] = note
      uses[note.channel] = (uses[note.channel] or 0) + 1
    end
  end
  local channel, most = 0, 0
  for used, times in pairs(uses) do
    if times > most or (times == most and used < channel) then channel, most = used, times end
  end
  local all_drums = #notes > 0 and uses[project.DRUM_CHANNEL] == #notes
  return {
    item = item, take = take, track = track, name = project.track_name(track),
    start_qn = start_qn, end_qn = end_qn, channel = channel,
    drums = all_drums or project.is_drum_track(track),
    clip = { notes = notes, length = on_tick(end_qn - start_qn), qpm = qpm,
      numerator = numerator, denominator = denominator },
  }
end

-- Semitones of the scales magenta-bridge knows by name (bridge/music/scales.py).
local MODES = {
  { "major", { 0, 2, 4, 5, 7, 9, 11 } }, { "minor", { 0, 2, 3, 5, 7, 8, 10 } },
  { "harmonic_minor", { 0, 2, 3, 5, 7, 8, 11 } }, { "melodic_minor", { 0, 2, 3, 5, 7, 9, 11 } },
  { "dorian", { 0, 2, 3, 5, 7, 9, 10 } }, { "phrygian", { 0, 1, 3, 5, 7, 8, 10 } },
  { "lydian", { 0, 2, 4, 6, 7, 9, 11 } }, { "mixolydian", { 0, 2, 4, 5, 7, 9, 10 } },
  { "locrian", { 0, 1, 3, 5, 6, 8, 10 } }, { "major_pentatonic", { 0, 2, 4, 7, 9 } },
  { "minor_pentatonic", { 0, 3, 5, 7, 10 } }, { "blues", { 0, 3, 5, 6, 7, 10 } },
}
local ROOTS = { "C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B" }

-- The key REAPER's key snap stores in a take's source (REAPER 7), as magenta-bridge writes
-- keys ("D:dorian"), or nil when there is none or it is not a scale the bridge knows.
function project.key_of(take)
  if not reaper.APIExists("MIDI_GetScale") then return nil end
  local ok, root, scale = reaper.MIDI_GetScale(take)
  if not ok then return nil end
  for _, mode in ipairs(MODES) do
    local mask = 0
    for _, step in ipairs(mode[2]) do mask = mask | (1 << step) end
    if mask == scale then return ROOTS[root % 12 + 1] .. ":" .. mode[1] end
  end
  return nil
end

-- A track's name as REAPER shows it: its own, or "Track N" when it has none.
function project.track_title(track)
  local name = project.track_name(track)
  if name ~= "" then return name end
  return ("Track %d"):format(reaper.GetMediaTrackInfo_Value(track, "IP_TRACKNUMBER"))
end

-- A new track right below `track` (at the end when nil), named.
function project.new_track(track, name)
  local index = track and reaper.GetMediaTrackInfo_Value(track, "IP_TRACKNUMBER")
    or reaper.CountTracks(0)
  reaper.InsertTrackAtIndex(index, true)
  local new = reaper.GetTrack(0, index)
  reaper.GetSetMediaTrackInfo_String(new, "P_NAME", name, true)
  return new
end

-- A new empty MIDI item on `track` from one QN position to another.
function project.new_item(track, start_qn, end_qn)
  return reaper.CreateNewMIDIItemInProj(track, start_qn, end_qn, true)
end

-- A new MIDI take at the end of the item's takes. The API's AddTakeToMediaItem gives a take
-- without a source, and a source made by PCM_Source_CreateFromType("MIDI") has no tick map, so
-- MIDI_InsertNote refuses it; a take written into the item's state chunk with an in-project
-- MIDI source (ticks in QN, an all-notes-off at the item's end) is a take like any other.
local function add_take(item, start_qn, end_qn)
  local _, chunk = reaper.GetItemStateChunk(item, "", false)
  local block = ('TAKE\nNAME ""\n<SOURCE MIDI\nHASDATA 1 %d QN\nE %d b0 7b 00\n>\n')
    :format(midi_file.PPQ, math.floor((end_qn - start_qn) * midi_file.PPQ + 0.5))
  chunk = chunk:gsub("\n>%s*$", function() return "\n" .. block .. ">\n" end)
  if not reaper.SetItemStateChunk(item, chunk, false) then
    error("REAPER refused the new take of an item")
  end
  return reaper.GetTake(item, reaper.CountTakes(item) - 1)
end

-- Notes of a clip (beats from `start_qn`) into a MIDI take, cut at `end_qn`, on `channel`
-- (nil: each note's own).
local function fill(take, clip, start_qn, end_qn, channel)
  for _, note in ipairs(clip.notes) do
    local on = start_qn + note.start
    local off = math.min(on + note.duration, end_qn)
    if on < end_qn - EPSILON and off > on then
      reaper.MIDI_InsertNote(take, false, note.muted, reaper.MIDI_GetPPQPosFromProjQN(take, on),
        reaper.MIDI_GetPPQPosFromProjQN(take, off), channel or note.channel, note.pitch,
        note.velocity, true)
    end
  end
  reaper.MIDI_Sort(take)
end

local function write_take(take, result, start_qn, end_qn)
  fill(take, result.clip, start_qn, end_qn, result.channel)
  reaper.GetSetMediaItemTakeInfo_String(take, "P_NAME", result.name, true)
end

-- Results as takes of `item`, which spans start_qn to end_qn (notes past it are cut): each
-- { clip, name, channel } (channel nil: each note's own). An item just made holds the first in
-- the take it came with, an existing one gets them all as new takes. The first result becomes
-- the active take.
function project.write_takes(item, results, start_qn, end_qn, item_is_new)
  local first
  for index, result in ipairs(results) do
    local take = (item_is_new and index == 1) and reaper.GetActiveTake(item)
      or add_take(item, start_qn, end_qn)
    write_take(take, result, start_qn, end_qn)
    first = first or take
  end
  reaper.SetActiveTake(first)
end

-- The part of a read item (project.read) inside a stretch of project time in seconds (a time
-- selection), in beats from the item's start, on the tick grid; nil when they do not overlap.
function project.span(source, from_time, to_time)
  local from = on_tick(math.max(reaper.TimeMap2_timeToQN(0, from_time) - source.start_qn, 0))
  local to = on_tick(math.min(reaper.TimeMap2_timeToQN(0, to_time) - source.start_qn,
    source.clip.length))
  if to - from < EPSILON then return nil end
  return from, to
end

-- What infill writes again: a played note lying wholly inside the span (beats). A note that
-- sounds across its edge is kept, and so is a muted one (the model does not hear it).
local function rewritten(note, from, to)
  return not note.muted and note.start >= from - EPSILON
    and note.start + note.duration <= to + EPSILON
end

-- A result's new notes: those that are not a kept note coming back (`heard`, by pitch; the
-- result files round positions to their own ticks), cut to the span, on `channel`.
local function new_notes(clip, heard, from, to, channel)
  local tolerance = 0.5 / clip.ppq + EPSILON
  local waiting = {}
  for _, note in ipairs(heard) do
    waiting[note.pitch] = waiting[note.pitch] or {}
    table.insert(waiting[note.pitch], note)
  end
  local notes = {}
  for _, note in ipairs(clip.notes) do
    local same = waiting[note.pitch] or {}
    local back
    for index, old in ipairs(same) do
      if math.abs(old.start - note.start) <= tolerance
          and math.abs(old.duration - note.duration) <= 2 * tolerance then
        back = index
        break
      end
    end
    if back then
      table.remove(same, back)
    else
      local on, off = math.max(note.start, from), math.min(note.start + note.duration, to)
      if off - on > EPSILON then
        notes[#notes + 1] = { pitch = note.pitch, start = on, duration = off - on,
          velocity = note.velocity, channel = channel, muted = false }
      end
    end
  end
  return notes
end

-- Infill's results written back into a read item (project.read) whose beats `from`-`to` were
-- written again; each result is { clip, name, channel }, the clip holding the kept notes and
-- the new ones, and channel the one for the new notes. The first goes into the item's take
-- itself: the notes the daemon wrote again are deleted and the new ones inserted, every other
-- note (outside the span, across its edges, muted, hidden by a trim) left as it is. Each further
-- result becomes a new take, named: the item's notes but those written again, and its new ones.
function project.write_span(source, from, to, results)
  local take = source.take
  local _, count = reaper.MIDI_CountEvts(take)
  for index = count - 1, 0, -1 do -- backwards: deleting a note moves the later ones down
    local note = shown_note(take, index, source.start_qn, source.end_qn)
    if note and rewritten(note, from, to) then reaper.MIDI_DeleteNote(take, index) end
  end
  local kept, heard = {}, {}
  for _, note in ipairs(source.clip.notes) do
    if not rewritten(note, from, to) then
      kept[#kept + 1] = note
      if not note.muted then heard[#heard + 1] = note end
    end
  end
  for index, result in ipairs(results) do
    local notes = new_notes(result.clip, heard, from, to, result.channel)
    if index == 1 then
      fill(take, { notes = notes }, source.start_qn, source.end_qn)
    else
      table.move(kept, 1, #kept, #notes + 1, notes)
      write_take(add_take(source.item, source.start_qn, source.end_qn),
        { clip = { notes = notes }, name = result.name }, source.start_qn, source.end_qn)
    end
  end
end

return project
