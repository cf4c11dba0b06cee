import { Readable } from 'node:stream';

/**
 * A Response whose body was read whole before it was made (jsonFetch's answers): what the
 * openai SDK and the provider wrappers use of a Response (status, ok, headers, url, text,
 * json, arrayBuffer, body, clone), without what a `new Response(bytes)` builds up front.
 *
 * Why not `new Response(bytes)`: its constructor makes a WHATWG ReadableStream for the body
 * (a transferable object, its controller, its queue) and json() reads it back through a
 * reader, promise after promise; at 1,500 answers a second (bench B7) that was ~6 % of the
 * bot's CPU and much of its young-generation garbage, for bytes already in hand. Here the
 * bytes are decoded when asked, and a stream is made only if someone asks for `body`.
 *
 * It behaves as a fetch Response does where the two could be told apart by the code that
 * reads it: a body is read once (a second read, or `body` after a read, is refused with
 * the TypeError fetch throws), text() decodes UTF-8 and drops a byte-order mark, json()
 * throws the SyntaxError JSON.parse throws, a null-body status has no body.
 */
export class BufferedResponse {
  readonly ok: boolean;
  readonly redirected = false;
  readonly type = 'basic' as const;
  private used = false;
  private stream: ReadableStream<Uint8Array> | null | undefined;

  constructor(
    private readonly bytes: Uint8Array | null,
    readonly status: number,
    readonly headers: Headers,
    readonly url: string,
    readonly statusText = '',
  ) {
    this.ok = status >= 200 && status <= 299;
  }

  /** A Response as the SDK's `fetch` returns it (the parts it reads are the same). */
  static of(bytes: Uint8Array | null, status: number, headers: Headers, url: string): Response {
    return new BufferedResponse(bytes, status, headers, url) as unknown as Response;
  }

  get bodyUsed(): boolean {
    // A body read through its stream is used too (a fetch Response says so).
    return this.used || (this.stream != null && Readable.isDisturbed(this.stream as unknown as NodeJS.ReadableStream));
  }

  /** The body as a stream, made on first ask (a caller re-wrapping the answer, or cancelling it). */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.stream === undefined) {
      // A Response over the bytes makes the stream the platform would: readable once, locked
      // while read; after a read, one already read (as the read answer's own body is).
      const wrapped = this.bytes === null ? null : new Response(this.bytes);
      if (wrapped && this.used) void wrapped.arrayBuffer().catch(() => undefined);
      this.stream = wrapped?.body ?? null;
    }
    return this.stream;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.read();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return DECODER.decode(await this.read());
  }

  async json(): Promise<unknown> {
    return JSON.parse(DECODER.decode(await this.read())) as unknown;
  }

  async blob(): Promise<Blob> {
    return new Blob([await this.read()], { type: this.headers.get('content-type') ?? '' });
  }

  clone(): Response {
    if (this.used || this.stream !== undefined) throw new TypeError('Response.clone: Body has already been consumed.');
    return BufferedResponse.of(this.bytes, this.status, new Headers(this.headers), this.url);
  }

  /** The bytes, once: as with fetch, a body read before is refused (TypeError). */
  private async read(): Promise<Uint8Array> {
    // No body (a 204): read as empty, as often as asked.
    if (this.bytes === null) return EMPTY;
    if (this.used) throw new TypeError('Body is unusable: Body has already been read');
    this.used = true;
    // Asked for as a stream first: read through it, as fetch would (a stream read or locked meanwhile is refused there).
    if (this.stream) return new Uint8Array(await new Response(this.stream).arrayBuffer());
    return this.bytes;
  }
}

const EMPTY = new Uint8Array(0);
/** UTF-8, a leading byte-order mark dropped, bad bytes replaced (what Response.text() does). */
const DECODER = new TextDecoder('utf-8');
