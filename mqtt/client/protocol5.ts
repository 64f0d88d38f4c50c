/*
    MQTT 5.0 for the client: mqttSetProtocol and the state an MQTT 5 client keeps, which carries the MQTT 5 codec
    to the client's core. Nothing else reaches the MQTT 5 codec, so the bundle of a program that never calls
    mqttSetProtocol leaves it out.
 */
import { R_ERR_BAD_ARGS } from '../../runtime/errors.js'
import { stopTimer, type TimerEvent } from '../../runtime/events.js'
import { Mqtt5Decoder } from '../codec/decode5.js'
import { encode5, encodeProperties, publish5Size, writePublish5 } from '../codec/encode5.js'
import type { ConnectPacket, Packet } from '../codec/packets.js'
import type { Packet5 } from '../codec/packets5.js'
import { propertiesSize, type Properties, type PropertyPlace } from '../codec/properties.js'
import { reasonName } from '../codec/reasons.js'
import { isUtf8 } from '../codec/utf8.js'
import { ownConfig, type MqttAuthProc, type SubscribeOptions } from './config.js'
import { translate5 } from './inbound5.js'
import { byIdentifier, encodeConnect, encodeControl, withIdentifier, writeQos0 } from './send5.js'
import type { PacketBuffer } from '../codec/writer.js'
import { Mqtt, setMsg, type MqttTopic } from './state.js'

/**
    @internal
    What an MQTT 5.0 client keeps (mqttSetProtocol): its CONNECT properties, the decoder, what the server said
    in its CONNACK, and the topic aliases the server set up on this connection.
 */
export class Mqtt5State {
    decoder = new Mqtt5Decoder()
    /** The server's CONNACK properties (null until connected) */
    connack: Properties | null = null
    /** Topic aliases from the server: alias -> topic (this connection's) */
    aliases = new Map<number, string>()
    /** The in-flight window the user asked for; the server's Receive Maximum may lower it per connection */
    inflight = 0
    /** Enhanced authentication: answers the server's AUTH challenges (mqttSetAuth) */
    authProc: MqttAuthProc | null = null
    /** Outbound topic aliases for QoS 0 publishes (on by default; used when the server allows some) */
    aliasOut = true
    /** This connection's outbound aliases: encoded topic -> alias (cleared at each connect) */
    outAliases = new Map<Uint8Array, number>()
    /** The property list of each alias (length 3, Topic Alias, the alias), made on first use */
    aliasProps: Uint8Array[] = []
    /** Subscription options asked for with mqttSubscribeEx, by filter (kept for resubscribing) */
    subOptions = new Map<string, SubscribeOptions>()
    /** The Server Reference of a refusal or DISCONNECT that says "use another server" / "server moved" (0x9c, 0x9d) */
    redirect: string | null = null
    /** The will's properties (mqttSetWill): will delay, message expiry, content type, user properties... */
    will: Properties = {}
    /** A re-authentication under way (mqttReauthenticate): its waiter and its deadline */
    reauth: { settle(rc: number): void } | null = null
    reauthTimer: TimerEvent | null = null

    /** End the re-authentication under way, if any, with this result. */
    endReauth(rc: number): void {
        const w = this.reauth
        this.reauth = null
        stopTimer(this.reauthTimer)
        this.reauthTimer = null
        w?.settle(rc)
    }

    constructor(readonly connect: Properties) {}

    /** A new connection: the decoder, the topic aliases both ways and the server's CONNACK start afresh */
    attach(maxInbound: number): void {
        this.decoder.reset()
        this.decoder.maxPacketSize = Math.min(maxInbound + 5, this.connect.maximumPacketSize ?? Infinity)
        this.aliases.clear()
        this.outAliases.clear()
        this.connack = null
    }

    /* The MQTT 5 codec, for the client's core: reached only through this state, so a program that never calls
       mqttSetProtocol(mq, 5) does not load it */

    /** Encode an MQTT 5.0 packet (throws MqttCodecError) */
    encode(p: Packet5): Uint8Array {
        return encode5(p)
    }

    /** A decoder of MQTT 5.0 packets (for the -d trace) */
    newDecoder(): Mqtt5Decoder {
        return new Mqtt5Decoder()
    }

    /** A packet from the broker: what 3.1.1 does not have dealt with, the rest as its 3.1.1 packet (or null) */
    translate(mq: Mqtt, p: Packet5): Packet | null {
        return translate5(mq, p)
    }

