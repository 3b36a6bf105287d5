import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Log } from "../../transports/link";
import { formatHostPort, parseHostPort } from "../../transports/udp";
import { healthOf } from "./health";
import { createMetrics } from "./metrics";
import { renderStatusPage, statusQueryOf } from "./status-page";
import type { GatewayView } from "./view";

export interface HttpListener {
  /** The bound address, "127.0.0.1:9184" (useful after binding port 0). */
  address(): string;
  close(): Promise<void>;
}

/** The page and the health answer are the gateway's state now: never cached. */
const COMMON_HEADERS = { "cache-control": "no-store", "x-content-type-options": "nosniff" };
/** The status page loads nothing and runs nothing: only its own inline style. */
const PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'";

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...COMMON_HEADERS,
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    ...extra,
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

/**
 * The gateway's one HTTP listener (config `http`, flag --http): GET /metrics (Prometheus text), GET /healthz
 * (200 or 503 with a JSON body) and GET / (the status page). It reads the gateway and changes nothing; it has
 * no authentication, so it belongs on 127.0.0.1 or a trusted network.
 */
export async function startHttpListener(spec: string, view: GatewayView, log: Log): Promise<HttpListener> {
  const at = parseHostPort(spec);
  if (at === undefined) throw new Error(`--http ${JSON.stringify(spec)} is not HOST:PORT`);
  const metrics = await createMetrics(view);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "text/plain; charset=utf-8", "only GET and HEAD\n", { allow: "GET, HEAD" });
      return;
    }
    const url = new URL(req.url ?? "/", "http://gateway");
    switch (url.pathname) {
      case "/metrics":
        send(res, 200, metrics.contentType, await metrics.text());
        return;
      case "/healthz": {
        const health = healthOf(view);
        send(res, health.ok ? 200 : 503, "application/json", `${JSON.stringify(health)}\n`);
        return;
      }
      case "/":
        send(
          res,
          200,
          "text/html; charset=utf-8",
          renderStatusPage(view, healthOf(view), statusQueryOf(url.searchParams)),
          {
            "content-security-policy": PAGE_POLICY,
          },
        );
        return;
      default:
        send(res, 404, "text/plain; charset=utf-8", "not found: try /, /metrics or /healthz\n");
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      log.error("http-error", { path: req.url, error: err.message });
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "internal error\n");
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(
        new Error(
          `cannot listen on HTTP ${formatHostPort(at.host, at.port)}: ${err.message}; pick another address with --http HOST:PORT`,
        ),
      );
    server.once("error", onError);
    server.listen(at.port, at.host, () => {
      server.off("error", onError);
      server.on("error", (err) => log.warn("http-error", { error: err.message }));
      resolve();
    });
  });
  log.info("http-listening", { address: formatHostPort(at.host, (server.address() as AddressInfo).port) });

  return {
    address: () => {
      const a = server.address() as AddressInfo | null;
      return a === null ? formatHostPort(at.host, at.port) : formatHostPort(a.address, a.port);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
