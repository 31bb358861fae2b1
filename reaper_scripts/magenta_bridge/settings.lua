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

local function executable(text)
  if text == "" then return "" end
  if text:find('"', 1, true) then return nil, "must not contain quotes" end
  local file = io.open(text, "rb")
  if not file then return nil, ("names no file (%s)"):format(text) end
  file:close()
  return text
end

-- In the dialog's order. `caption` is what GetUserInputs shows (at most 16 fields, and no
-- commas: captions are comma-separated whatever the separator of the values).
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
}

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
  if #problems > 0 then return nil, problems end
  return values
end

function settings.load()
  return settings.check(settings.texts())
end

function settings.save(texts)
  for _, field in ipairs(settings.FIELDS) do
    reaper.SetExtState(settings.SECTION, field.key, trimmed(texts[field.key]), true)
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

-- The settings dialog: asks again, with the user's text kept, until every value is valid or
-- the dialog is cancelled. Returns whether settings were saved.
function settings.edit(script_folder)
  local captions, texts = {}, settings.texts()
  for _, field in ipairs(settings.FIELDS) do captions[#captions + 1] = field.caption end
  local caption_csv = table.concat(captions, ",") .. ",extrawidth=220,separator=" .. SEPARATOR
  local models = served_models(texts, script_folder)
  local title = "Magenta Bridge settings"
  if models then title = title .. " (models: " .. table.concat(models, ", ") .. ")" end
  while true do
    local shown = {}
    for _, field in ipairs(settings.FIELDS) do shown[#shown + 1] = texts[field.key] end
    local ok, answer = reaper.GetUserInputs(title, #settings.FIELDS,
      caption_csv, table.concat(shown, SEPARATOR))
    if not ok then return false end
    local index = 0
    for part in (answer .. SEPARATOR):gmatch("(.-)" .. SEPARATOR) do
      index = index + 1
      if settings.FIELDS[index] then texts[settings.FIELDS[index].key] = part end
    end
    local values, problems = settings.check(texts)
    local unserved = served_check(models, trimmed(texts.model))
    if unserved then
      problems = problems or {}
      problems[#problems + 1] = unserved
      values = nil
    end
    if values then
      settings.save(texts)
      return true
    end
    reaper.ShowMessageBox("Please fix:\n\n" .. table.concat(problems, "\n"),
      "Magenta Bridge settings", 0)
  end
end

return settings
