-- NodeMCU adapter (ESP8266 / ESP32 firmware): net.createUDPSocket for the datagrams, a tmr alarm for
-- tick(), tmr.now() turned into a millisecond clock that survives the counter's wrap.
-- `core` is the bundled client module (createClient, defaultOptions …). The UART transport
-- (newUart) is in nodemcu-uart.lua, which the full library (mqttsn-nodemcu.lua) adds to this.
local unpack = unpack or table.unpack

local function buffer(size)
  local b = {}
  for i = 1, size do b[i] = 0 end
  return b
end

local NodeMcuClient = {}
NodeMcuClient.__index = NodeMcuClient

-- tmr.now() counts microseconds in 31 bits on the ESP8266 and wraps about every 35 minutes.
local WRAP = 2147483648

-- config: host, port (the configured gateway), broadcastHost ("255.255.255.255"), broadcastPort,
-- bufferSize (128), inflight (2), tickInterval (milliseconds, 100).
-- host is a name or an IPv4 address; start() resolves it once, and datagrams count as the gateway's
-- when they come from that address.
function NodeMcuClient.new(core, handler, options, config)
  local self = setmetatable({}, NodeMcuClient)
  self.size = config.bufferSize or 128
  self.rx = buffer(self.size)
  self.host = config.host
  self.gatewayPort = config.port
  self.lastMicros = tmr.now()
  self.micros = 0
  local udp = net.createUDPSocket()
  -- No port: the firmware picks one, where the gateway's answers arrive.
  udp:listen()
  self.udp = udp
  local inflight = {}
  for i = 1, (config.inflight or 2) do inflight[i] = buffer(self.size) end
  -- No busy() (backpressure): udp:send copies the datagram into an lwIP buffer and sends it before it
  -- returns, on the ESP8266 and the ESP32 firmware alike (its "sent" callback runs inside send), so
  -- nothing waits in Lua memory. The same holds for uart.write, which waits for room in the FIFO.
  local transport = {
    send = function(bytes, length)
      udp:send(self.gatewayPort, self.gatewayHost, string.char(unpack(bytes, 1, length)))
    end,
    broadcast = function(bytes, length)
      udp:send(config.broadcastPort or config.port, config.broadcastHost or "255.255.255.255",
        string.char(unpack(bytes, 1, length)))
    end,
    selectGateway = function(gwId)
      if gwId < 0 then
        self.gatewayHost, self.gatewayPort = self.address, config.port
      else
        self.gatewayHost, self.gatewayPort = self.senderHost, self.senderPort
      end
    end,
  }
  local client = core.createClient(transport, handler, { tx = buffer(self.size), inflight = inflight, size = self.size }, options)
  self.client = client
  udp:on("receive", function(_, data, port, ip)
    local n = #data
    client:tick(self:now())
    if n > self.size then
      client.dropped = client.dropped + 1
      return
    end
    local rx = self.rx
    for i = 1, n do rx[i] = string.byte(data, i) end
    self.senderHost, self.senderPort = ip, port
    client:receive(rx, n, ip == self.gatewayHost and port == self.gatewayPort)
  end)
  self.timer = tmr.create()
  return self
end

-- Milliseconds since start, from the wrapping microsecond counter.
function NodeMcuClient:now()
  local t = tmr.now()
  local d = t - self.lastMicros
  if d < 0 then d = d + WRAP end
  self.lastMicros = t
  self.micros = self.micros + d
  return math.floor(self.micros / 1000)
end

-- Starts the client and its tick alarm. On UDP the host is resolved first: net.dns.resolve calls
-- back with the address (at once for an address, later for a name), or with nil, and then
-- unresolved(host) is called instead of starting.
function NodeMcuClient:start(tickInterval, unresolved)
  local client = self.client
  local function run()
    client:start(self:now())
    self.timer:alarm(tickInterval or 100, tmr.ALARM_AUTO, function() client:tick(self:now()) end)
  end
  if not self.udp then
    return run()
  end
  net.dns.resolve(self.host, function(_, ip)
    if ip then
      self.address, self.gatewayHost = ip, ip
      run()
    elseif unresolved then
      unresolved(self.host)
    end
  end)
end

function NodeMcuClient:stop()
  self.timer:unregister()
  if self.udp then self.udp:close() else uart.on("data") end
end

return NodeMcuClient
