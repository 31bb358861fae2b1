-- The defaults every action uses, kept in REAPER's ExtState (persisted in reaper-extstate.ini)
-- and edited by "Magenta Bridge - Settings". Each value is stored as the text the user typed,
-- and checked again when an action reads it, so a hand-edited ini cannot slip a bad value past.

local client = require("magenta_bridge.client")

local settings = {}

settings.SECTION = "MagentaBridge"

local function number_in(low, high, integer)
  return function(text)
    local value = tonumber(text)
    if not value or value ~= value or value < low or value > high
        or (integer and math.type(value) ~= "integer") then
      return nil, ("must be %s from %s to %s"):format(integer and "a whole number" or "a number",
        low, high)
    end
    return value
  end
end

local function trimmed(text)
  return (text or ""):match("^%s*(.-)%s*$")
end

local function optional(check)
  return function(text)
    if text == "" then return nil end
    return check(text)
  end
end

local function model_name(text)
  if text == "" or text:match("^[%w_.-]+$") then return text end
  return nil, "must be a model name from the daemon's config (letters, digits, _ . -)"
end

-- "auto" reads the key REAPER's key snap stores in the item (REAPER 7), "off" locks nothing.
local function key_lock(text)
  local lower = text:lower()
  if lower == "auto" or lower == "off" then return lower end
  if text:match("^%s*[A-Ga-g][#b]?%s*:?%s*[%a_ ]*$") then return text end
  return nil, "must be auto, off or a key such as C:major, F#:minor, Bb:dorian"
end

-- One of a few words (any case), given back as written in `words`.
local function one_of(words)
  return function(text)
    for _, word in ipairs(words) do
      if text:lower() == word then return word end
    end
    return nil, "must be " .. table.concat(words, " or ")
  end
end

local function executable(text)
  if text == "" then return "" end
  if text:find('"', 1, true) then return nil, "must not contain quotes" end
  local file = io.open(text, "rb")
  if not file then return nil, ("names no file (%s)"):format(text) end
  file:close()
  return text
end

-- In the dialogs' order: the first page, then the second (`page = 2`), each at most 16 fields
-- as GetUserInputs allows. `caption` is what GetUserInputs shows (no commas: captions are
-- comma-separated whatever the separator of the values). The second page holds what shapes
-- the results of some tools only; at its default a value is not sent, so the daemon's own
-- default applies.
settings.FIELDS = {
  { key = "model", caption = "Model (blank: the daemon picks)", default = "", check = model_name },
  { key = "temperature", caption = "Temperature (blank: tool's own)", default = "",
    check = optional(number_in(0.01, 10)) },
  { key = "variations", caption = "Variations (takes)", default = "4",
    check = number_in(1, 64, true) },
  { key = "bars", caption = "Bars (continue/generate)", default = "4",
    check = number_in(1, 64, true) },
  { key = "steps", caption = "Interpolation steps", default = "3",
    check = number_in(2, 64, true) },
  { key = "gibbs_steps", caption = "Gibbs steps (blank: model's)", default = "",
    check = optional(number_in(1, 16384, true)) },
  { key = "key", caption = "Key lock (auto/off/C:major...)", default = "auto", check = key_lock },
  { key = "seed", caption = "Seed (blank: random)", default = "",
    check = optional(number_in(0, 2147483647, true)) },
  { key = "executable", caption = "magenta-bridge path (blank: find)", default = "",
    check = executable },
  { key = "port", caption = "Daemon port (blank: its config)", default = "",
    check = optional(number_in(1, 65535, true)) },
  { key = "timeout", caption = "Timeout (seconds)", default = "60",
    check = number_in(1, 3600) },
  { key = "pitch_low", caption = "Lowest pitch (blank: 0)", default = "", page = 2,
    check = optional(number_in(0, 127, true)) },
  { key = "pitch_high", caption = "Highest pitch (blank: 127)", default = "", page = 2,
    check = optional(number_in(0, 127, true)) },
  { key = "density", caption = "Continue: notes per bar (0: free)", default = "0", page = 2,
    check = optional(number_in(0, 64, true)) },
  { key = "polyphony", caption = "Continue: polyphony (0: no cap)", default = "0", page = 2,
    check = optional(number_in(0, 16, true)) },
  { key = "distance", caption = "Vary: distance (blank: 0.5)", default = "", page = 2,
    check = optional(number_in(0, 4)) },
  { key = "mode", caption = "Interpolate: spherical/linear", default = "spherical", page = 2,
    check = one_of({ "spherical", "linear" }) },
  { key = "keep_hits", caption = "Groove: keep the hits (yes/no)", default = "yes", page = 2,
    check = one_of({ "yes", "no" }) },
  { key = "backbone", caption = "Groove/drumify: backbone (yes/no)", default = "yes", page = 2,
    check = one_of({ "yes", "no" }) },
}

