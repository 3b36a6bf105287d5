/**
 * Runs an Espruino program file (a config and a bundle, as hardware/espruino.md puts them together) under the
 * Espruino-shaped Node vm of test/device-client/support/espruino-vm.ts, meant to run inside a network namespace:
 * `ip netns exec NS node --import tsx test/support/netns-espruino.ts FILE`. The file's own `var MQTTSN_CONFIG`
 * is what the program reads. Prints each line the program logs; exits 0 when it printed "finished", 1 otherwise.
 * Not covered: Espruino's own interpreter, its memory and its network stack.
 */
import { runEspruino } from "../device-client/support/espruino-vm";

const file = process.argv[2];
if (file === undefined) {
  console.error("usage: netns-espruino.ts FILE");
  process.exit(2);
}
const run = await runEspruino(file, {});
for (const line of run.lines) console.log(line);
process.exit(run.ok ? 0 : 1);
