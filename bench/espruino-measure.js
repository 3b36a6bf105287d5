// Runs inside an Espruino interpreter (bench/espruino-interpreter.ts stores it in Storage and starts it
// with eval(require("Storage").read(...)), so its own function code stays in flash too). MEASURE, read
// from the Storage file measure.json, says what to run:
//   { mode: "library", file, ram, port, clientId, topic, count, burst }
//     loads the library bundle, constructs an EspruinoUdpClient, connects, publishes `count` QoS 1
//     messages one after the other, then `burst` QoS 0 messages in one synchronous loop, disconnects;
//   { mode: "example", file, port, clientId, topic, count }
//     runs the example bundle with MQTTSN_CONFIG set, until it prints "finished" or "failed".
// Every figure is one line "@@" + JSON: { stage, usage, total, flags, note }, usage and total from
// process.memory() (which collects garbage first), flags from E.getErrorFlags() (e.g. "MEMORY"), or
// { stage, usage, sampled: true } for a highest value sampled along the way.
// Plain ES5: the interpreter runs this as it is.
/* global E, global, print, require, setInterval, clearInterval, setTimeout, MQTTSNClient */
/* eslint-disable @typescript-eslint/no-require-imports -- Espruino's modules come from require() */
var MEASURE_STORAGE = require("Storage");
var MEASURE = MEASURE_STORAGE.readJSON("measure.json");

function measureMark(stage, note) {
  var m = process.memory();
  print("@@" + JSON.stringify({ stage: stage, usage: m.usage, total: m.total, flags: E.getErrorFlags(), note: note }));
  return m.usage;
}

/** A figure sampled earlier (a highest value), printed like a measured one. */
function measureValue(stage, usage) {
  print("@@" + JSON.stringify({ stage: stage, usage: usage, sampled: true }));
}

function measureEnd(note) {
  print("@@" + JSON.stringify({ stage: "end", note: note }));
}

function measureLibrary() {
  var REGISTER = 0x0a;
  var PUBLISH = 0x0c;
  var ACTIVE = 3;
  var LOST = 6;
  var DISCONNECTED = 0;
  var payload = new Uint8Array(16);
  var length = 0;
  var acked = 0;
  var peak = 0;
  var client;
  var link;

  function fill(n) {
    var s = "msg-" + n;
    for (var i = 0; i < s.length; i++) payload[i] = s.charCodeAt(i);
    length = s.length;
  }

  function next() {
    if (acked === MEASURE.count) {
      measureValue("highest during the QoS 1 publishes, every 10th", peak);
      measureMark("after connect + " + MEASURE.count + " QoS 1");
      burst();
      return;
    }
    fill(acked + 1);
    if (client.publish(MEASURE.topic, payload, 0, length, 1, false) < 0) {
      measureMark("error", "QoS 1 publish " + (acked + 1) + " refused");
      client.disconnect();
    }
  }

  function burst() {
    var before = process.memory().usage;
    var top = before;
    var accepted = 0;
    var refused = {};
    for (var i = 1; i <= MEASURE.burst; i++) {
      fill(i);
      var r = client.publish(MEASURE.topic, payload, 0, length, 0, false);
      if (r >= 0) accepted++;
      else refused[r] = (refused[r] || 0) + 1;
      if (i % 50 === 0) {
        var u = process.memory().usage;
        if (u > top) top = u;
      }
    }
    measureValue("QoS 0 burst: before", before);
    measureValue("QoS 0 burst: highest in the loop, every 50th", top);
    measureMark("QoS 0 burst: end of the loop", accepted + " accepted, refused " + JSON.stringify(refused));
    setTimeout(function () {
      measureMark("QoS 0 burst: 2 s later");
      client.disconnect();
    }, 2000);
  }

  var handler = {
    stateChanged: function (state) {
      if (state === ACTIVE) {
        var r = client.register(MEASURE.topic);
        if (r === 0) next();
        else if (r < 0) measureMark("error", "REGISTER refused");
      } else if (state === LOST) {
        measureMark("error", "gateway lost");
        link.close();
        measureEnd("gateway lost");
      } else if (state === DISCONNECTED) {
        link.close();
        measureEnd("disconnected");
      }
    },
    message: function () {},
    done: function (msgType, msgId, returnCode) {
      if (returnCode !== 0) {
        measureMark("error", "message type " + msgType + " return code " + returnCode);
        client.disconnect();
      } else if (msgType === REGISTER) {
        next();
      } else if (msgType === PUBLISH) {
        acked++;
        if (acked % 10 === 0) {
          var u = process.memory().usage;
          if (u > peak) peak = u;
        }
        next();
      }
    },
  };
  var options = MQTTSNClient.defaultOptions(MEASURE.clientId, Math.random);
  options.keepAlive = 30;
  link = new MQTTSNClient.EspruinoUdpClient(handler, options, {
    dgram: require("dgram"),
    host: "127.0.0.1",
    port: MEASURE.port,
    broadcastHost: "127.0.0.1",
    bufferSize: 128,
    inflight: 2,
    tickInterval: 100,
  });
  client = link.client;
  measureMark("client constructed");
  link.start();
}

measureMark("measuring script loaded");
print("@@" + JSON.stringify({ stage: "interpreter", note: process.version, blocksize: process.memory().blocksize }));

if (MEASURE.mode === "example") {
  var measurePeak = 0;
  var measureAcks = 0;
  var measureSampler = setInterval(function () {
    var u = process.memory().usage;
    if (u > measurePeak) measurePeak = u;
  }, 200);
  // The example reports through console.log: count its lines, catch its last one.
  console.log = function (text) {
    if (String(text).indexOf("acknowledged") === 0) measureAcks++;
    if (text === "finished" || text === "failed") {
      clearInterval(measureSampler);
      measureValue("example: highest, sampled every 200 ms", measurePeak);
      measureMark("example finished", text + ", " + measureAcks + " acknowledged");
      measureEnd(text);
    }
  };
  global.MQTTSN_CONFIG = {
    host: "127.0.0.1",
    port: MEASURE.port,
    clientId: MEASURE.clientId,
    topic: MEASURE.topic,
    count: MEASURE.count,
    qos: 1,
    subscribe: undefined,
    serial: undefined,
  };
  eval(MEASURE_STORAGE.read(MEASURE.file));
  measurePeak = measureMark("example started");
} else {
  if (MEASURE.ram) {
    // A copy in RAM, as one flat string (the most compact form): evaluated from RAM, every function
    // keeps a copy of its code in variables. The copy itself is freed once evaluated.
    var measureFile = MEASURE_STORAGE.readArrayBuffer(MEASURE.file);
    var measureCode = E.toString({ data: 0, count: measureFile.byteLength });
    if (measureCode === undefined) {
      measureMark("error", "no room for a flat copy of " + measureFile.byteLength + " octets");
    } else {
      new Uint8Array(E.toArrayBuffer(measureCode)).set(new Uint8Array(measureFile));
      measureFile = undefined;
      eval(measureCode);
      measureCode = undefined;
    }
  } else {
    eval(MEASURE_STORAGE.read(MEASURE.file));
  }
  measureMark("library loaded");
  if (typeof MQTTSNClient === "undefined") {
    measureEnd("the library did not load");
  } else {
    measureLibrary();
  }
}
