import test from 'ava'
import mqttPacket from 'mqtt-packet'
import { encode, MqttDecoder, type Packet } from '../../mqtt/index.js'
import { randomPacket, Rng } from './random.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

function plain(p: unknown): unknown {
    return JSON.parse(JSON.stringify(p, (_k, v) => v instanceof Uint8Array ? Array.from(v) : v?.type === 'Buffer' && Array.isArray(v.data) ? v.data : v))
}

test('random valid packets round-trip through encode and decode, whole and split', t => {
    const r = new Rng(20261122)
    for (let i = 0; i < 5000; i++) {
        const p = randomPacket(r)
        const bytes = encode(p)
        const got: Packet[] = []
        const d = new MqttDecoder()
        const cut = r.int(bytes.length + 1)
        d.push(bytes.subarray(0, cut), x => got.push(x))
        d.push(bytes.subarray(cut), x => got.push(x))
        if (got.length !== 1 || JSON.stringify(plain(got[0])) !== JSON.stringify(plain(p))) {
            t.fail(`packet ${i} of type ${p.type} did not round-trip`)
            return
        }
    }
    t.pass()
})

/* Our packets as mqtt-packet objects, and back */
function toOracle(p: Packet): any {
    const buf = (b: Uint8Array) => Buffer.from(b)
    switch (p.type) {
    case 1: {
        const o: any = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: p.clean, keepalive: p.keepAlive, clientId: p.clientId }
        if (p.will) o.will = { topic: p.will.topic, payload: buf(p.will.payload), qos: p.will.qos, retain: p.will.retain }
        if (p.username !== null) o.username = p.username
        if (p.password !== null) o.password = buf(p.password)
        return o
    }
    case 2: return { cmd: 'connack', sessionPresent: p.sessionPresent, returnCode: p.returnCode }
    case 3: return { cmd: 'publish', topic: p.topic, payload: buf(p.payload), qos: p.qos, retain: p.retain, dup: p.dup, messageId: p.qos ? p.id : undefined }
    case 4: return { cmd: 'puback', messageId: p.id }
    case 5: return { cmd: 'pubrec', messageId: p.id }
    case 6: return { cmd: 'pubrel', messageId: p.id }
    case 7: return { cmd: 'pubcomp', messageId: p.id }
    case 8: return { cmd: 'subscribe', messageId: p.id, subscriptions: p.subscriptions.map(s => ({ topic: s.topic, qos: s.qos })) }
    case 9: return { cmd: 'suback', messageId: p.id, granted: p.granted }
    case 10: return { cmd: 'unsubscribe', messageId: p.id, unsubscriptions: p.topics }
    case 11: return { cmd: 'unsuback', messageId: p.id }
    case 12: return { cmd: 'pingreq' }
    case 13: return { cmd: 'pingresp' }
    default: return { cmd: 'disconnect' }
    }
}

function fromOracle(o: any): Packet {
    const u8 = (b: Buffer) => new Uint8Array(b)
    switch (o.cmd) {
    case 'connect':
        return {
            type: 1, protocolName: o.protocolId, protocolLevel: o.protocolVersion, clean: o.clean, keepAlive: o.keepalive, clientId: o.clientId,
            will: o.will ? { topic: o.will.topic, payload: u8(o.will.payload), qos: o.will.qos, retain: o.will.retain } : null,
            username: o.username ?? null, password: o.password !== undefined ? u8(o.password) : null,
        }
    case 'connack': return { type: 2, sessionPresent: o.sessionPresent, returnCode: o.returnCode }
    case 'publish': return { type: 3, dup: o.dup, qos: o.qos, retain: o.retain, topic: o.topic, id: o.messageId ?? 0, payload: u8(o.payload) }
    case 'subscribe': return { type: 8, id: o.messageId, subscriptions: o.subscriptions.map((s: any) => ({ topic: s.topic, qos: s.qos })) }
    case 'suback': return { type: 9, id: o.messageId, granted: o.granted }
    case 'unsubscribe': return { type: 10, id: o.messageId, topics: o.unsubscriptions }
    case 'pingreq': return { type: 12 }
    case 'pingresp': return { type: 13 }
    case 'disconnect': return { type: 14 }
    default: return { type: ({ puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7, unsuback: 11 } as any)[o.cmd], id: o.messageId }
    }
}

test('differential against mqtt-packet on random valid packets: same bytes out, same fields in', t => {
    const r = new Rng(4711)
    let compared = 0
    for (let i = 0; i < 5000; i++) {
        const p = randomPacket(r)
        const ours = encode(p)
        const theirs = mqttPacket.generate(toOracle(p))
        if (Buffer.compare(Buffer.from(ours), theirs) !== 0) {
            t.fail(`type ${p.type}: bytes differ\nours   ${Buffer.from(ours).toString('hex')}\ntheirs ${theirs.toString('hex')}`)
            return
        }
        const parsed: any[] = []
        const parser = mqttPacket.parser({ protocolVersion: 4 })
        parser.on('packet', x => parsed.push(x))
        parser.on('error', err => t.fail(`mqtt-packet refused our type ${p.type}: ${err.message}`))
        parser.parse(Buffer.from(ours))
        if (parsed.length !== 1 || JSON.stringify(plain(fromOracle(parsed[0]))) !== JSON.stringify(plain(p))) {
            t.fail(`type ${p.type}: fields differ\nours   ${JSON.stringify(plain(p))}\ntheirs ${JSON.stringify(plain(fromOracle(parsed[0])))}`)
            return
        }
        compared++
    }
    t.is(compared, 5000)
})
