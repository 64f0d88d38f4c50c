/*
    Against mosquitto's own checks, through its dynamic security plugin (the one that checks subscriptions:
    an acl_file never refuses one): a 1 KiB password (a long token), and an ACL refusal read per filter from
    one multi-filter SUBSCRIBE.
 */
import test from 'ava'
import { pbkdf2Sync, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rCloseSocket } from '../../socket/index.js'
import {
    mqttGetConnackCode, mqttGetGranted, mqttPublish, mqttSetCredentials, mqttSubscribeMulti, R_ERR_CANT_COMPLETE,
    R_ERR_CANT_CONNECT, MQTT_WAIT_ACK, type MqttRecv,
} from '../../index.js'
import { mosquittoPath, startMosquitto, type Broker } from '../../brokers/broker.js'
import { inFiber } from '../helpers/fiber.js'
import { connectClient } from '../helpers/client.js'
import { until } from './suite.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

const token = 'tok-'.padEnd(1024, 'Zz9')

const plugin = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/usr/local/lib']
    .map(d => `${d}/mosquitto_dynamic_security.so`).find(p => existsSync(p))

if (mosquittoPath() === null || plugin === undefined) {
    test('mosquitto is installed', t => {
        t.fail('mosquitto (with its dynamic security plugin) is not installed: apt-get install -y mosquitto')
    })
} else {
    let broker: Broker
    const dir = mkdtempSync(join(tmpdir(), 'fiber-mqtt-acl-'))
    test.before(async () => {
        /* The plugin's own file format: the password as PBKDF2-SHA512 with a salt, as mosquitto_ctrl writes it */
        const salt = randomBytes(12)
        const dynsec = join(dir, 'dynsec.json')
        writeFileSync(dynsec, JSON.stringify({
            clients: [{
                username: 'device', password: pbkdf2Sync(token, salt, 101, 64, 'sha512').toString('base64'),
                salt: salt.toString('base64'), iterations: 101, roles: [{ rolename: 'device' }],
            }],
            roles: [{ rolename: 'device', acls: [
                { acltype: 'subscribePattern', topic: 'allowed/#', allow: true },
                { acltype: 'subscribePattern', topic: 'readonly/#', allow: true },
                { acltype: 'publishClientSend', topic: 'allowed/#', allow: true },
            ] }],
            defaultACLAccess: { publishClientSend: false, publishClientReceive: true, subscribe: false, unsubscribe: true },
        }))
        broker = await startMosquitto({ extra: [`plugin ${plugin}`, `plugin_opt_config_file ${dynsec}`, 'allow_anonymous false'] })
    })
    test.after.always(async () => {
        await broker?.stop()
        rmSync(dir, { recursive: true, force: true })
    })

    test('a 1 KiB password (a long token) is accepted; a wrong one is refused with CONNACK 5', async t => {
        await inFiber(function* () {
            const ok = yield* connectClient(broker.port, { prepare: mq => { mqttSetCredentials(mq, 'device', token) } })
            t.is(ok.rc, 0)
            t.is(mqttGetConnackCode(ok.mq), 0)
            rCloseSocket(ok.sock)
            const bad = yield* connectClient(broker.port, { allowFailure: true, prepare: mq => { mqttSetCredentials(mq, 'device', `${token}x`) } })
            t.is(bad.rc, R_ERR_CANT_CONNECT)
            t.is(mqttGetConnackCode(bad.mq), 5)
            rCloseSocket(bad.sock)
        })
    })

    test('a 1 KiB password through a mosquitto password file (mosquitto_passwd)', async t => {
        const withFile = await startMosquitto({ users: { device: token } })
        try {
            await inFiber(function* () {
                const ok = yield* connectClient(withFile.port, { prepare: mq => { mqttSetCredentials(mq, 'device', token) } })
                t.is(ok.rc, 0)
                rCloseSocket(ok.sock)
                const bad = yield* connectClient(withFile.port, { allowFailure: true, prepare: mq => { mqttSetCredentials(mq, 'device', token.slice(0, -1)) } })
                t.is(bad.rc, R_ERR_CANT_CONNECT)
                t.true([4, 5].includes(mqttGetConnackCode(bad.mq)))
                rCloseSocket(bad.sock)
            })
        } finally {
            await withFile.stop()
        }
    })

    test('an ACL refusal is read per filter: one SUBSCRIBE, the denied filter 0x80, the others granted', async t => {
        await inFiber(function* () {
            const c = yield* connectClient(broker.port, { prepare: mq => { mqttSetCredentials(mq, 'device', token) } })
            const got: string[] = []
            const granted: number[] = []
            const rc = yield* mqttSubscribeMulti(c.mq, [
                { topic: 'allowed/#', qos: 1, callback: (rp: MqttRecv) => { got.push(rp.topic) } },
                { topic: 'secret/#', qos: 1 },
                { topic: 'readonly/x', qos: 2, callback: (rp: MqttRecv) => { got.push(rp.topic) } },
            ], MQTT_WAIT_ACK, granted)
            t.deepEqual(granted, [1, 0x80, 2])
            t.is(rc, R_ERR_CANT_COMPLETE)
            t.is(mqttGetGranted(c.mq, 'secret/#'), 0x80)
            t.is(yield* mqttPublish(c.mq, 'hi', 0, 1, MQTT_WAIT_ACK, 'allowed/a'), 0)
            t.true(yield* until(() => got.length === 1, 3000))
            t.deepEqual(got, ['allowed/a'])
            rCloseSocket(c.sock)
        })
    })
}
