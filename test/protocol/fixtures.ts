import { MsgType, TopicIdType, type Message } from "../../protocol";

/**
 * One annotated byte fixture per message type and variant. `hex` is the whole datagram; `message`
 * is what decode returns and encode takes. Raw byte fields (PUBLISH data, WILLMSG) are given as
 * fresh arrays with offset 0; tests compare them through normalise() in fixture-helpers.ts.
 */
export interface Fixture {
  name: string;
  /** One English line saying what the octets are. */
  says: string;
  hex: string;
  message: Message;
}

export const fixtures: Fixture[] = [
  {
    name: "PUBLISH qos 1 normal topic id",
    says: "len 9, PUBLISH, flags qos1, topic id 5, msg id 258, data 'hi'",
    hex: "090c200005010268 69".replace(/ /g, ""),
    message: {
      type: MsgType.Publish,
      dup: false,
      qos: 1,
      retain: false,
      topicIdType: TopicIdType.Normal,
      topicId: 5,
      msgId: 258,
      data: [0x68, 0x69],
      dataOffset: 0,
      dataLength: 2,
    },
  },
];
