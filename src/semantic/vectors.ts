import { endianness } from 'node:os';

/** Vectors are stored and sent as float32 little-endian; big-endian hosts swap bytes on the way. */
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** Decodes float32 little-endian bytes (a SQLite blob, or the API's base64) into an aligned array. */
export function fromFloat32Bytes(bytes: Uint8Array): Float32Array {
  if (bytes.length % 4 !== 0) throw new RangeError(`a float32 vector needs a multiple of 4 bytes, got ${bytes.length}`);
  const out = new Float32Array(bytes.length / 4);
  const view = new Uint8Array(out.buffer);
  view.set(bytes);
  if (!LITTLE_ENDIAN_HOST) Buffer.from(out.buffer).swap32();
  return out;
}

export function fromBase64Float32(text: string): Float32Array {
  return fromFloat32Bytes(Buffer.from(text, 'base64'));
}

/** The blob stored for a vector: float32 little-endian. */
export function toFloat32Bytes(vector: Float32Array): Buffer {
  const bytes = Buffer.from(vector.buffer.slice(vector.byteOffset, vector.byteOffset + vector.byteLength));
  return LITTLE_ENDIAN_HOST ? bytes : bytes.swap32();
}

/** A unit-length copy, so that cosine similarity is a plain dot product; `what` names the argument in errors. */
export function normalised(vector: Float32Array, what: string): Float32Array {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
  if (vector.length === 0 || !Number.isFinite(norm) || norm === 0) {
    throw new RangeError(`${what} must be a non-empty vector of finite numbers, not all zero (length ${vector.length})`);
  }
  const scale = 1 / Math.sqrt(norm);
  const out = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! * scale;
  return out;
}

/**
 * The unit vectors of one partition (embedding model, scope, status, dimension) in one
 * contiguous Float32Array, row after row: a lookup is a tight dot-product loop with no
 * allocation and no pointer chasing.
 */
export class VectorIndex {
  private data: Float32Array;
  private readonly keys: string[] = [];

  constructor(
    readonly dimension: number,
    capacity: number,
  ) {
    this.data = new Float32Array(Math.max(1, capacity) * dimension);
  }

  get size(): number {
    return this.keys.length;
  }

  /** Appends a unit vector of this index's dimension (the caller normalises). */
  add(key: string, unit: Float32Array): void {
    if (unit.length !== this.dimension) throw new RangeError(`expected a vector of ${this.dimension} numbers, got ${unit.length}`);
    // reserve() may replace this.data: take the offset first, then write into the new array.
    const offset = this.reserve();
    this.data.set(unit, offset);
    this.keys.push(key);
  }

  /** Appends a stored blob (float32 little-endian), copied straight into place. */
  addBytes(key: string, bytes: Uint8Array): void {
    if (bytes.length !== this.dimension * 4) throw new RangeError(`expected ${this.dimension * 4} bytes, got ${bytes.length}`);
    const offset = this.reserve();
    const target = new Uint8Array(this.data.buffer, offset * 4, bytes.length);
    target.set(bytes);
    if (!LITTLE_ENDIAN_HOST) Buffer.from(target.buffer, target.byteOffset, target.byteLength).swap32();
    this.keys.push(key);
  }

  /** Room for one more vector; returns its offset in `data`. */
  private reserve(): number {
    const offset = this.keys.length * this.dimension;
    if (offset + this.dimension > this.data.length) {
      const grown = new Float32Array(Math.max(this.data.length * 2, offset + this.dimension));
      grown.set(this.data);
      this.data = grown;
    }
    return offset;
  }

  /** The stored vector with the highest dot product with `unit`, or undefined when empty. */
  best(unit: Float32Array): { key: string; similarity: number } | undefined {
    const [bestRow, bestScore] = bestDot(this.data, this.keys.length, this.dimension, unit);
    const key = this.keys[bestRow];
    // Float32 rounding can push a self-match a hair past 1.
    return key === undefined ? undefined : { key, similarity: Math.min(1, bestScore) };
  }
}

/**
 * [row, score] of the row of `data` (count rows of `dimension` floats) with the highest dot
 * product with `unit`. Eight products per step into four sums: about twice as fast as a
 * plain loop in V8.
 */
function bestDot(data: Float32Array, count: number, dimension: number, unit: Float32Array): [number, number] {
  let bestRow = -1;
  let bestScore = -Infinity;
  const tail = dimension - (dimension % 8);
  for (let row = 0, base = 0; row < count; row++, base += dimension) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let i = 0;
    let b = base;
    for (; i < tail; i += 8, b += 8) {
      s0 += unit[i]! * data[b]! + unit[i + 4]! * data[b + 4]!;
      s1 += unit[i + 1]! * data[b + 1]! + unit[i + 5]! * data[b + 5]!;
      s2 += unit[i + 2]! * data[b + 2]! + unit[i + 6]! * data[b + 6]!;
      s3 += unit[i + 3]! * data[b + 3]! + unit[i + 7]! * data[b + 7]!;
    }
    for (; i < dimension; i++, b++) s0 += unit[i]! * data[b]!;
    const score = s0 + s1 + s2 + s3;
    if (score > bestScore) {
      bestScore = score;
      bestRow = row;
    }
  }
  return [bestRow, bestScore];
}
