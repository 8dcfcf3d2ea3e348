/**
 * Counts one byte value in a buffer with WebAssembly SIMD (16 bytes per step), for the scanner's
 * line tracking: counting newlines over every window was the largest cost of `keywatch scan`
 * on large text (a scalar JS loop runs at ~1-2 GB/s; this at memory-copy speed).
 *
 * The module is written out here as bytes (no toolchain at build time); its text form:
 *   (func (export "count") (param $p i32) (param $n i32) (param $b i32) (result i32)
 *     (local $end i32) (local $acc i32) (local $needle v128)
 *     $needle = i8x16.splat($b); $end = $p + ($n & -16)
 *     loop while $p < $end: $acc += popcnt(i8x16.bitmask(i8x16.eq(v128.load($p), $needle))); $p += 16
 *     return $acc)
 * Bytes after the last whole 16 are counted by the caller.
 */
const BODY = [
  // locals: 2 × i32 ($end, $acc), 1 × v128 ($needle)
  0x02,
  0x02,
  0x7f,
  0x01,
  0x7b,
  0x20,
  0x02,
  0xfd,
  0x0f,
  0x21,
  0x05, // $needle = i8x16.splat($b)
  0x20,
  0x00,
  0x20,
  0x01,
  0x41,
  0x70,
  0x71,
  0x6a,
  0x21,
  0x03, // $end = $p + ($n & -16)
  0x02,
  0x40,
  0x03,
  0x40, // block, loop
  0x20,
  0x00,
  0x20,
  0x03,
  0x4f,
  0x0d,
  0x01, // br_if out when $p >= $end
  0x20,
  0x00,
  0xfd,
  0x00,
  0x00,
  0x00, // v128.load($p)
  0x20,
  0x05,
  0xfd,
  0x23,
  0xfd,
  0x64,
  0x69, // i8x16.eq, i8x16.bitmask, i32.popcnt
  0x20,
  0x04,
  0x6a,
  0x21,
  0x04, // $acc += ...
  0x20,
  0x00,
  0x41,
  0x10,
  0x6a,
  0x21,
  0x00, // $p += 16
  0x0c,
  0x00,
  0x0b,
  0x0b, // br loop, end loop, end block
  0x20,
  0x04,
  0x0b, // return $acc
];

function section(id: number, content: number[]): number[] {
  // Every section here is shorter than 128 bytes: its length is one LEB128 byte.
  return [id, content.length, ...content];
}

const MODULE = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  ...section(1, [0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x01, 0x7f]), // type: (i32 i32 i32) -> i32
  ...section(3, [0x01, 0x00]), // one function of that type
  ...section(5, [0x01, 0x00, 0x01]), // one memory, 1 page to start
  ...section(7, [
    0x02,
    0x06,
    0x6d,
    0x65,
    0x6d,
    0x6f,
    0x72,
    0x79,
    0x02,
    0x00, // "memory"
    0x05,
    0x63,
    0x6f,
    0x75,
    0x6e,
    0x74,
    0x00,
    0x00, // "count"
  ]),
  ...section(10, [0x01, BODY.length, ...BODY]),
]);

const PAGE = 65536;

/** The part of the WebAssembly API used here (tsconfig has no DOM lib; Node provides it globally). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

interface SimdCounter {
  memory: WasmMemory;
  count: (pointer: number, length: number, byte: number) => number;
}

let counter: SimdCounter | null | undefined;

function load(): SimdCounter | null {
  try {
    if (!wasm?.validate(MODULE)) return null;
    const instance = new wasm.Instance(new wasm.Module(MODULE));
    const { memory, count } = instance.exports as unknown as SimdCounter;
    return { memory, count };
  } catch {
    // No WebAssembly SIMD here (or no WebAssembly): callers fall back to the scalar count.
    return null;
  }
}

/** Bytes counted per call: the part of a window copied into the module's memory at once. */
const SLICE = 4 * 1024 * 1024;

/**
 * Occurrences of `byte` in window[from, to), or undefined when WebAssembly SIMD is unavailable.
 * The bytes are copied into the module's memory a slice at a time (memcpy speed), then counted.
 */
export function countByteSimd(
  window: Uint8Array,
  from: number,
  to: number,
  byte: number,
): number | undefined {
  if (counter === undefined) counter = load();
  if (counter === null) return undefined;
  const { memory, count } = counter;
  const need = Math.min(SLICE, to - from);
  if (memory.buffer.byteLength < need) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
  const heap = new Uint8Array(memory.buffer);
  let total = 0;
  for (let at = from; at < to; at += SLICE) {
    const end = Math.min(to, at + SLICE);
    const length = end - at;
    heap.set(window.subarray(at, end), 0);
    total += count(0, length, byte);
    for (let i = length & ~15; i < length; i++) if (heap[i] === byte) total++;
  }
  return total;
}
