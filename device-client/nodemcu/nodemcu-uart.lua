-- NodeMCU adapter, UART transport: adds newUart to NodeMcuClient (nodemcu.lua, given as the chunk's
-- argument). In the full library (mqttsn-nodemcu.lua) only: the sensor library speaks UDP, so that it
-- carries neither this nor the serial framing.
local NodeMcuClient = ...
local unpack = unpack or table.unpack

local function buffer(size)
  local b = {}
  for i = 1, size do b[i] = 0 end
  return b
end

-- The same client on a UART (a serial radio, a USB-serial link to the gateway) with the gateway's
-- default serial framing, SLIP + CRC-16. config: id (the UART, 0), bufferSize (128), inflight (2).
-- On UART 0 the console is switched off while the client runs (run_input 0).
function NodeMcuClient.newUart(core, handler, options, config)
  local self = setmetatable({}, NodeMcuClient)
  local id = config.id or 0
  self.size = config.bufferSize or 128
  self.lastMicros = tmr.now()
  self.micros = 0
  self.uartId = id
  local frame = buffer(2 * (self.size + 2) + 2)
  local inflight = {}
  for i = 1, (config.inflight or 2) do inflight[i] = buffer(self.size) end
  local function write(bytes, length)
    local n = core.encodeSlipFrame(bytes, length, frame)
    uart.write(id, string.char(unpack(frame, 1, n)))
  end
  local transport = { send = write, broadcast = write, selectGateway = function() end }
  local client = core.createClient(transport, handler, { tx = buffer(self.size), inflight = inflight, size = self.size }, options)
  self.client = client
  local receiver = core.createSlipReceiver(buffer(self.size + 2), self.size + 2, {
    frame = function(buf, n) client:receive(buf, n, true) end,
  })
  uart.on("data", 0, function(data)
    client:tick(self:now())
    for i = 1, #data do receiver:push(string.byte(data, i)) end
  end, 0)
  self.timer = tmr.create()
  return self
end

return NodeMcuClient
