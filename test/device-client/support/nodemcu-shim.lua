-- Runs a NodeMCU program on desktop Lua: the firmware modules it uses (net.createUDPSocket,
-- net.dns.resolve, tmr, node.random) are stood in for by LuaSocket and a small event loop. tmr.now()
-- counts microseconds in 31 bits like the ESP8266 and its first reading is 1 µs before the wrap, so
-- the adapter's clock must survive the wrap. net.dns.resolve(host, function(sk, ip)) calls back as the
-- firmware does: sk is nil, ip an IPv4 address or nil; at once for an IPv4 address, from the event
-- loop for a name (IPv4 only, as the firmware's resolver). What this does not cover: the firmware
-- itself, its memory, its Wi-Fi, its DNS client.
-- The board's file system is flat: require finds the libraries in DIR and publish-app in DIR/examples.
-- Usage: lua nodemcu-shim.lua DIR PROGRAM HOST PORT CLIENT_ID TOPIC COUNT QOS [SUBSCRIBE [PROFILE]]
local socket = require("socket")
local dir, program = arg[1], arg[2]
package.path = dir .. "/?.lua;" .. dir .. "/examples/?.lua;" .. package.path

local WRAP = 2147483648
local epoch
-- 1 µs before the wrap: every run, however short, crosses it after the adapter's first reading.
local start = WRAP - 1
local sockets, alarms, resolving = {}, {}, {}

tmr = {
  ALARM_AUTO = 1,
  -- The first reading (the adapter starting) is just before the wrap.
  now = function()
    epoch = epoch or socket.gettime()
    return (start + math.floor((socket.gettime() - epoch) * 1e6)) % WRAP
  end,
  create = function()
    local t = {}
    function t:alarm(ms, mode, fn) self.ms, self.fn, self.due = ms, fn, socket.gettime() + ms / 1000; alarms[self] = true end
    function t:unregister() alarms[self] = nil end
    return t
  end,
}
node = { random = function(a, b) return math.random(a, b) end }
net = {
  createUDPSocket = function()
    local udp = assert(socket.udp())
    udp:settimeout(0)
    local s = { udp = udp }
    function s:listen(port) assert(self.udp:setsockname("*", port or 0)) end
    function s:on(event, fn) if event == "receive" then self.receive = fn end end
    function s:send(port, ip, data)
      if type(data) ~= "string" then error("udpsocket:send takes a string") end
      self.udp:sendto(data, ip, port)
    end
    function s:close() sockets[self] = nil; self.udp:close() end
    sockets[s] = true
    return s
  end,
  dns = {
    resolve = function(host, fn)
      if type(host) ~= "string" or type(fn) ~= "function" then error("net.dns.resolve takes a host name and a function") end
      if host:match("^%d+%.%d+%.%d+%.%d+$") then
        fn(nil, host)
      else
        resolving[#resolving + 1] = function() fn(nil, (socket.dns.toip(host))) end
      end
    end,
  },
}

MQTTSN_CONFIG = { host = arg[3], port = tonumber(arg[4]), clientId = arg[5], topic = arg[6], count = tonumber(arg[7]), qos = tonumber(arg[8]), subscribe = arg[9], profile = arg[10] }
local finishedOk
local realPrint = print
print = function(text)
  local line = tostring(text)
  local ok = line:match("^mqttsn: finished, ok=(%a+)$")
  if ok then finishedOk = (ok == "true") else realPrint((line:gsub("^mqttsn: ", ""))) end
  io.stdout:flush()
end

dofile(dir .. "/examples/" .. program)

local deadline = socket.gettime() + 15
while finishedOk == nil and socket.gettime() < deadline do
  local receivers = {}
  for s in pairs(sockets) do receivers[#receivers + 1] = s.udp end
  socket.select(receivers, nil, 0.01)
  local answers = resolving
  resolving = {}
  for _, answer in ipairs(answers) do answer() end
  for s in pairs(sockets) do
    local data, ip, port = s.udp:receivefrom()
    while data and sockets[s] do
      if s.receive then s.receive(s, data, port, ip) end
      data, ip, port = s.udp:receivefrom()
    end
  end
  local now = socket.gettime()
  for t in pairs(alarms) do
    if now >= t.due then t.due = now + t.ms / 1000; t.fn(t) end
  end
end
-- A run refused before the adapter existed never read the clock; every other run must cross the wrap.
local refusedAtOnce = finishedOk == false and not epoch
if not refusedAtOnce and (not epoch or tmr.now() >= start) then
  io.stderr:write("the run ended before tmr.now() wrapped: the wrap was not exercised\n")
  os.exit(3)
end
os.exit(finishedOk and 0 or 1)
