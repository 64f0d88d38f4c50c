/*
    What an MQTT 5.0 client does differently on its way out, kept with its state (protocol5.ts) so that a 3.1.1
    client's bundle leaves it out: CONNECT with its properties and the will's, QoS 0 publishes with topic
    aliases, SUBSCRIBE with each filter's options and its subscription identifier, UNSUBSCRIBE with properties,
    and which subscription a message's identifier names.
 */
import type { PacketBuffer } from '../codec/writer.js'
import type { ConnectPacket } from '../codec/packets.js'
import type { Properties } from '../codec/properties.js'
import type { SubscribeOptions } from './config.js'
import type { Mqtt5State } from './protocol5.js'
import type { MqttTopic } from './state.js'

/**
    The CONNECT, with its properties and the will's; the client's inbound limit (maxInbound) is its Maximum
    Packet Size unless the app gave a smaller one: the broker then drops what is larger instead of sending it
    [MQTT-3.1.2-24].
 */
export function encodeConnect(v5: Mqtt5State, connect: ConnectPacket, maxInbound: number): Uint8Array {
    const limit = maxInbound + 5
    const props = v5.connect.maximumPacketSize !== undefined && v5.connect.maximumPacketSize <= limit ? v5.connect :
        { ...v5.connect, maximumPacketSize: Math.min(limit, 268_435_460) }
    return v5.encode({ ...connect, protocolLevel: 5, properties: props, will: connect.will === null ? null : { ...connect.will, properties: v5.will } })
}

/* An empty topic name, for a PUBLISH whose Topic Alias stands for it */
const NO_TOPIC = Uint8Array.of(0, 0)

function aliasProps(v5: Mqtt5State, alias: number): Uint8Array {
    return v5.aliasProps[alias] ??= Uint8Array.of(3, 0x23, alias >> 8, alias & 255)
}

/** A QoS 0 PUBLISH into the write buffer, with a topic alias where the server allows one. */
export function writeQos0(v5: Mqtt5State, writer: PacketBuffer, topicBytes: Uint8Array, payload: Uint8Array, retain: boolean, props: Uint8Array | null): void {
    const max = v5.connack?.topicAliasMaximum ?? 0
    if (props === null && max > 0 && v5.aliasOut) {
        /* Topic aliases, for QoS 0 only (never resent: a resend on a new connection cannot use the old one's
           aliases): a topic gets one on first use while the server's maximum allows, then goes as two bytes */
        let alias = v5.outAliases.get(topicBytes)
        if (alias === undefined && v5.outAliases.size < max) {
            alias = v5.outAliases.size + 1
            v5.outAliases.set(topicBytes, alias)
            writer.publish5(topicBytes, payload, 0, retain, false, 0, aliasProps(v5, alias), v5)
            return
        }
        if (alias !== undefined) {
            writer.publish5(NO_TOPIC, payload, 0, retain, false, 0, aliasProps(v5, alias), v5)
            return
        }
    }
    writer.publish5(topicBytes, payload, 0, retain, false, 0, props, v5)
}

/* A SUBSCRIBE's properties: the (one) subscription identifier among its filters' options, their user properties */
function subscribeProperties(options: SubscribeOptions[]): Properties {
    const props: Properties = {}
    const identifier = options.map(o => o.subscriptionIdentifier).find(n => n !== undefined)
    const userProperties = options.flatMap(o => o.userProperties ?? [])
    if (identifier !== undefined) props.subscriptionIdentifiers = [identifier]
    if (userProperties.length > 0) props.userProperties = userProperties
    return props
}

/** A SUBSCRIBE (each filter with its options) or an UNSUBSCRIBE (with its properties), encoded. */
export function encodeControl(v5: Mqtt5State, subscribe: boolean, id: number, filters: string[], qosOf: (i: number) => number,
    unsubscribeProperties: Properties): Uint8Array {
    if (!subscribe) {
        return v5.encode({ type: 10, id, topics: filters, properties: unsubscribeProperties })
    }
    const optionsOf = (topic: string) => v5.subOptions.get(topic) ?? {}
    return v5.encode({
        type: 8, id, properties: subscribeProperties(filters.map(optionsOf)),
        subscriptions: filters.map((topic, i) => {
            const o = optionsOf(topic)
            return { topic, qos: qosOf(i), noLocal: o.noLocal === true, retainAsPublished: o.retainAsPublished === true, retainHandling: o.retainHandling ?? 0 }
        }),
    })
}

/** The first subscription (in subscription order) with a callback made with one of a message's identifiers. */
export function byIdentifier(v5: Mqtt5State, topics: MqttTopic[], ids: number[]): MqttTopic | null {
    for (const t of topics) {
        const id = v5.subOptions.get(t.topic)?.subscriptionIdentifier
        if (id !== undefined && t.callback !== null && ids.includes(id)) {
            return t
        }
    }
    return null
}

/** The filters to subscribe to again that carry a subscription identifier: each needs a SUBSCRIBE of its own. */
export function withIdentifier(v5: Mqtt5State, wanted: [string, number][]): [string, number][] {
    return wanted.filter(w => v5.subOptions.get(w[0])?.subscriptionIdentifier !== undefined)
}
