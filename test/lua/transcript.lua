-- Runs the codec's fixture cases through the Lua build and prints one transcript line per case,
-- in the canonical form test/support/transcript.ts prints for the JavaScript builds.
--
--   lua5.1 test/lua/transcript.lua dist/lua/protocol.lua  < cases.lua   (the one-file bundle)
--   lua5.3 test/lua/transcript.lua dist/lua/protocol/     < cases.lua   (one module per file)
--
-- stdin is a Lua chunk returning a list of cases:
--   { at = offset, length = octets, bytes = { ... } (1-based), maxClientIdLength = n or nil }
-- Each line: "<case number>\t<decoded>" and, when decode gave a message,
-- "\t<buffer after encode>\t<octets encode returned>\t<encodingLength>".
-- Lines stay ASCII: strings and bytes are escaped, so byte-identical output means identical results.

local target = arg[1]
if target == nil then
  io.stderr:write("usage: lua transcript.lua <dist/lua/protocol.lua | dist/lua/protocol/> < cases.lua\n")
  os.exit(2)
end

local codec
if string.sub(target, -4) == ".lua" then
  codec = dofile(target)
else
  package.path = target .. "/?.lua;" .. package.path
  codec = require("index")
end

local load_chunk = loadstring or load
local chunk, err = load_chunk(io.read("*a"), "=cases")
if chunk == nil then
  io.stderr:write("cannot read the cases on stdin: " .. tostring(err) .. "\n")
  os.exit(2)
end
local cases = chunk()

local canonical

local function number_text(v)
  if math.type ~= nil and math.type(v) == "float" then
    return "float:" .. tostring(v)
  end
  if v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then
    return string.format("%d", v)
  end
  return "float:" .. tostring(v)
end

local function byte_text(b)
  if type(b) == "number" and b == math.floor(b) and b >= 0 and b <= 255
      and not (math.type ~= nil and math.type(b) == "float") then
    return string.format("%02x", b)
  end
  if type(b) == "number" then
    return "<" .. number_text(b) .. ">"
  end
  return "<" .. tostring(b) .. ">"
end

-- Bytes t[from + 1 .. from + count], a 0-based slice of a 1-based table.
local function hex(t, from, count)
  local parts = {}
  for i = 1, count do
    parts[i] = byte_text(t[from + i])
  end
  return "#" .. table.concat(parts)
end

local function string_text(s)
  local parts = { '"' }
  for i = 1, #s do
    local b = string.byte(s, i)
    if b >= 0x20 and b <= 0x7e and b ~= 0x22 and b ~= 0x5c then
      parts[#parts + 1] = string.char(b)
    else
      parts[#parts + 1] = string.format("\\x%02x", b)
    end
  end
  parts[#parts + 1] = '"'
  return table.concat(parts)
end

-- A message: fields in sorted key order; a (K, KOffset, KLength) triple becomes the bytes of the slice.
local function record_text(t)
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" then
      return "<table with key " .. tostring(k) .. ">"
    end
    local base = string.match(k, "^(.-)Offset$") or string.match(k, "^(.-)Length$")
    local slice = base ~= nil and base ~= "" and t[base .. "Offset"] ~= nil and t[base .. "Length"] ~= nil
        and type(t[base]) == "table"
    if not slice then
      keys[#keys + 1] = k
    end
  end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    local text
    if type(v) == "table" and t[k .. "Offset"] ~= nil and t[k .. "Length"] ~= nil then
      text = hex(v, t[k .. "Offset"], t[k .. "Length"])
    else
      text = canonical(v)
    end
    parts[#parts + 1] = k .. "=" .. text
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

canonical = function(v)
  local kind = type(v)
  if kind == "boolean" then
    return tostring(v)
  elseif kind == "number" then
    return number_text(v)
  elseif kind == "string" then
    return string_text(v)
  elseif kind == "table" then
    if v.type ~= nil then
      return record_text(v)
    end
    return hex(v, 0, #v)
  end
  return "<" .. kind .. ">"
end

local function run(case)
  local options = nil
  if case.maxClientIdLength ~= nil then
    options = { maxClientIdLength = case.maxClientIdLength }
  end
  local ok, message = pcall(codec.decode, case.bytes, case.at, case.length, options)
  if not ok then
    return "decode threw"
  end
  local line = canonical(message)
  if type(message) ~= "table" or message.type == "error" then
    return line
  end
  local lengthOk, length = pcall(codec.encodingLength, message)
  if not lengthOk then
    return line .. "\tencodingLength threw"
  end
  -- A fresh buffer with a 0xEE fence before and after the frame: writes outside it show.
  local out = {}
  for i = 1, case.at + length + 1 do
    out[i] = 0xee
  end
  local encodeOk, written = pcall(codec.encode, message, out, case.at)
  if not encodeOk then
    return line .. "\tencode threw"
  end
  return line .. "\t" .. hex(out, 0, #out) .. "\t" .. canonical(written) .. "\t" .. canonical(length)
end

for i, case in ipairs(cases) do
  io.write(i, "\t", run(case), "\n")
end
