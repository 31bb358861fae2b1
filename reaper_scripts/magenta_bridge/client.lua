-- Running `magenta-bridge client` without freezing REAPER: each job is a small shell script in a
-- folder of its own that runs the client in the background, its output going to files; the
-- action polls for the script's done marker from reaper.defer, so the UI keeps drawing.

local json = require("magenta_bridge.json")

local client = {}

local WINDOWS = package.config:sub(1, 1) == "\\"

local function exists(path)
  local file = io.open(path, "rb")
  if file then file:close() end
  return file ~= nil
end

local function read_all(path)
  local file = io.open(path, "rb")
  if not file then return "" end
  local text = file:read("a")
  file:close()
  return text
end

-- Where magenta-bridge is: the setting, else the virtual environment of the checkout these
-- scripts came with, else whatever the shell finds on PATH.
function client.executable(setting, script_folder)
  if setting and setting ~= "" then return setting end
  local venv = WINDOWS and "\\..\\.venv\\Scripts\\magenta-bridge.exe"
    or "/../.venv/bin/magenta-bridge"
  if exists(script_folder .. venv) then return script_folder .. venv end
  return "magenta-bridge"
end

-- A new folder for one job's files, under the system's temporary folder, and the path separator.
function client.job_folder()
  local base = os.getenv("TMPDIR") or os.getenv("TEMP") or os.getenv("TMP") or "/tmp"
  local sep = WINDOWS and "\\" or "/"
  local name = ("%d-%06d"):format(os.time(), math.random(0, 999999))
  local folder = base:gsub("[/\\]$", "") .. sep .. "magenta-bridge-reaper" .. sep .. name
  reaper.RecursiveCreateDirectory(folder, 0)
  return folder, sep
end

local function quote(argument)
  if WINDOWS then return '"' .. argument .. '"' end
  return "'" .. argument:gsub("'", "'\\''") .. "'"
end

-- Start the client with `arguments` (after the executable) in the background. The job's
-- stdout (JSON lines), stderr and exit status land in files of `folder`.
function client.start(executable, arguments, folder, sep)
  local job = {
    folder = folder,
    stdout = folder .. sep .. "stdout.txt",
    stderr = folder .. sep .. "stderr.txt",
    done = folder .. sep .. "done",
    script = folder .. sep .. (WINDOWS and "job.cmd" or "job.sh"),
  }
  local words = { quote(executable) }
  for _, argument in ipairs(arguments) do words[#words + 1] = quote(tostring(argument)) end
  local command = ("%s > %s 2> %s"):format(table.concat(words, " "), quote(job.stdout),
    quote(job.stderr))
  local script = io.open(job.script, "wb")
  if not script then return nil, "cannot write " .. job.script end
  if WINDOWS then
    -- The redirection first: "echo 1> file" would redirect handle 1.
    script:write("@", command, "\r\n@> ", quote(job.done), " echo %ERRORLEVEL%\r\n")
  else
    script:write(command, "\necho $? > ", quote(job.done), "\n")
  end
  script:close()
  if WINDOWS then
    os.execute(('start "" /B cmd /C %s'):format(quote(job.script)))
  else
    os.execute(("sh %s > /dev/null 2>&1 &"):format(quote(job.script)))
  end
  return job
end

-- The names of the models the daemon serves, after it read its config again (models fetched
-- or added since it started); nil and why when it cannot be asked. Synchronous, for dialogs:
-- REAPER waits for it, at most `timeout` seconds.
function client.models(executable, port, timeout)
  local words = { quote(executable), "client", "--json", "--timeout", tostring(timeout) }
  if port then words[#words + 1] = "--port"; words[#words + 1] = tostring(port) end
  words[#words + 1] = "models"
  words[#words + 1] = "--reload"
  local output = reaper.ExecProcess(table.concat(words, " "), math.floor(timeout * 1000) + 2000)
  if not output then return nil, "could not run " .. executable end
  local line = output:match("\n(%b{})")
  local ok, reply = pcall(json.decode, line or "")
  if not ok or type(reply) ~= "table" then return nil, "no answer from " .. executable end
  if not reply.ok then return nil, reply.error end
  local names = {}
  for _, model in ipairs(reply.models) do names[#names + 1] = model.name end
  return names
end

-- nil and the last progress fraction while the job runs; then its result: the client's JSON
-- ({ ok = true, paths = ... } or { ok = false, error = ... }), or, when the client printed no
-- result (it could not even start), { ok = false, silent = true, error = its stderr }.
function client.poll(job)
  local lines = {}
  for line in read_all(job.stdout):gmatch("[^\r\n]+") do lines[#lines + 1] = line end
  if not exists(job.done) then
    for index = #lines, 1, -1 do
      local step = json.decode(lines[index])
      if step and step.progress then return nil, step.progress end
    end
    return nil, 0
  end
  for index = #lines, 1, -1 do
    local result = json.decode(lines[index])
    if result and result.ok ~= nil then return result end
  end
  local stderr = read_all(job.stderr):gsub("%s+$", "")
  if stderr == "" then
    stderr = ("it stopped with status %s and said nothing"):format(read_all(job.done):match("%d+"))
  end
  return { ok = false, silent = true, error = stderr }
end

-- Remove the job's folder: its files, and the MIDI files it read and wrote (`more`).
function client.clean(job, more)
  for _, path in ipairs({ job.stdout, job.stderr, job.done, job.script }) do os.remove(path) end
  for _, path in ipairs(more) do os.remove(path) end
  os.remove(job.folder)
end

return client
