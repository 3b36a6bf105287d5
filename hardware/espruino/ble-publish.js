/* global Bluetooth, NRF, E, LoopbackA, MQTTSN_CONFIG, setInterval, clearInterval, setWatch, BTN */
/*
 * MQTT-SN over Bluetooth LE for Espruino boards with Bluetooth (Puck.js, Pixl.js, MDBT42Q, Bangle.js):
 * the board stays a peripheral offering the Nordic UART Service, the gateway connects to it as central
 * (config "ble"), and MQTT-SN messages travel over the UART in the gateway's SLIP framing with
 * CRC-16/CCITT-FALSE (hardware/serial-framing.md). It connects, registers one topic and publishes the
 * board's temperature every `interval` seconds, `count` times (0 = for ever), with QoS 0 or 1.
 *
 * Settings come from a global MQTTSN_CONFIG defined before this file runs, e.g.
 *   var MQTTSN_CONFIG = {clientId: "puck-1", topic: "sensors/puck-1", qos: 1, interval: 60, count: 0, name: "Puck.js mqttsn"};
 * Upload: see hardware/espruino.md. At every Bluetooth connection this program takes the Bluetooth UART
 * (the console moves to LoopbackA). Press the board's button to give the console back to Bluetooth and
 * pause the program until the next reset, e.g. to connect the Web IDE or the espruino tool.
 */
var MQTTSN_BLE_DEFAULTS = {
  clientId: "puck-1",
  topic: "sensors/puck",
  qos: 1,
  interval: 60,
  count: 0,
  keepAlive: 300,
  retryMs: 3000,
};
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- the global a user inspects on the console
var mqttsnBle = (function () {
  var cfg = typeof MQTTSN_CONFIG !== "undefined" ? MQTTSN_CONFIG : {};
  var key;
  for (key in MQTTSN_BLE_DEFAULTS) if (cfg[key] === undefined) cfg[key] = MQTTSN_BLE_DEFAULTS[key];

  var END = 0xc0,
    ESC = 0xdb,
    ESC_END = 0xdc,
    ESC_ESC = 0xdd,
    MAX = 128;
  var rx = [],
    escaped = false;
  var paused = false;
  var state = "idle",
    msgId = 0,
    topicId = 0,
    sent = 0,
    pending = null,
    retryTimer,
    publishTimer,
    pingTimer;

  function crc16(bytes) {
    var crc = 0xffff,
      i,
      b;
    for (i = 0; i < bytes.length; i++) {
      crc ^= bytes[i] << 8;
      for (b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    return crc;
  }

  function slip(message) {
    var crc = crc16(message),
      body = message.concat([crc >> 8, crc & 0xff]),
      out = [END],
      i,
      o;
    for (i = 0; i < body.length; i++) {
      o = body[i];
      if (o === END) out.push(ESC, ESC_END);
      else if (o === ESC) out.push(ESC, ESC_ESC);
      else out.push(o);
    }
    out.push(END);
    return out;
  }

  function text(s) {
    var out = [],
      i;
    for (i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
    return out;
  }

  function message(type, body) {
    return [body.length + 2, type].concat(body);
  }

  function send(m) {
    Bluetooth.write(slip(m));
  }

  function nextMsgId() {
    msgId = msgId === 0xffff ? 1 : msgId + 1;
    return msgId;
  }

  /** Sends m now and again every retryMs until answered (CONNECT, REGISTER, PUBLISH QoS 1). */
  function confirmable(m) {
    pending = m;
    send(m);
    if (retryTimer) clearInterval(retryTimer);
    retryTimer = setInterval(function () {
      if (pending) send(pending);
    }, cfg.retryMs);
  }

  function answered() {
    pending = null;
    if (retryTimer) clearInterval(retryTimer);
    retryTimer = undefined;
  }

  function connect() {
    state = "connecting";
    // CONNECT §5.4.4: Flags (CleanSession), ProtocolId 1, Duration, ClientId.
    confirmable(message(0x04, [0x04, 0x01, cfg.keepAlive >> 8, cfg.keepAlive & 0xff].concat(text(cfg.clientId))));
  }

  function publish() {
    if (state !== "active" || pending) return;
    var data = text(String(Math.round(E.getTemperature() * 10) / 10));
    var flags = cfg.qos === 1 ? 0x20 : 0x00;
    var id = cfg.qos === 1 ? nextMsgId() : 0;
    var m = message(0x0c, [flags, topicId >> 8, topicId & 0xff, id >> 8, id & 0xff].concat(data));
    sent++;
    if (cfg.qos === 1) confirmable(m);
    else send(m);
    if (cfg.count > 0 && sent >= cfg.count) stopPublishing();
  }

  function stopPublishing() {
    if (publishTimer) clearInterval(publishTimer);
    publishTimer = undefined;
  }

  function onMessage(m) {
    var type = m[1];
    if (type === 0x05 && state === "connecting") {
      answered();
      if (m[2] !== 0) return;
      state = "registering";
      var id = nextMsgId();
      // REGISTER §5.4.10: TopicId 0x0000 from a client, MsgId, TopicName.
      confirmable(message(0x0a, [0, 0, id >> 8, id & 0xff].concat(text(cfg.topic))));
    } else if (type === 0x0b && state === "registering") {
      answered();
      if (m[6] !== 0) return;
      topicId = (m[2] << 8) | m[3];
      state = "active";
      sent = 0;
      publish();
      if (cfg.count === 0 || sent < cfg.count) publishTimer = setInterval(publish, cfg.interval * 1000);
      pingTimer = setInterval(
        function () {
          send(message(0x16, []));
        },
        (cfg.keepAlive * 1000) / 2
      );
    } else if (type === 0x0d && pending && ((m[4] << 8) | m[5]) === ((pending[5] << 8) | pending[6])) {
      answered();
    } else if (type === 0x18) {
      reset();
      connect();
    }
  }

  function onData(data) {
    var i, o, frame, n, crc;
    for (i = 0; i < data.length; i++) {
      o = data.charCodeAt(i);
      if (o === END) {
        frame = rx;
        rx = [];
        escaped = false;
        n = frame.length;
        if (n < 4) continue;
        crc = crc16(frame.slice(0, n - 2));
        if (crc === ((frame[n - 2] << 8) | frame[n - 1])) onMessage(frame.slice(0, n - 2));
        continue;
      }
      if (escaped) {
        o = o === ESC_END ? END : o === ESC_ESC ? ESC : -1;
        escaped = false;
      } else if (o === ESC) {
        escaped = true;
        continue;
      }
      if (o < 0 || rx.length >= MAX) rx = [];
      else rx.push(o);
    }
  }

  function reset() {
    answered();
    stopPublishing();
    if (pingTimer) clearInterval(pingTimer);
    pingTimer = undefined;
    state = "idle";
    rx = [];
  }

  Bluetooth.on("data", onData);
  NRF.on("connect", function () {
    if (paused) return;
    LoopbackA.setConsole(true);
    reset();
    connect();
  });
  NRF.on("disconnect", function () {
    reset();
  });
  if (typeof BTN !== "undefined") {
    setWatch(
      function () {
        paused = true;
        reset();
        Bluetooth.setConsole(true);
      },
      BTN,
      { repeat: true, edge: "rising", debounce: 50 }
    );
  }
  if (cfg.name) NRF.setAdvertising({}, { name: cfg.name });
  return {
    state: function () {
      return state;
    },
    sent: function () {
      return sent;
    },
  };
})();
