export { MqttSnClient } from "./client";
export { SensorClient } from "./sensor";
export { defaultOptions } from "./options";
export { SlipReceiver, type FrameSink } from "./slip-receiver";
export {
  ClientState,
  PublishResult,
  type ClientBuffers,
  type ClientHandler,
  type ClientOptions,
  type Transport,
} from "./types";
export {
  MsgType,
  ReturnCode,
  TopicIdType,
  shortTopicId,
  shortTopicName,
  type Bytes,
  type QoS,
} from "../../protocol/index";
export { crc16, encodeSlipFrame } from "../../protocol/index";
