/*
    -d: the packet trace in mosquitto_pub / mosquitto_sub's words, on stdout as they print it:
        Client dev-1 sending PUBLISH (d0, q1, r0, m1, 'a/b', ... (5 bytes))
    A client whose id the broker assigns shows as "(null)".
 */
import { MqttDecoder, PACKET_NAMES, type Mqtt, type Packet } from '../mqtt/index.js'
import { ownConfig } from '../mqtt/client/config.js'

/* The subscription options byte as mosquitto prints it (MQTT 5's No Local, Retain As Published, Retain Handling) */
function optionsOf(sub: object): number {
    const s = sub as { noLocal?: boolean, retainAsPublished?: boolean, retainHandling?: number }
    return (s.noLocal === true ? 4 : 0) | (s.retainAsPublished === true ? 8 : 0) | ((s.retainHandling ?? 0) << 4)
}

/** The lines mosquitto prints for one packet (a SUBSCRIBE gives one per filter, and a SUBACK a "Subscribed" line). */
export function traceLines(id: string, direction: 'sending' | 'received', p: Packet): string[] {
    const who = `Client ${id === '' ? '(null)' : id} ${direction}`
    /* An MQTT 5 packet's reason code (none in 3.1.1: 0) */
    const rc = (p as { reasonCode?: number }).reasonCode ?? 0
    switch (p.type) {
    case 2: return [`${who} CONNACK (${p.returnCode ?? rc})`]
    case 3: return [`${who} PUBLISH (d${p.dup ? 1 : 0}, q${p.qos}, r${p.retain ? 1 : 0}, m${p.id}, '${p.topic}', ... (${p.payload.length} bytes))`]
    case 4: case 5: case 6: case 7: case 11:
        if (direction === 'received') {
            return [`${who} ${PACKET_NAMES[p.type]} (Mid: ${p.id}${p.type === 4 || p.type === 7 ? `, RC:${rc}` : ''})`]
        }
        /* MQTT 5 acknowledgements carry their reason code */
        return [`${who} ${PACKET_NAMES[p.type]} (m${p.id}${p.type === 4 || p.type === 5 ? `, rc${rc}` : ''})`]
    /* A SUBSCRIBE or UNSUBSCRIBE from a broker (which the client refuses) comes as its type and id alone */
    case 8: return p.subscriptions === undefined ? [`${who} SUBSCRIBE (Mid: ${p.id})`] :
        p.subscriptions.map(s => `${who} SUBSCRIBE (Mid: ${p.id}, Topic: ${s.topic}, QoS: ${s.qos}, Options: 0x${optionsOf(s).toString(16).padStart(2, '0')})`)
    case 9: return [`${who} SUBACK`, `Subscribed (mid: ${p.id}): ${(p.granted ?? (p as { reasonCodes?: number[] }).reasonCodes).join(', ')}`]
    case 10: return p.topics === undefined ? [`${who} UNSUBSCRIBE (Mid: ${p.id})`] : p.topics.map(t => `${who} UNSUBSCRIBE (Mid: ${p.id}, Topic: ${t})`)
    /* A server's DISCONNECT (MQTT 5) is printed as mosquitto logs it: without the client */
    case 14: return [direction === 'received' ? `Received DISCONNECT (${rc})` : `${who} DISCONNECT`]
    default: return [`${who} ${PACKET_NAMES[p.type]}`]
    }
}

/** Turn on the trace for a client: each packet's lines go to stdout. */
export function traceToStdout(mq: Mqtt): void {
    /* mosquitto numbers every message it sends, QoS 0 ones too (their packets carry no id): so does the trace */
    let mid = 0
    mq.trace = true
    const cfg = ownConfig(mq)
    /* SUBSCRIBE and UNSUBSCRIBE lines name each topic: what the client sends is read back whole */
    cfg.traceDecoder = () => new MqttDecoder()
    cfg.tracer = (direction, p) => {
        if (direction === 'sending' && p.type === 3 && p.qos === 0) {
            p = { ...p, id: ++mid }
        } else if (direction === 'sending' && 'id' in p && p.id > mid) {
            mid = p.id
        }
        process.stdout.write(traceLines(mq.id, direction, p).join('\n') + '\n')
    }
}
