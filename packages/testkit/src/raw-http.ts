/**
 * HTTP/1.x over a raw TCP socket, for what fetch will not send: a missing or
 * malformed Host, HTTP/1.0, a Content-Length the body never reaches, a body
 * dripped a byte at a time.
 */
import { connect, type Socket } from "node:net";

export interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The whole response as received. */
  raw: string;
}

export interface RawConnection {
  socket: Socket;
  send(data: string): void;
  /** The first complete response on the connection. */
  reply: Promise<RawReply>;
  /** Resolves when the server (or we) closed the connection. */
  closed: Promise<void>;
  destroy(): void;
}

function parse(raw: string): RawReply | undefined {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const [statusLine, ...lines] = raw.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(":");
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const body = raw.slice(end + 4);
  const length = headers["content-length"];
  if (length !== undefined && Buffer.byteLength(body) < Number(length)) return undefined;
  return { status: Number(statusLine!.split(" ")[1]), headers, body, raw };
}

/** Opens a connection to 127.0.0.1:`port`; `send` writes raw bytes. */
export function rawConnect(port: number): RawConnection {
  const socket = connect(port, "127.0.0.1");
  let buf = "";
  let resolveReply!: (r: RawReply) => void;
  let rejectReply!: (e: Error) => void;
  const reply = new Promise<RawReply>((res, rej) => ((resolveReply = res), (rejectReply = rej)));
  const closed = new Promise<void>((res) => socket.on("close", () => res()));
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => {
    buf += d;
    const r = parse(buf);
    if (r) resolveReply(r);
  });
  socket.on("close", () => {
    const r = parse(buf) ?? (buf.includes("\r\n\r\n") ? parse(buf + "") : undefined);
    if (r) resolveReply(r);
    else rejectReply(new Error(`connection closed without a complete response: ${JSON.stringify(buf.slice(0, 200))}`));
  });
  socket.on("error", () => {});
  return { socket, send: (data) => void socket.write(data), reply, closed, destroy: () => socket.destroy() };
}

/** Sends one request and returns the first response (the connection is then closed by us). */
export async function rawRequest(port: number, request: string): Promise<RawReply> {
  const c = rawConnect(port);
  c.send(request);
  try {
    return await c.reply;
  } finally {
    c.destroy();
  }
}
