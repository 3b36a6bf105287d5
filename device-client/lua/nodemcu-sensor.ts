/**
 * The Lua library of the sensor profile for NodeMCU (dist/lua/mqttsn-nodemcu-sensor.lua): the sensor
 * library and the serial framing that the adapter's UART transport (newUart) needs.
 */
export * from "./sensor";
export * from "./slip";
