/*
    What a bench publisher writes at the head of each payload, so subscribers measure instead of guessing:
    a mark, the publishing process's origin (random), the client number, the client's sequence number and
    the send time (milliseconds since the epoch, to the microsecond: clocks of different machines must agree
    for their latencies to mean anything). 24 bytes; smaller payloads carry no stamp.
 */

export const STAMP_SIZE = 24
const MARK = 0x464d4231 /* "FMB1" */

const clock = performance.timeOrigin

/** Milliseconds since the epoch, to the microsecond. */
export function wallMs(): number {
    return clock + performance.now()
}

export interface Stamp {
    /** origin * 2^32 + client number: one sequence per publisher */
    key: number
    seq: number
    sentMs: number
}

/** Write the stamp into the head of payload (no-op when it is too small). */
export function writeStamp(view: DataView, origin: number, client: number, seq: number): void {
    if (view.byteLength >= STAMP_SIZE) {
        view.setUint32(0, MARK)
        view.setUint16(4, origin)
        view.setUint16(6, 0)
        view.setUint32(8, client)
        view.setUint32(12, seq)
        view.setFloat64(16, wallMs())
    }
}

/** The stamp at the head of a payload, or null when it has none. */
export function readStamp(data: Uint8Array, out: Stamp): Stamp | null {
    if (data.length < STAMP_SIZE) {
        return null
    }
    const view = new DataView(data.buffer, data.byteOffset, STAMP_SIZE)
    if (view.getUint32(0) !== MARK) {
        return null
    }
    out.key = view.getUint16(4) * 2 ** 32 + view.getUint32(8)
    out.seq = view.getUint32(12)
    out.sentMs = view.getFloat64(16)
    return out
}

/** A random origin for this process's payloads. */
export function newOrigin(): number {
    return Math.floor(Math.random() * 0xffff) + 1
}
