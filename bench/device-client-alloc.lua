-- Steady-state allocation of the device client core in Lua: the collector is stopped, and
-- collectgarbage("count") is read before and after N operations through the core with a no-op
-- transport. Each line: operation, bytes allocated per operation, datagrams sent per operation.
-- LIBRARY is mqttsn-client (default) or mqttsn-sensor; the sensor profile takes no incoming PUBLISH,
-- so that line is left out there.
-- Usage: lua bench/device-client-alloc.lua DIR_WITH_THE_LIBRARIES N [LIBRARY]
local dir, n, library = arg[1], tonumber(arg[2] or "10000"), arg[3] or "mqttsn-client"
package.path = dir .. "/?.lua;" .. package.path
local m = require(library)

local function buffer(size)
  local b = {}
  for i = 1, size do b[i] = 0 end
  return b
end
local noop = function() end
-- Datagrams handed to the transport: a publish or acknowledgement that sent nothing would allocate
-- nothing too, so each line also says how many went out per operation.
local sent = 0
local transport = { send = function() sent = sent + 1 end, broadcast = noop, selectGateway = noop }
local handler = { stateChanged = noop, message = noop, done = noop }
local options = m.defaultOptions("bench", math.random)
local client = m.createClient(transport, handler, { tx = buffer(256), inflight = { buffer(256), buffer(256), buffer(256), buffer(256) }, size = 256 }, options)
local payload = buffer(32)
for i = 1, 8 do payload[i] = 48 + i end
local rx = buffer(256)
local function deliver(bytes)
  for i = 1, #bytes do rx[i] = bytes[i] end
  client:receive(rx, #bytes, true)
end

client:start(0)
deliver({ 3, 0x05, 0 })                                  -- CONNACK
client:publish("bench/topic", payload, 0, 8, 0, false)   -- REGISTER (MsgId 1) and the PUBLISH behind it
deliver({ 7, 0x0b, 0, 1, 0, 1, 0 })                      -- REGACK topic id 1
deliver({ 7, 0x0b, 0, 2, 0, 2, 0 })                      -- (an unexpected REGACK: dropped)

local puback = { 7, 0x0d, 0, 1, 0, 0, 0 }
local incoming = { 15, 0x0c, 0x20, 0, 1, 0, 0, 109, 115, 103, 45, 49, 50, 51, 52 }  -- PUBLISH QoS 1 "msg-1234"
local now = 0

local function qos0() client:publish("bench/topic", payload, 0, 8, 0, false) end
local function qos1()
  local id = client:publish("bench/topic", payload, 0, 8, 1, false)
  puback[5] = math.floor(id / 256); puback[6] = id % 256
  deliver(puback)
end
local function receive1(i)
  local id = i % 60000 + 1
  incoming[6] = math.floor(id / 256); incoming[7] = id % 256
  deliver(incoming)
end
local function tick() now = now + 10; client:tick(now) end

local function measure(name, f)
  for i = 1, 1000 do f(i) end                            -- warm up: tables reach their final size
  collectgarbage("collect")
  collectgarbage("stop")
  -- A full collection shrinks the interpreter's call-info list (Lua 5.3); a few calls grow it back
  -- before counting, so that the figure is the core's, not the interpreter's one-off regrowth.
  for i = 1, 10 do f(i) end
  local sentBefore = sent
  local before = collectgarbage("count")
  for i = 1, n do f(i) end
  local after = collectgarbage("count")
  collectgarbage("restart")
  print(string.format("%s\t%.3f\t%.2f", name, (after - before) * 1024 / n, (sent - sentBefore) / n))
end

-- A control that allocates one small table per call, to show the method sees allocation.
local sink
measure("control: one table per call", function(i) sink = { i } end)
measure("publish QoS 0", qos0)
measure("publish QoS 1 + PUBACK", qos1)
if m.profile == "full" then
  measure("incoming PUBLISH QoS 1 + PUBACK", receive1)
end
-- Keep-alive off: with nobody answering, PINGREQs would run out of retries and the client would
-- reconnect in the middle of the measurement.
options.keepAlive = 0
measure("tick", tick)
