export {
  MAX_MESSAGE_LENGTH,
  MsgType,
  PROTOCOL_ID,
  ReturnCode,
  SPEC_MAX_CLIENT_ID_LENGTH,
  TopicIdType,
} from "./constants";
export { decode, type DecodeOptions, type DecodeResult } from "./decode";
export { encode, encodingLength } from "./encode";
export { DecodeErrorCode, type DecodeError } from "./errors";
export type * from "./messages";
export { hasWildcard, isTopicName, shortTopicId, shortTopicName } from "./topics";
export { N_ADV, N_RETRY, T_ADV, T_GWINFO, T_RETRY, T_SEARCHGW, T_WAIT } from "./timers";
export { utf8Length } from "./text";
export {
  crc16,
  encodeSlipFrame,
  SLIP_CRC_LENGTH,
  slipCrcMatches,
  slipEscape,
  slipMaxFrameLength,
  SlipOctet,
  slipUnescape,
} from "./slip";
