-- Time to decode a REGISTER whose topic name is 1,000 characters (and 10,000, to show how the time
-- grows with the length), in the Lua build of the codec: readUtf8 turns the name's octets into a
-- string. Prints milliseconds per decode; never fails on time.
-- Usage: lua5.1 bench/utf8-decode.lua dist/lua/protocol.lua [REPETITIONS]
local bundle, reps = arg[1], tonumber(arg[2] or "200")
if bundle == nil then
  io.stderr:write("usage: lua bench/utf8-decode.lua dist/lua/protocol.lua [REPETITIONS]\n")
  os.exit(2)
end
local codec = dofile(bundle)

-- REGISTER (§5.4.10) with a 3-octet Length (§5.2.1): 0x01, total, MsgType, TopicId, MsgId, TopicName.
local function register(char, count)
  local octets = { string.byte(char, 1, -1) }
  local total = 8 + count * #octets
  local buf = { 0x01, math.floor(total / 256), total % 256, 0x0a, 0, 1, 0, 1 }
  for _ = 1, count do
    for k = 1, #octets do buf[#buf + 1] = octets[k] end
  end
  return buf, total
end

local cases = {
  { "1,000 x 'a' (1 octet each)", "a", 1000 },
  { "1,000 x U+00E9 (2 octets each)", "\195\169", 1000 },
  { "1,000 x U+20AC (3 octets each)", "\226\130\172", 1000 },
  { "1,000 x U+1F600 (4 octets each)", "\240\159\152\128", 1000 },
  { "10,000 x 'a'", "a", 10000 },
  { "10,000 x U+00E9", "\195\169", 10000 },
}
print(string.format("%s, %d decodes of the 1,000-character names", _VERSION, reps))
for _, case in ipairs(cases) do
  local buf, total = register(case[2], case[3])
  local m = codec.decode(buf, 0, total)
  if m.type ~= codec.MsgType.Register or m.topicName ~= string.rep(case[2], case[3]) then
    io.stderr:write("decode gave a different topic name for " .. case[1] .. "\n")
    os.exit(1)
  end
  collectgarbage("collect")
  local n = math.max(1, math.floor(reps * 1000 / case[3]))
  local start = os.clock()
  for _ = 1, n do codec.decode(buf, 0, total) end
  local elapsed = os.clock() - start
  print(string.format("%-32s %8.3f ms per decode", case[1], elapsed * 1000 / n))
end
