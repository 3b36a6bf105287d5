import { utf8Length } from "../../protocol/index";

/**
 * Octets of a message whose body (after Length and MsgType) is `fixed` octets and the UTF-8 form of
 * name: the Length field is 1 octet for up to 255 octets in all, else 3 (§5.2.1). Names are
 * measured in UTF-8 octets, never by string length (UTF-16 code units in JavaScript).
 */
export function messageLength(fixed: number, name: string): number {
  const body = fixed + utf8Length(name);
  return body + 2 <= 255 ? body + 2 : body + 4;
}
