import test from 'ava'
import {
    MAXINT64, R_ERR_BAD_ARGS, R_ERR_CANT_WRITE, R_ERR_NOT_CONNECTED, rAllocSocket,
    mqttAlloc, mqttCheckQueue, mqttConnect, mqttDisconnect, mqttFree, mqttGetError, mqttGetLastActivity, mqttIsConnected,
    mqttMsgsToSend, mqttPing, mqttPublish, mqttPublishRetained, mqttSetCredentials, mqttSetKeepAlive, mqttSetMessageSize,
    mqttSetTimeout, mqttSetWill, mqttSubscribe, mqttSubscribeMaster, mqttThrottle, mqttUnsubscribe, mqttUnsubscribeMaster,
    mqttSetInflight, mqttSetQueue, mqttGetStats, mqttRequest,
    MQTT_PACKET_CONNECT, MQTT_PACKET_CONN_ACK, MQTT_PACKET_PUBLISH, MQTT_PACKET_PUB_ACK, MQTT_PACKET_PUB_REC,
    MQTT_PACKET_PUB_REL, MQTT_PACKET_PUB_COMP, MQTT_PACKET_SUB, MQTT_PACKET_SUB_ACK, MQTT_PACKET_UNSUB,
    MQTT_PACKET_UNSUB_ACK, MQTT_PACKET_PING, MQTT_PACKET_PING_ACK, MQTT_PACKET_DISCONNECT, MQTT_QOS_FLAGS_0,
    MQTT_QOS_FLAGS_1, MQTT_QOS_FLAGS_2, MQTT_QOS_FLAGS_MASK, MQTT_RETAIN, MQTT_DUP, MQTT_CONNECT_RESERVED,
    MQTT_CONNECT_CLEAN_SESSION, MQTT_CONNECT_WILL_FLAG, MQTT_CONNECT_WILL_QOS_0, MQTT_CONNECT_WILL_QOS_1,
    MQTT_CONNECT_WILL_QOS_2, MQTT_CONNECT_WILL_RETAIN, MQTT_CONNECT_PASSWORD, MQTT_CONNECT_USER_NAME,
    MQTT_CONNACK_ACCEPTED, MQTT_CONNACK_REFUSED_PROTOCOL_VERSION, MQTT_CONNACK_REFUSED_IDENTIFIER_REJECTED,
    MQTT_CONNACK_REFUSED_SERVER_UNAVAILABLE, MQTT_CONNACK_REFUSED_BAD_USER_NAME_OR_PASSWORD,
    MQTT_CONNACK_REFUSED_NOT_AUTHORIZED, MQTT_SUBACK_FAILURE, MQTT_WAIT_NONE, MQTT_WAIT_SENT, MQTT_WAIT_ACK,
    MQTT_WAIT_FAST, MQTT_PROTOCOL_LEVEL, MQTT_MAX_CLIENT_ID_SIZE, MQTT_MAX_TOPIC_SIZE, MQTT_UNSENT, MQTT_AWAITING_ACK,
    MQTT_COMPLETE, MQTT_EVENT_ATTACH, MQTT_EVENT_CONNECTED, MQTT_EVENT_DISCONNECT, MQTT_EVENT_TIMEOUT, MQTT_KEEP_ALIVE,
    MQTT_TIMEOUT, MQTT_MAX_MESSAGE_SIZE, MQTT_QOS_0, MQTT_QOS_1, MQTT_QOS_2, MqttResp, MqttRecv,
    mqttSetLimits, MQTT_LIMITS_IOTO, MQTT_LIMITS_SPEC,
} from '../../index.js'
import { inFiber } from '../helpers/fiber.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

