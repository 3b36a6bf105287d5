-- Desktop Lua adapter (Lua 5.1 / 5.3 with LuaSocket): one non-blocking UDP socket, the client's
-- buffers as 1-based tables allocated once, and a run loop that calls tick() and receive().
-- `core` is the bundled client module (createClient, defaultOptions …).
local socket = require("socket")
local unpack = unpack or table.unpack

local function buffer(size)
  local b = {}
  for i = 1, size do b[i] = 0 end
  return b
end

local LuaSocketClient = {}
LuaSocketClient.__index = LuaSocketClient

-- config: host, port (the configured gateway), broadcastHost, broadcastPort, bufferSize (256),
-- inflight (4), pollInterval (seconds between ticks when idle, 0.05).
-- host is a name or an IPv4 address, resolved once here (socket.dns.toip; a dotted address is taken as
-- it is, since toip looks it up in reverse DNS and fails where it has no entry): datagrams count as the
-- gateway's when they come from that address. Returns nil and a message when it does not resolve.
function LuaSocketClient.new(core, handler, options, config)
  local address, err = config.host, nil
  if not string.match(config.host, "^%d+%.%d+%.%d+%.%d+$") then
    address, err = socket.dns.toip(config.host)
  end
  if not address then
    return nil, "cannot resolve " .. tostring(config.host) .. ": " .. tostring(err)
  end
  local self = setmetatable({}, LuaSocketClient)
  self.address = address
  local udp = assert(socket.udp())
  assert(udp:setsockname("*", 0))
  udp:settimeout(0)
  self.udp = udp
  self.config = config
  self.size = config.bufferSize or 256
  self.rx = buffer(self.size)
  self.gatewayHost, self.gatewayPort = address, config.port
  self.epoch = socket.gettime()
  self.running = false
  local inflight = {}
  for i = 1, (config.inflight or 4) do inflight[i] = buffer(self.size) end
  -- No busy() (backpressure): sendto is synchronous, so nothing waits in Lua memory (a datagram the
  -- kernel cannot take at once is dropped, as UDP may).
  local transport = {
    -- LuaSocket takes a string: the only allocation per datagram, and it is here, not in the core.
    send = function(bytes, length)
      udp:sendto(string.char(unpack(bytes, 1, length)), self.gatewayHost, self.gatewayPort)
    end,
    broadcast = function(bytes, length)
      udp:setoption("broadcast", true)
      udp:sendto(string.char(unpack(bytes, 1, length)), config.broadcastHost or "255.255.255.255",
        config.broadcastPort or config.port)
    end,
    selectGateway = function(gwId)
      if gwId < 0 then
        self.gatewayHost, self.gatewayPort = address, config.port
      else
        self.gatewayHost, self.gatewayPort = self.senderHost, self.senderPort
      end
    end,
  }
  self.client = core.createClient(transport, handler, { tx = buffer(self.size), inflight = inflight, size = self.size }, options)
  return self
end

function LuaSocketClient:now()
  return math.floor((socket.gettime() - self.epoch) * 1000)
end

-- Handles what has arrived and calls tick(); waits up to `timeout` seconds for a datagram.
function LuaSocketClient:poll(timeout)
  self.udp:settimeout(timeout)
  local data, host, port = self.udp:receivefrom()
  local client = self.client
  client:tick(self:now())
  while data do
    local n = #data
    if n <= self.size then
      local rx = self.rx
      for i = 1, n do rx[i] = string.byte(data, i) end
      self.senderHost, self.senderPort = host, port
      client:receive(rx, n, host == self.gatewayHost and port == self.gatewayPort)
    else
      client.dropped = client.dropped + 1
    end
    self.udp:settimeout(0)
    data, host, port = self.udp:receivefrom()
  end
end

-- Starts the client and polls until stop() is called.
function LuaSocketClient:run()
  self.running = true
  self.client:start(self:now())
  while self.running do
    self:poll(self.config.pollInterval or 0.05)
  end
  self.udp:close()
end

function LuaSocketClient:stop()
  self.running = false
end

return LuaSocketClient
