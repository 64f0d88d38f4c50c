/*
    Seeded random packets for property, differential and fuzz tests.
 */
import type { Packet } from '../../mqtt/index.js'

export class Rng {
    constructor(private state: number) {
        this.state = state >>> 0 || 1
    }

    next(): number {
        let x = this.state
        x ^= x << 13
        x ^= x >>> 17
        x ^= x << 5
        this.state = x >>> 0
        return this.state
    }

    int(n: number): number {
        return this.next() % n
    }

    bool(): boolean {
        return (this.next() & 1) === 1
    }

    pick<T>(list: readonly T[]): T {
        return list[this.int(list.length)]
    }

    bytes(n: number): Uint8Array {
        const out = new Uint8Array(n)
        for (let i = 0; i < n; i++) {
            out[i] = this.next() & 0xff
        }
        return out
    }
}

const PIECES = ['a', 'b', 'dev', 'sensor', 'temp', 'é', '中文', '😀', ' ', '-', '_', '$', 'x9', '']

function word(r: Rng): string {
    let s = ''
    const n = r.int(3)
    for (let i = 0; i < n; i++) {
        s += r.pick(PIECES)
    }
    return s
}

export function topicName(r: Rng): string {
    const levels = 1 + r.int(4)
    const parts: string[] = []
    for (let i = 0; i < levels; i++) {
        parts.push(word(r))
    }
    const name = parts.join('/')
    return name.length ? name : 'x'
}

export function topicFilter(r: Rng): string {
    const levels = 1 + r.int(4)
    const parts: string[] = []
    for (let i = 0; i < levels; i++) {
        parts.push(r.int(5) === 0 ? '+' : word(r))
    }
    if (r.int(4) === 0) {
        parts.push('#')
    }
    const f = parts.join('/')
    return f.length ? f : '#'
}

function id(r: Rng): number {
    return 1 + r.int(65535)
}

function payload(r: Rng): Uint8Array {
    const size = r.int(10) === 0 ? r.int(20_000) : r.int(64)
    return r.bytes(size)
}

/** A random valid packet of a random (or given) type. */
export function randomPacket(r: Rng, type = 1 + r.int(14)): Packet {
    switch (type) {
    case 1: {
        const username = r.bool() ? word(r) : null
        const clientId = word(r)
        return {
            type: 1, protocolName: 'MQTT', protocolLevel: 4, clean: clientId === '' || r.bool(), keepAlive: r.int(65536),
            clientId,
            will: r.bool() ? { topic: topicName(r), payload: r.bytes(r.int(40)), qos: r.int(3), retain: r.bool() } : null,
            username, password: username !== null && r.bool() ? r.bytes(r.int(20)) : null,
        }
    }
    case 2: {
        const returnCode = r.int(3) === 0 ? r.int(6) : 0
        return { type: 2, sessionPresent: returnCode === 0 && r.bool(), returnCode }
    }
    case 3: {
        const qos = r.int(3)
        return { type: 3, dup: qos > 0 && r.bool(), qos, retain: r.bool(), topic: topicName(r), id: qos > 0 ? id(r) : 0, payload: payload(r) }
    }
    case 8: {
        const n = 1 + r.int(4)
        return { type: 8, id: id(r), subscriptions: Array.from({ length: n }, () => ({ topic: topicFilter(r), qos: r.int(3) })) }
    }
    case 9:
        return { type: 9, id: id(r), granted: Array.from({ length: 1 + r.int(5) }, () => r.pick([0, 1, 2, 0x80])) }
    case 10:
        return { type: 10, id: id(r), topics: Array.from({ length: 1 + r.int(4) }, () => topicFilter(r)) }
    case 12: case 13: case 14:
        return { type } as Packet
    default:
        return { type: type as 4, id: id(r) }
    }
}