test('constants have the C values', t => {
    t.deepEqual([MQTT_PACKET_CONNECT, MQTT_PACKET_CONN_ACK, MQTT_PACKET_PUBLISH, MQTT_PACKET_PUB_ACK, MQTT_PACKET_PUB_REC,
        MQTT_PACKET_PUB_REL, MQTT_PACKET_PUB_COMP, MQTT_PACKET_SUB, MQTT_PACKET_SUB_ACK, MQTT_PACKET_UNSUB,
        MQTT_PACKET_UNSUB_ACK, MQTT_PACKET_PING, MQTT_PACKET_PING_ACK, MQTT_PACKET_DISCONNECT], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
    t.deepEqual([MQTT_QOS_FLAGS_0, MQTT_QOS_FLAGS_1, MQTT_QOS_FLAGS_2, MQTT_QOS_FLAGS_MASK, MQTT_RETAIN, MQTT_DUP], [0, 2, 4, 6, 1, 8])
    t.deepEqual([MQTT_CONNECT_RESERVED, MQTT_CONNECT_CLEAN_SESSION, MQTT_CONNECT_WILL_FLAG, MQTT_CONNECT_WILL_QOS_0,
        MQTT_CONNECT_WILL_QOS_1, MQTT_CONNECT_WILL_QOS_2, MQTT_CONNECT_WILL_RETAIN, MQTT_CONNECT_PASSWORD, MQTT_CONNECT_USER_NAME],
    [1, 2, 4, 0, 8, 16, 32, 64, 128])
    t.deepEqual([MQTT_CONNACK_ACCEPTED, MQTT_CONNACK_REFUSED_PROTOCOL_VERSION, MQTT_CONNACK_REFUSED_IDENTIFIER_REJECTED,
        MQTT_CONNACK_REFUSED_SERVER_UNAVAILABLE, MQTT_CONNACK_REFUSED_BAD_USER_NAME_OR_PASSWORD, MQTT_CONNACK_REFUSED_NOT_AUTHORIZED], [0, 1, 2, 3, 4, 5])
    t.deepEqual([MQTT_WAIT_NONE, MQTT_WAIT_SENT, MQTT_WAIT_ACK, MQTT_WAIT_FAST], [0, 1, 2, 4])
    t.deepEqual([MQTT_EVENT_ATTACH, MQTT_EVENT_CONNECTED, MQTT_EVENT_DISCONNECT, MQTT_EVENT_TIMEOUT], [1, 2, 3, 4])
    t.deepEqual([MQTT_UNSENT, MQTT_AWAITING_ACK, MQTT_COMPLETE], [1, 2, 3])
    t.deepEqual([MQTT_QOS_0, MQTT_QOS_1, MQTT_QOS_2], [0, 1, 2])
    t.is(MQTT_SUBACK_FAILURE, 128)
    t.is(MQTT_PROTOCOL_LEVEL, 4)
    t.is(MQTT_MAX_CLIENT_ID_SIZE, 23)
    t.is(MQTT_MAX_TOPIC_SIZE, 128)
    t.is(MQTT_KEEP_ALIVE, 1_200_000)
    t.is(MQTT_MAX_MESSAGE_SIZE, 256 * 1024 * 1024)
    t.is(MqttResp, MqttRecv)
})

test('Settings: clients keep the defaults in one shared object; a change is the changed client\'s alone', t => {
    const a = mqttAlloc('shared-a', null)!
    const b = mqttAlloc('shared-b', null)!
    t.is(a.cfg, b.cfg)
    mqttSetInflight(a, 7)
    t.not(a.cfg, b.cfg)
    t.is(a.cfg.maxInflight, 7)
    t.is(b.cfg.maxInflight, 100)
    const own = a.cfg
    t.is(mqttSetQueue(a, 10, 1000, 'reject'), 0)
    t.is(a.cfg, own, 'a second change writes the same copy')
    t.is(a.cfg.maxInflight, 7)
    t.is(b.cfg.queuePolicy, 'wait')
    /* New process defaults reach clients made after them; clients made before keep what they had */
    t.is(mqttSetLimits(null, MQTT_LIMITS_IOTO), 0)
    try {
        const c = mqttAlloc('shared-c', null)!
        t.deepEqual(c.cfg.limits, MQTT_LIMITS_IOTO)
        t.deepEqual(b.cfg.limits, MQTT_LIMITS_SPEC)
        t.deepEqual(a.cfg.limits, MQTT_LIMITS_SPEC)
    } finally {
        mqttSetLimits(null, MQTT_LIMITS_SPEC)
    }
})

test('mqttAlloc: defaults; null, empty and over-long ids give null', t => {
    t.is(mqttAlloc(null, null), null)
    /* The spec's limits by default: ids up to 65,535 bytes, an empty one for the broker to assign */
    t.not(mqttAlloc('', null), null)
    t.not(mqttAlloc('x'.repeat(65535), null), null)
    t.is(mqttAlloc('x'.repeat(65536), null), null)
    /* Ioto's, on request: 1-23 bytes (synchronous, so no other test sees the process default change) */
    t.is(mqttSetLimits(null, MQTT_LIMITS_IOTO), 0)
    try {
        t.is(mqttAlloc('', null), null)
        t.is(mqttAlloc('x'.repeat(24), null), null)
        t.is(mqttAlloc('é'.repeat(12), null), null)
        t.not(mqttAlloc('x'.repeat(23), null), null)
        t.deepEqual(mqttAlloc('x'.repeat(23), null)!.cfg.limits, MQTT_LIMITS_IOTO)
    } finally {
        mqttSetLimits(null, MQTT_LIMITS_SPEC)
    }
    t.is(mqttSetLimits(null, { ...MQTT_LIMITS_SPEC, topic: 0 }), R_ERR_BAD_ARGS)
    t.is(mqttAlloc('id', 42 as any), null)
    const mq = mqttAlloc('device', null)!
    t.is(mq.id, 'device')
    t.false(mq.connected)
    t.is(mq.error, 0)
    t.is(mq.keepAlive, MQTT_KEEP_ALIVE)
    t.is(mq.timeout, MQTT_TIMEOUT)
    t.is(mq.maxMessage, MQTT_MAX_MESSAGE_SIZE)
    t.is(mq.proc, null)
    t.true(mqttGetLastActivity(mq) > 0)
    t.is(mqttGetError(mq), '')
    t.is(mqttMsgsToSend(mq), 0)
    t.false(mqttIsConnected(mq))
    t.true(mqttCheckQueue(mq))
    /* Seed-page form: the socket comes first */
    const sock = rAllocSocket()
    const old = mqttAlloc(sock, 'old-form', null)!
    t.is(old.sock, sock)
    t.is(old.id, 'old-form')
})

test('null tolerance of every call', async t => {
    t.is(mqttGetError(null), null)
    t.is(mqttGetLastActivity(null), 0)
    t.is(mqttMsgsToSend(null), 0)
    t.false(mqttIsConnected(null))
    t.true(mqttCheckQueue(null))
    t.is(mqttSetCredentials(null, 'u', 'p'), R_ERR_BAD_ARGS)
    t.is(mqttSetWill(null, 't', 'm', 1), R_ERR_BAD_ARGS)
    t.is(mqttDisconnect(null), R_ERR_BAD_ARGS)
    mqttSetKeepAlive(null, 1)
    mqttSetTimeout(null, 1)
    mqttSetMessageSize(null, 1)
    mqttThrottle(null)
    mqttSetInflight(null, 5)
    t.is(mqttSetQueue(null, 1, 1), R_ERR_BAD_ARGS)
    await inFiber(function* () {
        t.is(yield* mqttConnect(null, null, 0, MQTT_WAIT_ACK), R_ERR_BAD_ARGS)
        t.is(yield* mqttPublish(null, 'm', 0, 0, 0, 't'), R_ERR_BAD_ARGS)
        t.is(yield* mqttPublishRetained(null, 'm', 0, 0, 0, 't'), R_ERR_BAD_ARGS)
        t.is(yield* mqttSubscribe(null, null, 0, 0, 't'), R_ERR_BAD_ARGS)
        t.is(yield* mqttSubscribeMaster(null, 0, 0, 't'), R_ERR_BAD_ARGS)
        t.is(yield* mqttUnsubscribe(null, 't', 0), R_ERR_BAD_ARGS)
        t.is(yield* mqttUnsubscribeMaster(null, 't', 0), R_ERR_BAD_ARGS)
        t.is(yield* mqttPing(null), R_ERR_BAD_ARGS)
        t.is(yield* mqttRequest(null, 'x', 0, 't'), null)
        yield* mqttFree(null)
    })
})

test('credentials, will, keep-alive, timeout and message size setters', t => {
    const mq = mqttAlloc('setters', null)!
    t.is(mqttSetCredentials(mq, 'user', 'pass'), 0)
    t.is(mq.username, 'user')
    t.is(mqttSetCredentials(mq, null, null), 0)
    t.is(mq.username, '')
    t.is(mqttSetCredentials(mq, 'u'.repeat(127), 'p'.repeat(127)), 0)
    /* A cloud token fits (the spec allows 65,535 bytes); the password is binary data, sent as it is */
    t.is(mqttSetCredentials(mq, 'u'.repeat(1000), 'p'.repeat(65535)), 0)
    t.is(mqttSetCredentials(mq, 'u', new Uint8Array([0x00, 0xff, 0x10, 0x41])), 0)
    t.deepEqual(mq.password, new Uint8Array([0x00, 0xff, 0x10, 0x41]))
    t.is(mqttSetCredentials(mq, 'u', 'p'.repeat(65536)), R_ERR_BAD_ARGS)
    t.regex(mqttGetError(mq)!, /65535 bytes/)
    /* Ioto's limits on request: 128 bytes */
    t.is(mqttSetLimits(mq, MQTT_LIMITS_IOTO), 0)
    t.is(mqttSetCredentials(mq, 'u'.repeat(137), 'p'), R_ERR_BAD_ARGS)
    t.is(mq.username, '')
    t.is(mq.password, '')
    t.regex(mqttGetError(mq)!, /128 bytes/)
    t.is(mqttSetWill(mq, 'status/dev', 'offline', 7), 0)
    t.is(mq.willTopic, 'status/dev')
    t.is(mq.willMsgSize, 7)
    t.is(mqttSetWill(mq, 'w/'.repeat(100), 'x', 1), R_ERR_BAD_ARGS)
    t.is(mqttSetWill(mq, 'w', 'x', -1), R_ERR_BAD_ARGS)
    t.is(mqttSetWill(mq, 'w', 'x', NaN), R_ERR_BAD_ARGS)
    /* 0: the whole message, which may be empty */
    t.is(mqttSetWill(mq, 'w', '', 0), 0)
    t.is(mq.willMsgSize, 0)
    t.is(mqttSetWill(mq, 'w/+', 'x', 1), R_ERR_BAD_ARGS)
    t.is(mqttSetWill(mq, null, 'x', 1), R_ERR_BAD_ARGS)
    t.is(mqttSetWill(mq, 'w', 'x', 5), R_ERR_BAD_ARGS)
    t.is(mqttSetWill(mq, 't'.repeat(127), new Uint8Array(1024), 1024), 0)
    /* 0 is no keep-alive [MQTT-3.1.2-10]; a negative value the default */
    mqttSetKeepAlive(mq, 0)
    t.is(mq.keepAlive, 0)
    mqttSetKeepAlive(mq, -1)
    t.is(mq.keepAlive, MQTT_KEEP_ALIVE)
    mqttSetKeepAlive(mq, 5000)
    t.is(mq.keepAlive, 5000)
    mqttSetKeepAlive(mq, MAXINT64)
    t.is(mq.keepAlive, MAXINT64 / 2)
    mqttSetTimeout(mq, 0)
    t.true(mq.timeout >= MAXINT64 / 10)
    mqttSetTimeout(mq, -1)
    t.is(mq.timeout, MQTT_TIMEOUT)
    mqttSetTimeout(mq, 60_000)
    t.is(mq.timeout, 60_000)
    mqttSetTimeout(mq, MAXINT64)
    t.is(mq.timeout, MAXINT64 / 10)
    mqttSetMessageSize(mq, 1024)
    t.is(mq.maxMessage, 1024)
    mqttSetMessageSize(mq, 0)
    t.is(mq.maxMessage, 1024)
    mqttThrottle(mq)
    t.is(mq.throttle, 2000)
    mqttThrottle(mq)
    t.is(mq.throttle, 4000)
    for (let i = 0; i < 10; i++) {
        mqttThrottle(mq)
    }
    t.is(mq.throttle, 30_000)
    mqttSetInflight(mq, 1000)
    t.is(mq.cfg.maxInflight, 1000)
    t.is(mqttSetQueue(mq, 10, 1000, 'reject'), 0)
    t.is(mqttSetQueue(mq, 10, 1000, 'bogus' as any), R_ERR_BAD_ARGS)
    t.like(mqttGetStats(mq), { queued: 0, inflight: 0, published: 0 })
})

test('calls before a connection give clear errors and nothing throws', async t => {
    await inFiber(function* () {
        const mq = mqttAlloc('unconnected', null)!
        /* Ioto's 127-byte topics for this client (the spec's 65,535 by default) */
        mqttSetLimits(mq, MQTT_LIMITS_IOTO)
        t.is(yield* mqttPublish(mq, 'm', 0, 1, MQTT_WAIT_NONE, 'a/b'), R_ERR_CANT_WRITE)
        t.regex(mqttGetError(mq)!, /connect first/)
        t.is(yield* mqttPublish(mq, null, 0, 1, MQTT_WAIT_NONE, 'a/b'), R_ERR_BAD_ARGS)
        t.is(yield* mqttPublish(mq, 'm', 0, 3, MQTT_WAIT_NONE, 'a/b'), R_ERR_BAD_ARGS)
        t.regex(mqttGetError(mq)!, /QoS 3/)
        t.is(yield* mqttPublish(mq, 'm', 0, -1, MQTT_WAIT_NONE, 'a/b'), R_ERR_BAD_ARGS)
        t.is(yield* mqttPublish(mq, 'm', 0, 0, MQTT_WAIT_NONE, ''), R_ERR_BAD_ARGS)
        t.is(yield* mqttPublish(mq, 'm', 0, 0, MQTT_WAIT_NONE, ' x'), R_ERR_BAD_ARGS)
        t.is(yield* mqttPublish(mq, 'm', 0, 0, MQTT_WAIT_NONE, '\tx'), R_ERR_BAD_ARGS)
        t.is(yield* mqttPublish(mq, 'm', 0, 0, MQTT_WAIT_NONE, 'a/+'), R_ERR_BAD_ARGS)
        t.regex(mqttGetError(mq)!, /wildcards/)
        t.is(yield* mqttPublish(mq, 'm', 0, 0, MQTT_WAIT_NONE, 't'.repeat(128)), R_ERR_BAD_ARGS)
        t.is(yield* mqttPublish(mq, 'm', 0, 0, MQTT_WAIT_NONE, 'dev/%s', 'x'.repeat(130)), R_ERR_BAD_ARGS)
        t.is(yield* mqttPublish(mq, 'm', 10, 0, MQTT_WAIT_NONE, 'a'), R_ERR_BAD_ARGS)
        mqttSetMessageSize(mq, 1)
        t.is(yield* mqttPublish(mq, 'too big', 0, 0, MQTT_WAIT_NONE, 'a'), -40)
        t.is(yield* mqttSubscribe(mq, () => undefined, 1, MQTT_WAIT_NONE, 'a/#/b'), R_ERR_BAD_ARGS)
        t.regex(mqttGetError(mq)!, /MQTT-4.7.1-2/)
        t.is(yield* mqttSubscribe(mq, () => undefined, 3, MQTT_WAIT_NONE, 'a'), R_ERR_BAD_ARGS)
        t.is(yield* mqttSubscribe(mq, 'nope' as any, 1, MQTT_WAIT_NONE, 'a'), R_ERR_BAD_ARGS)
        t.is(yield* mqttSubscribe(mq, () => undefined, 1, MQTT_WAIT_NONE, 'x'.repeat(128)), R_ERR_BAD_ARGS)
        t.is(yield* mqttSubscribe(mq, () => undefined, 1, MQTT_WAIT_NONE, 'a/b'), R_ERR_CANT_WRITE)
        t.is(yield* mqttSubscribeMaster(mq, 1, MQTT_WAIT_NONE, 'x+'), R_ERR_BAD_ARGS)
        t.is(yield* mqttUnsubscribe(mq, 'a/#/b', MQTT_WAIT_NONE), R_ERR_BAD_ARGS)
        t.is(yield* mqttUnsubscribeMaster(mq, 'a/#/b', MQTT_WAIT_NONE), R_ERR_BAD_ARGS)
        t.is(yield* mqttUnsubscribe(mq, 'a/b', MQTT_WAIT_NONE), R_ERR_CANT_WRITE)
        t.is(yield* mqttPing(mq), R_ERR_CANT_WRITE)
        t.is(mqttDisconnect(mq), R_ERR_CANT_WRITE)
        t.is(yield* mqttConnect(mq, null, 0, MQTT_WAIT_ACK), R_ERR_BAD_ARGS)
        t.is(yield* mqttConnect(mq, rAllocSocket(), 0, MQTT_WAIT_ACK), -22)
        t.regex(mqttGetError(mq)!, /not connected/)
        yield* mqttFree(mq)
        yield* mqttFree(mq)
        t.is(mqttMsgsToSend(mq), 0)
        t.is(R_ERR_NOT_CONNECTED, -34)
    })
})
