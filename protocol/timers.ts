/** Recommended timer and counter values, MQTT-SN v1.2 §6.16 and Table 25, in seconds or counts. */
export const T_ADV = 900;
export const N_ADV = 3;
export const T_SEARCHGW = 5;
export const T_GWINFO = 5;
export const T_WAIT = 300;
export const T_RETRY = 10;
export const N_RETRY = 3;
