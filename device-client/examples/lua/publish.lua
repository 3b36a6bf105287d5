-- lua5.1 dist/lua/examples/publish.lua --host H --port P --client-id ID --topic T --count N --qos Q [--subscribe F]
--   [--profile sensor]
-- The libraries are in the folder above this one, the example program (publish-app.lua) beside it.
local dir = (arg and arg[0] and arg[0]:match("^(.*)[/\\]")) or "."
package.path = dir .. "/?.lua;" .. dir .. "/../?.lua;" .. package.path

local usage = table.concat({
  "usage: publish.lua --host H --port P --client-id ID --topic T [--count N] [--qos Q] [--subscribe FILTER]",
  "                   [--profile full|sensor]",
  "  --host       the gateway: a host name or an IPv4 address (default 127.0.0.1)",
  "  --port       the gateway's UDP port (default 1884)",
  "  --client-id  the MQTT-SN client id, 1 to 23 characters",
  "  --topic      the topic name to publish on",
  "  --count      how many messages to publish (default 1)",
  "  --qos        -1, 0, 1 or 2 (default 1); -1 needs a two-character short topic name",
  "  --subscribe  also subscribe to FILTER and wait for each message to come back",
  "  --profile    full (default: mqttsn-client.lua) or sensor (mqttsn-sensor.lua: QoS -1, 0, 1, no subscribe)",
  "  --help       print this and exit",
}, "\n")
local args = { host = "127.0.0.1", port = "1884", count = "1", qos = "1", subscribe = "", profile = "full" }
for i = 1, #arg, 2 do
  if arg[i] == "--help" or arg[i] == "-h" then
    print(usage)
    os.exit(0)
  end
end
local i = 1
while i <= #arg do
  local key, value = arg[i]:match("^%-%-(.+)$"), arg[i + 1]
  if not key or not value then
    io.stderr:write("bad argument " .. tostring(arg[i]) .. "\n" .. usage .. "\n")
    os.exit(2)
  end
  args[key] = value
  i = i + 2
end
if not args["client-id"] or not args.topic then
  io.stderr:write("missing --client-id or --topic\n" .. usage .. "\n")
  os.exit(2)
end
local qos = tonumber(args.qos)
if qos ~= -1 and qos ~= 0 and qos ~= 1 and qos ~= 2 then
  io.stderr:write("--qos must be -1, 0, 1 or 2\n" .. usage .. "\n")
  os.exit(2)
end
if args.profile ~= "full" and args.profile ~= "sensor" then
  io.stderr:write("--profile must be full or sensor\n" .. usage .. "\n")
  os.exit(2)
end
if args.profile == "sensor" and (qos == 2 or args.subscribe ~= "") then
  -- The sensor library has no SUBSCRIBE and no QoS 2: refused before anything is sent.
  io.stderr:write("mqttsn-sensor.lua is built on the sensor profile: QoS 2 and subscribe need mqttsn-client.lua (--profile full)\n")
  os.exit(2)
end
local mqttsn = require(args.profile == "sensor" and "mqttsn-sensor" or "mqttsn-client")
local publishApp = require("publish-app")

math.randomseed(os.time())
local ok = false
local udp, err
local payload = {}
for k = 1, 32 do payload[k] = 0 end
local app = publishApp.createPublishApp(
  { topic = args.topic, count = tonumber(args.count), qos = qos, subscribe = args.subscribe },
  {
    line = function(text) print(text); io.stdout:flush() end,
    finished = function(success) ok = success; udp:stop() end,
  },
  payload)
local options = mqttsn.defaultOptions(args["client-id"], math.random)
options.keepAlive = 30
-- A lost gateway is tried again after 5 s rather than T_WAIT (5 minutes).
options.reconnectDelay = 5000
udp, err = mqttsn.LuaSocketClient.new(mqttsn, app.handler, options, { host = args.host, port = tonumber(args.port) })
if not udp then
  io.stderr:write(err .. "\n")
  os.exit(2)
end
app.client = udp.client
udp:run()
os.exit(ok and 0 or 1)
