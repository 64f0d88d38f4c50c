/*
    The codec fuzz loop: random and mutated inputs, fed in random splits. The decoder may only throw
    MqttCodecError, must finish every input, and must never hold more than its maximum packet size. Run on the
    full decoder (a broker's) and on the client's, which reads what a broker sends; fuzzClientDecoder also checks
    that the client's decoder reads every input as the full one does, packet for packet and error for error.
 */
import { encode, MqttClientDecoder, MqttCodecError, MqttDecoder, type Packet } from '../../mqtt/index.js'
import { asClientReads, CLIENT_ONLY } from './fixtures.js'
import { randomPacket, Rng } from './random.js'

/** What both decoders share: framing, pushes in any split, and the bytes held */
interface Decoder {
    push(chunk: Uint8Array, onPacket: (p: Packet) => void): void
    readonly buffered: number
}

export interface FuzzResult {
    cases: number
    packets: number
    rejected: number
    maxHeld: number
    failure: string | null
}

/* The next input: random bytes, or a valid packet with a few bytes changed, cut or added (after a valid packet) */
function mutated(r: Rng, seeds: Uint8Array[]): Uint8Array {
    let input: Uint8Array
    const mode = r.int(4)
    if (mode === 0) {
        return r.bytes(r.int(64))
    }
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
    return input
}

/* Random split points for an input, the same for every decoder fed it */
function splits(r: Rng, length: number): number[] {
    const at: number[] = []
    for (let pos = 0; pos < length;) {
        pos += 1 + r.int(length - pos)
        at.push(pos)
    }
    return at
}

export function fuzz(cases: number, seed: number, maxPacketSize = 4096, client = false): FuzzResult {
    const r = new Rng(seed)
    const result: FuzzResult = { cases: 0, packets: 0, rejected: 0, maxHeld: 0, failure: null }
    const seeds = Array.from({ length: 64 }, () => encode(randomPacket(r)))
    for (let i = 0; i < cases; i++) {
        const input = mutated(r, seeds)
        const d: Decoder = client ? new MqttClientDecoder(maxPacketSize) : new MqttDecoder(maxPacketSize)
        try {
            let pos = 0
            for (const end of splits(r, input.length)) {
                d.push(input.subarray(pos, end), () => { result.packets++ })
                pos = end
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

/* The packet types of an input's frames, in order, as far as their headers can be read */
function frameTypes(input: Uint8Array): number[] {
    const types: number[] = []
    let pos = 0
    while (pos < input.length) {
        types.push(input[pos] >> 4)
        let rem = 0
        let i = 1
        for (; i <= 4 && pos + i < input.length; i++) {
            rem += (input[pos + i] & 0x7f) * 128 ** (i - 1)
            if ((input[pos + i] & 0x80) === 0) {
                break
            }
        }
        pos += 1 + i + rem
    }
    return types
}

interface Run { packets: unknown[], error: string | null }

function run(d: Decoder, input: Uint8Array, at: number[], view: (p: Packet) => unknown): Run {
    const out: Run = { packets: [], error: null }
    let pos = 0
    try {
        for (const end of at) {
            d.push(input.subarray(pos, end), p => { out.packets.push(view(p)) })
            pos = end
        }
    } catch (err) {
        if (!(err instanceof MqttCodecError)) {
            throw err
        }
        out.error = `${err.code} ${err.rule}`
    }
    return out
}

/* A packet as data, payloads as plain arrays, so two decoders' packets compare with JSON */
function plain(p: Packet): string {
    return JSON.stringify(p, (_, v: unknown) => v instanceof Uint8Array ? [...v] : v)
}

/* What the client's decoder gives for a packet the full decoder read */
function clientView(p: Packet): string {
    return plain(asClientReads(p) as Packet)
}

/**
    The client's decoder against the full one on the same inputs in the same splits: the same packets (those only
    a client sends named by type and id) and the same error with its rule, up to the first packet only a client
    sends that the full decoder refuses (its body, which the client does not read).
 */
export function fuzzClientDecoder(cases: number, seed: number, maxPacketSize = 4096): FuzzResult & { compared: number } {
    const r = new Rng(seed)
    const result = { cases: 0, packets: 0, rejected: 0, maxHeld: 0, failure: null as string | null, compared: 0 }
    const seeds = Array.from({ length: 64 }, () => encode(randomPacket(r)))
    for (let i = 0; i < cases; i++) {
        const input = mutated(r, seeds)
        const at = splits(r, input.length)
        const hex = Buffer.from(input).toString('hex')
        let full: Run
        let client: Run
        try {
            full = run(new MqttDecoder(maxPacketSize), input, at, clientView)
            client = run(new MqttClientDecoder(maxPacketSize), input, at, plain)
        } catch (err) {
            result.failure = `case ${i}: ${(err as Error).stack} for input ${hex}`
            return result
        }
        result.cases++
        result.packets += client.packets.length
        result.rejected += client.error === null ? 0 : 1
        const n = full.packets.length
        const prefix = client.packets.slice(0, n)
        if (JSON.stringify(prefix) !== JSON.stringify(full.packets.slice(0, prefix.length))) {
            result.failure = `case ${i}: the decoders read different packets from ${hex}: ${JSON.stringify(full.packets)} against ${JSON.stringify(client.packets)}`
            return result
        }
        const refused = full.error !== null && CLIENT_ONLY.has(frameTypes(input)[n] ?? -1)
        if (refused) {
            /* The full decoder refused the body of a packet only a client sends: the client reads no further alike */
            continue
        }
        result.compared++
        if (client.packets.length !== n || client.error !== full.error) {
            result.failure = `case ${i}: for ${hex} the full decoder gives ${n} packets and ${full.error}, the client's ${client.packets.length} and ${client.error}`
            return result
        }
    }
    return result
}
