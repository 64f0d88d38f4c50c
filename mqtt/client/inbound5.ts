/*
    What an MQTT 5.0 broker sends beyond 3.1.1: CONNACK and acknowledgement reason codes (a refused publish
    fails), CONNACK properties (Receive Maximum, Maximum Packet Size, Server Keep Alive), topic aliases, the
    server's DISCONNECT (and a Server Reference to follow), and AUTH challenges for enhanced authentication.
 */
import { R_ERR_BAD_ACK, R_ERR_BAD_RESPONSE, R_ERR_CANT_COMPLETE, R_ERR_CANT_CONNECT } from '../../runtime/errors.js'
import { rError } from '../../runtime/log.js'
import {
    MQTT_PACKET_AUTH, MQTT_PACKET_CONN_ACK, MQTT_PACKET_DISCONNECT, MQTT_PACKET_PUB_ACK, MQTT_PACKET_PUB_COMP, MQTT_PACKET_PUB_REC,
    MQTT_PACKET_PUB_REL, MQTT_PACKET_PUBLISH, MQTT_PACKET_SUB_ACK, MQTT_PACKET_UNSUB_ACK, PACKET_NAMES,
} from '../constants.js'
import type { Packet } from '../codec/packets.js'
import type { Packet5 } from '../codec/packets5.js'
import type { Properties } from '../codec/properties.js'
import { reasonName } from '../codec/reasons.js'
import { fatal, refused } from './link.js'
import { OUT_PUBLISH, type Mqtt } from './state.js'
import type { Mqtt5State } from './protocol5.js'
import { complete } from './window.js'
import { authenticate } from './auth.js'

/**
    An MQTT 5.0 packet from the broker: what 3.1.1 does not have is dealt with here (reason codes, properties,
    topic aliases, AUTH, the server's DISCONNECT); the rest comes back as the 3.1.1 packet it is, for the
    caller to handle (null: nothing left to do).
 */
export function translate5(mq: Mqtt, p: Packet5): Packet | null {
    const v5 = mq.cfg.v5!
    switch (p.type) {
    case MQTT_PACKET_CONN_ACK:
        if (p.reasonCode >= 0x80) {
            noteRedirect(v5, p.reasonCode, p.properties)
            mq.connackCode = p.reasonCode
            refused(mq, p.reasonCode === 0x85 ? R_ERR_CANT_COMPLETE : R_ERR_CANT_CONNECT,
                `${reasonName(p.reasonCode)} (CONNACK 0x${p.reasonCode.toString(16)})${because(p.properties)}`)
            return null
        }
        if (!mq.connected) {
            v5.connack = p.properties
            /* A client that gave no id takes the one the server assigned: its session can then be resumed [MQTT5-3.2.2.3.7] */
            if (mq.id === '' && p.properties.assignedClientIdentifier !== undefined) {
                mq.id = p.properties.assignedClientIdentifier
            }
            /* The server's Receive Maximum bounds the window on this connection [MQTT-3.3.4-7] */
            const cfg = mq.cfg
            if (v5.inflight === 0) v5.inflight = cfg.maxInflight
            cfg.maxInflight = Math.min(v5.inflight, p.properties.receiveMaximum ?? 65535)
        }
        return { type: 2, sessionPresent: p.sessionPresent, returnCode: 0 }
    case MQTT_PACKET_PUBLISH: {
        let topic = p.topic
        const alias = p.properties.topicAlias
        if (alias !== undefined) {
            if (alias > (v5.connect.topicAliasMaximum ?? 0)) {
                fatal(mq, R_ERR_BAD_RESPONSE, `Topic Alias ${alias} over the maximum this client allows (${v5.connect.topicAliasMaximum ?? 0}) [MQTT-3.3.2-10]`)
                return null
            }
            if (topic !== '') {
                v5.aliases.set(alias, topic)
            } else {
                const known = v5.aliases.get(alias)
                if (known === undefined) {
                    fatal(mq, R_ERR_BAD_RESPONSE, `Topic Alias ${alias} was never set on this connection [MQTT5-3.3.2.3.4]`)
                    return null
                }
                topic = known
            }
        }
        return { type: 3, dup: p.dup, qos: p.qos, retain: p.retain, topic, id: p.id, payload: p.payload, properties: p.properties }
    }
    case MQTT_PACKET_PUB_ACK: case MQTT_PACKET_PUB_REC: case MQTT_PACKET_PUB_COMP:
        if (p.reasonCode >= 0x80) {
            /* The broker refused the message: a failed publish, not a success */
            const msg = mq.inflight.get(p.id)
            if (msg === undefined || msg.type !== OUT_PUBLISH) {
                fatal(mq, R_ERR_BAD_ACK, `${PACKET_NAMES[p.type]} for unknown packet id ${p.id}`)
                return null
            }
            mq.errorMsg = `Publish to "${msg.topic}" refused by the broker: ${reasonName(p.reasonCode)} (${PACKET_NAMES[p.type]} 0x${p.reasonCode.toString(16)})${because(p.properties)}`
            rError('mqtt', '%s', mq.errorMsg)
            complete(mq, msg, R_ERR_CANT_COMPLETE)
            return null
        }
        return { type: p.type, id: p.id }
    case MQTT_PACKET_PUB_REL:
        return { type: 6, id: p.id }
    case MQTT_PACKET_SUB_ACK:
        return { type: 9, id: p.id, granted: p.reasonCodes }
    case MQTT_PACKET_UNSUB_ACK:
        return { type: 11, id: p.id }
    case MQTT_PACKET_DISCONNECT:
        noteRedirect(v5, p.reasonCode, p.properties)
        fatal(mq, R_ERR_CANT_CONNECT, `The broker disconnected: ${reasonName(p.reasonCode)} (DISCONNECT 0x${p.reasonCode.toString(16)})${because(p.properties)}`)
        return null
    case MQTT_PACKET_AUTH:
        authenticate(mq, v5, p.reasonCode, p.properties)
        return null
    default:
        return p as Packet
    }
}

/* "Use another server" (0x9c) or "Server moved" (0x9d) with where: kept for whoever reconnects (the agent) */
function noteRedirect(v5: Mqtt5State, code: number, props: Properties): void {
    if ((code === 0x9c || code === 0x9d) && props.serverReference !== undefined) {
        v5.redirect = props.serverReference
    }
}

/* The broker's words: its reason string and server reference, when it gave them */
function because(props: Properties): string {
    return (props.reasonString !== undefined ? `: ${props.reasonString}` : '') +
        (props.serverReference !== undefined ? ` (use another server: ${props.serverReference})` : '')
}