    /** The encoded size of a property list for this place (throws when a property does not belong there) */
    propertiesSize(props: Properties, place: PropertyPlace): number {
        return propertiesSize(props, place)
    }

    /** A PUBLISH's properties from the caller (mqttPublishEx), encoded; or why they cannot be sent */
    publishProperties(props: Properties, payload: Uint8Array): Uint8Array | string {
        if (props.topicAlias !== undefined) {
            return 'A Topic Alias is not taken from the caller (the client chooses its own)'
        }
        if (props.subscriptionIdentifiers !== undefined) {
            return 'A client may not send a Subscription Identifier in a PUBLISH [MQTT-3.3.4-6]'
        }
        let bytes: Uint8Array
        try {
            bytes = encodeProperties(props, 'PUBLISH')
        } catch (err) {
            return `Bad message properties: ${(err as Error).message}`
        }
        if (props.payloadFormatIndicator === 1 && !isUtf8(payload)) {
            return 'The payload is marked as UTF-8 (payloadFormatIndicator 1) but is not [MQTT5-3.3.2.3.2]'
        }
        return bytes
    }

    /** The name of a reason code */
    reasonName(code: number): string {
        return reasonName(code)
    }

    /** The CONNECT, with its properties (the client's inbound limit as Maximum Packet Size) and the will's */
    encodeConnect(connect: ConnectPacket, maxInbound: number): Uint8Array {
        return encodeConnect(this, connect, maxInbound)
    }

    /** A QoS 0 PUBLISH into the write buffer (with a topic alias where the server allows one) */
    writeQos0(writer: PacketBuffer, topicBytes: Uint8Array, payload: Uint8Array, retain: boolean, props: Uint8Array | null): void {
        writeQos0(this, writer, topicBytes, payload, retain, props)
    }

    /** A SUBSCRIBE (with each filter's options) or an UNSUBSCRIBE (with its properties), encoded */
    encodeControl(subscribe: boolean, id: number, filters: string[], qosOf: (i: number) => number, unsubscribeProperties: Properties): Uint8Array {
        return encodeControl(this, subscribe, id, filters, qosOf, unsubscribeProperties)
    }

    /** The subscription one of a message's identifiers names, if any */
    byIdentifier(topics: MqttTopic[], ids: number[]): MqttTopic | null {
        return byIdentifier(this, topics, ids)
    }

    /** Of the filters to subscribe to again, those with an identifier (each goes in a SUBSCRIBE of its own) */
    withIdentifier(wanted: [string, number][]): [string, number][] {
        return withIdentifier(this, wanted)
    }

    /** PacketWriter's MQTT 5 PUBLISH size */
    publish5Size(topicBytes: Uint8Array, payload: Uint8Array, qos: number, props: Uint8Array | null): number {
        return publish5Size(topicBytes, payload, qos, props)
    }

    /** PacketWriter's MQTT 5 PUBLISH */
    writePublish5(buf: Uint8Array, pos: number, topicBytes: Uint8Array, payload: Uint8Array, qos: number, retain: boolean,
        dup: boolean, id: number, props: Uint8Array | null): number {
        return writePublish5(buf, pos, topicBytes, payload, qos, retain, dup, id, props)
    }
}

/**
    The protocol a client speaks from its next connect: 4 (MQTT 3.1.1, the default) or 5 (MQTT 5.0), with the
    CONNECT properties for 5 (session expiry, receive maximum, maximum packet size, topic alias maximum,
    user properties...). R_ERR_BAD_ARGS for another version or a property CONNECT may not carry.
    @example mqttSetProtocol(mq, 5, { sessionExpiryInterval: 3600, topicAliasMaximum: 16 })
 */
export function mqttSetProtocol(mq: Mqtt | null, version: number, properties: Properties = {}): number {
    if (!(mq instanceof Mqtt)) {
        return R_ERR_BAD_ARGS
    }
    if (version !== 4 && version !== 5) {
        return setMsg(mq, R_ERR_BAD_ARGS, `Protocol version ${version}: 4 (MQTT 3.1.1) or 5 (MQTT 5.0)`)
    }
    if (version === 5) {
        try {
            propertiesSize(properties, 'CONNECT')
        } catch (err) {
            return setMsg(mq, R_ERR_BAD_ARGS, `Bad CONNECT properties: ${(err as Error).message}`)
        }
    }
    ownConfig(mq).v5 = version === 5 ? new Mqtt5State({ ...properties }) : null
    return 0
}