-- The dialogs' titles, by page.
settings.PAGES = { "Magenta Bridge settings", "Magenta Bridge settings: tool controls" }

-- The stored text of every setting, its default where none is stored.
function settings.texts()
  local texts = {}
  for _, field in ipairs(settings.FIELDS) do
    if reaper.HasExtState(settings.SECTION, field.key) then
      texts[field.key] = reaper.GetExtState(settings.SECTION, field.key)
    else
      texts[field.key] = field.default
    end
  end
  return texts
end

-- Checked values by key (nil where a setting is blank), or nil and one line per bad setting.
function settings.check(texts)
  local values, problems = {}, {}
  for _, field in ipairs(settings.FIELDS) do
    local text = trimmed(texts[field.key])
    local value, why = field.check(text)
    if why then
      problems[#problems + 1] = ("%s %s (got '%s')"):format(field.key, why, text)
    end
    values[field.key] = value
  end
  if values.pitch_low and values.pitch_high and values.pitch_low > values.pitch_high then
    problems[#problems + 1] = ("pitch_low must not be above pitch_high (got %d and %d)")
      :format(values.pitch_low, values.pitch_high)
  end
  if #problems > 0 then return nil, problems end
  return values
end

function settings.load()
  return settings.check(settings.texts())
end

-- Store the settings of one page of the dialog (every page's when `page` is nil).
function settings.save(texts, page)
  for _, field in ipairs(settings.FIELDS) do
    if not page or (field.page or 1) == page then
      reaper.SetExtState(settings.SECTION, field.key, trimmed(texts[field.key]), true)
    end
  end
end

-- GetUserInputs splits its answer on this; commas may appear in paths, newlines may not.
local SEPARATOR = "\n"

-- The daemon's models, asked for once the dialog opens (it reads its config again, so models
-- fetched since it started are there): the dialog's title lists them and the model setting
-- must be one of them. Nil when no daemon answers: any model name is then taken.
local function served_models(texts, script_folder)
  local port = tonumber(trimmed(texts.port))
  local executable = client.executable(trimmed(texts.executable), script_folder)
  return client.models(executable, port, 20)
end

local function served_check(models, model)
  if not models or model == "" then return nil end
  for _, name in ipairs(models) do
    if name == model then return nil end
  end
  return ("model must be one the daemon serves: %s (got '%s')"):format(
    table.concat(models, ", "), model)
end

-- The fields of one page of the dialog.
local function page_fields(page)
  local fields = {}
  for _, field in ipairs(settings.FIELDS) do
    if (field.page or 1) == page then fields[#fields + 1] = field end
  end
  return fields
end

-- The problems with one page's fields (those of other pages are theirs to show).
local function page_problems(texts, fields)
  local _, problems = settings.check(texts)
  local mine = {}
  for _, problem in ipairs(problems or {}) do
    for _, field in ipairs(fields) do
      if problem:sub(1, #field.key + 1) == field.key .. " " then
        mine[#mine + 1] = problem
        break
      end
    end
  end
  return mine
end

-- The settings dialog, one page after the other: each asks again, with the user's text kept,
-- until every value on it is valid, and is stored then; Cancel leaves that page and the ones
-- after it as they were. Returns whether every page was stored.
function settings.edit(script_folder)
  local texts = settings.texts()
  local models = served_models(texts, script_folder)
  for page, title in ipairs(settings.PAGES) do
    local fields, captions = page_fields(page), {}
    for _, field in ipairs(fields) do captions[#captions + 1] = field.caption end
    local caption_csv = table.concat(captions, ",") .. ",extrawidth=220,separator=" .. SEPARATOR
    if page == 1 and models then
      title = title .. " (models: " .. table.concat(models, ", ") .. ")"
    end
    while true do
      local shown = {}
      for _, field in ipairs(fields) do shown[#shown + 1] = texts[field.key] end
      local ok, answer = reaper.GetUserInputs(title, #fields, caption_csv,
        table.concat(shown, SEPARATOR))
      if not ok then return false end
      local index = 0
      for part in (answer .. SEPARATOR):gmatch("(.-)" .. SEPARATOR) do
        index = index + 1
        if fields[index] then texts[fields[index].key] = part end
      end
      local problems = page_problems(texts, fields)
      if page == 1 then problems[#problems + 1] = served_check(models, trimmed(texts.model)) end
      if #problems == 0 then
        settings.save(texts, page)
        break
      end
      reaper.ShowMessageBox("Please fix:\n\n" .. table.concat(problems, "\n"),
        "Magenta Bridge settings", 0)
    end
  end
  return true
end

return settings
