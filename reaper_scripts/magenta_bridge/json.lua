-- A small JSON decoder for the lines `magenta-bridge client --json` prints (REAPER's Lua has
-- none built in). Objects become tables, arrays sequences, null nil.

local json = {}

local ESCAPES = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n",
  r = "\r", t = "\t" }

local decode_value

local function skip_space(text, pos)
  return text:find("[^ \t\r\n]", pos) or #text + 1
end

local function decode_string(text, pos)
  local parts = {}
  pos = pos + 1 -- the opening quote
  while true do
    local stop = text:find('["\\]', pos)
    if not stop then error("unterminated string", 0) end
    parts[#parts + 1] = text:sub(pos, stop - 1)
    if text:sub(stop, stop) == '"' then return table.concat(parts), stop + 1 end
    local escape = text:sub(stop + 1, stop + 1)
    if escape == "u" then
      parts[#parts + 1] = utf8.char(tonumber(text:sub(stop + 2, stop + 5), 16))
      pos = stop + 6
    else
      parts[#parts + 1] = ESCAPES[escape] or error("bad escape \\" .. escape, 0)
      pos = stop + 2
    end
  end
end

local function decode_list(text, pos, close, read_entry)
  pos = skip_space(text, pos + 1)
  if text:sub(pos, pos) == close then return pos + 1 end
  while true do
    pos = skip_space(text, read_entry(pos))
    local mark = text:sub(pos, pos)
    if mark == close then return pos + 1 end
    if mark ~= "," then error("expected , or " .. close .. " at " .. pos, 0) end
    pos = skip_space(text, pos + 1)
  end
end

function decode_value(text, pos)
  pos = skip_space(text, pos)
  local mark = text:sub(pos, pos)
  if mark == '"' then return decode_string(text, pos) end
  if mark == "{" then
    local object = {}
    return object, decode_list(text, pos, "}", function(at)
      local key
      key, at = decode_string(text, at)
      at = skip_space(text, at)
      if text:sub(at, at) ~= ":" then error("expected : at " .. at, 0) end
      local value
      value, at = decode_value(text, at + 1)
      object[key] = value
      return at
    end)
  end
  if mark == "[" then
    local array = {}
    return array, decode_list(text, pos, "]", function(at)
      local value
      value, at = decode_value(text, at)
      array[#array + 1] = value
      return at
    end)
  end
  local number = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
  if number and #number > 0 then return tonumber(number), pos + #number end
  if text:sub(pos, pos + 3) == "true" then return true, pos + 4 end
  if text:sub(pos, pos + 4) == "false" then return false, pos + 5 end
  if text:sub(pos, pos + 3) == "null" then return nil, pos + 4 end
  error("unexpected " .. (mark == "" and "end" or mark) .. " at " .. pos, 0)
end

-- The value in `text`, or nil and why.
function json.decode(text)
  local ok, value, pos = pcall(decode_value, text, 1)
  if not ok then return nil, value end
  if skip_space(text, pos) <= #text then return nil, "trailing text at " .. pos end
  return value
end

return json
