-- Prints the API a Lua build of the codec exports, one line per name in sorted order:
-- "name function", "name <number>", "name \"<string>\"", or for an enum table
-- "name {Key=value,...}" (forward entries only: the reverse number -> name entries are skipped).
-- A global variable the build leaves behind is printed as "leaked global <name>".
--
--   lua5.1 test/lua/api.lua dist/lua/protocol.lua     (or dist/lua/protocol/ for the modules)

local target = arg[1]
local globals_before = {}
for name in pairs(_G) do
  globals_before[name] = true
end
local codec
if string.sub(target, -4) == ".lua" then
  codec = dofile(target)
else
  package.path = target .. "/?.lua;" .. package.path
  codec = require("index")
end

local function value_text(v)
  if type(v) == "number" then
    return string.format("%d", v)
  elseif type(v) == "string" then
    return '"' .. v .. '"'
  end
  return type(v)
end

local leaked = {}
for name in pairs(_G) do
  if not globals_before[name] then
    leaked[#leaked + 1] = name
  end
end
table.sort(leaked)
for _, name in ipairs(leaked) do
  io.write("leaked global ", tostring(name), "\n")
end

local names = {}
for name in pairs(codec) do
  names[#names + 1] = name
end
table.sort(names)
for _, name in ipairs(names) do
  local v = codec[name]
  if type(v) == "table" then
    local keys = {}
    for k in pairs(v) do
      if type(k) == "string" then
        keys[#keys + 1] = k
      end
    end
    table.sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do
      parts[#parts + 1] = k .. "=" .. value_text(v[k])
    end
    io.write(name, " {", table.concat(parts, ","), "}\n")
  else
    io.write(name, " ", value_text(v), "\n")
  end
end
