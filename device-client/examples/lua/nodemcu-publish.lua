-- NodeMCU example: upload a library (mqttsn-nodemcu.lua, or mqttsn-nodemcu-sensor.lua for the sensor
-- profile), publish-app.lua and this file, then dofile("nodemcu-publish.lua") once Wi-Fi is up.
-- Settings come from a global MQTTSN_CONFIG table when one is defined first; profile = "sensor"
-- takes mqttsn-nodemcu-sensor (QoS -1, 0 and 1, no subscribe), anything else mqttsn-nodemcu.
local config = MQTTSN_CONFIG or { host = "192.168.1.10", port = 1884, clientId = "nodemcu-1", topic = "sensors/nodemcu", count = 5, qos = 1 }
local sensor = config.profile == "sensor"
if sensor and (config.qos == 2 or (config.subscribe or "") ~= "") then
  -- The sensor library has no SUBSCRIBE and no QoS 2: refused before anything is sent.
  print("mqttsn: mqttsn-nodemcu-sensor.lua is built on the sensor profile: QoS 2 and subscribe need mqttsn-nodemcu.lua")
  print("mqttsn: finished, ok=false")
  return
end
local mqttsn = require(sensor and "mqttsn-nodemcu-sensor" or "mqttsn-nodemcu")
local payload = {}
for k = 1, 32 do payload[k] = 0 end
local udp
local app = require("publish-app").createPublishApp(
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
