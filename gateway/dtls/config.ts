import { parseHostPort } from "../../transports/udp";
import { ConfigError } from "../config-error";

/** The "dtls" section of the gateway config: DTLS 1.2 listeners beside the plain UDP ones (docs/dtls.md). */
export interface DtlsConfig {
  /** DTLS listeners ("0.0.0.0:8884"); empty, DTLS is off. */
  listen: { host: string; port: number }[];
  /** The gateway's certificate and private key (PEM); required with listeners. In a config file, relative to its folder. */
  certFile?: string;
  keyFile?: string;
  /** Authorities (PEM) whose client certificates are accepted; set, every client must present one. */
  caFile?: string;
  /** Peers held per listener at once, handshaking or established; a new peer beyond it is refused and counted. */
  maxPeers: number;
  /** A handshake not finished this long after its ClientHello is dropped. */
  handshakeTimeoutMs: number;
  /** An established peer not heard from this long is forgotten and must handshake again. */
  idleTimeoutS: number;
}

export function defaultDtlsConfig(): DtlsConfig {
  return { listen: [], maxPeers: 1024, handshakeTimeoutMs: 10_000, idleTimeoutS: 3600 };
}

/** The DTLS library (werift-dtls 0.5.8) negotiates only ECDHE_ECDSA and ECDHE_RSA suites with AES-128-GCM. */
const PSK_REFUSAL =
  "not supported: the DTLS library (werift-dtls 0.5.8) offers no PSK cipher suite and its server takes no PSK option; use certFile/keyFile (and caFile for client certificates)";

const KEYS = ["listen", "certFile", "keyFile", "caFile", "psk", "maxPeers", "handshakeTimeoutMs", "idleTimeoutS"];

function int(key: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(key, value, `an integer from ${min} to ${max}`);
  return value;
}

function path(key: string, value: unknown): string {
  if (typeof value !== "string" || value === "") throw new ConfigError(key, value, "the path of a PEM file");
  return value;
}

/** One DTLS listener: "HOST:PORT" as in the config file and --dtls, or {host, port} as a validated config holds it. */
export function parseDtlsListen(key: string, value: unknown): { host: string; port: number } {
  const spec = typeof value === "string" ? parseHostPort(value) : listenObject(value);
  if (spec === undefined) throw new ConfigError(key, value, '"HOST:PORT", e.g. "0.0.0.0:8884" or "[::]:8884"');
  return spec;
}

function listenObject(value: unknown): { host: string; port: number } | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { host, port } = value as Record<string, unknown>;
  if (typeof host !== "string" || typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535)
    return undefined;
  return { host, port };
}

export function validateDtlsConfig(key: string, value: unknown, base: DtlsConfig = defaultDtlsConfig()): DtlsConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new ConfigError(key, value, `an object with keys ${KEYS.join(", ")}`);
  const out: DtlsConfig = { ...base, listen: [...base.listen] };
  for (const [k, v] of Object.entries(value)) {
    const at = `${key}.${k}`;
    switch (k) {
      case "listen":
        if (!Array.isArray(v)) throw new ConfigError(at, v, 'a list of "HOST:PORT", e.g. ["0.0.0.0:8884"]');
        out.listen = v.map((item, i) => parseDtlsListen(`${at}[${i}]`, item));
        break;
      case "certFile":
      case "keyFile":
      case "caFile":
        out[k] = path(at, v);
        break;
      case "psk":
        throw new ConfigError(at, v, PSK_REFUSAL);
      case "maxPeers":
        out.maxPeers = int(at, v, 1, 1_000_000);
        break;
      case "handshakeTimeoutMs":
        out.handshakeTimeoutMs = int(at, v, 100, 600_000);
        break;
      case "idleTimeoutS":
        out.idleTimeoutS = int(at, v, 1, 7 * 24 * 3600);
        break;
      default:
        throw new ConfigError(at, v, `no such key; known keys: ${KEYS.join(", ")}`);
    }
  }
  return out;
}

/** The dtls section with its listeners replaced by those of --dtls flags, in the shape the config file uses. */
export function withDtlsFlags(config: DtlsConfig, listen: string[]): Record<string, unknown> {
  return { ...config, listen };
}
