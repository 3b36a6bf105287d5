-- NodeMCU example: upload mqttsn-nodemcu.lua and this file, then dofile("nodemcu-publish.lua") once
-- Wi-Fi is up. Settings come from a global MQTTSN_CONFIG table when one is defined first.
local config = MQTTSN_CONFIG or { host = "192.168.1.10", port = 1884, clientId = "nodemcu-1", topic = "sensors/nodemcu", count = 5, qos = 1 }
local mqttsn = require("mqttsn-nodemcu")
local payload = {}
for k = 1, 32 do payload[k] = 0 end
local udp
local app = mqttsn.createPublishApp(
  { topic = config.topic, count = config.count, qos = config.qos, subscribe = config.subscribe or "" },
  {
    line = function(text) print("mqttsn: " .. text) end,
    finished = function(ok) print("mqttsn: finished, ok=" .. tostring(ok)); udp:stop() end,
  },
  payload)
local options = mqttsn.defaultOptions(config.clientId, function() return node.random(0, 999) / 1000 end)
options.keepAlive = 30
-- A lost gateway is tried again after 5 s rather than T_WAIT (5 minutes).
options.reconnectDelay = 5000
udp = mqttsn.NodeMcuClient.new(mqttsn, app.handler, options, { host = config.host, port = config.port })
app.client = udp.client
udp:start(100, function(host)
  print("mqttsn: cannot resolve " .. host)
  print("mqttsn: finished, ok=false")
  udp:stop()
end)
