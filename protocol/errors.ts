/** Stable codes for what decode found wrong. Tests and logs depend on these strings: do not rename. */
export const enum DecodeErrorCode {
  /** Fewer octets than a Length field needs, or a Length of 0x00. */
  BadLength = "bad-length",
  /** The Length field promises more octets than were given. */
  Truncated = "truncated",
  /** The datagram holds more octets than its Length field says. */
  TrailingBytes = "trailing-bytes",
  /** The body is shorter or longer than this message type allows. */
  BadBodyLength = "bad-body-length",
  /** A reserved message type (03, 11, 19, 1E..FD, FF). */
  ReservedType = "reserved-type",
  /** TopicIdType 0b11. */
  ReservedTopicIdType = "reserved-topic-id-type",
  /** WILLTOPIC or WILLTOPICUPD with QoS bits 11: QoS -1 has no meaning for a will (§5.4.7). */
  BadQos = "bad-qos",
  /** CONNECT with a ProtocolId other than 0x01. */
  BadProtocolId = "bad-protocol-id",
  /** A client id that is empty or longer than the configured limit. */
  ClientIdLength = "client-id-length",
  /** A string field that must not be empty (topic name, will topic after flags). */
  EmptyString = "empty-string",
  /** A string field that is not valid UTF-8. */
  BadUtf8 = "bad-utf8",
  /** An Encapsulated message nested in another one. */
  NestedEncapsulation = "nested-encapsulation",
}

export interface DecodeError {
  type: "error";
  code: DecodeErrorCode;
  /** Offset of the octet where decoding went wrong, counted from the start of the buffer. */
  offset: number;
}
