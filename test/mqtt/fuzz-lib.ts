/*
    The codec fuzz loop: random and mutated inputs, fed in random splits. The decoder may only throw
    MqttCodecError, must finish every input, and must never hold more than its maximum packet size.
 */
import { encode, MqttCodecError, MqttDecoder } from '../../mqtt/index.js'
import { randomPacket, Rng } from './random.js'

export interface FuzzResult {
    cases: number
    packets: number
    rejected: number
    maxHeld: number
    failure: string | null
}

export function fuzz(cases: number, seed: number, maxPacketSize = 4096): FuzzResult {
    const r = new Rng(seed)
    const result: FuzzResult = { cases: 0, packets: 0, rejected: 0, maxHeld: 0, failure: null }
    const seeds = Array.from({ length: 64 }, () => encode(randomPacket(r)))
    for (let i = 0; i < cases; i++) {
        let input: Uint8Array
        const mode = r.int(4)
        if (mode === 0) {
            input = r.bytes(r.int(64))
        } else {
            const base = r.pick(seeds)
            input = new Uint8Array(base)
            const edits = 1 + r.int(4)
            for (let e = 0; e < edits; e++) {
                const at = r.int(Math.max(1, input.length))
                switch (r.int(4)) {
                case 0: input[at] = r.next() & 0xff; break
                case 1: input[at] ^= 1 << r.int(8); break
                case 2: input = input.subarray(0, at); break
                default: {
                    const grown = new Uint8Array(input.length + 1 + r.int(8))
                    grown.set(input)
                    grown.set(r.bytes(grown.length - input.length), input.length)
                    input = grown
                }
                }
            }
            if (mode === 3) {
                /* Two packets back to back, the second mutated */
                const joined = new Uint8Array(base.length + input.length)
                joined.set(base)
                joined.set(input, base.length)
                input = joined
            }
        }
        const d = new MqttDecoder(maxPacketSize)
        try {
            let pos = 0
            while (pos < input.length) {
                const step = 1 + r.int(input.length - pos)
                d.push(input.subarray(pos, pos + step), () => { result.packets++ })
                pos += step
                if (d.buffered > maxPacketSize) {
                    result.failure = `held ${d.buffered} bytes, over the maximum ${maxPacketSize}`
                    return result
                }
                result.maxHeld = Math.max(result.maxHeld, d.buffered)
            }
        } catch (err) {
            if (!(err instanceof MqttCodecError)) {
                result.failure = `case ${i}: ${(err as Error).stack} for input ${Buffer.from(input).toString('hex')}`
                return result
            }
            result.rejected++
        }
        result.cases++
    }
    return result
}
