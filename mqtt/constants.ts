/*
    MQTT constants with Ioto's names and values (mqtt.h), plus MQTT_QOS_0..2.
 */
import { MAXINT, TPS } from '../runtime/time.js'

export const MQTT_PROTOCOL_LEVEL = 0x04

export const MQTT_PACKET_CONNECT = 1
export const MQTT_PACKET_CONN_ACK = 2
export const MQTT_PACKET_PUBLISH = 3
export const MQTT_PACKET_PUB_ACK = 4
export const MQTT_PACKET_PUB_REC = 5
export const MQTT_PACKET_PUB_REL = 6
export const MQTT_PACKET_PUB_COMP = 7
export const MQTT_PACKET_SUB = 8
export const MQTT_PACKET_SUB_ACK = 9
export const MQTT_PACKET_UNSUB = 10
export const MQTT_PACKET_UNSUB_ACK = 11
export const MQTT_PACKET_PING = 12
export const MQTT_PACKET_PING_ACK = 13
export const MQTT_PACKET_DISCONNECT = 14
/** MQTT 5.0 only: AUTH (enhanced authentication) */
export const MQTT_PACKET_AUTH = 15

export const MQTT_SUBACK_SUCCESS_MAX_QOS_0 = 0
export const MQTT_SUBACK_SUCCESS_MAX_QOS_1 = 1
export const MQTT_SUBACK_SUCCESS_MAX_QOS_2 = 2
export const MQTT_SUBACK_FAILURE = 128

export const MQTT_CONNECT_RESERVED = 1
export const MQTT_CONNECT_CLEAN_SESSION = 2
export const MQTT_CONNECT_WILL_FLAG = 4
export const MQTT_CONNECT_WILL_QOS_0 = 0
export const MQTT_CONNECT_WILL_QOS_1 = 8
export const MQTT_CONNECT_WILL_QOS_2 = 16
export const MQTT_CONNECT_WILL_RETAIN = 32
export const MQTT_CONNECT_PASSWORD = 64
export const MQTT_CONNECT_USER_NAME = 128

/** Fixed-header bits of a PUBLISH: not QoS arguments (MQTT_QOS_FLAGS_1 as a qos would mean QoS 2). */
export const MQTT_QOS_FLAGS_0 = 0
export const MQTT_QOS_FLAGS_1 = 2
export const MQTT_QOS_FLAGS_2 = 4
export const MQTT_QOS_FLAGS_MASK = 6
export const MQTT_RETAIN = 1
export const MQTT_DUP = 8

export const MQTT_CONNACK_ACCEPTED = 0
export const MQTT_CONNACK_REFUSED_PROTOCOL_VERSION = 1
export const MQTT_CONNACK_REFUSED_IDENTIFIER_REJECTED = 2
export const MQTT_CONNACK_REFUSED_SERVER_UNAVAILABLE = 3
export const MQTT_CONNACK_REFUSED_BAD_USER_NAME_OR_PASSWORD = 4
export const MQTT_CONNACK_REFUSED_NOT_AUTHORIZED = 5

/** Quality of service levels (the seed pages' names; C passes 0, 1, 2). */
export const MQTT_QOS_0 = 0
export const MQTT_QOS_1 = 1
export const MQTT_QOS_2 = 2

/** First bytes (type and flags) of the acknowledgements a client sends: PUBACK, PUBREC, PUBREL (flags 0010), PUBCOMP */
export const MQTT_HEADER_PUBACK = MQTT_PACKET_PUB_ACK << 4
export const MQTT_HEADER_PUBREC = MQTT_PACKET_PUB_REC << 4
export const MQTT_HEADER_PUBREL = (MQTT_PACKET_PUB_REL << 4) | 0x02
export const MQTT_HEADER_PUBCOMP = MQTT_PACKET_PUB_COMP << 4

/* Wait flags, events, message states and sizes (mqtt.h) */
export const MQTT_WAIT_NONE = 0x0
export const MQTT_WAIT_SENT = 0x1
export const MQTT_WAIT_ACK = 0x2
export const MQTT_WAIT_FAST = 0x4

export const MQTT_EVENT_ATTACH = 1
export const MQTT_EVENT_CONNECTED = 2
export const MQTT_EVENT_DISCONNECT = 3
export const MQTT_EVENT_TIMEOUT = 4

/* An outbound message's lifecycle (Ioto's MqttMsgState; the last is this client's, for QoS 2 after PUBREC) */
export const MQTT_UNSENT = 1
/** Sent: waiting for PUBACK (QoS 1), PUBREC (QoS 2), SUBACK or UNSUBACK */
export const MQTT_AWAITING_ACK = 2
export const MQTT_COMPLETE = 3
/** QoS 2: PUBREC received, PUBREL sent, waiting for PUBCOMP */
export const MQTT_AWAITING_PUBCOMP = 4

export const MQTT_INLINE_BUF_SIZE = 128
export const MQTT_BUF_SIZE = 4096
export const MQTT_KEEP_ALIVE = 20 * 60 * TPS
export const MQTT_TIMEOUT = MAXINT
export const MQTT_MSG_TIMEOUT = 30 * TPS
export const MQTT_MAX_TOPIC_SIZE = 128
export const MQTT_MAX_MESSAGE_SIZE = 256 * 1024 * 1024
/** Largest inbound packet by default (Ioto: 256 MiB); mqttSetMessageSize sets it with the outbound maximum. */
export const MQTT_MAX_INBOUND_SIZE = 16 * 1024 * 1024
/** Message callbacks that may block at once (generator or async) before reading pauses (TCP back-pressure). */
export const MQTT_MAX_HANDLERS = 256
/** Messages held for want of a subscription or default handler (beyond it the oldest is dropped, with a warning). */
export const MQTT_MAX_HELD = 1000
export const MQTT_MAX_CLIENT_ID_SIZE = 23
export const MQTT_MAX_USERNAME_SIZE = 128
export const MQTT_MAX_PASSWORD_SIZE = 128

/** Largest remaining length a 4-byte varint can carry [MQTT-2.2.3]. */
export const MQTT_MAX_REMAINING = 268_435_455

export const PACKET_NAMES = [
    'Reserved', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK',
    'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'Reserved',
]

export const CONNACK_REASONS = [
    'Connection accepted',
    'Connection refused: unacceptable protocol version',
    'Connection refused: identifier rejected',
    'Connection refused: server unavailable',
    'Connection refused: bad user name or password',
    'Connection refused: not authorized',
]
